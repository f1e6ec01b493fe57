/*
 * tests/unit/test_layer_devxattr.c - device numbers and xattr replacement.
 *
 * Device numbers: the largest Linux can make (12-bit major, 20-bit minor)
 * round-trip through a snapshot and GNU tar lists them; larger ones (from a
 * tar made on another system) are written in base-256 plus a
 * SCHILY.devmajor/devminor record, which GNU tar, Python's tarfile and
 * libarchive all read back; such numbers written by others (Python's GNU
 * base-256, a PAX-only SCHILY record) are read too, and applying any of
 * them fails with a clear error rather than creating the wrong device.
 *
 * xattrs: applying a layer over an existing directory (and the root) leaves
 * it with exactly the xattrs of the tar entry, stale ones removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "store/layer_internal.h"
#include "test_layer_util.h"

typedef layer_fx_t fx_t;

static char *blob_path(fx_t *f, const char *digest)
{
	return cb_asprintf("%s/store/blobs/sha256/%s", f->tmp, digest + strlen("sha256:"));
}

/* The first line of a command's output (caller frees), NULL when none. */
static char *sh_out(const char *fmt, ...) CB_PRINTF(1, 2);
static char *sh_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *cmd = cb_vasprintf(fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	char *got = fgets(line, sizeof(line), p) ? cb_xstrdup(line) : NULL;
	pclose(p);
	if (got)
		got[strcspn(got, "\n")] = '\0';
	return got;
}

/* ---- device numbers ---- */

/* The largest numbers Linux has: snapshot, list with GNU tar, apply. */
static void test_linux_max_devices(void **state)
{
	fx_t *f = *state;
	if (geteuid() != 0)
		skip();
	_cleanup_free_ char *src = cb_path_join(f->tmp, "src");
	_cleanup_free_ char *dst = cb_path_join(f->tmp, "dst");
	assert_int_equal(sh("mkdir -p '%s' '%s' && mknod '%s/c' c 4095 1048575 && "
			    "mknod '%s/b' b 259 1048575 && mknod '%s/lo' c 1 3",
			    src, dst, src, src, src),
			 0);
	layer_opts_t o = LAYER_OPTS_INIT;
	o.compression = LAYER_COMPRESS_NONE;
	layer_result_t res;
	cb_error_t err = CB_ERROR_INIT;
	check(layer_write_dir(f->st, src, &o, &res, &err), &err);
	_cleanup_free_ char *blob = blob_path(f, res.digest);
	_cleanup_free_ char *c = sh_out("tar -tvf '%s' c | awk '{print $1, $3}'", blob);
	_cleanup_free_ char *b = sh_out("tar -tvf '%s' b | awk '{print $1, $3}'", blob);
	assert_non_null(c);
	assert_non_null(b);
	assert_string_equal(c, "crw-r--r-- 4095,1048575");
	assert_string_equal(b, "brw-r--r-- 259,1048575");

	_cleanup_close_ int fd = store_open_blob(f->st, res.digest, &err);
	check(fd, &err);
	check(layer_apply(fd, dst, 0, res.digest, res.diff_id, &err), &err);
	_cleanup_free_ char *mf_src = tree_manifest(src, MF_MTIME);
	_cleanup_free_ char *mf_dst = tree_manifest(dst, MF_MTIME);
	assert_string_equal(mf_src, mf_dst);
	struct stat st;
	_cleanup_free_ char *cp = cb_path_join(dst, "c");
	assert_int_equal(lstat(cp, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 4095);
	assert_int_equal(minor(st.st_rdev), 1048575);
}

#define BIG_MAJOR ((1u << 21) + 5)  /* one past what 7 octal digits hold, and more */
#define BIG_MINOR ((1u << 30) + 77) /* needs 4 bytes in base-256 */

/* A tar with a device whose numbers do not fit ustar's octal fields. */
static char *big_device_tar(fx_t *f)
{
	cb_buf_t t;
	cb_buf_init(&t);
	layer_tar_dev_header(&t, "big", false, BIG_MAJOR, BIG_MINOR);
	layer_tar_dev_header(&t, "d/small", true, 8, 1);
	static const char eoa[1024];
	cb_buf_add(&t, eoa, sizeof(eoa));
	char *path = cb_path_join(f->tmp, "big.tar");
	cb_error_t err = CB_ERROR_INIT;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	check(cb_write_all(fd, t.data, t.len, &err), &err);
	cb_buf_release(&t);
	return path;
}

static void test_big_devnum_readers(void **state)
{
	fx_t *f = *state;
	_cleanup_free_ char *tar = big_device_tar(f);

	/* libarchive (what our reader and bsdtar use): the PAX record */
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, tar, 10240), ARCHIVE_OK);
	struct archive_entry *e;
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "big");
	assert_int_equal(archive_entry_filetype(e), AE_IFCHR);
	assert_int_equal(archive_entry_rdevmajor(e), BIG_MAJOR);
	assert_int_equal(archive_entry_rdevminor(e), BIG_MINOR);
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "d/small");
	assert_int_equal(archive_entry_rdevmajor(e), 8);
	assert_int_equal(archive_entry_rdevminor(e), 1);
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_EOF);
	archive_read_free(a);

	/* GNU tar: the base-256 fields (it warns about SCHILY.devmajor) */
	assert_int_equal(sh("tar -tf '%s' >/dev/null 2>&1", tar), 0);
	_cleanup_free_ char *gnu =
		sh_out("tar -tvf '%s' big 2>/dev/null | awk '{print $1, $3, $NF}'", tar);
	assert_non_null(gnu);
	_cleanup_free_ char *want = cb_asprintf("crw------- %u,%u big", BIG_MAJOR, BIG_MINOR);
	assert_string_equal(gnu, want);

	/* Python's tarfile (Go's archive/tar parses the same base-256 fields) */
	_cleanup_free_ char *py = sh_out(
		"python3 -c 'import sys,tarfile; m=tarfile.open(sys.argv[1]).getmember(\"big\"); "
		"print(m.devmajor, m.devminor, m.ischr())' '%s'",
		tar);
	assert_non_null(py);
	_cleanup_free_ char *pwant = cb_asprintf("%u %u True", BIG_MAJOR, BIG_MINOR);
	assert_string_equal(py, pwant);
}

