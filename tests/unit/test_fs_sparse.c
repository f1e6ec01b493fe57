/* common/fs: sparse reads and copies. A file of 8 MiB holding data at 0,
 * at 3 MiB and in its last bytes: cb_copy_sparse gives a copy with the
 * same bytes and about as few blocks; cb_read_holes returns the same bytes
 * as read(2), the holes flagged and never longer than asked for. Files live
 * in a fresh directory under /var/tmp (tmpfs and ext4 both answer
 * SEEK_DATA; a file system that does not is read as data, also correct). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"

#define SIZE (8 << 20)

static char *dir;

static void put(int fd, off_t off, const char *s)
{
	assert_int_equal(pwrite(fd, s, strlen(s), off), (ssize_t)strlen(s));
}

static int make_sparse(const char *name)
{
	char *p = cb_path_join(dir, name);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(p);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	put(fd, 0, "head");
	put(fd, 3 << 20, "middle");
	put(fd, SIZE - 4, "tail");
	return fd;
}

static char *slurp(int fd)
{
	char *b = cb_xmalloc(SIZE);
	assert_int_equal(pread(fd, b, SIZE, 0), SIZE);
	return b;
}

static int setup(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	dir = cb_mkdtemp_in("/var/tmp", "cbuild-sparse-", &err);
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	cb_rm_rf(dir, &err);
	cb_error_release(&err);
	free(dir);
	return 0;
}

static void test_copy_keeps_holes(void **state)
{
	(void)state;
	int in = make_sparse("in");
	assert_true(cb_fd_has_holes(in));
	char *p = cb_path_join(dir, "out");
	int out = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(p);
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(cb_copy_sparse(in, out, &err), 0);
	struct stat si, so;
	assert_int_equal(fstat(in, &si), 0);
	assert_int_equal(fstat(out, &so), 0);
	assert_int_equal(so.st_size, SIZE);
	/* a copy that wrote the zeros would hold SIZE bytes of blocks */
	assert_true((uint64_t)so.st_blocks * 512 <= (uint64_t)si.st_blocks * 512 + (256 << 10));
	char *a = slurp(in), *b = slurp(out);
	assert_memory_equal(a, b, SIZE);
	free(a), free(b);
	close(in), close(out);
}

static void test_read_holes_same_bytes(void **state)
{
	(void)state;
	int fd = make_sparse("r");
	char *want = slurp(fd);
	char *got = cb_xmalloc(SIZE), *buf = cb_xmalloc(100000);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	size_t at = 0, holes = 0;
	for (;;) {
		bool hole;
		ssize_t n = cb_read_holes(fd, buf, 100000, &hole);
		assert_true(n >= 0 && n <= 100000);
		if (!n)
			break;
		holes += hole;
		assert_true(at + (size_t)n <= SIZE);
		memcpy(got + at, buf, (size_t)n);
		at += (size_t)n;
	}
	assert_int_equal(at, SIZE);
	assert_memory_equal(want, got, SIZE);
	assert_true(holes > 0);
	free(want), free(got), free(buf);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_keeps_holes),
		cmocka_unit_test(test_read_holes_same_bytes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
