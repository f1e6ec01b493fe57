/*
 * tests/unit/test_parser_expand.c - df_expand / df_expand_words, table
 * driven; most rows are BuildKit's own shell lexer cases (envVarTest,
 * wordsTest) with the same environment (PWD=/home SHELL=bash NULL=).
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
#include "parser/dockerfile.h"

static char *env_default[] = {"PWD=/home", "SHELL=bash", "NULL=", "hi=hi", "space=abc  def",
			      "leading=  ab c", "emptyvar=", "v=value", "w=other", "PATH=/usr/bin:/bin",
			      "FILE=archive.tar.gz", NULL};

typedef struct xcase {
	const char *in;
	const char *out; /* NULL: error expected */
	const char *err; /* expected message when out is NULL (NULL: any) */
	unsigned flags;
} xcase_t;

static const xcase_t xcases[] = {
	{"hello", "hello"},
	{"he'll'o", "hello"},
	{"he'llo", NULL, "unexpected end of statement while looking for matching single-quote"},
	{"he\\'llo", "he'llo"},
	{"he\\\\'llo", NULL},
	{"abc\\tdef", "abctdef"},
	{"\"abc\\tdef\"", "abc\\tdef"},
	{"\"abc\\\\tdef\"", "abc\\tdef"},
	{"'abc\\tdef'", "abc\\tdef"},
	{"hello\\", "hello"},
	{"hello\\\\", "hello\\"},
	{"\"hello", NULL, "unexpected end of statement while looking for matching double-quote"},
	{"\"hello\\\"", NULL},
	{"\"hel'lo\"", "hel'lo"},
	{"'hello", NULL},
	{"'hello\\'", "hello\\"},
	{"'hello\\there'", "hello\\there"},
	{"'hello\\\\there'", "hello\\\\there"},
	{"\"''\"", "''"},
	{"$.", "$."},
	{"he$1x", "hex"},
	{"he$.x", "he$.x"},
	{"he$pwd.", "he."},
	{"he$PWD", "he/home"},
	{"he\\$PWD", "he$PWD"},
	{"he\\\\$PWD", "he\\/home"},
	{"\"he\\$PWD\"", "he$PWD"},
	{"\"he\\\\$PWD\"", "he\\/home"},
	{"\\${}", "${}"},
	{"\\${}aaa", "${}aaa"},
	{"he\\${}", "he${}"},
	{"he\\${}xx", "he${}xx"},
	{"${}", NULL, "syntax error: bad substitution"},
	{"${}aaa", NULL},
	{"he${}", NULL},
	{"he${}xx", NULL},
	{"he${hi}", "hehi"},
	{"he${nope}xx", "hexx"},
	{"he${PWD}", "he/home"},
	{"he${.}", NULL},
	{"he${XXX:-000}xx", "he000xx"},
	{"he${PWD:-000}xx", "he/homexx"},
	{"he${XXX:-$PWD}xx", "he/homexx"},
	{"he${XXX:-${PWD:-yyy}}xx", "he/homexx"},
	{"he${XXX:-${YYY:-yyy}}xx", "heyyyxx"},
	{"he${XXX:YYY}", NULL, "unsupported modifier (Y) in substitution"},
	{"he${XXX?}", NULL, "XXX: is not allowed to be unset"},
	{"he${XXX:?}", NULL, "XXX: is not allowed to be unset"},
	{"he${PWD?}", "he/home"},
	{"he${PWD:?}", "he/home"},
	{"he${NULL?}", "he"},
	{"he${NULL:?}", NULL, "NULL: is not allowed to be empty"},
	{"${XXX:?custom message}", NULL, "XXX: custom message"},
	{"${XXX?must be set}", NULL, "XXX: must be set"},
	{"he${XXX:+${PWD}}xx", "hexx"},
	{"he${PWD:+${XXX}}xx", "hexx"},
	{"he${PWD:+${SHELL}}xx", "hebashxx"},
	{"he${XXX:+000}xx", "hexx"},
	{"he${PWD:+000}xx", "he000xx"},
	{"'he${XX}'", "he${XX}"},
	{"\"he${PWD}\"", "he/home"},
	{"\"he'$PWD'\"", "he'/home'"},
	{"\"$PWD\"", "/home"},
	{"'$PWD'", "$PWD"},
	{"'\\$PWD'", "\\$PWD"},
	{"'\"hello\"'", "\"hello\""},
	{"he\\$PWD", "he$PWD"},
	{"'he\\$PWD'", "he\\$PWD"},
	{"he${PWD", NULL, "syntax error: missing '}'"},
	{"he${PWD:=000}xx", NULL, "unsupported modifier (=) in substitution"},
	{"he${PWD:+${PWD}:}xx", "he/home:xx"},
	{"he${XXX:-\\$PWD:}xx", "he$PWD:xx"},
	{"he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"},
	{"\xEC\x95\x88\xEB\x85\x95", "\xEC\x95\x88\xEB\x85\x95"},
	{"\xEC\x95\x88'\xEB\x85\x95'$PWD", "\xEC\x95\x88\xEB\x85\x95/home"},
	/* without colon: only unset counts */
	{"${NULL-def}", ""},
	{"${NULL:-def}", "def"},
	{"${XXX-def}", "def"},
	{"${NULL+alt}", "alt"},
	{"${NULL:+alt}", ""},
	{"${XXX+alt}", ""},
	{"${v:-${w}}", "value"},
	{"${XXX:-${w}}", "other"},
	{"${XXX:-'a b'}", "a b"},
	{"${XXX:-\"$v x\"}", "value x"},
	{"$v$w", "valueother"},
	{"${v}_${w}", "value_other"},
	{"$v_suffix", ""},
	{"$$", ""},
	{"$", "$"},
	{"a$", "a$"},
	{"${v}}", "value}"},
	{"}", "}"},
	{"{}", "{}"},
	{"\"a b\" c", "a b c"},
	{"\"\"", ""},
	{"''", ""},
	{"\"\\a\"", "\\a"},
	{"\"\\\"\"", "\""},
	{"\"a\\$v\"", "a$v"},
	/* pattern operators (BuildKit >= 0.13) */
	{"${FILE%.gz}", "archive.tar"},
	{"${FILE%.*}", "archive.tar"},
	{"${FILE%%.*}", "archive"},
	{"${FILE#*.}", "tar.gz"},
	{"${FILE##*.}", "gz"},
	{"${FILE/tar/zip}", "archive.zip.gz"},
	{"${PATH//\\//|}", "|usr|bin:|bin"},
	{"${#v}", "5"},
	{"${#XXX}", "0"},
	/* backtick escape */
	{"a`$v", "a$v", NULL, DF_EXPAND_ESCAPE_BACKTICK},
	{"C:\\dir\\$v", "C:\\dir\\value", NULL, DF_EXPAND_ESCAPE_BACKTICK},
	{"\"a`\"b\"", "a\"b", NULL, DF_EXPAND_ESCAPE_BACKTICK},
	{"``", "`", NULL, DF_EXPAND_ESCAPE_BACKTICK},
	/* keep unset */
	{"$XXX-$v", "$XXX-value", NULL, DF_EXPAND_KEEP_UNSET},
	{"${XXX}", "${XXX}", NULL, DF_EXPAND_KEEP_UNSET},
	{"${XXX:-d}", "${XXX:-d}", NULL, DF_EXPAND_KEEP_UNSET},
	{"${XXX?m}", "${XXX?m}", NULL, DF_EXPAND_KEEP_UNSET},
	{"${v:-d}", "value", NULL, DF_EXPAND_KEEP_UNSET},
	/* skip quotes (heredoc bodies) */
	{"echo \"$v\" '$w'\n", "echo \"value\" 'other'\n", NULL, DF_EXPAND_SKIP_QUOTES},
	{"it's $v\n", "it's value\n", NULL, DF_EXPAND_SKIP_QUOTES},
	{"a \\$v\n", "a $v\n", NULL, DF_EXPAND_SKIP_QUOTES},
};