/* The same device as other writers put it: Python's GNU format
 * (base-256 fields only, as Go writes it too) and a PAX header with only
 * SCHILY.devmajor/devminor (the ustar fields left 0, as strict libarchive
 * writes it). */
static char *foreign_tar(fx_t *f, const char *kind)
{
	char *path = cb_asprintf("%s/%s.tar", f->tmp, kind);
	assert_int_equal(
		sh("python3 - '%s' '%s' %u %u <<'EOF'\n"
		   "import sys, tarfile\n"
		   "out, kind, ma, mi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
		   "fmt = tarfile.GNU_FORMAT if kind == 'gnu' else tarfile.PAX_FORMAT\n"
		   "with tarfile.open(out, 'w', format=fmt) as t:\n"
		   "    i = tarfile.TarInfo('big'); i.type = tarfile.CHRTYPE\n"
		   "    if kind == 'gnu':\n"
		   "        i.devmajor, i.devminor = ma, mi\n"
		   "    else:\n"
		   "        i.pax_headers = {'SCHILY.devmajor': str(ma), 'SCHILY.devminor': str(mi)}\n"
		   "    t.addfile(i)\n"
		   "EOF",
		   path, kind, BIG_MAJOR, BIG_MINOR),
		0);
	return path;
}

/* Applying such a device as root: a clear error naming the entry and its
 * numbers (so the reader got them right), never a device with truncated
 * numbers. */
static void test_big_devnum_apply(void **state)
{
	fx_t *f = *state;
	if (geteuid() != 0)
		skip();
	char *tars[] = {big_device_tar(f), foreign_tar(f, "gnu"), foreign_tar(f, "pax")};
	for (size_t i = 0; i < sizeof(tars) / sizeof(tars[0]); i++) {
		_cleanup_free_ char *dst = cb_asprintf("%s/dst%zu", f->tmp, i);
		assert_int_equal(mkdir(dst, 0755), 0);
		cb_error_t err = CB_ERROR_INIT;
		assert_int_equal(layer_apply_path(tars[i], dst, 0, &err), -1);
		assert_int_equal(err.code, EOVERFLOW);
		char buf[512];
		const char *msg = cb_error_format(&err, buf, sizeof(buf));
		_cleanup_free_ char *nums = cb_asprintf("%u:%u", BIG_MAJOR, BIG_MINOR);
		if (!strstr(msg, "'big'") || !strstr(msg, nums))
			fail_msg("%s: %s", tars[i], msg);
		cb_error_release(&err);
		_cleanup_free_ char *big = cb_path_join(dst, "big");
		struct stat st;
		assert_int_equal(lstat(big, &st), -1);
		free(tars[i]);
	}
}

