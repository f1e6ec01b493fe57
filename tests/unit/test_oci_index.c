/* store: the image index model (oci_index_t in store/image.h): entries
 * with a valid digest are kept (a missing size reads as -1), others are
 * counted; the native pick is linux on this machine's architecture. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "store/image.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_pick_native),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
