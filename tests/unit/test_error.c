/*
 * tests/unit/test_error.c - how an error reads when printed: the strerror
 * text of its code after the message only when that is the cause, once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"

static void expect(cb_error_t *e, const char *want)
{
	char buf[512];
	assert_string_equal(cb_error_format(e, buf, sizeof buf), want);
	cb_error_release(e);
}

static void test_format(void **state)
{
	(void)state;
	cb_error_t e = CB_ERROR_INIT;
	errno = ENOENT;
	cb_error_errno(&e, "open '%s'", "x");
	expect(&e, "open 'x': No such file or directory");
	/* a code that only classifies: no errno text */
	cb_error_fail(&e, EIO, "GET 'u': Could not resolve host: h");
	expect(&e, "GET 'u': Could not resolve host: h");
	/* wrapping keeps plain and keeps the cause last */
	cb_error_fail(&e, ENOENT, "manifest unknown");
	cb_error_wrap(&e, "pull '%s'", "a");
	expect(&e, "pull 'a': manifest unknown");
	/* a message that already ends with the cause: said once */
	cb_error_set(&e, ECONNREFUSED, "connect: Connection refused");
	expect(&e, "connect: Connection refused");
	cb_error_set(&e, ECONNREFUSED, "Connection refused");
	expect(&e, "Connection refused");
	/* ... but only as a whole last part */
	cb_error_set(&e, ECONNREFUSED, "x-Connection refused");
	expect(&e, "x-Connection refused: Connection refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
