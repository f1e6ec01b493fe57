/*
 * tests/unit/test_snapshot.c - rt_chain_lowers and rt_overlay_options
 * against the OCI semantics (root only; skipped otherwise).
 *
 * A chain may repeat a diff ID, and overlayfs refuses a directory twice in
 * lowerdir: rt_chain_lowers keeps each layer at its top-most place only.
 * For chains that repeat layers holding files, whiteouts and opaque
 * directories, the read-only overlay of what it returns must show exactly
 * the tree that applying every layer in order onto a plain directory gives
 * (what umoci, buildah's vfs driver and `docker export` do). And the copy
 * snapshotter's sync of base/ to merged/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "builder/internal.h"
#include "runtime/mount.h"
#include "test_layer_util.h"

typedef struct fx {
	char *tmp;
	store_t *st;
	layer_result_t l[4]; /* base, A, B, C */
} fx_t;

static char *mkd(fx_t *f, const char *name)
{
	char *p = cb_path_join(f->tmp, name);
	if (cb_mkdir_p(p, 0755, NULL) < 0)
		abort();
	return p;
}

/* base: a, d/{x,y/z}, e/1. A: +f, d opaque with d/new, -e. B: -f, d/b,
 * e again (opaque) with e/2. C: d/c, g. */
static void make_layers(fx_t *f)
{
	_cleanup_free_ char *base = mkd(f, "base"), *a = mkd(f, "a"), *b = mkd(f, "b"),
			    *c = mkd(f, "c");
	assert_int_equal(sh("cd '%s' && echo a > a && mkdir -p d/y e && echo x > d/x && "
			    "echo z > d/y/z && echo 1 > e/1 && find . -exec touch -h -d @1000000000 {} +",
			    base),
			 0);
	assert_int_equal(sh("cd '%s' && echo f > f && mkdir d && setfattr -n trusted.overlay.opaque -v y d && "
			    "echo n > d/new && mknod e c 0 0 && find . -exec touch -h -d @1000000001 {} +",
			    a),
			 0);
	assert_int_equal(sh("cd '%s' && mknod f c 0 0 && mkdir d e && echo b > d/b && "
			    "setfattr -n trusted.overlay.opaque -v y e && echo 2 > e/2 && "
			    "find . -exec touch -h -d @1000000002 {} +",
			    b),
			 0);
	assert_int_equal(sh("cd '%s' && mkdir d && echo c > d/c && echo g > g && "
			    "find . -exec touch -h -d @1000000003 {} +",
			    c),
			 0);
	cb_error_t err = CB_ERROR_INIT;
	layer_opts_t o = LAYER_OPTS_INIT;
	check(layer_write_dir(f->st, base, &o, &f->l[0], &err), &err);
	const char *below_a[] = {base, NULL}, *below_b[] = {a, base, NULL};
	check(layer_write_upper(f->st, a, below_a, &o, &f->l[1], &err), &err);
	check(layer_write_upper(f->st, b, below_b, &o, &f->l[2], &err), &err);
	check(layer_write_upper(f->st, c, below_a, &o, &f->l[3], &err), &err);
}

