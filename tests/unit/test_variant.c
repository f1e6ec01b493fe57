/*
 * tests/unit/test_variant.c - gzip variants of uncompressed layers
 * (store/variant.h): marks, made once, the same bytes when made again,
 * a plain blob that does not hash to its name refused, gc drops the records
 * of layers and manifests it removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/gc.h"
#include "store/layer_internal.h"
#include "store/variant.h"
#include "test_layer_util.h"

typedef struct fx {
	char *tmp;
	store_t *st;
	layer_result_t plain;
} fx_t;

static int setup(void **state)
{
	fx_t *f = cb_xcalloc(1, sizeof(*f));
	f->tmp = test_tmpdir("variant");
	_cleanup_free_ char *root = cb_path_join(f->tmp, "store");
	_cleanup_free_ char *tree = cb_path_join(f->tmp, "tree");
	cb_error_t err = CB_ERROR_INIT;
	if (store_open(root, &f->st, &err) < 0)
		return -1;
	sh("mkdir -p '%s/d' && seq 1 20000 > '%s/d/num' && echo hi > '%s/hello'", tree, tree, tree);
	layer_opts_t o = LAYER_OPTS_INIT;
	o.compression = LAYER_COMPRESS_NONE;
	o.source_date_epoch = 0;
	check(layer_write_dir(f->st, tree, &o, &f->plain, &err), &err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	store_free(f->st);
	rm_tree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

static void test_unmarked(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	store_variant_t v;
	assert_string_equal(f->plain.digest, f->plain.diff_id);
	assert_int_equal(store_variant_get(f->st, f->plain.diff_id, &v, &err), 0);
}

static void test_mark_then_gzip(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	store_variant_t v, w;
	check(store_variant_mark(f->st, f->plain.diff_id, &err), &err);
	assert_int_equal(store_variant_get(f->st, f->plain.diff_id, &v, &err), 1);
	assert_string_equal(v.digest, "");
	check(store_variant_gzip(f->st, f->plain.diff_id, &v, &err), &err);
	assert_true(store_has_blob(f->st, v.digest));
	assert_int_equal(store_blob_size(f->st, v.digest, &err), v.size);
	assert_true(v.size < f->plain.size);
	/* remembered: get returns it, a mark keeps it */
	check(store_variant_mark(f->st, f->plain.diff_id, &err), &err);
	assert_int_equal(store_variant_get(f->st, f->plain.diff_id, &w, &err), 1);
	assert_string_equal(w.digest, v.digest);
	assert_int_equal(w.size, v.size);
	/* the blob gone (gc): made again, the same bytes */
	_cleanup_free_ char *p = store_blob_path(f->st, v.digest);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(store_variant_get(f->st, f->plain.diff_id, &w, &err), 1);
	assert_string_equal(w.digest, "");
	check(store_variant_gzip(f->st, f->plain.diff_id, &w, &err), &err);
	assert_string_equal(w.digest, v.digest);
	/* and it unpacks to the plain layer */
	_cleanup_free_ char *dir = NULL;
	check(layer_unpack(f->st, w.digest, f->plain.diff_id, NULL, &dir, &err), &err);
	free(dir);
	dir = NULL;
}

/* The variant is the parallel gzip at STORE_VARIANT_GZIP_LEVEL of the same
 * tar (not the default 6: the CPU a first push costs, issue 29), so a
 * variant made anywhere has the same bytes. */
static void test_variant_level(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	store_variant_t v;
	check(store_variant_mark(f->st, f->plain.diff_id, &err), &err);
	check(store_variant_gzip(f->st, f->plain.diff_id, &v, &err), &err);
	_cleanup_free_ char *tree = cb_path_join(f->tmp, "tree");
	layer_opts_t o = LAYER_OPTS_INIT;
	o.source_date_epoch = 0;
	layer_result_t at, six;
	o.level = STORE_VARIANT_GZIP_LEVEL;
	check(layer_write_dir(f->st, tree, &o, &at, &err), &err);
	o.level = 6;
	check(layer_write_dir(f->st, tree, &o, &six, &err), &err);
	assert_string_equal(at.diff_id, f->plain.diff_id);
	assert_string_equal(v.digest, at.digest);
	assert_string_not_equal(v.digest, six.digest);
}

static void count_one(void *ctx, const char *diff_id, const char *gz)
{
	(void)diff_id, (void)gz;
	(*(int *)ctx)++;
}

static void test_each(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	store_variant_t v;
	int n = 0;
	store_variant_each(f->st, count_one, &n);
	assert_int_equal(n, 0);
	check(store_variant_mark(f->st, f->plain.diff_id, &err), &err);
	store_variant_each(f->st, count_one, &n);
	assert_int_equal(n, 0); /* only marked */
	check(store_variant_gzip(f->st, f->plain.diff_id, &v, &err), &err);
	store_variant_each(f->st, count_one, &n);
	assert_int_equal(n, 1);
}

static void test_bad_plain_blob(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	store_variant_t v;
	/* a plain blob whose bytes changed under its name */
	_cleanup_free_ char *p = store_blob_path(f->st, f->plain.diff_id);
	assert_int_equal(sh("chmod u+w '%s' && printf x | dd of='%s' bs=1 seek=5000 conv=notrunc 2>/dev/null",
			    p, p),
			 0);
	assert_int_equal(store_variant_gzip(f->st, f->plain.diff_id, &v, &err), -1);
	assert_int_equal(err.code, EBADMSG);
	cb_error_release(&err);
	assert_int_equal(store_variant_get(f->st, f->plain.diff_id, &v, &err), 0);
}

static bool record_exists(fx_t *f, const char *sub, const char *digest)
{
	_cleanup_free_ char *rel = cb_asprintf("variants/%s/%s", sub, digest_hex(digest));
	_cleanup_free_ char *p = store_path(f->st, rel);
	return access(p, F_OK) == 0;
}

/* Issue 29: records of layers (and pushed manifests) gc removed went on
 * piling up in variants/; now gc drops them, and keeps those of what it
 * keeps. */
static void test_gc_drops_records(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	store_variant_t v;
	check(store_variant_gzip(f->st, f->plain.diff_id, &v, &err), &err);
	/* a manifest record whose local blob is the plain layer's (any blob) */
	const char *pushed = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	check(store_variant_set_manifest(f->st, f->plain.diff_id, pushed, &err), &err);
	store_gc_stats_t stats;
	/* within the grace every blob stays, and so do the records */
	check(store_gc(f->st, 3600, false, &stats, &err), &err);
	assert_true(store_has_blob(f->st, f->plain.diff_id));
	assert_true(record_exists(f, "sha256", f->plain.diff_id));
	assert_true(record_exists(f, "manifests/sha256", f->plain.diff_id));
	assert_int_equal(stats.records_removed, 0);
	/* nothing names the layer: its blobs go, and the records with them */
	check(store_gc(f->st, 0, false, &stats, &err), &err);
	assert_false(store_has_blob(f->st, f->plain.diff_id));
	assert_false(store_has_blob(f->st, v.digest));
	assert_false(record_exists(f, "sha256", f->plain.diff_id));
	assert_false(record_exists(f, "manifests/sha256", f->plain.diff_id));
	assert_int_equal(stats.records_removed, 2);
	assert_int_equal(store_variant_get(f->st, f->plain.diff_id, &v, &err), 0);
	char out[DIGEST_STR_LEN + 1];
	assert_int_equal(store_variant_manifest(f->st, f->plain.diff_id, out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unmarked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_then_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_variant_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_plain_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_drops_records, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
