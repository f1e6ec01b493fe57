/*
 * tests/fuzz/fuzz_elf.c - libFuzzer target for the ELF reading of
 * common/libprefetch (program headers, the dynamic section, DT_NEEDED
 * strings): the bytes become a library file in a directory of their own,
 * and its closure is computed (`make fuzz`).
 *
 *   build-fuzz/fuzz/fuzz_elf -max_total_time=300 CORPUS_DIR
 *
 * Whatever the headers claim, nothing is read past the file and only
 * names present in the directory are followed; the input's own name is
 * one of them, so a file that needs itself is a cycle to stop.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/libprefetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64], path[96];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/dev/shm/cbuild-fuzz-elf-%d", (int)getpid());
		mkdir(dir, 0700);
		snprintf(path, sizeof(path), "%s/libc.so.6", dir);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	char **paths;
	size_t n = cb_library_closure(dir, "libc.so.6", true, false, &paths);
	if (n != 1) /* the only file there is the input itself */
		abort();
	cb_library_closure_free(paths, n);
	return 0;
}
