/* common/lazylib: a library loaded on first call. Resolves and calls
 * through the table (zlib here: this test links it too, to compare); the
 * first use loads it once; a missing library or symbol ends the process
 * with a message that names it (checked in a child). The lazy tables of
 * cbuild itself (libarchive, libcurl, libyaml, zlib, libzstd) resolve
 * every name they list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <zlib.h>

#include "common/lazylib.h"
#include "parser/yaml_lazy.h"
#include "registry/curl_lazy.h"
#include "store/archive_lazy.h"
#include "store/compress_lazy.h"

/* names cbuild's own zlib table does not list, so that the pointers differ */
#define Z_FUNCS(X) X(zlibVersion) X(adler32)
CB_LAZYLIB_DEFINE(z_lib, "libz.so.1", Z_FUNCS);

static void test_calls_through_table(void **state)
{
	(void)state;
	assert_int_equal(z_lib.loaded, 0);
	const char *v = CB_LAZY(z_lib, zlibVersion)();
	assert_int_equal(z_lib.loaded, 1);
	assert_string_equal(v, zlibVersion());
	uLong c = CB_LAZY(z_lib, adler32)(1, (const Bytef *)"abc", 3);
	assert_int_equal(c, 0x024d0127); /* Adler-32 of "abc" */
	void *first = (void *)cb_lazy_adler32;
	CB_LAZY(z_lib, adler32)(1, NULL, 0);
	assert_ptr_equal(first, (void *)cb_lazy_adler32); /* resolved once */
}

/* Run load in a child; return its exit status and what it printed. */
static int load_in_child(cb_lazylib_t *lib, char *msg, size_t cap)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		cb_lazylib_load(lib);
		_exit(0);
	}
	close(p[1]);
	ssize_t n = read(p[0], msg, cap - 1);
	msg[n > 0 ? n : 0] = 0;
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_missing_library(void **state)
{
	(void)state;
	static void *slot;
	static const char *const names[] = {"nothing"};
	static void **const slots[] = {&slot};
	cb_lazylib_t lib = {.soname = "libcbuild-not-there.so.7", .names = names, .slots = slots, .n = 1};
	char msg[512];
	assert_int_equal(load_in_child(&lib, msg, sizeof msg), 1);
	assert_non_null(strstr(msg, "cannot load libcbuild-not-there.so.7"));
	assert_int_equal(lib.loaded, 0);
}

static void test_missing_symbol(void **state)
{
	(void)state;
	static void *slot;
	static const char *const names[] = {"cbuild_no_such_function"};
	static void **const slots[] = {&slot};
	cb_lazylib_t lib = {.soname = "libz.so.1", .names = names, .slots = slots, .n = 1};
	char msg[512];
	assert_int_equal(load_in_child(&lib, msg, sizeof msg), 1);
	assert_non_null(strstr(msg, "cbuild_no_such_function"));
}

/* Every function the tables list exists in the installed library. */
static void test_cbuild_tables_resolve(void **state)
{
	(void)state;
	char msg[512];
	assert_int_equal(load_in_child(&cb_archive_lib, msg, sizeof msg), 0);
	assert_int_equal(load_in_child(&cb_curl_lib, msg, sizeof msg), 0);
	assert_int_equal(load_in_child(&cb_yaml_lib, msg, sizeof msg), 0);
	assert_int_equal(load_in_child(&cb_zlib_lib, msg, sizeof msg), 0);
	assert_int_equal(load_in_child(&cb_zstd_lib, msg, sizeof msg), 0);
	/* and calls go through the table */
	struct archive *a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	assert_int_equal(cb_archive_lib.loaded, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_through_table),
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_cbuild_tables_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
