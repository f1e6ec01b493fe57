/* store/image: platforms (parse, normalize, score) and the resolution of an
 * image index to the image of a platform, in a real store: configs,
 * manifests and indexes are written as blobs, as a pull would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/gc.h"
#include "store/image.h"
#include "store/index.h"
#include "test_store_util.h"

/* ---- platforms ---- */

static void test_parse_list(void **state)
{
	(void)state;
	oci_platform_t *v = NULL;
	size_t n = 0;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(oci_platform_parse_list("linux/amd64,linux/arm64,linux/aarch64,linux/arm/7",
						 &v, &n, &err),
			 0);
	assert_int_equal(n, 3); /* aarch64 is arm64: once */
	assert_string_equal(v[1].arch, "arm64");
	assert_string_equal(v[2].variant, "v7");
	char *s = oci_platform_format(&v[2]);
	assert_string_equal(s, "linux/arm/v7");
	free(s);
	free(v);
	static const char *const bad[] = {"linux/amd64,foo", "linux/amd64,", ",linux/amd64", ""};
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		assert_int_equal(oci_platform_parse_list(bad[i], &v, &n, &err), -1);
		assert_int_equal(err.code, EINVAL);
		cb_error_release(&err);
	}
}

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in, *os, *arch, *variant;
	} cases[] = {
		{"linux/amd64", "linux", "amd64", ""},
		{"Linux/X86_64", "linux", "amd64", ""},
		{"linux/aarch64", "linux", "arm64", ""},
		{"linux/arm64/8", "linux", "arm64", "v8"},
		{"linux/arm", "linux", "arm", "v7"},
		{"linux/armhf", "linux", "arm", "v7"},
		{"linux/arm/6", "linux", "arm", "v6"},
		{"linux/i686", "linux", "386", ""},
		{"windows/amd64", "windows", "amd64", ""},
		{"arm64", "linux", "arm64", ""}, /* a lone architecture: this os */
		{"linux/386", "linux", "386", ""},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		oci_platform_t p;
		cb_error_t err = CB_ERROR_INIT;
		assert_int_equal(oci_platform_parse(cases[i].in, &p, &err), 0);
		assert_string_equal(p.os, cases[i].os);
		assert_string_equal(p.arch, cases[i].arch);
		assert_string_equal(p.variant, cases[i].variant);
	}
	static const char *const bad[] = {"foo", "linux/amd46", "linux/amd64,linux/arm64",
					  "foo/amd64", "linux/arm 64", "/amd64", "linux/", "linux//v8", "linux/arm/",
					  "a/b/c/d"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		oci_platform_t p;
		cb_error_t err = CB_ERROR_INIT;
		assert_int_equal(oci_platform_parse(bad[i], &p, &err), -1);
		assert_int_equal(err.code, EINVAL);
		assert_non_null(strstr(err.msg, bad[i]));
		cb_error_release(&err);
	}
	oci_platform_t host, dflt, lone;
	oci_platform_host(&host);
	/* a lone os: this machine's architecture, as containerd does */
	assert_int_equal(oci_platform_parse("linux", &lone, NULL), 0);
	assert_string_equal(lone.arch, host.arch);
	assert_int_equal(oci_platform_parse(NULL, &dflt, NULL), 0);
	assert_string_equal(host.os, "linux");
	assert_string_equal(host.arch, dflt.arch);
	assert_true(strcmp(host.arch, "x86_64") && strcmp(host.arch, "aarch64"));
}

