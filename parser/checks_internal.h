/*
 * parser/checks_internal.h - what the checks' files share; not an API.
 */
#ifndef CB_PARSER_CHECKS_INTERNAL_H
#define CB_PARSER_CHECKS_INTERNAL_H

#include "parser/checks.h"

/* A stage as the checks see it: its FROM node and the nodes after it. */
typedef struct ck_stage {
	size_t from;     /* node index of the FROM */
	size_t end;      /* one past its last node */
	char *name;      /* `AS name` as written, NULL if none */
	int parent;      /* index of the stage it is built FROM, else -1 */
	bool scratch;
	char **defined;  /* ENV and ARG names defined by the end of the stage */
	bool workdir_set; /* an absolute WORKDIR (here or in the parent) */
} ck_stage_t;

typedef struct ck {
	const df_check_input_t *in;
	const df_tree_t *t;
	df_check_list_t *out;
	ck_stage_t *stages;
	size_t n_stages;
	char **global_args;    /* names declared before the first FROM */
	char **global_env;     /* their defaults, KEY=VAL (expanded) */
	unsigned expand_flags; /* DF_EXPAND_ESCAPE_BACKTICK when escape=` */
} ck_t;

#define ck_add(ck, rule, line, col, fix, ...) \
	df_check_add((ck)->out, (ck)->in->config, rule, line, col, fix, __VA_ARGS__)

/* The keyword as written (its first word of node->original): a new string. */
char *ck_keyword(const df_node_t *n);

/* Call fn for each variable a word refers to ($X, ${X}, ${X%s}: plain =
 * true; ${X:-w} and the like: plain = false, an unset X is not an
 * error there). Single-quoted text and escaped '$' are skipped. */
typedef void (*ck_var_fn)(void *ctx, const char *name, size_t len, bool plain);
void ck_scan_vars(const char *word, char escape, ck_var_fn fn, void *ctx);

bool ck_strv_has(char *const *v, const char *s);

/* checks_vars.c: UndefinedVar, UndefinedArgInFrom, InvalidDefaultArgInFrom,
 * SecretsUsedInArgOrEnv, WorkdirRelativePath. */
void ck_globals(ck_t *ck);
void ck_from_vars(ck_t *ck, size_t si);
void ck_stage_vars(ck_t *ck, size_t si);

/* checks_run.c: the opt-in RUN rules. */
void ck_run_rules(ck_t *ck, const df_node_t *n);

#endif
