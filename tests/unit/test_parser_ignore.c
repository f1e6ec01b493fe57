/*
 * tests/unit/test_parser_ignore.c - .dockerignore patterns, table driven.
 * Single-pattern rows are moby/patternmatcher's TestMatches cases; the
 * rest are whole files (exceptions, last match wins, skip-dir answers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "common/util.h"
#include "parser/ignore.h"

typedef struct icase {
	const char *file; /* .dockerignore content */
	const char *path;
	bool excluded;
	int skip; /* -1: not checked, 0/1: df_ignore_skip_dir(path) */
} icase_t;

#define P(pat, path, ex) {pat "\n", path, ex, -1}

static const icase_t cases[] = {
	P("**", "file", true),
	P("**", "file/", true),
	P("**/", "file", true),
	P("**/", "file/", true),
	P("**", "dir/file", true),
	P("**/", "dir/file", true),
	P("**/**", "dir/file", true),
	P("dir/**", "dir/file", true),
	P("dir/**", "dir/dir2/file", true),
	P("**/dir", "dir", true),
	P("**/dir", "dir/file", true),
	P("**/dir2/*", "dir/dir2/file", true),
	P("**/dir2/**", "dir/dir2/dir3/file", true),
	P("**file", "file", true),
	P("**file", "dir/file", true),
	P("**/file", "dir/file", true),
	P("**file", "dir/dir/file", true),
	P("**/file", "dir/dir/file", true),
	P("**/file*", "dir/dir/file", true),
	P("**/file*", "dir/dir/file.txt", true),
	P("**/file*txt", "dir/dir/file.txt", true),
	P("**/file*.txt", "dir/dir/file.txt", true),
	P("**/file*.txt*", "dir/dir/file.txt", true),
	P("**/**/*.txt", "dir/dir/file.txt", true),
	P("**/**/*.txt2", "dir/dir/file.txt", false),
	P("**/*.txt", "file.txt", true),
	P("**/**/*.txt", "file.txt", true),
	P("a**/*.txt", "a/file.txt", true),
	P("a**/*.txt", "a/dir/file.txt", true),
	P("a**/*.txt", "a/dir/dir/file.txt", true),
	P("a/*.txt", "a/dir/file.txt", false),
	P("a/*.txt", "a/file.txt", true),
	P("a/*.txt**", "a/file.txt", true),
	P("a[b-d]e", "ae", false),
	P("a[b-d]e", "ace", true),
	P("a[b-d]e", "aae", false),
	P("a[^b-d]e", "aze", true),
	P(".*", ".foo", true),
	P(".*", "foo", false),
	P("abc.def", "abcdef", false),
	P("abc.def", "abc.def", true),
	P("abc.def", "abcZdef", false),
	P("abc?def", "abcZdef", true),
	P("abc?def", "abcdef", false),
	P("a\\\\", "a\\", true),
	P("**/foo/bar", "foo/bar", true),
	P("**/foo/bar", "dir/foo/bar", true),
	P("**/foo/bar", "dir/dir2/foo/bar", true),
	P("abc/**", "abc", false),
	P("abc/**", "abc/def", true),
	P("abc/**", "abc/def/ghi", true),
	P("**/.foo", ".foo", true),
	P("**/.foo", "bar.foo", false),
	P("a(b)c/def", "a(b)c/def", true),
	P("a(b)c/def", "a(b)c/xyz", false),
	P("a.|)$(}+{bc", "a.|)$(}+{bc", true),
	P("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
	  "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
	P("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
	/* parents match */
	P("node_modules", "node_modules/a/b.js", true),
	P("node_modules", "src/node_modules", false),
	P("*/node_modules", "src/node_modules/x", true),
	P("**/node_modules", "a/b/node_modules/x", true),
	P("*.o", "a.o", true),
	P("*.o", "dir/a.o", false),
	P("**/*.o", "dir/sub/a.o", true),
	P("temp?", "tempa", true),
	P("temp?", "temp", false),
	P("*/temp*", "somedir/temporary.txt", true),
	P("*/temp*", "temp", false),
	P("*/*/temp*", "a/b/tempx", true),
	P("*/*/temp*", "a/tempx", false),
	/* cleaning */
	P("/build/", "build/x", true),
	P("./dist/../out", "out/x", true),
	P("./dist/../out", "dist/x", false),
	P("a//b", "a/b", true),
	P("  spaced  ", "spaced", true),
	P("x", "./x", true),
	P("x", "/x", true),
	P("[a-c]*", "beta", true),
	P("[a-c]*", "delta", false),
	P("\\*", "*", true),
	P("\\*", "a", false),
	/* comments, blank lines, BOM, CRLF */
	{"# comment\n\n*.log\n", "x.log", true, -1},
	{"# *.log\n", "x.log", false, -1},
	{" #x\n", "#x", true, -1},
	{"\xEF\xBB\xBF*.log\n", "x.log", true, -1},
	{"*.log\r\n*.tmp\r\n", "x.tmp", true, -1},
	{"", "anything", false, -1},
	/* exceptions: last match wins */
	{"*.md\n!README.md\n", "a.md", true, -1},
	{"*.md\n!README.md\n", "README.md", false, -1},
	{"*.md\n!README*.md\nREADME-secret.md\n", "README-secret.md", true, -1},
	{"*.md\n!README*.md\nREADME-secret.md\n", "README-x.md", false, -1},
	{"!README.md\n*.md\n", "README.md", true, -1},
	{"!x\n", "x", false, -1},
	{"*\n!src\n", "src/main.c", false, 0},
	{"*\n!src\n", "other", true, 1},
	{"*\n!src\n", "other/deep/file", true, -1},
	{"node_modules\n", "node_modules", true, 1},
	{"node_modules\n!node_modules/keep\n", "node_modules", true, 0},
	{"node_modules\n!node_modules/keep\n", "node_modules/keep/x", false, -1},
	{"node_modules\n!node_modules/keep\n", "node_modules/other", true, 1},
	{"docs\n!docs/*.md\n", "docs", true, 0},
	{"docs\n!docs/*.md\n", "docs/a.md", false, -1},
	{"docs\n!docs/*.md\n", "docs/a.txt", true, -1},
	{"docs\n!**/*.md\n", "docs", true, 0},
	{"docs\n!src/**\n", "docs", true, 1},
	{"docs\n!*.md\n", "docs", true, 1},
	{"a\n!a/b/c\n", "a/b", true, 0},
	{"a\n!a/b/c\n", "a/x", true, 1},
	{"a\n!a/b/c\n", "a/b/c/d", false, -1},
	{"a\n!a/b/c\na/b\n", "a/b/c/d", true, -1},
	{"a\n!a/b/c\na/b\n", "a", true, 0},
	{"a\n!a/b/c\na/b\n", "a/b", true, 0},
	{"**\n!Dockerfile\n!src/**\n", "src/a/b", false, 0},
	{"**\n!Dockerfile\n!src/**\n", "vendor", true, 1},
	{"**\n!Dockerfile\n!src/**\n", "Dockerfile", false, -1},
	{".git\n", ".git/objects/ab", true, -1},
	{".git\n", ".git", true, 1},
	{".git\n", ".github/workflows", false, 0},
	{"dir\n", ".", false, 0},
};

static void run_case(void **state)
{
	const icase_t *c = *state;
	df_ignore_t *ig = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_ignore_parse(c->file, strlen(c->file), &ig, &err) < 0)
		fail_msg("%s: %s", c->file, err.msg);
	bool m = df_ignore_match(ig, c->path);
	if (m != c->excluded)
		fail_msg("patterns %s path '%s': excluded=%d, want %d", c->file, c->path, m,
			 c->excluded);
	if (c->skip >= 0 && df_ignore_skip_dir(ig, c->path) != (c->skip == 1))
		fail_msg("patterns %s dir '%s': skip=%d, want %d", c->file, c->path, !c->skip,
			 c->skip);
	df_ignore_free(ig);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *in, *msg;
	} e[] = {
		{"[a\n", ".dockerignore line 1: bad pattern '[a': missing closing ]"},
		{"ok\n!\n", ".dockerignore line 2: illegal exclusion pattern: \"!\""},
		{"a]\n", ".dockerignore line 1: bad pattern 'a]': unexpected ]"},
		{"[z-a]\n", ".dockerignore line 1: bad pattern '[z-a]': invalid character class range"},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(e); i++) {
		df_ignore_t *ig = NULL;
		cb_error_t err = CB_ERROR_INIT;
		assert_int_equal(df_ignore_parse(e[i].in, strlen(e[i].in), &ig, &err), -1);
		assert_string_equal(err.msg, e[i].msg);
		cb_error_release(&err);
	}
}

