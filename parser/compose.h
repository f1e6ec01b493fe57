/*
 * parser/compose.h - compose files (docker-compose.yml, compose.yaml) into
 * a resolved project model.
 *
 * Pure, like the rest of parser/: the caller reads the files and hands in
 * their bytes, the interpolation environment and the project directory;
 * df_compose_load() returns the project: every service with its fields
 * normalized (long forms), relative paths made absolute against the
 * project directory, and a topological order of the services. Nothing on
 * disk is looked at: what must exist (build contexts, env files) is in the
 * model for cmd/ to check before anything starts.
 *
 * Lifecycle:
 *
 *     df_compose_file_t files[] = {{"compose.yaml", data, len}};
 *     df_compose_opts_t o = {.files = files, .n_files = 1,
 *                            .project_dir = "/abs/dir", .env = env};
 *     df_compose_project_t *p = NULL;
 *     if (df_compose_load(&o, &p, err) < 0) ...   // err: "FILE:LINE:COL: ..."
 *     ... p->services[p->order[i]] ...
 *     df_compose_project_free(p);
 *
 * What the load does, in order:
 *  1. Each file is parsed by libyaml (anchors, aliases and `<<` merge keys
 *     resolved); a syntax error is "FILE:LINE:COL: problem".
 *  2. Every scalar value is interpolated from opts->env: $VAR ${VAR}
 *     ${VAR:-default} ${VAR-default} ${VAR:+alt} ${VAR+alt} ${VAR:?err}
 *     ${VAR?err}, `$$` for a literal `$`; defaults nest. An unset variable
 *     without default becomes "" with a warning.
 *  3. The files are merged in order by the compose spec's rules: mappings
 *     recursively, scalars replaced; command, entrypoint and
 *     healthcheck.test replaced; environment, labels, build.args,
 *     extra_hosts and depends_on merged by key; volumes by target; ports,
 *     env_file, expose and other sequences appended without duplicates.
 *     The tags !reset (drop the value) and !override (replace it whole)
 *     are honoured.
 *  4. The merged tree becomes the model. Unknown keys are warned about
 *     once; the obsolete `version:` is ignored; keys known but not
 *     supported (deploy, ...) are warned about and ignored; `x-`
 *     extension keys are ignored silently.
 *  5. Checks: every service has an image or a build; depends_on names
 *     existing services and has no cycle ("dependency cycle: a -> b -> a");
 *     no host port is published twice; named volumes used by services are
 *     declared at the top level.
 */
#ifndef CB_PARSER_COMPOSE_H
#define CB_PARSER_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct df_compose_file {
	const char *name; /* for messages; usually the path given with -f */
	const char *data; /* the bytes (need not be NUL-terminated) */
	size_t len;
} df_compose_file_t;

typedef struct df_compose_opts {
	const df_compose_file_t *files; /* merged in this order */
	size_t n_files;
	/* Absolute directory relative paths are resolved against (the
	 * directory of the first file, or --project-directory). */
	const char *project_dir;
	/* -p; NULL: COMPOSE_PROJECT_NAME from env, else the top-level
	 * `name:`, else the basename of project_dir. */
	const char *project_name;
	/* KEY=VAL vector for interpolation: the process environment merged
	 * with the .env file (cmd/'s job; later entries win). May be NULL. */
	char *const *env;
} df_compose_opts_t;

typedef struct df_compose_build {
	char *context;           /* absolute path; cmd/ checks it is a directory */
	char *dockerfile;        /* absolute path, NULL with dockerfile_inline */
	char *dockerfile_inline; /* the Dockerfile's text, or NULL */
	char **args;             /* KEY=VAL (a bare KEY took its value from env) */
	char *target;            /* NULL = last stage */
	char **labels;           /* KEY=VAL */
	char **secrets;          /* "id=NAME,src=ABSFILE" for bld_opts_t.secrets */
	char **tags;             /* extra tags (build.tags) */
	bool no_cache;           /* build.no_cache */
	bool pull;               /* build.pull */
} df_compose_build_t;

