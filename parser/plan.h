/*
 * parser/plan.h - a parsed Dockerfile tree -> the build plan the builder runs.
 *
 * The plan is the list of stages the target needs, in dependency order (each
 * stage after every stage it uses), each with its base and its steps fully
 * parsed: flags checked, arguments split, words expanded with the state each
 * step runs in. It is a value: made once, never changed after, shared
 * read-only by stages that build concurrently; `cbuild plan` prints the
 * plan the build runs.
 *
 *     df_plan_opts_t o = { .build_args = args, .target = "prod",
 *                          .base = { resolve_from_store, store } };
 *     df_plan_t *p = NULL;
 *     char **warnings = NULL;
 *     if (df_plan_build(tree, &o, &p, &warnings, err) < 0) ...
 *     for (size_t s = 0; s < p->n_stages; s++)
 *         for (size_t i = 0; i < p->stages[s].n_steps; i++)
 *             run(&p->stages[s].steps[i]);
 *     df_plan_free(p); cb_strv_free(warnings); df_tree_free(tree);
 *
 * What is expanded, and with what:
 *   A word expands with the environment of the state its step runs in, as
 *   BuildKit's dispatch does: the build args, the stage's ARG and ENV steps
 *   before it, and what the stage starts from: the parent stage's end state,
 *   or the base image's config (Env, WorkingDir, Shell, User, OnBuild). The
 *   planner asks for each needed base image's config through
 *   df_plan_opts_t.base before it makes the plan (and plans with an empty
 *   config where none is given); relative WORKDIRs join the image's
 *   WorkingDir and shell forms use its Shell. Every field below is final:
 *   the builder never expands anything itself, except inside the shell
 *   (RUN, shell-form CMD/ENTRYPOINT: the shell expands at run time). For
 *   anything else (e.g. `cbuild commit -c`), df_expand() is available.
 *
 *   Expanded (as BuildKit does): FROM (with global ARGs only), ADD COPY
 *   (sources, dest, --chown, --chmod, --from), ENV LABEL (keys and values),
 *   EXPOSE VOLUME USER WORKDIR STOPSIGNAL, ARG defaults, RUN --mount values.
 *   Not expanded: RUN CMD ENTRYPOINT SHELL HEALTHCHECK arguments, ONBUILD.
 *   (parser/instructions.c says which, per instruction.)
 *   Heredoc bodies: expanded by the shell for RUN; for COPY/ADD when the
 *   delimiter is unquoted the body is expanded (df_heredoc_t.content is final).
 *
 * ONBUILD: triggers of a base image come with its config; triggers recorded
 * by a stage (its ONBUILD steps) run at the start of every stage built FROM
 * it, as BuildKit does. Either way they are steps with from_onbuild = true
 * right after the FROM.
 *
 * Ownership: the plan owns everything it points to. It borrows the tree
 * given to df_plan_build (the tree must outlive the plan) unless it was made
 * by df_plan_from_bytes, which owns its tree.
 */
#ifndef CB_PARSER_PLAN_H
#define CB_PARSER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "parser/dockerfile.h"
#include "parser/instructions.h"

/* df_kind_t, df_kind_name(): the instruction table */

typedef struct df_kv {
	char *key;
	char *value; /* ARG without a value known: NULL */
} df_kv_t;

typedef enum df_mount_type {
	DF_MOUNT_BIND,
	DF_MOUNT_CACHE,
	DF_MOUNT_TMPFS,
	DF_MOUNT_SECRET,
	DF_MOUNT_SSH,
} df_mount_type_t;

typedef enum df_sharing {
	DF_SHARING_SHARED,
	DF_SHARING_PRIVATE,
	DF_SHARING_LOCKED,
} df_sharing_t;

/* RUN --mount=... with BuildKit's defaults filled in. */
typedef struct df_mount {
	df_mount_type_t type;
	char *target;     /* absolute path in the container (secret: default
			   * /run/secrets/<id>; ssh: /run/buildkit/ssh_agent.N) */
	char *source;     /* path in `from` (bind/cache), NULL = its root */
	char *from;       /* stage name/index or image ref as written, NULL = context
			   * (bind) or a fresh cache dir (cache) */
	int from_stage;   /* stage index when `from` names a stage, else -1 */
	char *id;         /* cache id (default: target), secret/ssh id (secret
			   * default: basename of target; ssh default: "default") */
	char *env;        /* secret env=NAME, or NULL */
	df_sharing_t sharing; /* cache: default shared */
	int mode;         /* file mode, -1 = default (cache 0755, secret/ssh 0400) */
	long uid, gid;    /* -1 = default (0) */
	bool readonly;    /* bind: default true ("rw" clears); cache: false */
	bool required;    /* secret/ssh: fail when missing */
	int64_t size;     /* tmpfs size in bytes, 0 = unlimited */
} df_mount_t;

