/*
 * cmd/compose.h - `cbuild compose`: what its subcommand files share (not a
 * module API; cmd/ only).
 *
 * compose.c reads the files (-f, else compose.yaml / docker-compose.yml and
 * their override file found from the working directory upwards), the .env
 * beside them, merges it under the process environment, hands the bytes to
 * parser/compose.h and dispatches to a subcommand with the loaded project.
 */
#ifndef CB_CMD_COMPOSE_H
#define CB_CMD_COMPOSE_H

#include <stdbool.h>

#include "cmd/cmd.h"
#include "parser/compose.h"

typedef struct compose {
	cmd_ctx_t *ctx;
	df_compose_project_t *p;
	char **env; /* interpolation environment: .env under the process env */
	char **files; /* the compose files read, absolute */
} compose_t;

/* The environment a service's process gets from the file: its env_file
 * contents under its `environment:` (new vector; required env files that
 * are missing are an error). */
int compose_service_env(const compose_t *c, const df_compose_service_t *s, char ***out,
			cb_error_t *err);

/* The full reference of a service's image ("docker.io/library/x:latest").
 * NULL with err set when the name is invalid. */
char *compose_image_ref(const compose_t *c, const df_compose_service_t *s, cb_error_t *err);

/* The subcommands; argv[0] is the subcommand's name, c->ctx->verb its
 * entry in cmd_compose_subs (its option table). */
extern const cmd_opt_t compose_build_opts[], compose_up_opts[], compose_down_opts[],
	compose_ps_opts[], compose_logs_opts[];
int compose_build(compose_t *c, int argc, char **argv, cb_error_t *err);
int compose_up(compose_t *c, int argc, char **argv, cb_error_t *err);
int compose_down(compose_t *c, int argc, char **argv, cb_error_t *err);
int compose_ps(compose_t *c, int argc, char **argv, cb_error_t *err);
int compose_logs(compose_t *c, int argc, char **argv, cb_error_t *err);

/* Build the services at idx (the indices into c->p->services) that have
 * a build section, concurrently where independent. Used by `up --build`. */
typedef struct compose_build_opts {
	bool no_cache, pull, quiet;
	char **build_args; /* KEY=VAL from --build-arg, over build.args */
} compose_build_opts_t;
int compose_build_services(compose_t *c, const size_t *idx, size_t n,
			   const compose_build_opts_t *o, cb_error_t *err);

#endif