/* chain: indices into f->l, bottom first, terminated by -1. */
static void check_chain(fx_t *f, const int *chain, size_t want_lowers, const char *name)
{
	oci_descriptor_t d[16];
	char *ids[17];
	size_t n = 0;
	_cleanup_free_ char *applied = mkd(f, name);
	cb_error_t err = CB_ERROR_INIT;
	for (; chain[n] >= 0; n++) {
		const layer_result_t *l = &f->l[chain[n]];
		memset(&d[n], 0, sizeof(d[n]));
		d[n].media_type = (char *)l->media_type;
		d[n].digest = (char *)l->digest;
		ids[n] = (char *)l->diff_id;
		_cleanup_close_ int fd = store_open_blob(f->st, l->digest, &err);
		check(fd, &err);
		check(layer_apply(fd, applied, 0, l->digest, l->diff_id, &err), &err);
	}
	ids[n] = NULL;
	_cleanup_strv_ char **lowers = NULL;
	check(rt_chain_lowers(f->st, d, ids, n, &lowers, &err), &err);
	assert_int_equal(cb_strv_len(lowers), want_lowers);
	for (size_t i = 0; lowers[i]; i++) /* each directory once */
		for (size_t j = i + 1; lowers[j]; j++)
			assert_string_not_equal(lowers[i], lowers[j]);
	cb_buf_t opts;
	cb_buf_init(&opts);
	check(rt_overlay_options(lowers, NULL, NULL, &opts, &err), &err);
	_cleanup_free_ char *mnt_name = cb_asprintf("%s-mnt", name);
	_cleanup_free_ char *mnt = mkd(f, mnt_name);
	if (mount("overlay", mnt, "overlay", MS_RDONLY, opts.data) < 0)
		fail_msg("%s: mount overlay '%s': %s", name, opts.data, strerror(errno));
	cb_buf_release(&opts);
	_cleanup_free_ char *want = tree_manifest(applied, MF_MTIME);
	_cleanup_free_ char *got = tree_manifest(mnt, MF_MTIME);
	umount2(mnt, MNT_DETACH);
	if (strcmp(want, got))
		fail_msg("%s: the overlay differs from the layers applied in order:\n--- applied\n%s"
			 "--- overlay\n%s",
			 name, want, got);
}

static void test_repeated_chains(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	fx_t fx = {0}, *f = &fx;
	f->tmp = test_tmpdir("chain");
	_cleanup_free_ char *root = cb_path_join(f->tmp, "store");
	cb_error_t err = CB_ERROR_INIT;
	check(store_open(root, &f->st, &err), &err);
	make_layers(f);
	/* add/remove/add/remove/add, ending on either */
	check_chain(f, (const int[]){0, 1, 2, 1, 2, 1, -1}, 3, "abab-a");
	check_chain(f, (const int[]){0, 1, 2, 1, 2, -1}, 3, "abab");
	/* an unrepeated layer between the two copies */
	check_chain(f, (const int[]){0, 1, 3, 1, -1}, 3, "aca");
	/* the lower copy below layers that change what it made */
	check_chain(f, (const int[]){0, 3, 1, 2, 3, -1}, 4, "cabc");
	/* the base itself again on top */
	check_chain(f, (const int[]){0, 1, 0, -1}, 2, "a-base");
	store_free(f->st);
	rm_tree(f->tmp);
	free(f->tmp);
}

/* The copy snapshotter carries a step's pair to the next step by bringing
 * base/ up to merged/ (builder/snapshot_sync.c): afterwards the two trees
 * are the same (mtimes included) and their diff is empty, whatever kind of
 * change the step made. */
