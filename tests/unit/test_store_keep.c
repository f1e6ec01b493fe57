/* store: kept references (store/keep.h), gc's roots besides index.json and
 * the leases. A record round-trips, a cut one reads as missing, gc keeps
 * what a cache entry, a container or a lazy layer names and drops it once
 * the record is gone, and an older store's records (cache/KEYHEX.json,
 * containers/ID/config.json) are converted at open. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/gc.h"
#include "store/keep.h"
#include "store/store.h"
#define TEST_STORE_DIR_ONLY
#include "test_store_util.h"

static store_t *open_store(void)
{
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	assert_int_equal(store_open(tmp, &st, &err), 0);
	return st;
}

static void put(store_t *st, const char *text, char d[DIGEST_STR_LEN + 1])
{
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(store_put_blob(st, text, strlen(text), NULL, d, &err), 0);
}

/* An image of one layer: its manifest's digest in man, its blobs' in cfg
 * and layer. Made by a handle that is freed after (its lease with it). */
static void make_image(const char *tag, char man[DIGEST_STR_LEN + 1],
		       char cfg[DIGEST_STR_LEN + 1], char layer[DIGEST_STR_LEN + 1])
{
	store_t *st = open_store();
	_cleanup_free_ char *lt = cb_asprintf("layer %s", tag);
	put(st, lt, layer);
	_cleanup_free_ char *ct = cb_asprintf(
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		"\"diff_ids\":[\"%s\"]}}",
		layer);
	put(st, ct, cfg);
	_cleanup_free_ char *mt = cb_asprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		"\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
		"\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
		cfg, strlen(ct), layer, strlen(lt));
	put(st, mt, man);
	store_free(st);
}

