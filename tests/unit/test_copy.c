/*
 * tests/unit/test_copy.c - COPY writing its layer while it copies (root
 * only: real overlay mounts; skipped otherwise).
 *
 * A varied source tree (nested and empty directories, sizes around the tar
 * block and the copy buffer, special mode bits, a setgid directory, short
 * and long symlinks, a long path, a fifo, a device node, hard links) is
 * copied into a live overlay over a lower tree, to destinations that are
 * new, below copied-up parents (one with an xattr), below new parents, and
 * one that exists below (which must take the usual path). For each:
 *   - the layer written during the copy is byte for byte what
 *     layer_write_upper writes for the resulting upper directory;
 *   - with the fused path turned off (CBUILD_COPY_NOFUSE=1), the copy gives
 *     the same tree and, mtimes of the directories made "now" clamped by a
 *     source_date_epoch, the same layer digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "builder/internal.h"
#include "test_layer_util.h"

typedef struct fx {
	char *tmp;
	char *ctx;
	char *lower;
	store_t *st;
	int ctxfd;
	int runs;
} fx_t;

/* Sources with every kind of entry a context can hold; old mtimes, so a
 * source_date_epoch between them and now clamps only what was made now. */
static const char *CONTEXT =
	"mkdir -p src/a/b/c src/empty src/sgid src/modes "
	"src/a/dir-with-a-rather-long-name-to-push-the-path-over-one-hundred-bytes && "
	"printf hello > src/a/hello && : > src/a/zero && "
	"head -c 511 /dev/urandom > src/a/b/s511 && head -c 512 /dev/urandom > src/a/b/s512 && "
	"head -c 513 /dev/urandom > src/a/b/s513 && head -c 300000 /dev/urandom > src/a/b/c/big && "
	"seq 1 300000 > src/a/b/c/text && "
	"echo long > src/a/dir-with-a-rather-long-name-to-push-the-path-over-one-hundred-bytes/"
	"and-a-file-with-a-long-name-as-well-for-the-pax-header.txt && "
	"echo x > src/modes/m600 && chmod 600 src/modes/m600 && "
	"echo x > src/modes/m755 && chmod 755 src/modes/m755 && "
	"echo x > src/modes/suid && chmod 4755 src/modes/suid && "
	"echo x > src/modes/m666 && chmod 666 src/modes/m666 && "
	"chmod 2775 src/sgid && echo x > src/sgid/f && mkdir src/sgid/sub && "
	"ln -s hello src/a/link && "
	"ln -s ../../../a/target/that/is/long/enough/to/need/a/pax/linkpath/record/in/the/tar/"
	"stream/for/sure/yes src/a/b/longlink && "
	"mkfifo src/a/fifo && mknod src/a/null c 1 3 && "
	"echo same > src/a/h1 && ln src/a/h1 src/a/h2 && "
	"echo ü > 'src/a/ünïcode name' && "
	"find src -exec touch -h -d @1000000000 {} + && touch -d @1100000000.5 src/a/hello";

static const char *LOWER = "mkdir -p usr/local/bin etc srv srv2/b && echo root:x:0:0::/root:/bin/sh > "
			   "etc/passwd && setfattr -n trusted.cbtest -v kept usr && chmod 700 "
			   "usr/local && echo old > srv/old";

typedef struct copy_case {
	const char *source;
	const char *dest;
	uid_t uid;
	gid_t gid;
	int chmod;
	bool fused; /* expected to take the fused path */
} copy_case_t;

typedef struct outcome {
	char digest[DIGEST_STR_LEN + 1];       /* layer_write_upper of the upper */
	char fused_digest[DIGEST_STR_LEN + 1]; /* the copy's own, when fused */
	bool fused;
	char *tree;
} outcome_t;

static void run_copy(fx_t *f, const copy_case_t *c, bool nofuse, const layer_opts_t *lo,
		     outcome_t *out)
{
	cb_error_t err = CB_ERROR_INIT;
	_cleanup_free_ char *dir = cb_asprintf("%s/run%d", f->tmp, f->runs++);
	_cleanup_free_ char *upper = cb_path_join(dir, "upper");
	_cleanup_free_ char *work = cb_path_join(dir, "work");
	_cleanup_free_ char *merged = cb_path_join(dir, "merged");
	check(cb_mkdir_p(upper, 0755, &err), &err);
	check(cb_mkdir_p(work, 0755, &err), &err);
	check(cb_mkdir_p(merged, 0755, &err), &err);
	_cleanup_free_ char *opts = cb_asprintf(
		"lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,metacopy=off,index=off",
		f->lower, upper, work);
	if (mount("overlay", merged, "overlay", 0, opts) < 0)
		fail_msg("mount overlay: %s", strerror(errno));

	char *sources[] = {(char *)c->source, NULL};
	df_copy_t cp = {.sources = sources, .dest = (char *)c->dest, .from_stage = -1};
	bld_copy_layer_t L = {.st = f->st, .opts = lo, .upper = upper};
	bld_copy_opts_t o = {.layer = &L, .copy = &cp, .workdir = "/", .uid = c->uid,
			     .gid = c->gid, .chmod = c->chmod};
	bld_source_t src = {f->ctxfd, f->ctx, NULL, true, NULL, NULL};
	if (nofuse)
		setenv("CBUILD_COPY_NOFUSE", "1", 1);
	int rc = bld_copy(&src, merged, &o, &err);
	unsetenv("CBUILD_COPY_NOFUSE");
	check(rc, &err);
	if (umount2(merged, 0) < 0)
		fail_msg("umount: %s", strerror(errno));

	const char *lowers[] = {f->lower, NULL};
	layer_result_t res;
	check(layer_write_upper(f->st, upper, lowers, lo, &res, &err), &err);
	memcpy(out->digest, res.digest, sizeof(out->digest));
	out->fused = L.done;
	if (L.done) {
		memcpy(out->fused_digest, L.res.digest, sizeof(out->fused_digest));
		assert_string_equal(L.res.diff_id, res.diff_id);
		assert_int_equal(L.res.entries, res.entries);
		assert_int_equal(L.res.size, res.size);
		assert_int_equal(L.res.tar_size, res.tar_size);
	}
	out->tree = tree_manifest(upper, MF_MTIME);
}

