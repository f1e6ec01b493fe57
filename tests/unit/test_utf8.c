/*
 * tests/unit/test_utf8.c - text that is not UTF-8, and NUL bytes, through
 * every layer that turns Dockerfile text into JSON: common/utf8 (the repair
 * rule, table driven), the parser (a NUL is a positioned error, other bytes
 * are repaired as BuildKit does), the plan as JSON, the cache key and the
 * history text (builder/cache.c), and the image config (store/json.h).
 * The fuzz-style cases mix instructions with random bytes from a fixed seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "builder/internal.h"
#include "common/utf8.h"
#include "common/util.h"
#include "parser/plan.h"
#include "store/image.h"
#include "store/json.h"

typedef struct {
	const char *in;
	size_t n;
	bool valid;
	const char *fixed;
} u8case_t;

#define C(s, v, f) {s, sizeof(s) - 1, v, f}
static const u8case_t u8cases[] = {
	C("", true, ""),
	C("plain", true, "plain"),
	C("caf\xC3\xA9", true, "caf\xC3\xA9"),
	C("caf\xE9", false, "caf\xEF\xBF\xBD"),
	/* one U+FFFD per bad byte, as Go (BuildKit gave three for these) */
	C("\xE9\xE8\xC3", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
	C("\xC0\x80", false, "\xEF\xBF\xBD\xEF\xBF\xBD"),		  /* overlong NUL */
	C("\xED\xA0\x80", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), /* surrogate */
	C("\xF4\x90\x80\x80", false,
	  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), /* > U+10FFFF */
	C("\xF0\x9F\x98\x80", true, "\xF0\x9F\x98\x80"),
	C("\xE2\x82x", false, "\xEF\xBF\xBD\xEF\xBF\xBDx"), /* cut short */
	C("\xFF", false, "\xEF\xBF\xBD"),
};

static void test_repair_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(u8cases) / sizeof(u8cases[0]); i++) {
		const u8case_t *c = &u8cases[i];
		assert_int_equal(cb_utf8_valid(c->in, c->n), c->valid);
		size_t m;
		_cleanup_free_ char *f = cb_utf8_fix(c->in, c->n, &m);
		assert_int_equal(m, strlen(c->fixed));
		assert_memory_equal(f, c->fixed, m);
		assert_true(cb_utf8_valid(f, m));
		/* jansson agrees on what is valid */
		json_t *j = json_stringn(c->in, c->n);
		assert_int_equal(j != NULL, c->valid);
		json_decref(j);
	}
}

static void test_nul_is_an_error(void **state)
{
	(void)state;
	static const char df[] = "FROM scratch\nRUN echo a\0b\n";
	df_plan_t *p = NULL;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_plan_from_bytes("Dockerfile", df, sizeof(df) - 1, NULL, &p, NULL, &err),
			 -1);
	assert_non_null(err.msg);
	assert_true(cb_str_has_prefix(err.msg, "Dockerfile:2:11: a NUL byte"));
	cb_error_release(&err);
}

static void test_latin1_is_repaired(void **state)
{
	(void)state;
	static const char df[] = "FROM scratch\nLABEL a=caf\xE9\nRUN echo \xE9\xE8\n";
	df_plan_t *p = NULL;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_plan_from_bytes("Dockerfile", df, sizeof(df) - 1, NULL, &p, NULL, &err),
			 0);
	df_stage_t *st = &p->stages[p->n_stages - 1];
	assert_int_equal(st->n_steps, 2);
	assert_string_equal(st->steps[0].u.kv.kvs[0].value, "caf\xEF\xBF\xBD");
	_cleanup_free_ char *hist = bld_step_history(&st->steps[1]);
	assert_non_null(strstr(hist, "echo \xEF\xBF\xBD\xEF\xBF\xBD"));
	df_plan_free(p);
}

/* A build arg is not repaired by the parser: the cache key must still tell
 * two of them apart, and the config must keep the ENV (repaired). */
