/*
 * tests/fuzz/fuzz_rpmdb.c - libFuzzer target for builder/sbom_rpm.c, the
 * reader of rpm's sqlite package database (`make fuzz`).
 *
 *   build-fuzz/fuzz/fuzz_rpmdb -max_total_time=300 CORPUS_DIR
 *
 * The bytes are the database file (in a memfd, read with pread as an
 * image's would be): whatever its pages claim, the reader ends, reads
 * nothing past the file, and either lists packages or fails cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "builder/sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("rpmdb", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	bld_pkgs_t pkgs = {0};
	cb_error_t err = CB_ERROR_INIT;
	if (bld_sbom_read_rpmdb(fd, &pkgs, &err) < 0 && !cb_error_is_set(&err))
		abort(); /* a failure always says why */
	cb_error_release(&err);
	bld_pkgs_release(&pkgs);
	close(fd);
	return 0;
}
