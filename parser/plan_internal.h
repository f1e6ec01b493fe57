/*
 * parser/plan_internal.h - the planner's parse functions, named by the
 * instruction table (parser/instructions.c). Not API.
 */
#ifndef CB_PARSER_PLAN_INTERNAL_H
#define CB_PARSER_PLAN_INTERNAL_H

#include "parser/instructions.h"

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
