/* Image references: Docker's normalization, familiar forms, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry/reference.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
	const char *in, *full, *familiar;
} good[] = {
	{"app", "docker.io/library/app:latest", "app:latest"},
	{"app:1", "docker.io/library/app:1", "app:1"},
	{"user/app:7", "docker.io/user/app:7", "user/app:7"},
	{"docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
	{"index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"},
	{"localhost/app", "localhost/app:latest", "localhost/app:latest"},
	{"localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000/app:1"},
	{"127.0.0.1:5000/a/b/c:v1.0-rc_2", "127.0.0.1:5000/a/b/c:v1.0-rc_2",
	 "127.0.0.1:5000/a/b/c:v1.0-rc_2"},
	{"ghcr.io/o/app@" D64, "ghcr.io/o/app@" D64, "ghcr.io/o/app@" D64},
	{"ghcr.io/o/app:1@" D64, "ghcr.io/o/app:1@" D64, "ghcr.io/o/app:1@" D64},
	{"[::1]:5000/app:2", "[::1]:5000/app:2", "[::1]:5000/app:2"},
	{"my-reg.example.com/a__b/c.d/e--f:x", "my-reg.example.com/a__b/c.d/e--f:x",
	 "my-reg.example.com/a__b/c.d/e--f:x"},
	{"library/app:3", "docker.io/library/app:3", "app:3"},
	{"a/b/c", "docker.io/a/b/c:latest", "a/b/c:latest"},
};

static const char *const bad[] = {
	"", "UPPER/case", "App", "a:b:c", "app:", "app@sha256:123", "/app", "app/", "a//b",
	"-app", "app-", "app:-tag", "app:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"host:port/app", "a b", "app@md5:abc", "ex ample.com/app",
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cb_error_t err = CB_ERROR_INIT;
		reg_ref_t r;
		if (reg_ref_parse(good[i].in, 0, &r, &err) < 0)
			fail_msg("'%s' rejected: %s", good[i].in, err.msg);
		char *full = reg_ref_full(&r), *fam = reg_ref_familiar(&r);
		if (strcmp(full, good[i].full) || strcmp(fam, good[i].familiar))
			fail_msg("'%s' -> '%s' / '%s'", good[i].in, full, fam);
		free(full);
		free(fam);
		reg_ref_release(&r);
	}
}

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cb_error_t err = CB_ERROR_INIT;
		reg_ref_t r;
		if (reg_ref_parse(bad[i], 0, &r, &err) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err.msg, "invalid reference"));
		cb_error_release(&err);
	}
}

static void test_messages(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	reg_ref_t r;
	assert_int_equal(reg_ref_parse("UPPER/case", 0, &r, &err), -1);
	assert_string_equal(err.msg, "invalid reference 'UPPER/case': repository name must be lowercase");
	cb_error_release(&err);
	assert_int_equal(reg_ref_parse("a:b:c", 0, &r, &err), -1);
	assert_string_equal(err.msg, "invalid reference 'a:b:c': invalid reference format");
	cb_error_release(&err);
}

static void test_flags_and_shorten(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	reg_ref_t r;
	assert_int_equal(reg_ref_parse("app", REG_REF_NO_DEFAULT_TAG, &r, &err), 0);
	assert_null(r.tag);
	reg_ref_release(&r);
	assert_int_equal(reg_ref_parse("app:1", REG_REF_NAME_ONLY, &r, &err), -1);
	cb_error_release(&err);
	char *s = reg_ref_shorten("docker.io/library/busybox:latest");
	assert_string_equal(s, "busybox:latest");
	free(s);
	s = reg_ref_normalize("user/x", &err);
	assert_string_equal(s, "docker.io/user/x:latest");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_flags_and_shorten),
	};
	return cmocka_run_group_tests_name("reference", tests, NULL, NULL);
}
