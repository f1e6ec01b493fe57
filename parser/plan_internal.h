/*
 * parser/plan_internal.h - what the planner's files share (not API): the
 * state a stage is built with, positioned errors, flags, expansion, and the
 * parse functions the instruction table (parser/instructions.c) names.
 *
 * The planner is split by instruction family:
 *   plan.c        global ARGs, target selection, the plan's lifecycle
 *   plan_stage.c  FROM, stage references, building a stage, the dispatch
 *   plan_common.c vectors, releases, errors, flags, expansion helpers
 *   plan_meta.c   ENV ARG LABEL USER WORKDIR EXPOSE VOLUME STOPSIGNAL
 *                 CMD ENTRYPOINT SHELL HEALTHCHECK ONBUILD MAINTAINER
 *   plan_copy.c   COPY ADD
 *   plan_run.c    RUN and its --mount
 */
#ifndef CB_PARSER_PLAN_INTERNAL_H
#define CB_PARSER_PLAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/util.h"
#include "parser/dockerfile.h"
#include "parser/instructions.h"
#include "parser/plan.h"

typedef struct sstate {
	char **env;  /* ENV, one per key */
	char **args; /* ARG KEY=VAL with a value, one per key */
	char *workdir;
	char **shell;
	char *user;
	char **onbuild;    /* this stage's ONBUILD triggers, run by stages FROM it */
	bool base_unknown; /* it comes from a base image whose config was not
			    * given (df_plan_opts_t.base): Env, WorkingDir,
			    * Shell and ONBUILD of that image are missing */
} sstate_t;

typedef struct stage_src {
	size_t from_node;     /* index of the FROM node */
	size_t first, last;   /* nodes after FROM: [first, last) */
	df_tree_t **triggers; /* the base image's ONBUILD triggers */
	size_t n_triggers;
	df_tree_t **inherited; /* ONBUILD triggers of the parent stage */
	size_t n_inherited;
	bool has_cfg;
	char **cfg_env, **cfg_shell;
	char *cfg_workdir, *cfg_user;
	sstate_t end; /* state after the last step */
	bool built;
	char **consumed;     /* build args its ARGs consumed */
	cb_error_t soft;     /* the stage's error, fatal if needed */
	bool soft_expansion; /* ... and it came from expanding a word */
	int slot;            /* position in plan->stages, -1 if not needed */
	df_stage_t st;       /* while building / for unneeded stages */
} stage_src_t;

struct df_plan_priv {
	df_tree_t *owned_tree;
	char **build_args;
	char **meta_env;      /* global ARGs with values + predefined */
	char **meta_declared; /* names of global ARGs */
	char **consumed;      /* build-arg names consumed by global ARGs */
	char ***cur_consumed; /* where df_consume_arg() records (global or a stage) */
	char *bplat, *tplat;
	stage_src_t *src;
	size_t n_src;
	struct name_ix *names; /* sorted stage names */
	size_t n_names;
	unsigned xflags;
	int target;
};

typedef struct ctx {
	df_plan_t *p;
	struct df_plan_priv *pv;
	const df_tree_t *t;
	cb_error_t *err;
	bool expansion_failed;
} ctx_t;

typedef struct name_ix {
	char *name; /* lower case */
	int idx;
} name_ix_t;

typedef struct nctx {
	ctx_t *c;
	const df_tree_t *t; /* the tree the node belongs to (a trigger's own) */
	const df_node_t *n;
	int line_override; /* ONBUILD triggers report on the FROM line */
} nctx_t;

#define nerr(nc, ...) df_nerr_col((nc), (nc)->n->column, __VA_ARGS__)

typedef struct fdef {
	const char *name;
	df_flag_type_t type;
	/* results */
	bool used;
	char *value;   /* bool: "true"/"false"; string: value */
	char **values; /* strings */
	int col;
} fdef_t;

