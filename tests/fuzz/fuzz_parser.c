/*
 * tests/fuzz/fuzz_parser.c - libFuzzer target for the Dockerfile lexer,
 * parser, planner, expander and .dockerignore matcher (`make fuzz`).
 *
 *   build-fuzz/fuzz/fuzz_parser -max_total_time=600 -max_len=4096 CORPUS_DIR
 *
 * Seed the corpus with testdata/dockerfiles{,-negative}/x/Dockerfile. The
 * target needs only common/ and parser/, so it also builds on its own:
 *
 *   clang -std=c11 -D_GNU_SOURCE -O1 -g -I. -fsanitize=fuzzer,address,undefined \
 *       -o fuzz_parser tests/fuzz/fuzz_parser.c common/util.c common/error.c \
 *       parser/dockerfile.c parser/expand.c parser/ignore.c parser/plan.c parser/plan_json.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/dockerfile.h"
#include "parser/ignore.h"
#include "parser/plan.h"

static int fuzz_base(void *ctx, const df_stage_t *stage, df_base_config_t *cfg, cb_error_t *err)
{
	static char *env[] = {"PATH=/usr/bin", "HOME=/root", NULL};
	static char *trig[] = {"RUN echo onbuild", NULL};
	(void)ctx;
	(void)stage;
	(void)err;
	*cfg = (df_base_config_t){.env = env, .onbuild = trig, .workdir = "/w"};
	return 1;
}

static void plan_it(const df_tree_t *t)
{
	char *args[] = {"V=1", "HTTP_PROXY=x", "UNUSED=2", NULL};
	df_plan_opts_t o = {.build_args = args};
	df_plan_t *p = NULL;
	char **warn = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_plan_build(t, &o, &p, &warn, &err) < 0) {
		cb_error_release(&err);
		return;
	}
	free(df_plan_to_json(p));
	free(df_plan_to_text(p));
	df_plan_free(p);
	p = NULL;
	/* again with a base image config for every FROM image */
	o.base = (df_base_resolver_t){fuzz_base, NULL};
	if (df_plan_build(t, &o, &p, NULL, &err) < 0)
		cb_error_release(&err);
	else
		free(df_plan_to_json(p));
	cb_strv_free(warn);
	df_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_parse("Dockerfile", (const char *)data, size, &t, &err) == 0) {
		plan_it(t);
		df_tree_free(t);
	} else {
		free(df_error_first_line(&err));
		cb_error_release(&err);
	}
	/* the same bytes as a word to expand and as a .dockerignore */
	char *s = cb_xstrndup((const char *)data, size);
	char *env[] = {"A=a b", "B=", "PATH=/bin", NULL};
	char *out = NULL;
	char **words = NULL;
	for (unsigned f = 0; f < 8; f++) {
		if (df_expand(s, env, f, &out, &err) == 0)
			free(out);
		else
			cb_error_release(&err);
	}
	if (df_expand_words(s, env, 0, &words, &err) == 0)
		cb_strv_free(words);
	else
		cb_error_release(&err);
	df_word_has_vars(s, 0);
	df_ignore_t *ig = NULL;
	if (df_ignore_parse((const char *)data, size, &ig, &err) == 0) {
		static const char *const paths[] = {"a", "a/b", "node_modules/x/y.js", ".git",
						    "src/main.c", "x.md", "."};
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			df_ignore_match(ig, paths[i]);
			df_ignore_skip_dir(ig, paths[i]);
		}
		df_ignore_free(ig);
	} else {
		cb_error_release(&err);
	}
	free(s);
	return 0;
}
