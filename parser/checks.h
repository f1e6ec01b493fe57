/*
 * parser/checks.h - build checks: BuildKit's Dockerfile lint rules, plus
 * opt-in rules of cbuild's own, over a parsed tree.
 *
 *     df_check_config_t cfg;
 *     df_check_config_init(&cfg);
 *     if (df_check_config_parse(tree->check, &cfg, err) < 0) ...   // "# check="
 *     df_check_input_t in = { .tree = tree, .config = &cfg, .ignore = ig };
 *     df_check_list_t out = {0};
 *     df_check_run(&in, &out);
 *     for (size_t i = 0; i < out.n; i++) {
 *         char *s = df_check_format(tree, &out.v[i]); ... free(s);
 *     }
 *     df_check_list_release(&out); df_check_config_release(&cfg);
 *
 * The rules, their names and their messages are BuildKit's
 * (frontend/dockerfile/linter/ruleset.go), so `# check=skip=...` lines
 * written for docker work unchanged. Rules BuildKit marks experimental
 * (CopyIgnoredFile) and cbuild's own (AptNoInstallRecommends,
 * AptListsNotCleaned, PipeToShellWithoutChecksum) run only when enabled
 * with `# check=experimental=all` or `experimental=Rule1,Rule2`.
 *
 * Rules that need the base image (UndefinedVar's view of its Env,
 * WorkdirRelativePath's of its WorkingDir) take what the caller knows
 * through df_check_input_t.bases; InvalidBaseImagePlatform is the
 * builder's (it knows the pulled image): it adds its warning with
 * df_check_add. Pure: no I/O.
 */
#ifndef CB_PARSER_CHECKS_H
#define CB_PARSER_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "parser/dockerfile.h"
#include "parser/ignore.h"

typedef struct df_check_config {
	bool skip_all;
	char **skip;          /* rule names, NULL-terminated or NULL */
	bool error;           /* error=true: a violation fails the build */
	bool experimental_all;
	char **experimental;  /* experimental rules enabled by name */
} df_check_config_t;

void df_check_config_init(df_check_config_t *c);
void df_check_config_release(df_check_config_t *c);
/* Merge a "skip=A,B;error=true;experimental=C" string into c (later
 * values win; skip lists add up). NULL or "" is fine. Errors name the bad
 * option: "invalid check option 'x'". */
int df_check_config_parse(const char *s, df_check_config_t *c, cb_error_t *err);

/* A rule's name as known ("UndefinedVar"), NULL if there is none such. */
const char *df_check_rule_name(const char *name);
/* Whether the rule runs under c (not skipped; enabled if experimental). */
bool df_check_enabled(const df_check_config_t *c, const char *rule);

typedef struct df_check_warning {
	const char *rule; /* static: the rule's name */
	char *message;    /* BuildKit's text for it */
	char *fix;        /* one line: how to fix it */
	int line, col;    /* 1-based; col 0 = the whole line */
} df_check_warning_t;

typedef struct df_check_list {
	df_check_warning_t *v;
	size_t n;
} df_check_list_t;

void df_check_list_release(df_check_list_t *l);

/* What is known of one stage's base (indexed by the stage's position
 * among the FROMs). known = false: the base image was not resolved; the
 * rules that need it stay quiet for that stage. */
typedef struct df_check_base {
	bool known;
	char *const *env;    /* the image's Env, KEY=VAL */
	const char *workdir; /* its WorkingDir, NULL or "" = none */
} df_check_base_t;

typedef struct df_check_input {
	const df_tree_t *tree;
	const df_check_config_t *config;
	const df_ignore_t *ignore;     /* .dockerignore for CopyIgnoredFile, may be NULL */
	const df_check_base_t *bases;  /* may be NULL: nothing known of images */
	size_t n_bases;
} df_check_input_t;

/* Run every enabled rule; warnings are appended to out in line order. */
void df_check_run(const df_check_input_t *in, df_check_list_t *out);

/* Append a warning when the rule is enabled in c; fix and the message are
 * formatted by the caller: fix is taken (freed when the rule is off). */
void df_check_add(df_check_list_t *l, const df_check_config_t *c, const char *rule, int line,
		  int col, char *fix, const char *fmt, ...) CB_PRINTF(7, 8);

/* One warning as printed:
 *
 *     Dockerfile:4:1: warning: JSONArgsRecommended: JSON arguments ...
 *         4 | CMD node server.js
 *           = fix: use the exec form: CMD ["node", "server.js"]
 *
 * A new string ending in '\n'. */
char *df_check_format(const df_tree_t *t, const df_check_warning_t *w);

/* The summary line after the warnings: "lint violation found for rules:
 * A, B" (BuildKit's error=true text; each rule once, in order). New string. */
char *df_check_summary(const df_check_list_t *l);

#endif