static void test_score(void **state)
{
	(void)state;
	oci_platform_t amd, arm64, arm64v8, armv6, arm;
	oci_platform_parse("linux/amd64", &amd, NULL);
	oci_platform_parse("linux/arm64", &arm64, NULL);
	oci_platform_parse("linux/arm64/v8", &arm64v8, NULL);
	oci_platform_parse("linux/arm/v6", &armv6, NULL);
	oci_platform_parse("linux/arm", &arm, NULL);
	assert_int_equal(oci_platform_score(&amd, "linux", "amd64", NULL), 3);
	assert_int_equal(oci_platform_score(&amd, "linux", "x86_64", NULL), 3);
	assert_int_equal(oci_platform_score(&amd, "linux", "arm64", NULL), 0);
	assert_int_equal(oci_platform_score(&amd, "windows", "amd64", NULL), 0);
	assert_int_equal(oci_platform_score(&amd, NULL, "amd64", NULL), 0);
	/* amd64 with a microarchitecture level: any will do when none is asked */
	assert_int_equal(oci_platform_score(&amd, "linux", "amd64", "v3"), 1);
	/* arm64 and arm64/v8 are one platform */
	assert_int_equal(oci_platform_score(&arm64, "linux", "arm64", "v8"), 2);
	assert_int_equal(oci_platform_score(&arm64v8, "linux", "arm64", NULL), 2);
	assert_int_equal(oci_platform_score(&arm64v8, "linux", "arm64", "v8"), 3);
	/* arm variants differ; arm alone means v7 */
	assert_int_equal(oci_platform_score(&armv6, "linux", "arm", "v7"), 0);
	assert_int_equal(oci_platform_score(&arm, "linux", "arm", "v7"), 3);
	assert_int_equal(oci_platform_score(&arm, "linux", "arm", NULL), 3);

	char *s = oci_platform_string("linux", "arm64", "v8");
	assert_string_equal(s, "linux/arm64/v8");
	free(s);
	s = oci_platform_string("linux", "amd64", NULL);
	assert_string_equal(s, "linux/amd64");
	free(s);
}

static void test_media_type(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *mt;
	} cases[] = {
		{"{\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":[]}", MT_DOCKER_LIST},
		{"{\"schemaVersion\":2,\"manifests\":[]}", MT_OCI_INDEX},
		{"{\"schemaVersion\":2,\"config\":{},\"layers\":[]}", MT_OCI_MANIFEST},
		{"{\"mediaType\":\"" MT_DOCKER_MANIFEST "\"}", MT_DOCKER_MANIFEST},
		{"[1]", NULL},
		{"nope", NULL},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		const char *mt = oci_document_media_type(cases[i].doc, strlen(cases[i].doc));
		if (cases[i].mt)
			assert_string_equal(mt, cases[i].mt);
		else
			assert_null(mt);
	}
	assert_true(oci_media_type_is_index(MT_OCI_INDEX));
	assert_true(oci_media_type_is_index(MT_DOCKER_LIST));
	assert_false(oci_media_type_is_index(MT_OCI_MANIFEST));
	assert_false(oci_media_type_is_index(NULL));
}

/* ---- indexes in a store ---- */

static void put(const char *text, char digest[DIGEST_STR_LEN + 1])
{
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(store_put_blob(st, text, strlen(text), NULL, digest, &err), 0);
}

/* An image (config + manifest, no layers) claiming arch/variant; the
 * manifest digest goes to md, the config digest (the ID) to id. */
static void mkimage(const char *arch, const char *variant, char md[DIGEST_STR_LEN + 1],
		    char id[DIGEST_STR_LEN + 1])
{
	oci_config_t *c = oci_config_new();
	free(c->architecture);
	c->architecture = cb_xstrdup(arch);
	c->variant = variant ? cb_xstrdup(variant) : NULL;
	oci_config_set_label(c, "arch", arch);
	cb_error_t err = CB_ERROR_INIT;
	image_t *img = image_commit(st, c, NULL, 0, false, &err);
	assert_non_null(img);
	snprintf(md, DIGEST_STR_LEN + 1, "%s", img->manifest_digest);
	snprintf(id, DIGEST_STR_LEN + 1, "%s", img->config_digest);
	image_free(img);
	oci_config_free(c);
}

/* An index of entries "digest|os|arch|variant|extra-json" (variant and
 * extra may be empty). */
static void mkindex(const char *mt, const char *const *entries, size_t n,
		    char digest[DIGEST_STR_LEN + 1])
{
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addf(&b, "{\"schemaVersion\":2,");
	if (mt)
		cb_buf_addf(&b, "\"mediaType\":\"%s\",", mt);
	cb_buf_addstr(&b, "\"manifests\":[");
	for (size_t i = 0; i < n; i++) {
		char d[80], os[16], arch[16], var[16] = "", extra[200] = "";
		assert_true(sscanf(entries[i], "%79[^|]|%15[^|]|%15[^|]|%15[^|]|%199[^\n]", d, os,
				   arch, var, extra) >= 3);
		if (!strcmp(var, "-"))
			var[0] = 0;
		cb_buf_addf(&b,
			    "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1,"
			    "\"platform\":{\"os\":\"%s\",\"architecture\":\"%s\"%s%s%s}%s}",
			    i ? "," : "", MT_OCI_MANIFEST, d, os, arch, var[0] ? ",\"variant\":\"" : "",
			    var, var[0] ? "\"" : "", extra);
	}
	cb_buf_addstr(&b, "]}");
	char *text = cb_buf_detach(&b, NULL);
	put(text, digest);
	free(text);
}

