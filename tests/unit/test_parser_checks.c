/*
 * tests/unit/test_parser_checks.c - the build checks, table driven: for
 * every rule a Dockerfile that breaks it (at a given line), one that does
 * not, and the first one again with the rule skipped by `# check=skip=`.
 * Experimental rules also stay quiet until `# check=experimental=` names
 * them. The bad cases follow BuildKit's rule docs' examples.
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
#include "parser/checks.h"

typedef struct ccase {
	const char *rule;
	const char *bad;  /* breaks the rule ... */
	int line;         /* ... first at this line */
	const char *good; /* does not */
	bool experimental;
	bool image_known; /* stage 0's base image is known: Env PATH, no WorkingDir */
} ccase_t;

static const ccase_t cases[] = {
	{"StageNameCasing", "FROM scratch AS Builder\n", 1, "FROM scratch AS builder\n"},
	{"FromAsCasing", "FROM scratch as builder\n", 1, "FROM scratch AS builder\nfrom scratch as b2\n"},
	{"DuplicateStageName", "FROM scratch AS a\nFROM scratch AS A\n", 2,
	 "FROM scratch AS a\nFROM scratch AS b\n"},
	{"ReservedStageName", "FROM scratch AS scratch\n", 1, "FROM scratch AS base\n"},
	{"ReservedStageName", "FROM scratch AS context\n", 1, "FROM scratch AS ctx\n"},
	{"JSONArgsRecommended", "FROM scratch\nENTRYPOINT my-program start\n", 2,
	 "FROM scratch\nENTRYPOINT [\"my-program\", \"start\"]\n"},
	{"JSONArgsRecommended", "FROM scratch\nCMD node server.js\n", 2,
	 "FROM scratch\nSHELL [\"/bin/bash\", \"-c\"]\nCMD echo hi\n"},
	{"ConsistentInstructionCasing", "FROM scratch\nRUN true\nrun true\nENV A=1\n", 3,
	 "from scratch\nrun true\n"},
	{"ConsistentInstructionCasing", "FROM scratch\nRun true\n", 2, "FROM scratch\nRUN true\n"},
	{"MaintainerDeprecated", "FROM scratch\nMAINTAINER me <me@x>\n", 2,
	 "FROM scratch\nLABEL org.opencontainers.image.authors=me\n"},
	{"UndefinedArgInFrom", "FROM alpine:$VERSION\n", 1, "ARG VERSION=3.20\nFROM alpine:$VERSION\n"},
	{"UndefinedArgInFrom", "FROM --platform=$PLATFORM alpine\n", 1,
	 "FROM --platform=$BUILDPLATFORM alpine\n"},
	{"UndefinedVar", "FROM scratch\nCOPY $SRC /x\n", 2,
	 "FROM scratch\nARG SRC\nCOPY $SRC ${DEST:-/x}\n"},
	{"UndefinedVar", "FROM scratch AS a\nENV A=1\nFROM a\nWORKDIR /$B\n", 4,
	 "FROM scratch AS a\nENV A=1\nFROM a\nWORKDIR /$A\n"},
	{"UndefinedVar", "FROM img\nENV PATH=$PATH:/x APP=$HOME\n", 2,
	 "FROM img\nENV PATH=$PATH:/x\n", false, true},
	{"WorkdirRelativePath", "FROM scratch\nWORKDIR app\n", 2,
	 "FROM scratch\nWORKDIR /app\nWORKDIR src\n"},
	{"WorkdirRelativePath", "FROM img\nWORKDIR app\n", 2, "FROM img\nWORKDIR /app\nWORKDIR b\n", false, true},
	{"MultipleInstructionsDisallowed", "FROM scratch\nCMD [\"a\"]\nCMD [\"b\"]\n", 2,
	 "FROM scratch\nCMD [\"a\"]\nFROM scratch\nCMD [\"b\"]\n"},
	{"MultipleInstructionsDisallowed",
	 "FROM scratch\nHEALTHCHECK NONE\nHEALTHCHECK CMD [\"true\"]\n", 2,
	 "FROM scratch\nHEALTHCHECK CMD [\"true\"]\n"},
	{"LegacyKeyValueFormat", "FROM scratch\nENV A 1\n", 2, "FROM scratch\nENV A=1\n"},
	{"LegacyKeyValueFormat", "FROM scratch\nLABEL a b c\n", 2, "FROM scratch\nLABEL a=\"b c\"\n"},
	{"InvalidDefaultArgInFrom", "ARG TAG\nFROM busybox:${TAG}\n", 2,
	 "ARG TAG=latest\nFROM busybox:${TAG}\n"},
	{"InvalidDefaultArgInFrom", "ARG IMAGE\nFROM $IMAGE\n", 2, "ARG IMAGE=alpine\nFROM $IMAGE\n"},
	{"SecretsUsedInArgOrEnv", "FROM scratch\nARG AWS_SECRET_ACCESS_KEY\n", 2,
	 "FROM scratch\nARG PUBLIC_KEY\nENV KEYBOARD=us\n"},
	{"SecretsUsedInArgOrEnv", "FROM scratch\nENV github_token=x\n", 2,
	 "FROM scratch\nENV TOKENIZER=x\n"},
	{"FromPlatformFlagConstDisallowed", "FROM --platform=linux/amd64 alpine AS base\n", 1,
	 "FROM --platform=linux/amd64 alpine AS build_amd64\nFROM --platform=$BUILDPLATFORM alpine\n"},
	{"NoEmptyContinuation", "FROM scratch\nRUN echo a \\\n\n  b\n", 2, "FROM scratch\nRUN echo a \\\n  b\n"},
	{"CopyIgnoredFile", "FROM scratch\nCOPY ./secret.txt /x\n", 2,
	 "FROM scratch\nCOPY app.txt /x\nCOPY --from=other secret.txt /y\n", true},
	{"AptNoInstallRecommends",
	 "FROM scratch\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n", 2,
	 "FROM scratch\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf "
	 "/var/lib/apt/lists/*\n",
	 true},
	{"AptListsNotCleaned", "FROM scratch\nRUN apt-get -q update && apt-get -y install make\n", 2,
	 "FROM scratch\nRUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y "
	 "make\n",
	 true},
	{"AptListsNotCleaned", "FROM scratch\nRUN <<EOF\napt update\napt install -y gcc\nEOF\n", 2,
	 "FROM scratch\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n",
	 true},
	{"PipeToShellWithoutChecksum", "FROM scratch\nRUN curl -fsSL https://x/i.sh | sh -s -- -y\n", 2,
	 "FROM scratch\nRUN curl -fsSLo i.sh https://x/i.sh && echo \"abc  i.sh\" | sha256sum -c && sh "
	 "i.sh\n",
	 true},
	{"PipeToShellWithoutChecksum", "FROM scratch\nRUN wget -qO- https://x/i.sh | sudo /bin/bash\n", 2,
	 "FROM scratch\nRUN curl -f https://x/a.tgz | tar xz || true\n", true},
};

