/*
 * tests/unit/test_layer_extract.c - the one tar extractor's options for a
 * tar that is not a layer (ADD of a local archive): the probe, the owner
 * override, the expansion limit, names and symlinks kept inside the
 * destination, escapes refused, holes kept, ".wh." names as plain files.
 * Tars are made with the system's tar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_layer_util.h"
#include "common/cancel.h"

static char *tmp;

static int setup(void **state)
{
	(void)state;
	tmp = test_tmpdir("extract");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(tmp);
	free(tmp);
	return 0;
}

/* Extract tmp/NAME into a fresh tmp/out; the error code (0: success). */
static int extract(const char *name, const layer_extract_opts_t *o)
{
	_cleanup_free_ char *path = cb_asprintf("%s/%s", tmp, name);
	_cleanup_free_ char *out = cb_asprintf("%s/out", tmp);
	rm_tree(out);
	assert_int_equal(mkdir(out, 0755), 0);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0 && dfd >= 0);
	bool is_tar = false;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(layer_probe_tar(fd, &is_tar, &err), 0);
	if (!is_tar)
		return -ENOTSUP;
	int rc = layer_extract_at(fd, dfd, o, &err) < 0 ? err.code : 0;
	cb_error_release(&err);
	return rc;
}

static void test_probe(void **state)
{
	(void)state;
	layer_extract_opts_t o = {.flags = LAYER_APPLY_NO_WHITEOUTS};
	_cleanup_free_ char *p = cb_asprintf("%s/plain.txt", tmp);
	write_text(p, "not a tar\n");
	assert_int_equal(extract("plain.txt", &o), -ENOTSUP);
	assert_int_equal(sh("gzip -c %s/plain.txt > %s/plain.gz", tmp, tmp), 0);
	assert_int_equal(extract("plain.gz", &o), -ENOTSUP);
	assert_int_equal(sh("tar -cf %s/empty.tar -T /dev/null", tmp), 0);
	assert_int_equal(extract("empty.tar", &o), -ENOTSUP);
}

static void test_owner_links_holes(void **state)
{
	(void)state;
	assert_int_equal(sh("cd %s && mkdir -p src/d && echo hi > src/d/f && "
			    "ln -s /d src/abs && echo x > src/.wh.f && "
			    "truncate -s 8M src/sparse && printf end >> src/sparse && "
			    "tar --sparse --owner=7 --group=8 -czf a.tgz -C src .",
			    tmp),
			 0);
	layer_extract_opts_t o = {.flags = LAYER_APPLY_NO_WHITEOUTS | LAYER_APPLY_REFUSE_ESCAPES};
	assert_int_equal(extract("a.tgz", &o), 0);
	_cleanup_free_ char *f = cb_asprintf("%s/out/d/f", tmp);
	_cleanup_free_ char *wh = cb_asprintf("%s/out/.wh.f", tmp);
	_cleanup_free_ char *sp = cb_asprintf("%s/out/sparse", tmp);
	struct stat sb;
	assert_int_equal(lstat(f, &sb), 0);
	if (geteuid() == 0)
		assert_true(sb.st_uid == 7 && sb.st_gid == 8);
	assert_int_equal(lstat(wh, &sb), 0); /* a plain file, not a whiteout */
	assert_int_equal(lstat(sp, &sb), 0);
	assert_int_equal(sb.st_size, 8 * 1024 * 1024 + 3);
	assert_true(sb.st_blocks * 512 < 1024 * 1024); /* the hole stayed one */

	/* --chown: every entry */
	o.chown = true;
	o.uid = 1234;
	o.gid = 5678;
	assert_int_equal(extract("a.tgz", &o), 0);
	assert_int_equal(lstat(f, &sb), 0);
	if (geteuid() == 0)
		assert_true(sb.st_uid == 1234 && sb.st_gid == 5678);

	/* an entry through an archive's symlink to "/" lands inside the
	 * destination (Docker's chrooted untar), not in the host's / */
	assert_int_equal(sh("cd %s && python3 -c 'import tarfile, io\n"
			    "t = tarfile.open(\"b.tar\", \"w\")\n"
			    "l = tarfile.TarInfo(\"up\"); l.type = tarfile.SYMTYPE; l.linkname = \"/\"\n"
			    "t.addfile(l)\n"
			    "f = tarfile.TarInfo(\"up/cbuild-extract-inside\"); f.size = 2\n"
			    "t.addfile(f, io.BytesIO(b\"in\"))\n"
			    "t.close()'",
			    tmp),
			 0);
	o.chown = false;
	assert_int_equal(extract("b.tar", &o), 0);
	_cleanup_free_ char *in = cb_asprintf("%s/out/cbuild-extract-inside", tmp);
	assert_int_equal(lstat(in, &sb), 0);
	assert_int_equal(sb.st_size, 2);
	assert_false(access("/cbuild-extract-inside", F_OK) == 0);
}

static void test_limit_and_escapes(void **state)
{
	(void)state;
	assert_int_equal(sh("cd %s && mkdir -p src && head -c 100000 /dev/zero > src/z && "
			    "tar -czf z.tgz -C src z",
			    tmp),
			 0);
	layer_extract_opts_t o = {.flags = LAYER_APPLY_NO_WHITEOUTS, .max_bytes = 99999};
	assert_int_equal(extract("z.tgz", &o), EFBIG);
	o.max_bytes = 100000;
	assert_int_equal(extract("z.tgz", &o), 0);
	/* a climbing name */
	assert_int_equal(sh("cd %s && tar -czf esc.tgz -C src z --transform 's,^z,../z,'", tmp), 0);
	o.flags |= LAYER_APPLY_REFUSE_ESCAPES;
	assert_int_equal(extract("esc.tgz", &o), EINVAL);
	_cleanup_free_ char *outside = cb_asprintf("%s/z", tmp);
	assert_false(access(outside, F_OK) == 0);
}

/* A cancelled build (SIGINT) stops the extraction with EINTR (common/cancel.h). */
static void test_cancel(void **state)
{
	(void)state;
	assert_int_equal(sh("cd %s && mkdir -p src && echo x > src/f && tar -cf c.tar -C src f", tmp),
			 0);
	layer_extract_opts_t o = {.flags = LAYER_APPLY_NO_WHITEOUTS};
	cb_cancel_request(2);
	int rc = extract("c.tar", &o);
	cb_cancel_reset();
	assert_int_equal(rc, EINTR);
	assert_int_equal(extract("c.tar", &o), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_links_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_and_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