static char *entry(const char *d, const char *plat, const char *extra)
{
	return cb_asprintf("%s|%s|%s", d, plat, extra ? extra : "");
}

/* store/index.c: an index of two images written and read back; an entry
 * of the same digest replaces the old one; a Docker list holding an OCI
 * manifest is written as an OCI index. */
static void test_index_write(void **state)
{
	(void)state;
	char amd_md[80], amd_id[80], arm_md[80], arm_id[80];
	mkimage("amd64", NULL, amd_md, amd_id);
	mkimage("arm64", NULL, arm_md, arm_id);
	cb_error_t err = CB_ERROR_INIT;
	oci_index_t *idx = oci_index_new(true);
	oci_descriptor_t e = {0};
	assert_int_equal(image_index_entry(st, amd_md, &e, &err), 0);
	image_index_put_entry(idx, &e);
	assert_int_equal(image_index_entry(st, arm_md, &e, &err), 0);
	assert_string_equal(json_string_value(json_object_get(e.platform, "architecture")), "arm64");
	oci_descriptor_t again = {0};
	oci_descriptor_copy(&again, &e);
	image_index_put_entry(idx, &e);
	image_index_put_entry(idx, &again); /* again: replaced, not added */
	assert_int_equal(idx->n_manifests, 2);
	char *d = NULL;
	assert_int_equal(image_index_write(st, idx, &d, NULL, &err), 0);
	assert_string_equal(image_index_media_type(idx), MT_OCI_INDEX); /* OCI children */
	oci_index_free(idx);
	char *md = NULL;
	assert_int_equal(image_resolve(st, d, "linux/arm64", &md, &err), 0);
	assert_string_equal(md, arm_md);
	free(md);
	oci_index_t *back = NULL;
	assert_int_equal(image_index_load(st, d, &back, &err), 0);
	assert_int_equal(back->n_manifests, 2);
	oci_index_free(back);
	/* an image is not an index */
	assert_int_equal(image_index_load(st, amd_md, &back, &err), -1);
	assert_int_equal(err.code, EINVAL);
	cb_error_release(&err);
	free(d);
}

