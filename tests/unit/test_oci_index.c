/* store: the image index model (oci_index_t in store/image.h): entries
 * with a valid digest are kept (a missing size reads as -1), others are
 * counted; the native pick is linux on this machine's architecture. An
 * index written back is what the JSON-editing writers wrote before the
 * model (jansson's compact dump of what was read): real index.json files
 * and lists by cbuild, buildah, skopeo, in docker's and a registry's
 * shapes, in testdata/index-json/; and store.c's writers (tag, retag,
 * rmi) give the bytes the old binary gave on a store holding other
 * tools' keys (testdata/index-json/writers/, made by cbuild 0537dc1). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/image.h"
#include "store/index.h"
#include "test_store_util.h"

#define FIXTURES "testdata/index-json"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static oci_index_t *parse(const char *text)
{
	cb_error_t err = CB_ERROR_INIT;
	oci_index_t *ix = oci_index_from_json(text, strlen(text), &err);
	cb_error_release(&err);
	return ix;
}

static void test_entries(void **state)
{
	(void)state;
	oci_index_t *ix = parse("{\"schemaVersion\":2,\"manifests\":["
				"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":7,"
				"\"annotations\":{\"org.opencontainers.image.ref.name\":\"1\"}},"
				"{\"digest\":\"" D2 "\"},"
				"{\"digest\":\"sha256:12\",\"size\":1},"
				"{\"size\":1}, 3]}");
	assert_non_null(ix);
	assert_string_equal(ix->media_type, MT_OCI_INDEX);
	assert_int_equal(ix->n_manifests, 2);
	assert_int_equal(ix->n_invalid, 3);
	assert_string_equal(ix->manifests[0].digest, D1);
	assert_int_equal(ix->manifests[0].size, 7);
	assert_string_equal(json_string_value(json_object_get(ix->manifests[0].annotations,
							      "org.opencontainers.image.ref.name")),
			    "1");
	assert_string_equal(ix->manifests[1].digest, D2);
	assert_int_equal(ix->manifests[1].size, -1);
	oci_index_free(ix);

	assert_null(parse("{\"schemaVersion\":2}"));
	assert_null(parse("[]"));
	assert_null(parse("not json"));
	ix = parse("{\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":[]}");
	assert_string_equal(ix->media_type, MT_DOCKER_LIST);
	assert_null(oci_index_pick_native(ix));
	oci_index_free(ix);
}

static void test_pick_native(void **state)
{
	(void)state;
	oci_config_t *c = oci_config_new();
	const char *other = strcmp(c->architecture, "s390x") ? "s390x" : "ppc64le";
	_cleanup_free_ char *text = cb_asprintf(
		"{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\","
		"\"architecture\":\"%s\"}},{\"digest\":\"" D2 "\",\"size\":1,\"platform\":"
		"{\"os\":\"linux\",\"architecture\":\"%s\"}}]}",
		other, c->architecture);
	oci_index_t *ix = parse(text);
	assert_string_equal(oci_index_pick_native(ix)->digest, D2);
	oci_index_free(ix);
	/* none matches: the first */
	_cleanup_free_ char *t2 = cb_asprintf(
		"{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\","
		"\"architecture\":\"%s\"}}]}",
		other);
	ix = parse(t2);
	assert_string_equal(oci_index_pick_native(ix)->digest, D1);
	oci_index_free(ix);
	oci_config_free(c);
}

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (cb_read_file(path, 1u << 20, &data, len, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	return data;
}

/* What the writers wrote before the model: the document as jansson reads
 * and dumps it compact. */
static char *jansson_dump(const char *data, size_t len)
{
	json_t *j = json_loadb(data, len, 0, NULL);
	assert_non_null(j);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static void round_trip(const char *name)
{
	_cleanup_free_ char *path = cb_asprintf(FIXTURES "/%s", name);
	size_t len = 0;
	_cleanup_free_ char *data = slurp(path, &len);
	oci_index_t *ix = oci_index_from_json(data, len, NULL);
	assert_non_null(ix);
	_cleanup_free_ char *got = oci_index_to_json(ix);
	_cleanup_free_ char *want = jansson_dump(data, len);
	if (strcmp(got, want))
		fail_msg("%s:\n got  %s\n want %s", name, got, want);
	/* cbuild's own files are compact already: the very bytes */
	if (!strncmp(name, "cbuild-", 7))
		assert_true(strlen(got) == len && !memcmp(got, data, len));
	oci_index_free(ix);
}

static void test_round_trip(void **state)
{
	(void)state;
	DIR *d = opendir(FIXTURES);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
			round_trip(e->d_name);
			n++;
		}
	}
	closedir(d);
	assert_true(n >= 10);
}