static void test_copy_sync(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	_cleanup_free_ char *tmp = test_tmpdir("sync");
	_cleanup_free_ char *base = cb_path_join(tmp, "base");
	_cleanup_free_ char *merged = cb_path_join(tmp, "merged");
	_cleanup_free_ char *root = cb_path_join(tmp, "store");
	assert_int_equal(sh("mkdir '%s' && cd '%s' && echo same > f && echo keep > k && "
			    "mkdir -p d/e t && echo 1 > d/e/1 && ln -s k l && echo x > todir && "
			    "mkdir tofile && echo y > tofile/y && mkfifo p && echo m > mode && "
			    "echo o > own && echo a > attr && find . -exec touch -h -d @1000000000 {} +",
			    base, base),
			 0);
	assert_int_equal(sh("cp -a '%s' '%s'", base, merged), 0);
	assert_int_equal(sh("cd '%s' && echo SAME > f && touch -d @1000000005 f && rm -r d && "
			    "ln -sfn f l && rm todir && mkdir todir && echo in > todir/in && "
			    "rm -r tofile && echo now-a-file > tofile && chmod 600 mode && "
			    "chown 12:34 own && setfattr -n user.x -v 1 attr && ln k k2 && "
			    "mkfifo p2 && echo new > t/new",
			    merged),
			 0);
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	check(store_open(root, &st, &err), &err);
	layer_opts_t o = LAYER_OPTS_INIT;
	o.hash_only = true;
	layer_result_t res;
	check(layer_write_diff(st, base, merged, &o, &res, &err), &err);
	assert_true(res.entries > 10); /* every change is seen before */
	check(bld_snap_copy_sync(base, merged, &err), &err);
	_cleanup_free_ char *want = tree_manifest(merged, MF_MTIME);
	_cleanup_free_ char *got = tree_manifest(base, MF_MTIME);
	/* hard links are carried (k and k2 one file in base too): the next
	 * step's diff reads a file's link count in base (touched files) */
	const char *w = want, *g = got;
	while (*w && *w == *g)
		w++, g++;
	if (*w || *g)
		fail_msg("base differs from merged after the sync at:\n  merged: %.80s\n  base:   %.80s",
			 w, g);
	check(layer_write_diff(st, base, merged, &o, &res, &err), &err);
	assert_int_equal(res.entries, 0);
	store_free(st);
	rm_tree(tmp);
}

/* The diff of a step with changed_after: a file the step only touched
 * (linked and unlinked, chmod'ed to its mode) is in the layer, as overlayfs
 * copies it up; one that only lost a name is not, nor one the step's
 * sandbox moved aside and back (ctime_skip), nor one of before. */
static void test_diff_touched(void **state)
{
	(void)state;
	_cleanup_free_ char *tmp = test_tmpdir("touched");
	_cleanup_free_ char *base = cb_path_join(tmp, "base");
	_cleanup_free_ char *merged = cb_path_join(tmp, "merged");
	_cleanup_free_ char *root = cb_path_join(tmp, "store");
	assert_int_equal(sh("mkdir '%s' && cd '%s' && for f in linked mode pair aside old; do "
			    "echo $f > $f; done && ln pair pair2 && mkdir d && "
			    "find . -exec touch -h -d @1000000000 {} +",
			    base, base),
			 0);
	assert_int_equal(sh("cp -a '%s' '%s'", base, merged), 0);
	struct stat sb;
	_cleanup_free_ char *old = cb_path_join(merged, "old");
	assert_int_equal(chmod(old, 0644), 0); /* before the step: not its change */
	usleep(20000);                         /* past a coarse clock tick */
	_cleanup_free_ char *stamp = cb_path_join(tmp, "stamp");
	assert_int_equal(sh("touch '%s'", stamp), 0);
	assert_int_equal(stat(stamp, &sb), 0);
	layer_opts_t o = LAYER_OPTS_INIT;
	o.hash_only = true;
	o.changed_after = sb.st_ctim;
	_cleanup_free_ char *aside = cb_path_join(merged, "aside");
	assert_int_equal(stat(aside, &sb), 0);
	layer_inode_t skip = {sb.st_dev, sb.st_ino};
	o.ctime_skip = &skip;
	o.n_ctime_skip = 1;
	usleep(20000);
	assert_int_equal(sh("cd '%s' && ln linked tmp && rm tmp && chmod 644 mode && rm pair2 && "
			    "mv aside aside.x && mv aside.x aside && touch -d @1000000000 d",
			    merged),
			 0);
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	check(store_open(root, &st, &err), &err);
	layer_result_t res;
	check(layer_write_diff(st, base, merged, &o, &res, &err), &err);
	/* linked, mode, the whiteout of pair2 */
	assert_int_equal(res.entries, 3);
	o.changed_after = (struct timespec){0, 0};
	check(layer_write_diff(st, base, merged, &o, &res, &err), &err);
	assert_int_equal(res.entries, 1); /* without: the whiteout only */
	store_free(st);
	rm_tree(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeated_chains),
		cmocka_unit_test(test_copy_sync),
		cmocka_unit_test(test_diff_touched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
