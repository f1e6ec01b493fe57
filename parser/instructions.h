/*
 * parser/instructions.h - the Dockerfile instruction table.
 *
 * One row per instruction: its keyword, the flags it accepts, which of its
 * words expand, whether it makes a layer or changes the config only, what
 * enters its cache key, the shape of its payload in df_step_t, and the
 * function that parses it. The enum (df_kind_t), the names, the "did you
 * mean" suggestions, the parser's dispatch, the JSON of `cbuild plan`, the
 * cache key and the builder's layer/metadata split all come from here.
 *
 * Adding an instruction: a line in DF_INSTRUCTIONS, a row in
 * parser/instructions.c, its parse function (parser/plan_*.c) and, if it
 * makes a layer, its exec function in builder/ (see docs/ARCHITECTURE.md).
 *
 * The table is static data: nothing here allocates or fails.
 */
#ifndef CB_PARSER_INSTRUCTIONS_H
#define CB_PARSER_INSTRUCTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* X(ENUM): the instructions in the order of df_kind_t. */
#define DF_INSTRUCTIONS(X) \
	X(FROM) \
	X(RUN) \
	X(COPY) \
	X(ADD) \
	X(ENV) \
	X(ARG) \
	X(LABEL) \
	X(EXPOSE) \
	X(VOLUME) \
	X(USER) \
	X(WORKDIR) \
	X(CMD) \
	X(ENTRYPOINT) \
	X(SHELL) \
	X(STOPSIGNAL) \
	X(HEALTHCHECK) \
	X(ONBUILD) \
	X(MAINTAINER)

#define DF_KIND_ENUM_(e) DF_##e,
typedef enum df_kind {
	DF_INSTRUCTIONS(DF_KIND_ENUM_) /* DF_FROM is never a step: FROM starts a stage */
	DF_N_KINDS
} df_kind_t;
#undef DF_KIND_ENUM_

typedef enum df_flag_type {
	DF_FLAG_BOOL,
	DF_FLAG_STRING,
	DF_FLAG_STRINGS,
} df_flag_type_t;

typedef struct df_flag_def {
	const char *name; /* without the "--" */
	df_flag_type_t type;
} df_flag_def_t;

/* The union member of df_step_t.u an instruction fills. */
typedef enum df_shape {
	DF_SHAPE_NONE,    /* FROM */
	DF_SHAPE_RUN,     /* u.run */
	DF_SHAPE_COPY,    /* u.copy */
	DF_SHAPE_KV,      /* u.kv */
	DF_SHAPE_LIST,    /* u.list */
	DF_SHAPE_VALUE,   /* u.value */
	DF_SHAPE_CMDLINE, /* u.cmd */
	DF_SHAPE_HEALTH,  /* u.health */
} df_shape_t;

/* Which words expand with the stage's ARG and ENV (BuildKit's dispatch). */
enum {
	DF_XW_ARGS = 1 << 0,  /* the arguments */
	DF_XW_FLAGS = 1 << 1, /* flag values (--from, --chown, --mount=...) */
};

/* What enters the cache key besides the kind and the payload. */
enum {
	DF_KEY_RUNENV = 1 << 0,  /* env, args, user and workdir the command runs with */
	DF_KEY_WORKDIR = 1 << 1, /* the workdir a relative destination joins */
	DF_KEY_SOURCES = 1 << 2, /* the sources' content (context, stage, URL, git commit) */
};

struct df_parse_ctx; /* parser-private: what a parse function works on */

typedef struct df_instruction {
	df_kind_t kind;
	const char *name;           /* "RUN" */
	const df_flag_def_t *flags; /* flags accepted, n_flags of them */
	size_t n_flags;
	unsigned expand;    /* DF_XW_* */
	bool makes_layer;   /* false: the step changes the image config only */
	unsigned cache_key; /* DF_KEY_* */
	df_shape_t shape;
	bool onbuild_ok; /* may be an ONBUILD trigger */
	/* Fills the step from the node (flags already parsed). Parser only. */
	int (*parse)(struct df_parse_ctx *pc);
} df_instruction_t;

/* The row of kind k (a valid df_kind_t). */
const df_instruction_t *df_instruction(df_kind_t k);

/* The row of a keyword in any case ("run", "RUN"), NULL if none. */
const df_instruction_t *df_instruction_lookup(const char *name);

/* "RUN", "COPY", ...; "?" for a value out of range. */
const char *df_kind_name(df_kind_t k);

#endif