/* ---- xattrs replaced ---- */

static char *xattrs_of(const char *path)
{
	return sh_out("getfattr -h -d -m '^(user|trusted)\\.' --absolute-names '%s' 2>/dev/null | "
		      "grep = | sort | tr '\\n' ' '",
		      path);
}

static void test_apply_replaces_xattrs(void **state)
{
	fx_t *f = *state;
	_cleanup_free_ char *src = cb_path_join(f->tmp, "src");
	_cleanup_free_ char *dst = cb_path_join(f->tmp, "dst");
	/* the layer: root with user.r=new, dir with user.b=3 and user.c=4,
	 * file with user.f=1, plain dir without xattrs */
	assert_int_equal(sh("mkdir -p '%s/dir' '%s/plain' && echo x > '%s/file' && "
			    "setfattr -n user.r -v new '%s' && "
			    "setfattr -n user.b -v 3 '%s/dir' && setfattr -n user.c -v 4 '%s/dir' && "
			    "setfattr -n user.f -v 1 '%s/file'",
			    src, src, src, src, src, src, src),
			 0);
	/* the target: stale xattrs everywhere, and on the same names */
	assert_int_equal(sh("mkdir -p '%s/dir' '%s/plain' && echo old > '%s/file' && "
			    "setfattr -n user.r -v old '%s' && setfattr -n user.stale -v 1 '%s' && "
			    "setfattr -n user.a -v 1 '%s/dir' && setfattr -n user.b -v 2 '%s/dir' && "
			    "setfattr -n user.old -v 1 '%s/file' && setfattr -n user.p -v 1 '%s/plain'",
			    dst, dst, dst, dst, dst, dst, dst, dst, dst),
			 0);
	bool root = geteuid() == 0;
	if (root) /* trusted.* only as root; overlay's own stays (we manage it) */
		assert_int_equal(sh("setfattr -n trusted.t -v 1 '%s/dir' && "
				    "setfattr -n trusted.overlay.opaque -v y '%s/plain'",
				    dst, dst),
				 0);
	layer_opts_t o = LAYER_OPTS_INIT;
	layer_result_t res;
	cb_error_t err = CB_ERROR_INIT;
	check(layer_write_dir(f->st, src, &o, &res, &err), &err);
	_cleanup_close_ int fd = store_open_blob(f->st, res.digest, &err);
	check(fd, &err);
	check(layer_apply(fd, dst, 0, res.digest, res.diff_id, &err), &err);

	_cleanup_free_ char *d = cb_path_join(dst, "dir");
	_cleanup_free_ char *fl = cb_path_join(dst, "file");
	_cleanup_free_ char *pl = cb_path_join(dst, "plain");
	_cleanup_free_ char *xd = xattrs_of(d);
	_cleanup_free_ char *xf = xattrs_of(fl);
	_cleanup_free_ char *xp = xattrs_of(pl);
	assert_string_equal(xd ?: "", "user.b=\"3\" user.c=\"4\" ");
	assert_string_equal(xf ?: "", "user.f=\"1\" ");
	assert_string_equal(xp ?: "", root ? "trusted.overlay.opaque=\"y\" " : "");
	/* and the tree as a whole equals the layer's source */
	if (root)
		assert_int_equal(sh("setfattr -x trusted.overlay.opaque '%s'", pl), 0);
	_cleanup_free_ char *ms = tree_manifest(src, MF_MTIME);
	_cleanup_free_ char *md = tree_manifest(dst, MF_MTIME);
	assert_string_equal(ms, md);

	/* snapshots carry no entry for their root; GNU tar's "./" does */
	_cleanup_free_ char *gtar = cb_path_join(f->tmp, "root.tar");
	assert_int_equal(sh("tar --xattrs --xattrs-include='*' -C '%s' -cf '%s' .", src, gtar), 0);
	check(layer_apply_path(gtar, dst, 0, &err), &err);
	_cleanup_free_ char *xr = xattrs_of(dst);
	assert_string_equal(xr ?: "", "user.r=\"new\" ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linux_max_devices, layer_fx_setup, layer_fx_teardown),
		cmocka_unit_test_setup_teardown(test_big_devnum_readers, layer_fx_setup, layer_fx_teardown),
		cmocka_unit_test_setup_teardown(test_big_devnum_apply, layer_fx_setup, layer_fx_teardown),
		cmocka_unit_test_setup_teardown(test_apply_replaces_xattrs, layer_fx_setup, layer_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