static void test_resolve(void **state)
{
	(void)state;
	oci_platform_t host;
	oci_platform_host(&host);
	const char *other = strcmp(host.arch, "s390x") ? "s390x" : "ppc64le";
	char host_md[80], host_id[80], arm_md[80], arm_id[80], oth_md[80], oth_id[80], att_md[80],
		att_id[80], idx[80];
	mkimage(host.arch, host.variant[0] ? host.variant : NULL, host_md, host_id);
	mkimage("arm64", "v8", arm_md, arm_id);
	mkimage(other, NULL, oth_md, oth_id);
	mkimage("unknown", NULL, att_md, att_id);
	_cleanup_free_ char *hp = cb_asprintf("linux|%s|%s", host.arch, host.variant[0] ? host.variant : "-");
	_cleanup_free_ char *op = cb_asprintf("linux|%s|-", other);
	char *e[] = {
		entry(att_md, "unknown|unknown|-", NULL), /* an attestation first: never chosen */
		entry(arm_md, "linux|arm64|v8", NULL),
		entry(host_md, hp, NULL),
		entry(oth_md, op, NULL),
	};
	mkindex(MT_OCI_INDEX, (const char *const *)e, CB_ARRAY_SIZE(e), idx);

	cb_error_t err = CB_ERROR_INIT;
	char *md = NULL;
	/* default: this machine's */
	assert_int_equal(image_resolve(st, idx, NULL, &md, &err), 0);
	assert_string_equal(md, host_md);
	free(md);
	/* a plain manifest stands for itself, whatever the platform */
	assert_int_equal(image_resolve(st, arm_md, "linux/s390x", &md, &err), 0);
	assert_string_equal(md, arm_md);
	free(md);
	/* --platform */
	assert_int_equal(image_resolve(st, idx, "linux/arm64", &md, &err), 0);
	assert_string_equal(md, arm_md);
	free(md);
	_cleanup_free_ char *want = cb_asprintf("linux/%s", other);
	image_t *img = image_load_platform(st, idx, want, &err);
	assert_non_null(img);
	assert_string_equal(img->manifest_digest, oth_md);
	assert_string_equal(img->config_digest, oth_id);
	assert_string_equal(img->index_digest, idx);
	assert_string_equal(img->config->architecture, other);
	image_free(img);
	img = image_load(st, idx, &err);
	assert_non_null(img);
	assert_string_equal(img->config_digest, host_id);
	image_free(img);
	img = image_load(st, host_md, &err);
	assert_non_null(img);
	assert_null(img->index_digest);
	image_free(img);

	/* none matches: the error names what there is, not the attestation */
	assert_int_equal(image_resolve(st, idx, "linux/mips64le", &md, &err), -1);
	assert_int_equal(err.code, ENOENT);
	_cleanup_free_ char *hs = oci_platform_string("linux", host.arch, host.variant);
	_cleanup_free_ char *msg = cb_asprintf(
		"no image for platform 'linux/mips64le' (available: linux/arm64/v8, %s, linux/%s)", hs,
		other);
	assert_non_null(strstr(err.msg, msg));
	assert_true(cb_str_has_prefix(err.msg, "index sha256:"));
	cb_error_release(&err);
	assert_int_equal(image_resolve(st, idx, "linux/arm64/v7", &md, &err), -1);
	cb_error_release(&err);
	assert_int_equal(image_resolve(st, idx, "bogus", &md, &err), -1);
	assert_int_equal(err.code, EINVAL);
	cb_error_release(&err);

	image_child_t *kids = NULL;
	size_t n = 0;
	assert_int_equal(image_index_children(st, idx, &kids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(kids[0].digest, arm_md);
	assert_string_equal(kids[0].platform, "linux/arm64/v8");
	assert_true(kids[0].present);
	image_children_free(kids, n);
	assert_int_equal(image_index_children(st, host_md, &kids, &n, &err), -1);
	assert_int_equal(err.code, EBADMSG);
	cb_error_release(&err);
	for (size_t i = 0; i < CB_ARRAY_SIZE(e); i++)
		free(e[i]);
}

/* A Docker manifest list without mediaType in its entries' index, a
 * BuildKit-annotated attestation, a child not pulled: the one not pulled
 * is named with the way to get it; the list resolves like an OCI index. */
static void test_resolve_missing_child(void **state)
{
	(void)state;
	oci_platform_t host;
	oci_platform_host(&host);
	char host_md[80], host_id[80], att_md[80], att_id[80], idx[80];
	mkimage(host.arch, host.variant[0] ? host.variant : NULL, host_md, host_id);
	mkimage("unknown", NULL, att_md, att_id); /* claims to be this machine's */
	/* a digest no blob has: the arm64 image was not pulled */
	const char *absent = "sha256:00000000000000000000000000000000000000000000000000000000000000aa";
	_cleanup_free_ char *hp = cb_asprintf("linux|%s|%s", host.arch, host.variant[0] ? host.variant : "-");
	char *e[] = {
		entry(att_md, hp, ",\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}"),
		entry(absent, "linux|arm64|v8", NULL),
		entry(host_md, hp, NULL),
	};
	mkindex(MT_DOCKER_LIST, (const char *const *)e, CB_ARRAY_SIZE(e), idx);
	cb_error_t err = CB_ERROR_INIT;
	char *md = NULL;
	assert_int_equal(image_resolve(st, idx, NULL, &md, &err), 0);
	assert_string_equal(md, host_md); /* not the annotated attestation listed first */
	free(md);
	assert_int_equal(image_resolve(st, idx, "linux/arm64", &md, &err), -1);
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "the image for platform 'linux/arm64' of index sha256:"));
	assert_non_null(strstr(err.msg, "is not in the store (pull the index with --all-platforms)"));
	cb_error_release(&err);
	image_child_t *kids = NULL;
	size_t n = 0;
	assert_int_equal(image_index_children(st, idx, &kids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_false(kids[0].present);
	assert_true(kids[1].present);
	image_children_free(kids, n);
	/* an index with nothing of this machine's in the store */
	char only[80];
	char *e2[] = {entry(absent, "linux|arm64|v8", NULL)};
	mkindex(NULL, (const char *const *)e2, 1, only);
	assert_int_equal(image_resolve(st, only, NULL, &md, &err), -1);
	assert_non_null(strstr(err.msg, "(available: none)"));
	cb_error_release(&err);
	assert_null(image_load(st, only, &err));
	assert_int_equal(err.code, ENOENT);
	cb_error_release(&err);
	free(e2[0]);
	for (size_t i = 0; i < CB_ARRAY_SIZE(e); i++)
		free(e[i]);
}

/* GC: a name of an index keeps every platform's image (and what the index
 * lists that is no image: an attestation); without the name all go. */
/* oci_strset_add keeps the set sorted; oci_strset_has finds by bisection
 * (gc's marks and the store's lease bookkeeping use both). */
static void test_strset(void **state)
{
	(void)state;
	assert_false(oci_strset_has(NULL, "a"));
	char **set = cb_xcalloc(1, sizeof(char *)); /* add needs a vector */
	const char *in[] = {"m", "c", "x", "a", "m", "q"};
	for (size_t i = 0; i < sizeof in / sizeof *in; i++)
		set = oci_strset_add(set, in[i]);
	assert_int_equal(cb_strv_len(set), 5);
	for (size_t i = 0; i < sizeof in / sizeof *in; i++)
		assert_true(oci_strset_has(set, in[i]));
	assert_false(oci_strset_has(set, "b"));
	assert_false(oci_strset_has(set, "z"));
	assert_false(oci_strset_has(set, ""));
	cb_strv_free(set);
}

/* cb_dir_is_empty: . and .. do not count; a missing dir is not empty. */
static void test_dir_is_empty(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	_cleanup_free_ char *d = cb_mkdtemp_in("/tmp", "cbuild-empty-", &err);
	assert_non_null(d);
	assert_true(cb_dir_is_empty(d));
	_cleanup_free_ char *f = cb_path_join(d, ".hidden");
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_false(cb_dir_is_empty(d));
	assert_int_equal(cb_rm_rf(d, &err), 0);
	assert_false(cb_dir_is_empty(d));
}

static void test_gc_index(void **state)
{
	(void)state;
	char a_md[80], a_id[80], b_md[80], b_id[80], att_md[80], att_id[80], idx[80];
	mkimage("amd64", NULL, a_md, a_id);
	mkimage("arm64", "v8", b_md, b_id);
	mkimage("unknown", NULL, att_md, att_id);
	char *e[] = {
		entry(a_md, "linux|amd64|-", NULL),
		entry(b_md, "linux|arm64|v8", NULL),
		entry(att_md, "unknown|unknown|-", NULL),
	};
	mkindex(MT_OCI_INDEX, (const char *const *)e, CB_ARRAY_SIZE(e), idx);
	const char *all[] = {idx, a_md, a_id, b_md, b_id, att_md, att_id};
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(store_set_ref(st, "localhost/multi:1", idx, MT_OCI_INDEX, 1, &err), 0);
	store_gc_stats_t stats;
	assert_int_equal(store_gc(st, 0, false, &stats, &err), 0);
	assert_int_equal(stats.blobs_removed, 0);
	for (size_t i = 0; i < CB_ARRAY_SIZE(all); i++)
		assert_true(store_has_blob(st, all[i]));
	assert_int_equal(store_remove_ref(st, "localhost/multi:1", &err), 0);
	assert_int_equal(store_gc(st, 0, false, &stats, &err), 0);
	assert_int_equal(stats.blobs_removed, CB_ARRAY_SIZE(all));
	for (size_t i = 0; i < CB_ARRAY_SIZE(all); i++)
		assert_false(store_has_blob(st, all[i]));
	for (size_t i = 0; i < CB_ARRAY_SIZE(e); i++)
		free(e[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test_setup_teardown(test_index_write, store_setup, store_teardown),
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_strset),
		cmocka_unit_test(test_dir_is_empty),
		cmocka_unit_test_setup_teardown(test_resolve, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_missing_child, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_gc_index, store_setup, store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
