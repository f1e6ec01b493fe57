/*
 * tests/unit/test_cache_remote.c - the remote build-cache artifact: encode
 * from one store, decode, a hit written into another store (same image,
 * no layer blob), duplicate keys, and corrupt or foreign configs refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "builder/internal.h"
#include "common/fs.h"
#include "common/util.h"

typedef struct fx {
	char *tmp;
	store_t *a, *b;
	char manifest[2][DIGEST_STR_LEN + 1]; /* two images in a, on one layer */
	char layer[DIGEST_STR_LEN + 1];
} fx_t;

static void check(int rc, cb_error_t *err)
{
	if (rc < 0) {
		char buf[1024];
		fail_msg("unexpected error: %s", cb_error_format(err, buf, sizeof(buf)));
	}
}

/* An image in st whose one layer blob is `bytes` (not a real tar: only
 * digests matter here). */
static void make_image(store_t *st, const char *bytes, const char *env, char out[DIGEST_STR_LEN + 1],
		       char layer[DIGEST_STR_LEN + 1])
{
	cb_error_t err = CB_ERROR_INIT;
	check(store_put_blob(st, bytes, strlen(bytes), NULL, layer, &err), &err);
	oci_config_t *c = oci_config_new();
	oci_config_add_diff_id(c, layer);
	oci_config_setenv(c, "STEP", env);
	oci_descriptor_t d = {.media_type = (char *)MT_OCI_LAYER_GZIP, .digest = layer,
			      .size = (int64_t)strlen(bytes)};
	image_t *img = image_commit(st, c, &d, 1, false, &err);
	assert_non_null(img);
	snprintf(out, DIGEST_STR_LEN + 1, "%s", img->manifest_digest);
	image_free(img);
	oci_config_free(c);
}

static int setup(void **state)
{
	fx_t *f = cb_xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/cbuild-test-cache-remote-XXXXXX";
	f->tmp = cb_xstrdup(mkdtemp(tmpl));
	_cleanup_free_ char *ra = cb_path_join(f->tmp, "a");
	_cleanup_free_ char *rb = cb_path_join(f->tmp, "somewhere/else/b");
	cb_error_t err = CB_ERROR_INIT;
	check(store_open(ra, &f->a, &err), &err);
	check(store_open(rb, &f->b, &err), &err);
	make_image(f->a, "layer bytes", "one", f->manifest[0], f->layer);
	make_image(f->a, "layer bytes", "two", f->manifest[1], f->layer);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	store_free(f->a);
	store_free(f->b);
	cb_error_t err = CB_ERROR_INIT;
	cb_rm_rf(f->tmp, &err);
	cb_error_release(&err);
	free(f->tmp);
	free(f);
	return 0;
}

static const char *const KEY1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char *const KEY2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

static json_t *items(fx_t *f)
{
	return json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]", "key", KEY1, "manifest",
			 f->manifest[0], "step", "RUN one", "key", KEY2, "manifest", f->manifest[1],
			 "step", "ENV two", "key", KEY1, "manifest", f->manifest[0], "step",
			 "RUN one again");
}

static void test_round_trip(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	json_t *it = items(f);
	bld_cache_artifact_t art;
	check(bld_cache_artifact_make(f->a, it, &art, &err), &err);
	json_decref(it);
	assert_int_equal(art.n_entries, 2); /* the duplicate key counts once */
	assert_int_equal(art.n_layers, 1);  /* the shared layer, once */
	assert_string_equal(art.layers[0].digest, f->layer);
	assert_int_equal(art.layers[0].size, (int64_t)strlen("layer bytes"));

	bld_remote_cache_t *rc = bld_remote_cache_new();
	check(bld_remote_cache_add(rc, "reg:5000/cache/app", art.config, art.config_len, &err), &err);
	assert_int_equal(bld_remote_cache_count(rc), 2);

	/* a hit in the other store: the same manifest, a local entry, no layer */
	char *md = NULL;
	const char *ref = NULL;
	assert_int_equal(bld_remote_lookup(rc, f->b, KEY2, &md, &ref, &err), 1);
	assert_string_equal(md, f->manifest[1]);
	assert_string_equal(ref, "reg:5000/cache/app");
	image_t *img = image_load(f->b, md, &err);
	assert_non_null(img);
	assert_string_equal(oci_config_getenv(img->config, "STEP"), "two");
	image_free(img);
	assert_false(store_has_blob(f->b, f->layer));
	char *local = bld_cache_lookup(f->b, KEY2);
	assert_string_equal(local, f->manifest[1]);
	free(local);
	free(md);

	const char *missing = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
	assert_int_equal(bld_remote_lookup(rc, f->b, missing, &md, &ref, &err), 0);
	assert_int_equal(bld_remote_lookup(NULL, f->b, KEY1, &md, &ref, &err), 0);
	bld_remote_cache_free(rc);
	bld_cache_artifact_release(&art);
}