typedef struct bstate {
	ctx_t *c;
	int index;  /* stage index */
	sstate_t s; /* current state */
	bool soft_failed;
} bstate_t;

/* What an instruction's parse function (df_instruction_t.parse) works on. */
struct df_parse_ctx {
	bstate_t *b;
	nctx_t *nc;
	df_step_t *s;   /* the new step, kind and position set */
	df_stage_t *st; /* the stage it belongs to */
	fdef_t *f;      /* the instruction's flags, parsed, in the table's order */
	size_t nf;
};

#define PC_LOCALS(pc) \
	bstate_t *b = (pc)->b; \
	nctx_t *nc = (pc)->nc; \
	df_step_t *s = (pc)->s

#define path_clean df_path_clean

#define DF_N_PROXY_ARGS 10
/* The proxy build args: in RUN's environment, never "unused". */
extern const char *const df_proxy_args[DF_N_PROXY_ARGS];

void df_stage_add_dep(df_stage_t *st, int d);
const char *df_build_arg(struct df_plan_priv *pv, const char *key);
int df_build_stage(ctx_t *c, int idx);
void df_consume_arg(struct df_plan_priv *pv, const char *key);
char **df_step_env(const bstate_t *b);
fdef_t *df_flag_named(fdef_t *f, size_t nf, const char *name);
bool df_flag_true(const fdef_t *f);
void df_flags_release(fdef_t *f, size_t n);
void df_index_stage_names(ctx_t *c);
int df_need_args(nctx_t *nc, size_t min, size_t max);
int df_nerr_col(nctx_t *nc, int col, const char *fmt, ...) CB_PRINTF(3, 4);
bool df_arg_never_unused(const char *k);
df_step_t *df_new_step(df_stage_t *st, df_kind_t k, const df_node_t *n);
int df_no_flags(nctx_t *nc);
int df_parse_flags(nctx_t *nc, fdef_t *defs, size_t nd);
int df_parse_trigger(const df_tree_t *tree, const df_node_t *fn, const char *trig, df_tree_t **out,
		     cb_error_t *err);
char *df_path_join_clean(const char *base, const char *rel);
int df_resolve_from(bstate_t *b, nctx_t *nc, const char *v, int col, int *stage);
void df_sstate_release(sstate_t *s);
void df_stage_release(df_stage_t *st);
bool df_strv_contains(char *const *v, const char *s);
const char *df_strv_get(char *const *v, const char *key);
void df_strv_set(char ***v, const char *key, const char *val);
const char *df_upper_cmd(const df_node_t *n);
char **df_with_shell(char *const *shell, const char *cmd);
int df_xword(bstate_t *b, nctx_t *nc, const char *word, char *const *env, unsigned extra,
	     char **out);
bool df_valid_var_name(const char *k);

/* The most flags a table row may list. */
#define DF_MAX_FLAGS 8

/* Each fills pc->s from pc->nc's node and updates the stage's state;
 * returns -1 with the error positioned on the node. */
int df_parse_run(struct df_parse_ctx *pc);
int df_parse_copy(struct df_parse_ctx *pc); /* COPY and ADD */
int df_parse_env(struct df_parse_ctx *pc);
int df_parse_arg(struct df_parse_ctx *pc);
int df_parse_label(struct df_parse_ctx *pc);
int df_parse_expose(struct df_parse_ctx *pc);
int df_parse_volume(struct df_parse_ctx *pc);
int df_parse_user(struct df_parse_ctx *pc);
int df_parse_workdir(struct df_parse_ctx *pc);
int df_parse_cmdline(struct df_parse_ctx *pc); /* CMD ENTRYPOINT SHELL */
int df_parse_stopsignal(struct df_parse_ctx *pc);
int df_parse_healthcheck(struct df_parse_ctx *pc);
int df_parse_onbuild(struct df_parse_ctx *pc);
int df_parse_maintainer(struct df_parse_ctx *pc);

#endif