static void test_build_arg_bytes(void **state)
{
	(void)state;
	static const char df[] = "FROM scratch\nARG X\nENV Y=$X\nRUN echo $X\n";
	char *keys[2] = {NULL, NULL};
	const char *vals[2] = {"X=\xE9", "X=\xE8"};
	for (int k = 0; k < 2; k++) {
		char *args[] = {(char *)vals[k], NULL};
		df_plan_opts_t o = {.build_args = args};
		df_plan_t *p = NULL;
		cb_error_t err = CB_ERROR_INIT;
		assert_int_equal(
			df_plan_from_bytes("Dockerfile", df, sizeof(df) - 1, &o, &p, NULL, &err), 0);
		df_stage_t *st = &p->stages[p->n_stages - 1];
		oci_config_t *cfg = oci_config_new();
		keys[k] = bld_step_canonical(&st->steps[st->n_steps - 1], cfg);
		assert_non_null(keys[k]);
		_cleanup_free_ char *pj = df_plan_to_json(p);
		assert_true(cb_utf8_valid(pj, strlen(pj)));
		json_t *j = json_loads(pj, 0, NULL);
		assert_non_null(j);
		json_decref(j);
		oci_config_free(cfg);
		df_plan_free(p);
	}
	assert_string_not_equal(keys[0], keys[1]);
	free(keys[0]);
	free(keys[1]);

	oci_config_t *cfg = oci_config_new();
	oci_config_set_label(cfg, "k\xE9", "v\xE9");
	json_t *j = json_object();
	assert_int_equal(json_object_set_new(j, "s", oci_json_str("x\xE9")), 0);
	_cleanup_free_ char *text = oci_json_dumps(j, JSON_COMPACT);
	assert_string_equal(text, "{\"s\":\"x\xEF\xBF\xBD\"}");
	json_decref(j);
	oci_config_free(cfg);
}

static const char *const frags[] = {
	"FROM scratch\n", "FROM busybox AS b\n", "RUN echo ", "LABEL a=", "ENV E=", "COPY ",
	"ADD ", "WORKDIR /", "CMD [\"", "\"]\n", "ARG A=", "USER ", "EXPOSE 80", "VOLUME /v",
	"HEALTHCHECK CMD ", "SHELL [\"sh\", \"", "RUN <<EOF\n", "EOF\n", "\\\n", "$A", "${A}",
	" ", "\n", "# comment\n", "ONBUILD RUN x\n", "STOPSIGNAL 9\n", "ENTRYPOINT ",
};

static void random_dockerfile(cb_buf_t *b, unsigned *seed)
{
	cb_buf_addstr(b, "FROM scratch\n");
	int n = 1 + rand_r(seed) % 24;
	for (int i = 0; i < n; i++) {
		int r = rand_r(seed) % 4;
		if (r < 2) {
			cb_buf_addstr(b, frags[rand_r(seed) % (sizeof(frags) / sizeof(frags[0]))]);
		} else if (r == 2) {
			char c = (char)(0x80 + rand_r(seed) % 0x80); /* high bytes */
			cb_buf_addch(b, c);
		} else {
			/* any byte, and NUL often enough to be seen */
			char c = rand_r(seed) % 8 ? (char)(rand_r(seed) % 256) : '\0';
			cb_buf_add(b, &c, 1);
		}
	}
}

static void check_plan(df_plan_t *p)
{
	_cleanup_free_ char *pj = df_plan_to_json(p);
	assert_true(cb_utf8_valid(pj, strlen(pj)));
	json_t *j = json_loads(pj, 0, NULL);
	assert_non_null(j);
	json_decref(j);
	free(df_plan_to_text(p));
	oci_config_t *cfg = oci_config_new();
	for (size_t s = 0; s < p->n_stages; s++)
		for (size_t i = 0; i < p->stages[s].n_steps; i++) {
			const df_step_t *st = &p->stages[s].steps[i];
			_cleanup_free_ char *key = bld_step_canonical(st, cfg);
			assert_non_null(key);
			_cleanup_free_ char *h = bld_step_history(st);
			assert_non_null(h);
			/* the history goes into the config as is */
			json_t *hs = oci_json_str(h);
			assert_non_null(hs);
			json_decref(hs);
		}
	oci_config_free(cfg);
}

static void test_fuzz_bytes(void **state)
{
	(void)state;
	unsigned seed = 23;
	int ok = 0, nul = 0;
	for (int iter = 0; iter < 3000; iter++) {
		cb_buf_t b;
		cb_buf_init(&b);
		random_dockerfile(&b, &seed);
		bool has_nul = memchr(b.data, '\0', b.len) != NULL;
		char *args[] = {"A=\xE9\xFF", NULL};
		df_plan_opts_t o = {.build_args = args};
		df_plan_t *p = NULL;
		cb_error_t err = CB_ERROR_INIT;
		int r = df_plan_from_bytes("Dockerfile", b.data, b.len, &o, &p, NULL, &err);
		if (r == 0) {
			assert_false(has_nul);
			check_plan(p);
			df_plan_free(p);
			ok++;
		} else {
			assert_non_null(err.msg);
			assert_true(cb_str_has_prefix(err.msg, "Dockerfile:"));
			nul += has_nul;
			cb_error_release(&err);
		}
		cb_buf_release(&b);
	}
	/* the generator reaches both sides */
	assert_true(ok > 100);
	assert_true(nul > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repair_table),
		cmocka_unit_test(test_nul_is_an_error),
		cmocka_unit_test(test_latin1_is_repaired),
		cmocka_unit_test(test_build_arg_bytes),
		cmocka_unit_test(test_fuzz_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