/* Two caches: the first named keeps a key both have. */
static void test_first_ref_wins(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	json_t *one = json_pack("[{s:s,s:s,s:s}]", "key", KEY1, "manifest", f->manifest[0], "step", "a");
	json_t *two = json_pack("[{s:s,s:s,s:s}]", "key", KEY1, "manifest", f->manifest[1], "step", "b");
	bld_cache_artifact_t a1, a2;
	check(bld_cache_artifact_make(f->a, one, &a1, &err), &err);
	check(bld_cache_artifact_make(f->a, two, &a2, &err), &err);
	bld_remote_cache_t *rc = bld_remote_cache_new();
	check(bld_remote_cache_add(rc, "r/one", a1.config, a1.config_len, &err), &err);
	check(bld_remote_cache_add(rc, "r/two", a2.config, a2.config_len, &err), &err);
	assert_int_equal(bld_remote_cache_count(rc), 1);
	char *md = NULL;
	const char *ref = NULL;
	assert_int_equal(bld_remote_lookup(rc, f->b, KEY1, &md, &ref, &err), 1);
	assert_string_equal(md, f->manifest[0]);
	assert_string_equal(ref, "r/one");
	free(md);
	bld_remote_cache_free(rc);
	bld_cache_artifact_release(&a1);
	bld_cache_artifact_release(&a2);
	json_decref(one);
	json_decref(two);
}

static void test_export_needs_images(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	json_t *it = json_pack("[{s:s,s:s,s:s}]", "key", KEY1, "manifest",
			       "sha256:4444444444444444444444444444444444444444444444444444444444444444",
			       "step", "x");
	bld_cache_artifact_t art;
	assert_int_equal(bld_cache_artifact_make(f->a, it, &art, &err), -1);
	assert_null(art.config);
	cb_error_release(&err);
	json_decref(it);
}

/* Configs that must be refused whole, each with what the error says. */
static void test_refused(void **state)
{
	fx_t *f = *state;
	(void)f;
	static const struct {
		const char *config;
		const char *says;
	} cases[] = {
		{"", "not JSON"},
		{"[1,2]", "not a cbuild cache"},
		{"{\"cbuild.cache\": 2, \"entries\": []}", "not a cbuild cache"},
		{"{\"cbuild.cache\": 1}", "not a cbuild cache"},
		{"{\"cbuild.cache\": 1, \"entries\": [{\"key\": \"nope\", \"manifest\": \"{}\", "
		 "\"config\": \"{}\"}]}",
		 "entry 0"},
		{"{\"cbuild.cache\": 1, \"entries\": [{\"key\": \"sha256:1111111111111111111111111111111111111111111111111111111111111111\", "
		 "\"manifest\": \"{}\", \"config\": \"{}\"}]}",
		 "not an image manifest"},
		{"{\"cbuild.cache\": 1, \"entries\": [{\"key\": \"sha256:1111111111111111111111111111111111111111111111111111111111111111\", "
		 "\"manifest\": \"{\\\"layers\\\": [], \\\"config\\\": {\\\"size\\\": 2, \\\"digest\\\": \\\"sha256:0000000000000000000000000000000000000000000000000000000000000000\\\"}}\", "
		 "\"config\": \"{}\"}]}",
		 "config digest"},
		/* a layer whose digest is not one: refused where it enters */
		{"{\"cbuild.cache\": 1, \"entries\": [{\"key\": \"sha256:1111111111111111111111111111111111111111111111111111111111111111\", "
		 "\"manifest\": \"{\\\"layers\\\": [{\\\"size\\\": 1, \\\"digest\\\": \\\"sha256:../x\\\"}], \\\"config\\\": {\\\"size\\\": 2, \\\"digest\\\": \\\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\\\"}}\", "
		 "\"config\": \"{}\"}]}",
		 "not an image manifest"},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		bld_remote_cache_t *rc = bld_remote_cache_new();
		cb_error_t err = CB_ERROR_INIT;
		int r = bld_remote_cache_add(rc, "r/x", cases[i].config, strlen(cases[i].config), &err);
		if (r != -1 || !err.msg || !strstr(err.msg, cases[i].says))
			fail_msg("case %zu: rc %d, error '%s', want '%s'", i, r, err.msg ? err.msg : "",
				 cases[i].says);
		assert_int_equal(bld_remote_cache_count(rc), 0);
		cb_error_release(&err);
		bld_remote_cache_free(rc);
	}
}

/* A tampered config text: its digest no longer matches the manifest. */
static void test_tampered_entry(void **state)
{
	fx_t *f = *state;
	cb_error_t err = CB_ERROR_INIT;
	json_t *it = items(f);
	bld_cache_artifact_t art;
	check(bld_cache_artifact_make(f->a, it, &art, &err), &err);
	json_decref(it);
	json_t *j = json_loads(art.config, 0, NULL);
	json_t *e = json_array_get(json_object_get(j, "entries"), 1);
	const char *c = json_string_value(json_object_get(e, "config"));
	_cleanup_free_ char *bad = cb_asprintf("%s ", c);
	json_object_set_new(e, "config", json_string(bad));
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	bld_remote_cache_t *rc = bld_remote_cache_new();
	assert_int_equal(bld_remote_cache_add(rc, "r/x", text, strlen(text), &err), -1);
	assert_non_null(strstr(err.msg, "entry 1"));
	cb_error_release(&err);
	bld_remote_cache_free(rc);
	bld_cache_artifact_release(&art);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_ref_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_needs_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_entry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