typedef struct df_compose_port {
	char *host_ip;           /* NULL = all addresses */
	unsigned published;      /* host port; 0 = not published */
	unsigned target;         /* container port */
	char *protocol;          /* "tcp" or "udp" */
} df_compose_port_t;

typedef enum df_compose_mount_type {
	DF_MOUNT_BIND,   /* source: absolute host path */
	DF_MOUNT_VOLUME, /* source: the volume's key in the top-level volumes
			  * (NULL for an anonymous volume) */
	DF_MOUNT_TMPFS,  /* no source */
} df_compose_mount_type_t;

typedef struct df_compose_mount {
	df_compose_mount_type_t type;
	char *source;
	char *target; /* absolute path in the container */
	bool read_only;
	bool create_host_path; /* bind: create a missing source (short syntax) */
} df_compose_mount_t;

typedef enum df_compose_condition {
	DF_DEP_STARTED = 0,  /* service_started */
	DF_DEP_HEALTHY,      /* service_healthy: its healthcheck passed */
	DF_DEP_COMPLETED,    /* service_completed_successfully: exited 0 */
} df_compose_condition_t;

typedef struct df_compose_dep {
	char *service;
	df_compose_condition_t condition;
	bool required; /* default true */
} df_compose_dep_t;

typedef enum df_compose_restart_kind {
	DF_RESTART_NO = 0,
	DF_RESTART_ALWAYS,
	DF_RESTART_ON_FAILURE,
	DF_RESTART_UNLESS_STOPPED,
} df_compose_restart_kind_t;

typedef struct df_compose_restart {
	df_compose_restart_kind_t kind;
	int max_retries; /* on-failure:N; 0 = unlimited */
} df_compose_restart_t;

typedef struct df_compose_healthcheck {
	/* ["CMD", arg...], ["CMD-SHELL", "cmd"] or ["NONE"]; NULL = not set
	 * (the image's HEALTHCHECK applies). disable: true gives ["NONE"]. */
	char **test;
	int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns; /* 0 = default */
	int retries; /* 0 = default */
} df_compose_healthcheck_t;

/* One of a service's networks (the `networks:` list or map of a service). */
typedef struct df_compose_svc_net {
	char *key;               /* a key of the project's networks ("default" too) */
	char **aliases;          /* more names there (the service's name is always one) */
	char *ipv4_address;      /* a fixed address there, or NULL */
} df_compose_svc_net_t;

typedef struct df_compose_service {
	char *name;
	char *image;               /* as written; NULL: see df_compose_image_name */
	df_compose_build_t *build; /* NULL: no build section */
	char **command;            /* NULL = the image's CMD; a string is split as a shell would */
	bool command_set;          /* true with an explicit empty list too */
	char **entrypoint;
	bool entrypoint_set;
	char **environment;        /* KEY=VAL from `environment:` only, in order;
				    * a bare KEY took its value from env (dropped if unset) */
	char **env_files;          /* absolute paths, in order; cmd/ reads them
				    * (df_compose_parse_env_file) under environment */
	bool *env_files_required;  /* per env_files entry (long syntax required:) */
	df_compose_port_t *ports;
	size_t n_ports;
	df_compose_mount_t *volumes;
	size_t n_volumes;
	char *working_dir;
	char *user;
	char *hostname;
	char *container_name;
	char **labels;             /* KEY=VAL */
	char **extra_hosts;        /* "HOST:IP" */
	df_compose_dep_t *depends_on;
	size_t n_depends_on;
	df_compose_restart_t restart;
	df_compose_healthcheck_t healthcheck;
	char *stop_signal;
	int64_t stop_grace_period_ns; /* 0 = default (10 s) */
	bool tty, stdin_open, init, read_only, privileged;
	char *pull_policy;         /* always|never|missing|build or NULL */
	int64_t pids_limit;        /* pids_limit: > 0, or 0 for none (-1 and 0) */
	char **security_opt;       /* as written ("seccomp=FILE", ...): cmd/ reads
				    * the files and refuses what it cannot do */
	df_compose_svc_net_t *networks; /* sorted by key; without `networks:` and
				    * network_mode the one "default" */
	size_t n_networks;
	char *network_mode;        /* "host", "none" or NULL (then networks) */
} df_compose_service_t;