static size_t run(const char *text, const ccase_t *c, df_check_list_t *out)
{
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_parse("Dockerfile", text, strlen(text), &t, &err) < 0)
		fail_msg("parse: %s\n%s", err.msg, text);
	df_check_config_t cfg;
	df_check_config_init(&cfg);
	assert_int_equal(df_check_config_parse(t->check, &cfg, &err), 0);
	df_ignore_t *ig = NULL;
	assert_int_equal(df_ignore_parse("secret.txt\n", 11, &ig, &err), 0);
	char *env[] = {"PATH=/bin", NULL};
	df_check_base_t bases[2] = {{c->image_known, env, NULL}, {false, NULL, NULL}};
	df_check_input_t in = {.tree = t, .config = &cfg, .ignore = ig, .bases = bases, .n_bases = 2};
	memset(out, 0, sizeof(*out));
	df_check_run(&in, out);
	size_t n = 0;
	for (size_t i = 0; i < out->n; i++)
		n += !strcmp(out->v[i].rule, c->rule);
	df_ignore_free(ig);
	df_check_config_release(&cfg);
	df_tree_free(t);
	return n;
}

static int first_line(const df_check_list_t *l, const char *rule)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].rule, rule))
			return l->v[i].line;
	return -1;
}

static void run_case(void **state)
{
	const ccase_t *c = *state;
	df_check_list_t out;
	/* the "# check=" line moves everything one line down */
	_cleanup_free_ char *bad = c->experimental
					   ? cb_asprintf("# check=experimental=%s\n%s", c->rule, c->bad)
					   : cb_asprintf("\n%s", c->bad);
	if (run(bad, c, &out) == 0)
		fail_msg("%s: not found in\n%s", c->rule, bad);
	assert_int_equal(first_line(&out, c->rule), c->line + 1);
	for (size_t i = 0; i < out.n; i++) {
		assert_non_null(out.v[i].fix);
		assert_null(strchr(out.v[i].fix, '\n'));
		assert_null(strstr(out.v[i].fix, "http"));
	}
	df_check_list_release(&out);

	_cleanup_free_ char *good = c->experimental
					    ? cb_asprintf("# check=experimental=all\n%s", c->good)
					    : cb_xstrdup(c->good);
	if (run(good, c, &out) != 0)
		fail_msg("%s: found in\n%s", c->rule, good);
	df_check_list_release(&out);

	_cleanup_free_ char *skipped =
		c->experimental ? cb_asprintf("# check=experimental=all;skip=%s\n%s", c->rule, c->bad)
				: cb_asprintf("# check=skip=StageNameCasing,%s\n%s", c->rule, c->bad);
	assert_int_equal(run(skipped, c, &out), 0);
	df_check_list_release(&out);

	if (c->experimental) { /* off unless asked for */
		_cleanup_free_ char *plain = cb_asprintf("\n%s", c->bad);
		assert_int_equal(run(plain, c, &out), 0);
		df_check_list_release(&out);
	}
}