static void run_x(void **state)
{
	const xcase_t *c = *state;
	char *out = NULL;
	cb_error_t err = CB_ERROR_INIT;
	int r = df_expand(c->in, env_default, c->flags, &out, &err);
	if (c->out) {
		if (r < 0)
			fail_msg("'%s': unexpected error: %s", c->in, err.msg);
		if (strcmp(out, c->out))
			fail_msg("'%s': got '%s' want '%s'", c->in, out, c->out);
		free(out);
	} else {
		if (r == 0)
			fail_msg("'%s': got '%s', wanted an error", c->in, out);
		if (c->err && strcmp(err.msg, c->err))
			fail_msg("'%s': error '%s', want '%s'", c->in, err.msg, c->err);
		cb_error_release(&err);
	}
}

typedef struct wcase {
	const char *in;
	const char *out; /* words joined with ',' inside [] */
} wcase_t;

static const wcase_t wcases[] = {
	{"hello", "[hello]"},
	{"hello${nope}bye", "[hellobye]"},
	{"hello${hi}bye", "[hellohibye]"},
	{"hello${space}bye", "[helloabc,defbye]"},
	{"hello\"${space}\"bye", "[helloabc  defbye]"},
	{"hello \"${space}\"bye", "[hello,abc  defbye]"},
	{"hello${leading}def", "[hello,ab,cdef]"},
	{"hello\"${leading}\" def", "[hello  ab c,def]"},
	{"hello\"${leading}\"", "[hello  ab c]"},
	{"hello${leading}", "[hello,ab,c]"},
	{"hello${emptyvar}", "[hello]"},
	{"hello\"${emptyvar}\"", "[hello]"},
	{"  a   b  ", "[a,b]"},
	{"'a b' c", "[a b,c]"},
	{"a\\ b", "[a b]"},
	{"", "[]"},
};

