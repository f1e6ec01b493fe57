/* runtime pieces of docker's everyday verbs: volume names, the du that
 * system df and volume prune count with, and cp's tar of a tree (symlinks
 * sent as links, never followed; modes and contents kept) read back by the
 * store's extractor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/tartree.h"
#include "runtime/volume.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/layer.h"

static void test_volume_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{"data", true},   {"my_vol.1-x", true}, {"a1", true},  {"x", false},
		{"", false},      {"-data", false},     {".d", false}, {"a/b", false},
		{"..", false},    {"a b", false},       {"9", false},  {"proj_db-data", true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (rt_vol_name_valid(cases[i].name) != cases[i].ok)
			fail_msg("'%s': want %d", cases[i].name, cases[i].ok);
	}
	assert_false(rt_vol_name_valid(NULL));
}

static char *tmpdir(void)
{
	char *d = cb_xstrdup("/tmp/cbuild-test-verbs-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void put(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *p = cb_path_join(dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(p, mode);
	free(p);
}

static void test_du_counts_file_sizes(void **state)
{
	(void)state;
	char *d = tmpdir();
	char *sub = cb_path_join(d, "sub");
	assert_int_equal(mkdir(sub, 0755), 0);
	put(d, "a", "12345", 0644);
	put(d, "sub/b", "1234567890", 0644);
	char *a = cb_path_join(d, "a"), *l = cb_path_join(d, "sub/link-to-a");
	assert_int_equal(link(a, l), 0);
	/* 5 + 10, the hard link once, directories not counted (as docker) */
	assert_int_equal(rt_du(d), 15);
	cb_error_t e = CB_ERROR_INIT;
	assert_int_equal(cb_rm_rf(d, &e), 0);
	assert_int_equal(rt_du(d), 0);
	free(a), free(l), free(sub), free(d);
}

static void test_tartree_roundtrip(void **state)
{
	(void)state;
	char *src = tmpdir(), *dst = tmpdir();
	char *tree = cb_path_join(src, "tree");
	assert_int_equal(mkdir(tree, 0750), 0);
	put(tree, "f", "hello", 0640);
	char *ln = cb_path_join(tree, "etc");
	assert_int_equal(symlink("/etc", ln), 0);
	char *tar = cb_path_join(src, "t.tar");
	int fd = open(tar, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	int dirfd = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
	rt_tartree_opts_t o = {false, false};
	cb_error_t e = CB_ERROR_INIT;
	assert_int_equal(rt_tartree_write(dirfd, "tree", "copy", &o, fd, &e), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(layer_apply(fd, dst, LAYER_APPLY_NO_CHOWN, NULL, NULL, &e), 0);
	close(fd);
	close(dirfd);
	char *f = cb_path_join(dst, "copy/f"), *l = cb_path_join(dst, "copy/etc");
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(cb_read_file(f, 64, &text, &len, &e), 0);
	assert_string_equal(text, "hello");
	struct stat sb;
	assert_int_equal(stat(f, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	char target[64] = "";
	assert_int_equal(readlink(l, target, sizeof target - 1), 4);
	assert_string_equal(target, "/etc"); /* the link itself, not /etc's files */
	char *d2 = cb_path_join(dst, "copy");
	assert_int_equal(stat(d2, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_int_equal(cb_rm_rf(src, &e), 0);
	assert_int_equal(cb_rm_rf(dst, &e), 0);
	free(text), free(f), free(l), free(d2), free(tar), free(ln), free(tree), free(src),
		free(dst);
}

static void test_tartree_contents_only(void **state)
{
	(void)state;
	char *src = tmpdir(), *dst = tmpdir();
	put(src, "x", "1", 0644);
	put(src, "y", "2", 0644);
	int p[2];
	assert_int_equal(pipe(p), 0);
	int dirfd = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
	rt_tartree_opts_t o = {true, false};
	cb_error_t e = CB_ERROR_INIT;
	/* SRC/. : the children only, at the top of the tar */
	assert_int_equal(rt_tartree_write(dirfd, ".", "", &o, p[1], &e), 0);
	close(p[1]);
	assert_int_equal(layer_apply(p[0], dst, LAYER_APPLY_NO_CHOWN, NULL, NULL, &e), 0);
	close(p[0]);
	close(dirfd);
	char *x = cb_path_join(dst, "x"), *y = cb_path_join(dst, "y");
	assert_true(cb_path_exists(x) && cb_path_exists(y));
	assert_int_equal(cb_rm_rf(src, &e), 0);
	assert_int_equal(cb_rm_rf(dst, &e), 0);
	free(x), free(y), free(src), free(dst);
}

static void test_parse_signal(void **state)
{
	(void)state;
	assert_int_equal(rt_ctr_parse_signal("KILL"), 9);
	assert_int_equal(rt_ctr_parse_signal("SIGTERM"), 15);
	assert_int_equal(rt_ctr_parse_signal("usr1"), 10);
	assert_int_equal(rt_ctr_parse_signal("2"), 2);
	assert_int_equal(rt_ctr_parse_signal("NOPE"), -1);
	assert_int_equal(rt_ctr_parse_signal("0"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_volume_names),
		cmocka_unit_test(test_du_counts_file_sizes),
		cmocka_unit_test(test_tartree_roundtrip),
		cmocka_unit_test(test_tartree_contents_only),
		cmocka_unit_test(test_parse_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