static void test_fused_matches_upper(void **state)
{
	fx_t *f = *state;
	const copy_case_t cases[] = {
		{"src", "/src", (uid_t)-1, (gid_t)-1, -1, true},
		{"src", "/usr/local/app/", 1000, 1000, -1, true},
		{"src/a", "/new/deep/er", 0, 42, 0640, true},
		{".", "/ctx", (uid_t)-1, (gid_t)-1, -1, true},
		/* destinations that exist below: only new names in them */
		{"src", "/usr/local", (uid_t)-1, (gid_t)-1, -1, true},
		{"src/a", "/srv", 7, 7, -1, true},
		/* ... or not: src/a/b would merge with the lower srv/b */
		{"src/a", "/srv2", (uid_t)-1, (gid_t)-1, -1, false},
		{"src/empty", "/srv", (uid_t)-1, (gid_t)-1, -1, false}, /* nothing to add */
		{"src/a", "/usr/local/bin/../../local/bin", (uid_t)-1, (gid_t)-1, -1, true},
	};
	layer_opts_t plain = LAYER_OPTS_INIT, clamped = LAYER_OPTS_INIT;
	/* between the sources' mtimes and now: only what the copy made now
	 * (the destination, copied-up parents) is clamped */
	clamped.source_date_epoch = 1500000000;
	plain.compression = LAYER_COMPRESS_NONE;
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		const copy_case_t *c = &cases[i];
		for (int k = 0; k < 2; k++) {
			const layer_opts_t *lo = k ? &clamped : &plain;
			outcome_t fused = {0}, slow = {0};
			run_copy(f, c, false, lo, &fused);
			run_copy(f, c, true, lo, &slow);
			if (fused.fused != c->fused)
				fail_msg("COPY %s %s: fused %d, expected %d", c->source, c->dest,
					 fused.fused, c->fused);
			assert_false(slow.fused);
			if (fused.fused)
				assert_string_equal(fused.fused_digest, fused.digest);
			if (strcmp(fused.tree, slow.tree))
				fail_msg("COPY %s %s: trees differ:\n--- fused\n%s--- usual\n%s",
					 c->source, c->dest, fused.tree, slow.tree);
			if (k)
				assert_string_equal(fused.digest, slow.digest);
			free(fused.tree);
			free(slow.tree);
		}
	}
}

/* A destination whose parent hands an xattr down (a default ACL) cannot be
 * described without reading each new file's xattrs: the usual path. */
static void test_inherited_xattr_falls_back(void **state)
{
	fx_t *f = *state;
	_cleanup_free_ char *lowers = cb_path_join(f->tmp, "acl-lower");
	check(cb_mkdir_p(lowers, 0755, NULL), NULL);
	/* a default ACL (user 7 rwx) in its xattr form: setfattr is in attr,
	 * which the tests need anyway */
	if (sh("mkdir -p '%s/opt' && setfattr -n system.posix_acl_default -v "
	       "0sAgAAAAEABwD/////AgAHAAcAAAAEAAUA/////xAABwD/////IAAFAP////8= '%s/opt'",
	       lowers, lowers))
		skip(); /* no ACLs on this file system */
	char *saved = f->lower;
	f->lower = lowers;
	copy_case_t c = {"src/a", "/opt/app", (uid_t)-1, (gid_t)-1, -1, false};
	layer_opts_t lo = LAYER_OPTS_INIT;
	outcome_t out = {0};
	run_copy(f, &c, false, &lo, &out);
	f->lower = saved;
	assert_false(out.fused);
	/* and the new files did inherit it */
	if (!strstr(out.tree, "x:system.posix_acl_access="))
		fail_msg("no inherited ACL in:\n%s", out.tree);
	free(out.tree);
}

static int setup(void **state)
{
	if (geteuid() != 0)
		return 0;
	fx_t *f = cb_xcalloc(1, sizeof(*f));
	f->tmp = test_tmpdir("copy");
	f->ctx = cb_path_join(f->tmp, "ctx");
	f->lower = cb_path_join(f->tmp, "lower");
	_cleanup_free_ char *root = cb_path_join(f->tmp, "store");
	cb_error_t err = CB_ERROR_INIT;
	check(store_open(root, &f->st, &err), &err);
	check(cb_mkdir_p(f->ctx, 0755, &err), &err);
	check(cb_mkdir_p(f->lower, 0755, &err), &err);
	if (sh("cd '%s' && %s", f->ctx, CONTEXT) || sh("cd '%s' && %s", f->lower, LOWER))
		fail_msg("could not make the test trees");
	f->ctxfd = open(f->ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	if (!f)
		return 0;
	close(f->ctxfd);
	store_free(f->st);
	rm_tree(f->tmp);
	free(f->tmp);
	free(f->ctx);
	free(f->lower);
	free(f);
	return 0;
}

static void skip_unless_root(void **state)
{
	if (!*state)
		skip();
}

static void test_fused(void **state)
{
	skip_unless_root(state);
	test_fused_matches_upper(state);
}

static void test_acl(void **state)
{
	skip_unless_root(state);
	test_inherited_xattr_falls_back(state);
}

int main(void)
{
	/* overlays mounted here vanish with the process */
	if (geteuid() == 0 &&
	    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fused),
		cmocka_unit_test(test_acl),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
