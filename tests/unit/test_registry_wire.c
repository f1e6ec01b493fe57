/* registry/wire: WWW-Authenticate, Location resolution, Retry-After,
 * platforms, base64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry/wire.h"
#include "store/image.h"

static void test_challenge_bearer(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	reg_challenge_t c;
	assert_int_equal(reg_challenge_parse(
				 "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
				 "scope=\"repository:library/busybox:pull\"",
				 &c, &err),
			 0);
	assert_int_equal(c.scheme, REG_AUTH_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");
	assert_null(c.error);
	reg_challenge_release(&c);
}

static const struct {
	const char *hdr;
	reg_auth_scheme_t scheme;
	const char *realm, *service, *scope, *error;
} challenges[] = {
	{"Basic realm=\"Registry Realm\"", REG_AUTH_BASIC, "Registry Realm", NULL, NULL, NULL},
	{"basic realm=cbuild-test", REG_AUTH_BASIC, "cbuild-test", NULL, NULL, NULL},
	/* spaces around '=', a quoted comma, an escaped quote */
	{"BEARER realm = \"https://r/t\" , service=\"a,b\", scope=\"x\\\"y\"", REG_AUTH_BEARER,
	 "https://r/t", "a,b", "x\"y", NULL},
	/* GHCR/Quay style: several scopes in one value, an error */
	{"Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\",scope=\"repository:o/a:pull "
	 "repository:o/b:pull\",error=\"insufficient_scope\"",
	 REG_AUTH_BEARER, "https://ghcr.io/token", "ghcr.io", "repository:o/a:pull repository:o/b:pull",
	 "insufficient_scope"},
	/* several challenges: Bearer wins over Basic */
	{"Basic realm=\"x\", Bearer realm=\"https://t\",service=\"s\"", REG_AUTH_BEARER, "https://t",
	 "s", NULL, NULL},
	{"Negotiate, Basic realm=\"b\"", REG_AUTH_BASIC, "b", NULL, NULL, NULL},
	{"Bearer realm=\"https://t\", unknown=1", REG_AUTH_BEARER, "https://t", NULL, NULL, NULL},
};

static void check_str(const char *got, const char *want, const char *hdr)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want)))
		fail_msg("'%s': got '%s', want '%s'", hdr, got ? got : "(null)", want ? want : "(null)");
}

static void test_challenge_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(challenges) / sizeof(challenges[0]); i++) {
		cb_error_t err = CB_ERROR_INIT;
		reg_challenge_t c;
		if (reg_challenge_parse(challenges[i].hdr, &c, &err) < 0)
			fail_msg("'%s' refused: %s", challenges[i].hdr, err.msg);
		assert_int_equal(c.scheme, challenges[i].scheme);
		check_str(c.realm, challenges[i].realm, challenges[i].hdr);
		check_str(c.service, challenges[i].service, challenges[i].hdr);
		check_str(c.scope, challenges[i].scope, challenges[i].hdr);
		check_str(c.error, challenges[i].error, challenges[i].hdr);
		reg_challenge_release(&c);
	}
}

static void test_challenge_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "   ", "Bearer realm=\"unterminated", "Bearer service=\"s\"",
					  "Bearer =x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cb_error_t err = CB_ERROR_INIT;
		reg_challenge_t c;
		if (reg_challenge_parse(bad[i], &c, &err) == 0)
			fail_msg("'%s' accepted", bad[i]);
		cb_error_release(&err);
	}
}

