/*
 * tests/unit/test_layer_overlay.c - the whiteout matrix against a real
 * overlay mount (root only; skipped otherwise).
 *
 * Two build steps run real file operations in a live overlay (delete a
 * file, delete a directory, file -> directory and back, delete then
 * recreate, opaque directory with a nested replaced directory, rename,
 * metadata change). Their upper directories become layers; then the layers
 *   - applied in order onto an empty directory (OCI whiteout semantics),
 *   - unpacked and mounted as overlay lowers,
 *   - recomputed by the copy-based differ from the applied trees,
 *   - unpacked by umoci from an OCI layout built by hand,
 * must all give exactly what the live overlay showed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "test_layer_util.h"

typedef struct fx {
	char *tmp;
	store_t *st;
} fx_t;

static bool mount_overlay(const char *lowers, const char *upper, const char *work,
			  const char *target)
{
	_cleanup_free_ char *opts =
		upper ? cb_asprintf("lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,metacopy=off,index=off",
				    lowers, upper, work)
		      : cb_asprintf("lowerdir=%s", lowers);
	return mount("overlay", target, "overlay", 0, opts) == 0;
}

static char *mkd(fx_t *f, const char *name)
{
	char *p = cb_path_join(f->tmp, name);
	if (cb_mkdir_p(p, 0755, NULL) < 0)
		abort();
	return p;
}

static void expect_tree(const char *dir, const char *want, const char *what)
{
	_cleanup_free_ char *got = tree_manifest(dir, MF_MTIME);
	if (strcmp(got, want))
		fail_msg("%s differs from the live overlay:\n--- overlay\n%s--- %s\n%s", what, want,
			 what, got);
}

static void apply_layer(fx_t *f, const layer_result_t *l, const char *dir)
{
	cb_error_t err = CB_ERROR_INIT;
	_cleanup_close_ int fd = store_open_blob(f->st, l->digest, &err);
	check(fd, &err);
	check(layer_apply(fd, dir, 0, l->digest, l->diff_id, &err), &err);
}

static char *unpack(fx_t *f, const layer_result_t *l)
{
	cb_error_t err = CB_ERROR_INIT;
	char *p = NULL;
	check(layer_unpack(f->st, l->digest, l->diff_id, l->media_type, &p, &err), &err);
	return p;
}

/* An OCI image of the layers, tagged `ref` in the store's index. */
static void make_image(fx_t *f, const layer_result_t *ls, size_t n, const char *ref)
{
	cb_buf_t cfg, man;
	cb_buf_init(&cfg);
	cb_buf_init(&man);
	cb_buf_addstr(&cfg, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
			    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
	for (size_t i = 0; i < n; i++)
		cb_buf_addf(&cfg, "%s\"%s\"", i ? "," : "", ls[i].diff_id);
	cb_buf_addstr(&cfg, "]}}");
	char cd[DIGEST_STR_LEN + 1], md[DIGEST_STR_LEN + 1];
	cb_error_t err = CB_ERROR_INIT;
	check(store_put_blob(f->st, cfg.data, cfg.len, NULL, cd, &err), &err);
	cb_buf_addf(&man,
		    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		    "\"digest\":\"%s\",\"size\":%zu},\"layers\":[",
		    cd, cfg.len);
	for (size_t i = 0; i < n; i++)
		cb_buf_addf(&man, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
			    i ? "," : "", ls[i].media_type, ls[i].digest, (long long)ls[i].size);
	cb_buf_addstr(&man, "]}");
	check(store_put_blob(f->st, man.data, man.len, NULL, md, &err), &err);
	check(store_set_ref(f->st, ref, md, "application/vnd.oci.image.manifest.v1+json",
			    (int64_t)man.len, &err),
	      &err);
	cb_buf_release(&cfg);
	cb_buf_release(&man);
}

static const char *const BASE =
	"set -e; umask 022; echo a > a; mkdir -p b/sub; echo c > b/c; echo d > b/sub/d;"
	"echo d > d; mkdir e; echo x > e/x; echo old > f; mkdir -p g/sub; echo 1 > g/1;"
	"echo 2 > g/2; echo 3 > g/sub/3; echo h > h; mkdir i; echo k > i/keep; echo g > i/gone;"
	"mkdir -p k/deep; echo z > k/deep/z; ln -s h hlink; echo l > hard1; ln hard1 hard2;"
	"find . -exec touch -h -d @1000000000 {} +";

static const char *const STEP1 =
	"set -e; rm a; rm -rf b; rm d; mkdir d; echo n > d/n; rm -rf e; echo e > e;"
	"rm f; echo new > f; rm -rf g; mkdir g; echo 3 > g/3; mkdir g/sub; echo 4 > g/sub/4;"
	"mv h h2; rm i/gone; echo new > i/new; touch k/deep/z2; chmod 700 k; rm hard2";

static const char *const STEP2 =
	"set -e; rm -rf d; echo back > d; rm e; mkdir e; rm f; echo again > a; rm -rf g;"
	"mv h2 h3; mkdir -p new/dir; echo deep > new/dir/file; rm hlink; ln -s a hlink";

static void test_whiteout_matrix(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	fx_t fx = {0}, *f = &fx;
	f->tmp = test_tmpdir("ovl");
	_cleanup_free_ char *root = cb_path_join(f->tmp, "store");
	cb_error_t err = CB_ERROR_INIT;
	check(store_open(root, &f->st, &err), &err);
	_cleanup_free_ char *l0 = mkd(f, "l0"), *u1 = mkd(f, "u1"), *w1 = mkd(f, "w1"),
			    *m1 = mkd(f, "m1"), *u2 = mkd(f, "u2"), *w2 = mkd(f, "w2"),
			    *m2 = mkd(f, "m2"), *m3 = mkd(f, "m3");
	assert_int_equal(sh("cd '%s' && %s", l0, BASE), 0);
	if (!mount_overlay(l0, u1, w1, m1)) {
		rm_tree(f->tmp);
		skip();
	}
	assert_int_equal(sh("cd '%s' && %s", m1, STEP1), 0);
	_cleanup_free_ char *want1 = tree_manifest(m1, MF_MTIME);
	umount2(m1, MNT_DETACH);

	layer_opts_t o = LAYER_OPTS_INIT;
	layer_result_t ls[3];
	check(layer_write_dir(f->st, l0, &o, &ls[0], &err), &err);
	const char *low1[] = {l0, NULL};
	o.compression = LAYER_COMPRESS_ZSTD;
	check(layer_write_upper(f->st, u1, low1, &o, &ls[1], &err), &err);
	/* explicit whiteouts, never the opaque marker */
	_cleanup_free_ char *b1 = store_blob_path(f->st, ls[1].digest);
	assert_int_equal(sh("zstd -dc < '%s' | tar -t > '%s/l1.txt'", b1, f->tmp), 0);
	assert_int_equal(sh("cd '%s' && grep -qx .wh.a l1.txt && grep -qx .wh.b l1.txt && "
			    "grep -qx g/.wh.1 l1.txt && grep -qx g/.wh.2 l1.txt && "
			    "grep -qx g/sub/.wh.3 l1.txt && grep -qx .wh.h l1.txt && "
			    "grep -qx i/.wh.gone l1.txt && ! grep -q wh..opq l1.txt",
			    f->tmp),
			 0);

	/* step 2 runs on the unpacked layers as lowers */
	_cleanup_free_ char *p0 = unpack(f, &ls[0]);
	_cleanup_free_ char *p1 = unpack(f, &ls[1]);
	_cleanup_free_ char *lowers = cb_asprintf("%s:%s", p1, p0);
	assert_true(mount_overlay(lowers, u2, w2, m2));
	expect_tree(m2, want1, "unpacked layers 0+1 as overlay lowers");
	assert_int_equal(sh("cd '%s' && %s", m2, STEP2), 0);
	_cleanup_free_ char *want2 = tree_manifest(m2, MF_MTIME);
	umount2(m2, MNT_DETACH);
	const char *low2[] = {p1, p0, NULL};
	o.compression = LAYER_COMPRESS_GZIP;
	check(layer_write_upper(f->st, u2, low2, &o, &ls[2], &err), &err);

	/* 1: applied in order onto a plain directory */
	_cleanup_free_ char *a0 = mkd(f, "a0"), *a01 = mkd(f, "a01"), *a012 = mkd(f, "a012");
	apply_layer(f, &ls[0], a0);
	apply_layer(f, &ls[0], a01);
	apply_layer(f, &ls[1], a01);
	expect_tree(a01, want1, "layers 0+1 applied");
	apply_layer(f, &ls[0], a012);
	apply_layer(f, &ls[1], a012);
	apply_layer(f, &ls[2], a012);
	expect_tree(a012, want2, "layers 0+1+2 applied");

	/* 2: the three unpacked layers as a read-only overlay */
	_cleanup_free_ char *p2 = unpack(f, &ls[2]);
	_cleanup_free_ char *all = cb_asprintf("%s:%s:%s", p2, p1, p0);
	assert_true(mount_overlay(all, NULL, NULL, m3));
	expect_tree(m3, want2, "unpacked layers as overlay lowers");
	umount2(m3, MNT_DETACH);

	/* 3: the copy-based differ gives layers with the same effect */
	layer_result_t d1, d2;
	check(layer_write_diff(f->st, a0, a01, &o, &d1, &err), &err);
	check(layer_write_diff(f->st, a01, a012, &o, &d2, &err), &err);
	_cleanup_free_ char *c = mkd(f, "copy");
	apply_layer(f, &ls[0], c);
	apply_layer(f, &d1, c);
	expect_tree(c, want1, "layer 0 + diff 1 applied");
	apply_layer(f, &d2, c);
	expect_tree(c, want2, "layer 0 + diff 1 + diff 2 applied");
	/* an unchanged tree diffs to an empty layer */
	layer_result_t d0;
	check(layer_write_diff(f->st, a012, c, &o, &d0, &err), &err);
	assert_int_equal(d0.entries, 0);

	/* 4: umoci agrees */
	if (sh("command -v umoci >/dev/null") == 0) {
		/* umoci 0.4 reads no zstd: recompress layer 1 through
		 * layer_write_tar, which must keep its diff_id */
		layer_result_t g[3] = {ls[0], ls[1], ls[2]};
		_cleanup_close_ int zfd = store_open_blob(f->st, ls[1].digest, &err);
		check(zfd, &err);
		check(layer_write_tar(f->st, zfd, &o, &g[1], &err), &err);
		assert_string_equal(g[1].diff_id, ls[1].diff_id);
		make_image(f, g, 3, "localhost/whiteouts:1");
		_cleanup_free_ char *bundle = cb_path_join(f->tmp, "bundle");
		assert_int_equal(sh("umoci unpack --image '%s:localhost/whiteouts:1' '%s' >/dev/null",
				    store_root(f->st), bundle),
				 0);
		_cleanup_free_ char *rootfs = cb_path_join(bundle, "rootfs");
		expect_tree(rootfs, want2, "umoci unpack");
	}
	store_free(f->st);
	rm_tree(f->tmp);
	free(f->tmp);
}

/* A hand-made upper: whiteouts only for names the lowers have, explicit
 * whiteouts under an opaque directory (recursively where an upper
 * directory replaces a lower one), redirects refused. */
static void test_upper_by_hand(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	fx_t fx = {0}, *f = &fx;
	f->tmp = test_tmpdir("upper");
	_cleanup_free_ char *root = cb_path_join(f->tmp, "store");
	cb_error_t err = CB_ERROR_INIT;
	check(store_open(root, &f->st, &err), &err);
	_cleanup_free_ char *lo2 = mkd(f, "lo2"), *lo1 = mkd(f, "lo1"), *up = mkd(f, "up");
	assert_int_equal(sh("cd '%s' && echo a > a && mkdir -p d/y e && echo x > d/x && echo z > d/y/z && "
			    "echo w > d/w && echo q > e/q && echo hidden > hid",
			    lo2),
			 0);
	/* lo1 (above lo2) deletes d/w and makes e opaque */
	assert_int_equal(sh("cd '%s' && mkdir -p d e && mknod d/w c 0 0 && setfattr -n trusted.overlay.opaque -v y e && "
			    "echo r > e/r && mknod hid c 0 0",
			    lo1),
			 0);
	assert_int_equal(sh("cd '%s' && mknod a c 0 0 && mknod gone c 0 0 && mknod hid c 0 0 && mkdir -p d/y e && "
			    "setfattr -n trusted.overlay.opaque -v y d && echo n > d/new && echo n > d/y/n && "
			    "mknod e/q c 0 0 && mknod e/r c 0 0",
			    up),
			 0);
	const char *lowers[] = {lo1, lo2, NULL};
	layer_opts_t o = LAYER_OPTS_INIT;
	o.compression = LAYER_COMPRESS_NONE;
	layer_result_t res;
	check(layer_write_upper(f->st, up, lowers, &o, &res, &err), &err);
	_cleanup_free_ char *blob = store_blob_path(f->st, res.digest);
	assert_int_equal(sh("tar -tf '%s' | tr '\n' ' ' > '%s/list'", blob, f->tmp), 0);
	_cleanup_free_ char *listp = cb_path_join(f->tmp, "list");
	_cleanup_free_ char *list = NULL;
	size_t len;
	check(cb_read_file(listp, 4096, &list, &len, &err), &err);
	/* whiteouts sort by the name they hide */
	assert_string_equal(list, ".wh.a d/ d/new d/.wh.x d/y/ d/y/n d/y/.wh.z e/ e/.wh.r ");
	/* a redirect (renamed directory) cannot be expressed: refused */
	assert_int_equal(sh("mkdir '%s/e/ren' && setfattr -n trusted.overlay.redirect -v /d '%s/e/ren'", up, up), 0);
	assert_int_equal(layer_write_upper(f->st, up, lowers, &o, &res, &err), -1);
	assert_int_equal(err.code, ENOTSUP);
	cb_error_release(&err);
	store_free(f->st);
	rm_tree(f->tmp);
	free(f->tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upper_by_hand),
		cmocka_unit_test(test_whiteout_matrix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