static void test_config(void **state)
{
	(void)state;
	df_check_config_t c;
	df_check_config_init(&c);
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_check_config_parse(" skip = A, B ;error=true", &c, &err), 0);
	assert_true(c.error);
	assert_string_equal(c.skip[0], "A");
	assert_string_equal(c.skip[1], "B");
	assert_int_equal(df_check_config_parse("skip=all", &c, &err), 0);
	assert_true(c.skip_all);
	assert_false(df_check_enabled(&c, "UndefinedVar"));
	assert_true(df_check_config_parse("error=maybe", &c, &err) < 0);
	cb_error_release(&err);
	assert_true(df_check_config_parse("bogus=1", &c, &err) < 0);
	assert_string_equal(err.msg, "invalid check option 'bogus'");
	cb_error_release(&err);
	df_check_config_release(&c);
}

static void test_format(void **state)
{
	(void)state;
	const char *text = "FROM scratch\nCMD a b\n";
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(df_parse("app/Dockerfile", text, strlen(text), &t, &err), 0);
	df_check_config_t cfg;
	df_check_config_init(&cfg);
	df_check_input_t in = {.tree = t, .config = &cfg};
	df_check_list_t out = {0};
	df_check_run(&in, &out);
	assert_int_equal(out.n, 1);
	char *s = df_check_format(t, &out.v[0]);
	assert_string_equal(s, "app/Dockerfile:2:1: warning: JSONArgsRecommended: JSON arguments "
			       "recommended for CMD to prevent unintended behavior related to OS "
			       "signals\n"
			       " 2 | CMD a b\n"
			       "   = fix: use the exec form: CMD [\"a\", \"b\"]\n");
	free(s);
	s = df_check_summary(&out);
	assert_string_equal(s, "lint violation found for rules: JSONArgsRecommended");
	free(s);
	df_check_list_release(&out);
	df_tree_free(t);
}

int main(void)
{
	size_t n = CB_ARRAY_SIZE(cases), k = 0;
	struct CMUnitTest *t = calloc(n + 2, sizeof(*t));
	for (size_t i = 0; i < n; i++)
		t[k++] = (struct CMUnitTest){.name = cases[i].rule, .test_func = run_case,
					     .initial_state = (void *)&cases[i]};
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_config);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_format);
	int r = _cmocka_run_group_tests("parser_checks", t, k, NULL, NULL);
	free(t);
	return r;
}