static void test_url_resolve(void **state)
{
	(void)state;
	static const struct {
		const char *base, *loc, *want;
	} t[] = {
		{"http://127.0.0.1:5000/v2/app/blobs/uploads/", "/v2/app/blobs/uploads/u1?_state=x",
		 "http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=x"},
		{"https://r.io/v2/a/blobs/uploads/", "https://storage.example.com/up/1?sig=abc",
		 "https://storage.example.com/up/1?sig=abc"},
		{"https://r.io/v2/a/blobs/uploads/", "//other.io/x", "https://other.io/x"},
		{"https://r.io/v2/a/blobs/uploads/", "u2", "https://r.io/v2/a/blobs/uploads/u2"},
		{"https://r.io/v2/a/blobs/uploads/x", "../y", "https://r.io/v2/a/blobs/y"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cb_error_t err = CB_ERROR_INIT;
		char *u = reg_url_resolve(t[i].base, t[i].loc, &err);
		if (!u)
			fail_msg("'%s': %s", t[i].loc, err.msg);
		assert_string_equal(u, t[i].want);
		free(u);
	}
	char *q = reg_url_add_query("http://h/x?_state=a", "digest", "sha256:ab");
	assert_string_equal(q, "http://h/x?_state=a&digest=sha256%3Aab");
	free(q);
	q = reg_url_add_query("http://h/x", "scope", "repository:a/b:pull,push");
	assert_string_equal(q, "http://h/x?scope=repository%3Aa%2Fb%3Apull%2Cpush");
	free(q);
}

static void test_retry_after(void **state)
{
	(void)state;
	time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
	assert_int_equal(reg_retry_after_ms("1", now), 1000);
	assert_int_equal(reg_retry_after_ms(" 120 ", now), 120000);
	assert_int_equal(reg_retry_after_ms("0", now), 0);
	assert_int_equal(reg_retry_after_ms("Tue, 14 Nov 2023 22:13:30 GMT", now), 10000);
	assert_int_equal(reg_retry_after_ms("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
	assert_int_equal(reg_retry_after_ms("soon", now), -1);
	assert_int_equal(reg_retry_after_ms("", now), -1);
	assert_int_equal(reg_retry_after_ms(NULL, now), -1);
	assert_int_equal(reg_retry_after_ms("-5", now), -1);
	assert_int_equal(reg_retry_after_ms("5s", now), -1);
}

static void test_platform(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	oci_platform_t p;
	assert_int_equal(oci_platform_parse("linux/arm64", &p, &err), 0);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.arch, "arm64");
	assert_string_equal(p.variant, "");
	assert_int_equal(oci_platform_parse("Linux/x86_64", &p, &err), 0);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.arch, "amd64");
	assert_int_equal(oci_platform_parse("linux/arm", &p, &err), 0);
	assert_string_equal(p.variant, "v7");
	assert_int_equal(oci_platform_parse("linux/armhf", &p, &err), 0);
	assert_string_equal(p.arch, "arm");
	assert_string_equal(p.variant, "v7");
	/* a lone "linux" is linux on this machine's architecture (containerd) */
	static const char *const bad[] = {"foo", "/amd64", "linux/", "linux/arm/", "a/b/c/d"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (oci_platform_parse(bad[i], &p, &err) == 0)
			fail_msg("'%s' accepted", bad[i]);
		cb_error_release(&err);
	}
	oci_platform_host(&p);
	assert_string_equal(p.os, "linux");
	assert_true(p.arch[0]);

	oci_platform_t w;
	oci_platform_parse("linux/amd64", &w, &err);
	assert_true(oci_platform_score(&w, "linux", "amd64", NULL) > 0);
	assert_int_equal(oci_platform_score(&w, "linux", "arm64", NULL), 0);
	assert_int_equal(oci_platform_score(&w, "windows", "amd64", NULL), 0);
	assert_int_equal(oci_platform_score(&w, NULL, "amd64", NULL), 0);
	oci_platform_parse("linux/arm64", &w, &err);
	assert_true(oci_platform_score(&w, "linux", "arm64", "v8") > 0);
	assert_true(oci_platform_score(&w, "linux", "arm64", NULL) > 0);
	assert_true(oci_platform_score(&w, "linux", "aarch64", NULL) > 0);
	oci_platform_parse("linux/arm/v6", &w, &err);
	assert_int_equal(oci_platform_score(&w, "linux", "arm", "v7"), 0);
	int v6 = oci_platform_score(&w, "linux", "arm", "v6");
	assert_true(v6 > 0);
	/* an exact variant beats an implied one */
	oci_platform_parse("linux/amd64/v3", &w, &err);
	assert_int_equal(oci_platform_score(&w, "linux", "amd64", NULL), 0);
	oci_platform_parse("linux/amd64", &w, &err);
	assert_true(oci_platform_score(&w, "linux", "amd64", NULL) >
		    oci_platform_score(&w, "linux", "amd64", "v3"));
}

static void test_base64(void **state)
{
	(void)state;
	static const struct {
		const char *plain, *enc;
	} t[] = {{"", ""},
		 {"f", "Zg=="},
		 {"fo", "Zm8="},
		 {"foo", "Zm9v"},
		 {"testuser:testpass", "dGVzdHVzZXI6dGVzdHBhc3M="},
		 {"user:p@ss:w0rd", "dXNlcjpwQHNzOncwcmQ="}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *e = reg_base64_encode(t[i].plain, strlen(t[i].plain));
		assert_string_equal(e, t[i].enc);
		size_t n;
		char *d = reg_base64_decode(e, &n);
		assert_non_null(d);
		assert_int_equal(n, strlen(t[i].plain));
		assert_string_equal(d, t[i].plain);
		free(e);
		free(d);
	}
	assert_null(reg_base64_decode("Zg=a", NULL));
	assert_null(reg_base64_decode("Z!==", NULL));
	assert_null(reg_base64_decode("Zg=", NULL));
}

static void test_media_types(void **state)
{
	(void)state;
	assert_true(reg_mt_is_index(MT_OCI_INDEX));
	assert_true(reg_mt_is_index(MT_DOCKER_LIST));
	assert_false(reg_mt_is_index(MT_OCI_MANIFEST));
	assert_true(reg_mt_is_manifest(MT_DOCKER_MANIFEST));
	assert_false(reg_mt_is_manifest(NULL));
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(reg_status_errno(401), EACCES);
	assert_int_equal(reg_status_errno(403), EACCES);
	assert_int_equal(reg_status_errno(404), ENOENT);
	assert_int_equal(reg_status_errno(429), EAGAIN);
	assert_int_equal(reg_status_errno(502), EIO);
	char buf[256];
	cb_error_t e = CB_ERROR_INIT;
	/* a failed lookup: curl's words are the cause, no errno text after */
	assert_int_equal(reg_transfer_error("GET", "https://h/v2/", "Could not resolve host: h", 0, &e), -1);
	assert_string_equal(cb_error_format(&e, buf, sizeof buf),
			    "GET 'https://h/v2/': Could not resolve host: h");
	cb_error_release(&e);
	/* a refused connect: the socket's errno is the cause */
	reg_transfer_error("GET", "http://h/v2/", "Couldn't connect to server", ECONNREFUSED, &e);
	assert_string_equal(cb_error_format(&e, buf, sizeof buf),
			    "GET 'http://h/v2/': Couldn't connect to server: Connection refused");
	assert_int_equal(e.code, ECONNREFUSED);
	cb_error_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_bearer), cmocka_unit_test(test_challenge_table),
		cmocka_unit_test(test_challenge_bad),    cmocka_unit_test(test_url_resolve),
		cmocka_unit_test(test_retry_after),      cmocka_unit_test(test_platform),
		cmocka_unit_test(test_base64),           cmocka_unit_test(test_media_types),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