typedef enum df_network {
	DF_NETWORK_DEFAULT,
	DF_NETWORK_NONE,
	DF_NETWORK_HOST,
} df_network_t;

/* A file the builder writes before running a RUN (heredoc scripts). */
typedef struct df_file {
	char *path;    /* absolute path the builder creates in a scratch mount */
	char *content;
	int mode;      /* 0755 for a script */
} df_file_t;

typedef struct df_run {
	char **argv;   /* the argv to exec, final: shell form has the stage's
			* SHELL prepended ({"/bin/sh","-c","cmd"}) */
	bool exec_form;
	char *cmd;     /* shell form: the command line (heredoc text included) */
	df_heredoc_t *heredocs; /* as written (RUN bodies are not expanded) */
	size_t n_heredocs;
	df_file_t *files; /* e.g. RUN <<EOF with a #! line runs the body as a file */
	size_t n_files;
	df_mount_t *mounts;
	size_t n_mounts;
	df_network_t network;
	bool insecure; /* --security=insecure */
} df_run_t;

typedef struct df_copy {
	char **sources;    /* expanded source paths/URLs (not heredocs) */
	df_heredoc_t *inline_files; /* COPY <<EOF /dest: name = file name, content final */
	size_t n_inline_files;
	char *dest;        /* expanded; relative dest is relative to workdir (the
			    * builder joins it with step.workdir) */
	char *from;        /* --from as written after expansion, NULL = context */
	int from_stage;    /* stage index if --from names a stage, else -1 (image) */
	char *chown;       /* NULL = not given */
	char *chmod;       /* NULL = not given; validated octal (or symbolic for
			    * BuildKit >= 1.14 style "u+x" kept as string) */
	bool link;
	bool parents;
	char **exclude;    /* --exclude patterns (NULL-terminated or NULL) */
	char *checksum;    /* ADD --checksum, NULL = none */
	bool git;          /* ADD: sources[0] is a git repository, "URL[#REF[:SUBDIR]]"
			    * (git://, ssh://, git@host:, http(s)://....git); the
			    * only source; the builder clones it at REF (default HEAD) */
	bool keep_git_dir; /* ADD --keep-git-dir: the clone keeps its .git */
	bool unpack;       /* ADD: archives are unpacked (default true for ADD
			    * of local tar files; false for COPY) */
} df_copy_t;

typedef struct df_cmdline {
	char **argv;    /* final, as stored in the image config (shell form:
			 * SHELL + {cmd}); CMD [] gives an empty vector (non-NULL) */
	bool exec_form;
} df_cmdline_t;

typedef struct df_healthcheck {
	char **test;    /* Docker's config form: {"NONE"}, {"CMD", a...},
			 * {"CMD-SHELL", "cmd"} */
	int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns; /* 0 = default */
	int retries;    /* 0 = default */
} df_healthcheck_t;

typedef struct df_step {
	df_kind_t kind;
	int number;      /* step number as the build prints it: "STEP n/total" */
	int line;        /* line in the Dockerfile (ONBUILD inserted: the FROM's line) */
	char *original;  /* the instruction text as written (for history, logs) */
	bool from_onbuild; /* inserted from a base image's ONBUILD trigger */
	char *workdir;     /* WORKDIR in effect for this step (absolute; "/" when
			    * never set; the image's WorkingDir when the resolver
			    * gave the base's config) */
	char **env;      /* RUN only (NULL otherwise): ENV in effect at this step
			  * (base env + stage ENVs), KEY=VAL, one entry per key */
	char **args_env; /* RUN only: ARG values in scope not shadowed by ENV,
			  * plus proxy build args: RUN gets them in its
			  * environment (they are not part of the image config) */
	char **shell;    /* SHELL in effect, {"/bin/sh","-c"} by default */
	union {
		df_run_t run;               /* RUN */
		df_copy_t copy;             /* COPY ADD */
		struct {                    /* ENV LABEL ARG MAINTAINER(label "maintainer") */
			df_kv_t *kvs;
			size_t n_kvs;
		} kv;
		char **list;                /* EXPOSE ("8080/tcp", ranges expanded), VOLUME */
		char *value;                /* USER WORKDIR (absolute, joined) STOPSIGNAL
					     * ONBUILD (trigger text) MAINTAINER (name) */
		df_cmdline_t cmd;           /* CMD ENTRYPOINT SHELL */
		df_healthcheck_t health;    /* HEALTHCHECK */
	} u;
} df_step_t;

typedef enum df_base_kind {
	DF_BASE_SCRATCH,
	DF_BASE_IMAGE,
	DF_BASE_STAGE,
} df_base_kind_t;