static void test_from_patterns(void **state)
{
	(void)state;
	char *pats[] = {"*.tmp", "!keep.tmp", "", NULL};
	df_ignore_t *ig = NULL;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_ignore_from_patterns(pats, &ig, &err), 0);
	assert_int_equal(df_ignore_count(ig), 2);
	assert_true(df_ignore_match(ig, "a.tmp"));
	assert_false(df_ignore_match(ig, "keep.tmp"));
	df_ignore_free(ig);
	assert_false(df_ignore_match(NULL, "x"));
	assert_false(df_ignore_skip_dir(NULL, "x"));
}

static void test_dockerfile_specific(void **state)
{
	(void)state;
	char *s = df_ignore_dockerfile_specific("app/Dockerfile.dev");
	assert_string_equal(s, "app/Dockerfile.dev.dockerignore");
	free(s);
}

/* A pathological pattern must not take exponential time. */
static void test_many_stars(void **state)
{
	(void)state;
	const char *pat = "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n";
	df_ignore_t *ig = NULL;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_ignore_parse(pat, strlen(pat), &ig, &err), 0);
	char path[201];
	memset(path, 'a', 200);
	path[200] = '\0';
	assert_false(df_ignore_match(ig, path));
	df_ignore_free(ig);
}

int main(void)
{
	size_t n = CB_ARRAY_SIZE(cases), k = 0;
	struct CMUnitTest *t = calloc(n + 4, sizeof(*t));
	for (size_t i = 0; i < n; i++)
		t[k++] = (struct CMUnitTest){.name = cases[i].path, .test_func = run_case,
					     .initial_state = (void *)&cases[i]};
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_errors);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_from_patterns);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_dockerfile_specific);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_many_stars);
	int r = _cmocka_run_group_tests("parser_ignore", t, k, NULL, NULL);
	free(t);
	return r;
}