static void gc(store_t *st)
{
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(store_gc(st, 0, false, NULL, &err), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	store_t *st = open_store();
	cb_error_t err = CB_ERROR_INIT;
	const char *d = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
	digest_t got;
	assert_int_equal(store_keep_get(st, STORE_KEEP_CACHE, "k1", &got, &err), -1);
	assert_int_equal(err.code, ENOENT);
	cb_error_release(&err);
	assert_int_equal(store_keep_set(st, STORE_KEEP_CACHE, "k1", d, "RUN make\nmore", false, &err), 0);
	assert_int_equal(store_keep_get(st, STORE_KEEP_CACHE, "k1", &got, &err), 0);
	assert_string_equal(got.s, d);
	/* names are one path component, digests are checked */
	static const char *const bad[] = {"", "..", ".hidden", "a/b"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		assert_int_equal(store_keep_set(st, STORE_KEEP_CACHE, bad[i], d, NULL, false, &err), -1);
		assert_int_equal(err.code, EINVAL);
		cb_error_release(&err);
	}
	assert_int_equal(store_keep_set(st, STORE_KEEP_CACHE, "k2", "sha256:12", NULL, false, &err), -1);
	cb_error_release(&err);
	/* the checked digest type */
	digest_t dt;
	assert_int_equal(digest_parse(d, &dt, &err), 0);
	assert_string_equal(dt.s, d);
	assert_int_equal(digest_parse("sha512:00", &dt, &err), -1);
	assert_int_equal(err.code, EINVAL);
	cb_error_release(&err);
	assert_int_equal(digest_parse("sha256:ABC", &dt, &err), -1);
	cb_error_release(&err);
	/* its folder removed by hand: made again */
	_cleanup_free_ char *kdir = cb_asprintf("%s/refs/cache", tmp);
	assert_int_equal(cb_rm_rf(kdir, &err), 0);
	assert_int_equal(store_keep_set(st, STORE_KEEP_CACHE, "k1", d, NULL, false, &err), 0);
	assert_int_equal(store_keep_get(st, STORE_KEEP_CACHE, "k1", &got, &err), 0);
	/* a record cut by a crash (written without fsync) is a miss */
	_cleanup_free_ char *cut = cb_asprintf("%s/refs/cache/k3", tmp);
	assert_int_equal(cb_write_file_atomic(cut, NULL, d, 20, 0644, &err), 0);
	assert_int_equal(store_keep_get(st, STORE_KEEP_CACHE, "k3", &got, &err), -1);
	assert_int_equal(err.code, ENOENT);
	cb_error_release(&err);
	assert_int_equal(store_keep_remove(st, STORE_KEEP_CACHE, "k1", &err), 0);
	assert_int_equal(store_keep_remove(st, STORE_KEEP_CACHE, "k1", &err), 0);
	assert_int_equal(store_keep_get(st, STORE_KEEP_CACHE, "k1", &got, &err), -1);
	cb_error_release(&err);
	store_free(st);
}

static bool has(store_t *st, const char *d)
{
	return store_has_blob(st, d);
}

/* Each kind of record keeps its image (a lazy layer: its blob) through a
 * gc; without the record the next gc drops it. */
static void test_gc_roots(void **state)
{
	(void)state;
	char m[3][DIGEST_STR_LEN + 1], c[3][DIGEST_STR_LEN + 1], l[3][DIGEST_STR_LEN + 1];
	make_image("a", m[0], c[0], l[0]);
	make_image("b", m[1], c[1], l[1]);
	make_image("c", m[2], c[2], l[2]);
	store_t *st = open_store();
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(store_keep_set(st, STORE_KEEP_CACHE, "k", m[0], NULL, false, &err), 0);
	assert_int_equal(store_keep_set(st, STORE_KEEP_CONTAINER, "ctr", m[1], NULL, true, &err), 0);
	assert_int_equal(store_keep_set(st, STORE_KEEP_LAZY, "lz", l[2], NULL, false, &err), 0);
	gc(st);
	for (int i = 0; i < 2; i++)
		assert_true(has(st, m[i]) && has(st, c[i]) && has(st, l[i]));
	assert_false(has(st, m[2]) || has(st, c[2]));
	assert_true(has(st, l[2]));
	/* prune's drop of the build cache drops the entries, and their images */
	assert_int_equal(store_gc(st, 0, true, NULL, &err), 0);
	assert_false(has(st, m[0]) || has(st, c[0]) || has(st, l[0]));
	assert_true(has(st, m[1]));
	assert_int_equal(store_keep_remove(st, STORE_KEEP_CONTAINER, "ctr", &err), 0);
	assert_int_equal(store_keep_remove(st, STORE_KEEP_LAZY, "lz", &err), 0);
	gc(st);
	assert_false(has(st, m[1]) || has(st, l[1]) || has(st, l[2]));
	store_free(st);
}

/* A store from before refs/: its cache entries and containers are
 * converted at the first open (the old cache files go), and keep their
 * images through a gc. */
static void test_migrate(void **state)
{
	(void)state;
	char m[2][DIGEST_STR_LEN + 1], c[2][DIGEST_STR_LEN + 1], l[2][DIGEST_STR_LEN + 1];
	make_image("old-cache", m[0], c[0], l[0]);
	make_image("old-ctr", m[1], c[1], l[1]);
	cb_error_t err = CB_ERROR_INIT;
	_cleanup_free_ char *refs = cb_asprintf("%s/refs", tmp);
	assert_int_equal(cb_rm_rf(refs, &err), 0);
	const char *hex = "abababababababababababababababababababababababababababababababab";
	_cleanup_free_ char *entry = cb_asprintf("%s/cache/%s.json", tmp, hex);
	_cleanup_free_ char *et = cb_asprintf("{\"manifest\":\"%s\",\"step\":\"RUN x\"}", m[0]);
	assert_int_equal(cb_write_file_atomic(entry, NULL, et, strlen(et), 0644, &err), 0);
	_cleanup_free_ char *cdir = cb_asprintf("%s/containers/0123abcd", tmp);
	assert_int_equal(cb_mkdir_p(cdir, 0700, &err), 0);
	_cleanup_free_ char *cfg = cb_asprintf("%s/config.json", cdir);
	_cleanup_free_ char *ct = cb_asprintf("{\"id\":\"0123abcd\",\"image\":\"%s\"}", m[1]);
	assert_int_equal(cb_write_file_atomic(cfg, NULL, ct, strlen(ct), 0644, &err), 0);

	store_t *st = open_store();
	digest_t got;
	assert_int_equal(store_keep_get(st, STORE_KEEP_CACHE, hex, &got, &err), 0);
	assert_string_equal(got.s, m[0]);
	assert_int_equal(store_keep_get(st, STORE_KEEP_CONTAINER, "0123abcd", &got, &err), 0);
	assert_string_equal(got.s, m[1]);
	assert_false(cb_path_exists(entry));
	assert_true(cb_path_exists(cfg)); /* the runtime's record stays */
	gc(st);
	for (int i = 0; i < 2; i++)
		assert_true(has(st, m[i]) && has(st, c[i]) && has(st, l[i]));
	store_free(st);
	/* once: a later old-form file is not read again */
	assert_int_equal(cb_write_file_atomic(entry, NULL, et, strlen(et), 0644, &err), 0);
	st = open_store();
	assert_true(cb_path_exists(entry));
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_gc_roots, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_migrate, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