typedef struct df_stage {
	int index;          /* position among the Dockerfile's FROMs, 0-based */
	char *name;         /* `AS name` in lower case, NULL if none */
	df_base_kind_t base_kind;
	char *base_image;   /* IMAGE: expanded reference as written ("alpine:3.20") */
	int base_stage;     /* STAGE: index of the parent stage, else -1 */
	char *platform;     /* FROM --platform, expanded, NULL if not given */
	int line;
	char *original;     /* the FROM line */
	int number;         /* step number of the FROM */
	df_step_t *steps;   /* the instructions after FROM */
	size_t n_steps;
	int *deps;          /* stage indices used (base, COPY --from, RUN --mount from) */
	size_t n_deps;
	char **onbuild;     /* triggers this stage's ONBUILD steps record (for the config) */
} df_stage_t;

typedef struct df_platform_opts {
	const char *build_platform;  /* "linux/amd64"; NULL = "linux/amd64" */
	const char *target_platform; /* NULL = build_platform */
} df_platform_opts_t;

/* What the planner needs of a base image's config (all fields optional). */
typedef struct df_base_config {
	char *const *env;     /* Config.Env, KEY=VAL */
	char *const *onbuild; /* Config.OnBuild triggers */
	const char *workdir;  /* Config.WorkingDir ("" or NULL = "/") */
	char *const *shell;   /* Config.Shell (NULL = {"/bin/sh","-c"}) */
	const char *user;     /* Config.User */
} df_base_config_t;

/* How the planner learns the config of a stage's base image, before it
 * makes the plan: the builder resolves (pulls) the image, `cbuild plan`
 * looks in the store. resolve() is called once per FROM image stage the
 * target needs, parents before children. It returns 1 with *cfg filled
 * (borrowed: the planner copies it before resolve() is called again),
 * 0 when the config is unknown (the stage is planned as if the image's
 * config were empty), or -1 with err set (df_plan_build fails with it). */
typedef struct df_base_resolver {
	int (*resolve)(void *ctx, const df_stage_t *stage, df_base_config_t *cfg,
		       cb_error_t *err);
	void *ctx;
} df_base_resolver_t;

typedef struct df_plan_opts {
	char *const *build_args; /* --build-arg KEY=VAL (a bare KEY is ignored:
				  * cmd/ resolves it from its environment) */
	const char *target;      /* stage name or index; NULL = the last stage */
	df_platform_opts_t platform;
	df_base_resolver_t base; /* resolve NULL: no base config is known */
} df_plan_opts_t;

typedef struct df_plan {
	df_stage_t *stages; /* dependency order; the target is the last one */
	size_t n_stages;
	int target;         /* index (df_stage_t.index) of the target stage */
	int n_total_stages; /* FROMs in the Dockerfile */
	int total_steps;    /* the "m" of "STEP n/m" */
	char **global_args; /* KEY=VAL of the ARGs before the first FROM (+ predefined) */
	const df_tree_t *tree;
	struct df_plan_priv *priv; /* the planner's own state */
} df_plan_t;

/* Make the plan. warnings (may be NULL) gets a new vector of warnings
 * ("[Warning] one or more build args were not consumed: [FOO]", ...).
 * Errors are positioned: "Dockerfile:LINE:COL: ...". opts may be NULL. */
int df_plan_build(const df_tree_t *tree, const df_plan_opts_t *opts, df_plan_t **out,
		  char ***warnings, cb_error_t *err);

/* df_parse + df_plan_build; the plan owns the tree. */
int df_plan_from_bytes(const char *name, const char *data, size_t len, const df_plan_opts_t *opts,
		       df_plan_t **out, char ***warnings, cb_error_t *err);

void df_plan_free(df_plan_t *p);

/* The stage with this Dockerfile index, NULL if it is not in the plan.
 * Read-only: the plan never changes once made. */
const df_stage_t *df_plan_stage(const df_plan_t *p, int index);

/* The candidate closest to word by edit distance (case-insensitive), for a
 * "did you mean" hint; NULL when none is close enough (at most a third of
 * word's length, and at least 1, edits away) or word is one of them. The
 * result is one of the candidates (borrowed). */
const char *df_suggest(const char *word, char *const *candidates);

/* df_suggest among the names of every stage of the Dockerfile (in the plan
 * or not: a stage that a typo fails to name is in no plan), as written;
 * borrowed from p. */
const char *df_plan_suggest_stage(const df_plan_t *p, const char *name);

/* The same, from the parsed file (while the plan is being made). */
const char *df_tree_suggest_stage(const df_tree_t *t, const char *name);

/* Whether an ADD source is a git repository, as BuildKit's ParseGitRef
 * tells one from a URL or a path: git://, ssh:// or git@host: URLs, and
 * http(s) URLs whose path ends in ".git" (a "#REF[:SUBDIR]" may follow). */
bool df_is_git_source(const char *src);

/* The plan as JSON (stable key order, 2-space indent, ends in '\n') for
 * `cbuild plan --format json` and the golden files. New string. */
char *df_plan_to_json(const df_plan_t *p);

/* The plan as text, steps numbered as the build numbers them. New string. */
char *df_plan_to_text(const df_plan_t *p);

#endif