/* Fields changed through the model take their keys' places; unknown keys,
 * unchanged values (a size of 7.0, a sha512 entry) stay as read. */
static void test_edit_in_place(void **state)
{
	(void)state;
	size_t len = 0;
	_cleanup_free_ char *data = slurp(FIXTURES "/odd-foreign.json", &len);
	oci_index_t *ix = oci_index_from_json(data, len, NULL);
	assert_non_null(ix);
	assert_int_equal(ix->n_manifests, 3);
	assert_int_equal(ix->n_invalid, 4);
	assert_string_equal(ix->media_type, MT_OCI_INDEX); /* an unknown one reads as OCI's */
	assert_int_equal(ix->manifests[0].size, -1);       /* 7.0 is no size */
	/* a new platform in place; the old size stays 7.0 */
	json_decref(ix->manifests[0].platform);
	ix->manifests[0].platform = json_pack("{s:s}", "os", "plan9");
	/* the last entry's annotations go; a first entry is removed */
	json_decref(ix->manifests[2].annotations);
	ix->manifests[2].annotations = NULL;
	oci_index_remove(ix, 1, NULL);
	_cleanup_free_ char *got = oci_index_to_json(ix);
	assert_non_null(strstr(got, "{\"size\":7.0,\"digest\":"));
	assert_non_null(strstr(got, "\"artifactType\":\"application/x-a\",\"annotations\":\"not an "
				    "object\",\"platform\":{\"os\":\"plan9\"}}"));
	assert_non_null(strstr(got, ",3,null,{\"size\":1},{\"digest\""));
	assert_non_null(strstr(got, "\"mediaType\":\"application/x-unknown\"}]"));
	assert_non_null(strstr(got, "\"mediaType\":\"application/x-not-an-index\",\"subject\""));
	assert_null(strstr(got, "\"size\":-1"));
	oci_index_free(ix);
	/* a new index: the document store_open writes */
	ix = oci_index_new(false);
	got = (free(got), oci_index_to_json(ix));
	assert_string_equal(got, OCI_INDEX_EMPTY(MT_OCI_INDEX));
	oci_index_free(ix);
}

/* store.c's writers on an index.json other tools wrote into: the bytes
 * cbuild wrote before the model, step by step (tag; retag; a retag that
 * leaves an image untagged; a tag taking the name of a sha512 entry,
 * which stays untagged at the end; rmi). */
static void test_store_writers(void **state)
{
	(void)state;
#define A "sha256:c58ac2ff7fd3c350e927471d0d6236e576f7d4dfd497b5740a5ba0a40dab281e"
#define B "sha256:49dd0a384a130c95349e19a21cc922e0b079187bef19552c7f61e1b9be9f440e"
	static const struct {
		const char *file, *name, *digest; /* digest NULL: rmi */
	} steps[] = {
		{"03-tag", "docker.io/library/a:2", A},
		{"04-retag", "docker.io/library/a:1", B},
		{"05-dangling", "docker.io/library/a:2", B},
		{"06-foreign-retag", "docker.io/library/foreign:1", A},
		{"07-rmi", "docker.io/library/c:arm", NULL},
	};
	cb_error_t err = CB_ERROR_INIT;
	size_t len = 0;
	_cleanup_free_ char *seed = slurp(FIXTURES "/writers/02-seeded.json", &len);
	_cleanup_free_ char *index = cb_asprintf("%s/index.json", tmp);
	assert_int_equal(cb_write_file_atomic(index, tmp, seed, len, 0644, &err), 0);
	for (size_t i = 0; i < CB_ARRAY_SIZE(steps); i++) {
		int rc = steps[i].digest ? store_set_ref(st, steps[i].name, steps[i].digest,
							 MT_OCI_MANIFEST, 405, &err)
					 : store_remove_ref(st, steps[i].name, &err);
		assert_int_equal(rc, 0);
		_cleanup_free_ char *path = cb_asprintf(FIXTURES "/writers/%s.json", steps[i].file);
		size_t wl = 0, gl = 0;
		_cleanup_free_ char *want = slurp(path, &wl);
		_cleanup_free_ char *got = slurp(index, &gl);
		if (gl != wl || memcmp(got, want, wl))
			fail_msg("%s:\n got  %s\n want %s", steps[i].file, got, want);
	}
#undef A
#undef B
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_pick_native),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_edit_in_place),
		cmocka_unit_test_setup_teardown(test_store_writers, store_setup, store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