static void run_w(void **state)
{
	const wcase_t *c = *state;
	char **w = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_expand_words(c->in, env_default, 0, &w, &err) < 0)
		fail_msg("'%s': %s", c->in, err.msg);
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addch(&b, '[');
	for (size_t i = 0; w[i]; i++)
		cb_buf_addf(&b, "%s%s", i ? "," : "", w[i]);
	cb_buf_addch(&b, ']');
	if (strcmp(b.data, c->out))
		fail_msg("'%s': got %s want %s", c->in, b.data, c->out);
	cb_buf_release(&b);
	cb_strv_free(w);
}

static void test_last_wins(void **state)
{
	(void)state;
	char *env[] = {"A=1", "B=2", "A=3", NULL};
	char *out = NULL;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_expand("$A$B", env, 0, &out, &err), 0);
	assert_string_equal(out, "32");
	free(out);
	assert_int_equal(df_expand("$A", NULL, 0, &out, &err), 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_has_vars(void **state)
{
	(void)state;
	assert_true(df_word_has_vars("a$b", 0));
	assert_true(df_word_has_vars("\"$b\"", 0));
	assert_false(df_word_has_vars("'$b'", 0));
	assert_false(df_word_has_vars("a\\$b", 0));
	assert_true(df_word_has_vars("a\\$b", DF_EXPAND_ESCAPE_BACKTICK));
	assert_false(df_word_has_vars("plain", 0));
}

static void test_deep_nesting(void **state)
{
	(void)state;
	cb_buf_t b;
	cb_buf_init(&b);
	for (int i = 0; i < 200; i++)
		cb_buf_addstr(&b, "${X:-");
	for (int i = 0; i < 200; i++)
		cb_buf_addch(&b, '}');
	char *out = NULL;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_expand(b.data, NULL, 0, &out, &err), -1);
	cb_error_release(&err);
	cb_buf_release(&b);
}

int main(void)
{
	size_t nx = CB_ARRAY_SIZE(xcases), nw = CB_ARRAY_SIZE(wcases), n = 0;
	struct CMUnitTest *t = calloc(nx + nw + 3, sizeof(*t));
	char names[256][64];
	(void)names;
	for (size_t i = 0; i < nx; i++)
		t[n++] = (struct CMUnitTest){.name = xcases[i].in, .test_func = run_x,
					     .initial_state = (void *)&xcases[i]};
	for (size_t i = 0; i < nw; i++)
		t[n++] = (struct CMUnitTest){.name = wcases[i].in, .test_func = run_w,
					     .initial_state = (void *)&wcases[i]};
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_last_wins);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_has_vars);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_deep_nesting);
	int r = _cmocka_run_group_tests("parser_expand", t, n, NULL, NULL);
	free(t);
	return r;
}
