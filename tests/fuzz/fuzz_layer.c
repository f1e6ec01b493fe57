/*
 * tests/fuzz/fuzz_layer.c - libFuzzer target for layer_apply: the bytes are
 * a layer (tar, gzip or zstd: detected) applied onto an empty directory,
 * once with OCI whiteout semantics and once in overlay lower-dir format
 * (`make fuzz`).
 *
 *   build-fuzz/fuzz/fuzz_layer -max_total_time=300 -max_len=65536 CORPUS_DIR
 *
 * Besides the sanitizers it checks containment: the target sits in a
 * parent directory holding one sentinel file, and after every apply the
 * parent must hold exactly the target and the unchanged sentinel, and the
 * directory around the parent nothing but the parent. (A hostile layer
 * that got out would most likely land there: `..` and symlinks resolve
 * relative to the target), and ABS_VICTIM must never exist: the seeds
 * made by `testdata/layers/mkevil.py DIR /dev/shm/cbuild-fuzz-abs-victim`
 * aim their absolute names and links at it. tests/fuzz/run does both.
 * Run it as root; the directories are on /dev/shm (tmpfs) for speed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "store/layer.h"

static char g_outer[256];  /* holds only "parent" */
static char g_parent[300]; /* holds only "target" and "sentinel" */
static char g_target[320];
static const char SENTINEL[] = "do not touch\n";
static const char ABS_VICTIM[] = "/dev/shm/cbuild-fuzz-abs-victim";

static void die(const char *what)
{
	perror(what);
	abort();
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		die(path);
	return 0;
}

static void write_sentinel(void)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/sentinel", g_parent);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, SENTINEL, sizeof(SENTINEL) - 1) != (ssize_t)sizeof(SENTINEL) - 1)
		die("sentinel");
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(g_outer, sizeof(g_outer), "%s/cbuild-fuzz-layer-%d", base, (int)getpid());
	snprintf(g_parent, sizeof(g_parent), "%s/parent", g_outer);
	snprintf(g_target, sizeof(g_target), "%s/target", g_parent);
	if (mkdir(g_outer, 0755) < 0 || mkdir(g_parent, 0755) < 0)
		die(g_outer);
	write_sentinel();
	return 0;
}

/* The names in dir, which must be exactly want[0..n) (any order). */
static void expect_only(const char *dir, const char *const *want, size_t n)
{
	DIR *d = opendir(dir);
	if (!d)
		die(dir);
	size_t seen = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		bool known = false;
		for (size_t i = 0; i < n; i++)
			known = known || strcmp(e->d_name, want[i]) == 0;
		if (!known) {
			fprintf(stderr, "fuzz_layer: escape: '%s/%s' appeared\n", dir, e->d_name);
			abort();
		}
		seen++;
	}
	closedir(d);
	if (seen != n) {
		fprintf(stderr, "fuzz_layer: escape: an entry of '%s' went away\n", dir);
		abort();
	}
}

static void check_contained(void)
{
	static const char *const outer[] = {"parent"};
	static const char *const parent[] = {"target", "sentinel"};
	expect_only(g_outer, outer, 1);
	expect_only(g_parent, parent, 2);
	char p[400], buf[64];
	snprintf(p, sizeof(p), "%s/sentinel", g_parent);
	struct stat st;
	if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
		die("sentinel replaced");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t got = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (got != (ssize_t)sizeof(SENTINEL) - 1 || memcmp(buf, SENTINEL, (size_t)got) != 0) {
		fprintf(stderr, "fuzz_layer: escape: the sentinel was written\n");
		abort();
	}
	close(fd);
	if (lstat(ABS_VICTIM, &st) == 0) {
		fprintf(stderr, "fuzz_layer: escape: '%s' was created\n", ABS_VICTIM);
		abort();
	}
}

static void apply_once(int fd, unsigned flags)
{
	if (mkdir(g_target, 0755) < 0)
		die(g_target);
	if (lseek(fd, 0, SEEK_SET) < 0)
		die("lseek");
	cb_error_t err = CB_ERROR_INIT;
	if (layer_apply(fd, g_target, flags, NULL, NULL, &err) < 0)
		cb_error_release(&err);
	check_contained();
	/* the layer may have left modes that keep even root out of nothing, but
	 * a directory without write permission is no obstacle to root */
	if (nftw(g_target, remove_entry, 32, FTW_DEPTH | FTW_PHYS) < 0)
		die("clean target");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create");
	if (size && write(fd, data, size) != (ssize_t)size)
		die("write memfd");
	apply_once(fd, 0);
	apply_once(fd, LAYER_APPLY_OVERLAY);
	close(fd);
	return 0;
}