typedef struct df_compose_volume {
	char *key;      /* the key under the top-level volumes: */
	char *name;     /* the real name: PROJECT_KEY unless name: or external */
	bool external;
} df_compose_volume_t;

/* A network of the project: the top-level `networks:` entries, plus
 * "default" when a service is on it without it being declared. */
typedef struct df_compose_network {
	char *key;      /* the key under the top-level networks: */
	char *name;     /* the real name: PROJECT_KEY unless name: or external */
	bool external;  /* made by someone else: never created or removed */
	bool internal;  /* internal: true (no way out) */
	char *subnet;   /* ipam.config[0].subnet, or NULL (a free one) */
} df_compose_network_t;

typedef struct df_compose_project {
	char *name;
	char *dir;
	df_compose_service_t *services; /* sorted by name */
	size_t n_services;
	size_t *order;                  /* indices into services, dependencies first */
	df_compose_volume_t *volumes;   /* sorted by key */
	size_t n_volumes;
	df_compose_network_t *networks; /* sorted by key */
	size_t n_networks;
	char **warnings;                /* collected, each once; cmd/ prints them */
} df_compose_project_t;

/* Load and resolve the files; see the top of this header. *out is set only
 * on success (free with df_compose_project_free). Errors start with
 * "FILE:LINE:COL: " where a position is known. */
int df_compose_load(const df_compose_opts_t *opts, df_compose_project_t **out,
		    cb_error_t *err);
void df_compose_project_free(df_compose_project_t *p);

/* The service called name, or NULL. */
const df_compose_service_t *df_compose_service(const df_compose_project_t *p,
					       const char *name);

/* The image a service runs and a build tags: `image:`, else
 * "PROJECT-SERVICE" (new string). */
char *df_compose_image_name(const df_compose_project_t *p, const df_compose_service_t *s);

/* The indices (into p->services), in p->order's order, of the named
 * services plus, with deps, everything they depend on; names NULL or empty
 * = all services. An unknown name is an error. *idx is malloc'd. */
int df_compose_select(const df_compose_project_t *p, char *const *names, bool deps,
		      size_t **idx, size_t *n, cb_error_t *err);

/* The volume declared under key, or NULL. */
const df_compose_volume_t *df_compose_volume(const df_compose_project_t *p, const char *key);

/* Parse an env file (.env or env_file:): KEY=VAL lines, `#` comments,
 * blank lines, optional `export `, single quotes literal, double quotes
 * with \n \t \\ \" escapes, unquoted values trimmed and cut at " #".
 * Values (not single-quoted) are interpolated from env (may be NULL) and
 * from the file's earlier lines. A bare KEY takes its value from env
 * (skipped when unset). *out: new KEY=VAL vector in file order. Errors are
 * "NAME:LINE: ...". */
int df_compose_parse_env_file(const char *name, const char *data, size_t len, char *const *env,
			      char ***out, cb_error_t *err);

/* base overridden by over (both KEY=VAL vectors; either may be NULL): a
 * new vector in base's order with over's new keys appended. For
 * env_file contents (base) under `environment:` (over). */
char **df_compose_env_merge(char *const *base, char *const *over);

/* Interpolate one string (the rules of step 2 above); used for tests and
 * for env files. *warn (may be NULL) receives the names of unset
 * variables, pushed onto the vector. New string, or NULL with err set. */
char *df_compose_interpolate(const char *s, char *const *env, char ***warn, cb_error_t *err);

/* `config`: the resolved project as YAML or as JSON (new strings). */
char *df_compose_to_yaml(const df_compose_project_t *p);
char *df_compose_to_json(const df_compose_project_t *p);

#endif
