/*
 * cbuild compose [-f FILE]... [-p NAME] [--project-directory DIR]
 *   [--env-file FILE] COMMAND [ARGS]
 *
 * COMMAND: build, up, down, ps, logs, push, pull, config.
 *
 * With no -f: $COMPOSE_FILE (':'-separated), else the first of
 * compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml in the
 * working directory or the nearest parent that has one, plus its
 * compose.override.* / docker-compose.override.* beside it, as docker
 * compose does. Relative paths in the files resolve against the project
 * directory: the first file's directory unless --project-directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/compose.h"
#include "cmd/reg_common.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/reference.h"
#include "registry/registry.h"
#include "store/store.h"

extern char **environ;

#define COMPOSE_FILE_MAX (8u << 20)

typedef struct gopts {
	char **files;
	const char *project;
	const char *project_dir;
	const char *env_file;
} gopts_t;

static const char *const default_names[] = {"compose.yaml", "compose.yml", "docker-compose.yaml",
					     "docker-compose.yml"};
static const char *const override_names[] = {"compose.override.yaml", "compose.override.yml",
					      "docker-compose.override.yaml",
					      "docker-compose.override.yml"};

static char *absolute(const char *p)
{
	if (p[0] == '/')
		return cb_path_clean(p);
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return cb_path_clean(p);
	_cleanup_free_ char *j = cb_path_join(cwd, p);
	return cb_path_clean(j);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return cb_xstrdup(".");
	return slash == path ? cb_xstrdup("/") : cb_xstrndup(path, (size_t)(slash - path));
}

/* The default files: the first name found here or in a parent directory,
 * and its override file. */
static int find_default_files(char ***files, cb_error_t *err)
{
	_cleanup_free_ char *dir = absolute(".");
	for (;;) {
		for (size_t i = 0; i < CB_ARRAY_SIZE(default_names); i++) {
			char *f = cb_path_join(dir, default_names[i]);
			if (!cb_path_exists(f)) {
				free(f);
				continue;
			}
			*files = cb_strv_push_take(*files, f);
			for (size_t j = 0; j < CB_ARRAY_SIZE(override_names); j++) {
				char *o = cb_path_join(dir, override_names[j]);
				if (cb_path_exists(o)) {
					*files = cb_strv_push_take(*files, o);
					break;
				}
				free(o);
			}
			return 0;
		}
		if (!strcmp(dir, "/"))
			break;
		char *up = dir_of(dir);
		free(dir);
		dir = up;
	}
	return cb_error_fail(err, ENOENT, "no compose file found: no compose.yaml, compose.yml, "
			     "docker-compose.yaml or docker-compose.yml here or in a parent "
			     "directory (use -f)");
}

/* .env (or --env-file) under the process environment. */
static int load_env(const gopts_t *g, const char *project_dir, char ***env, cb_error_t *err)
{
	_cleanup_free_ char *path = g->env_file ? absolute(g->env_file)
						: cb_path_join(project_dir, ".env");
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	_cleanup_strv_ char **dot = NULL;
	if (cb_read_file(path, COMPOSE_FILE_MAX, &data, &len, err) < 0) {
		if (err->code != ENOENT || g->env_file)
			return -1;
		cb_error_release(err);
	} else if (df_compose_parse_env_file(path, data, len, environ, &dot, err) < 0) {
		return -1;
	}
	*env = df_compose_env_merge(dot, environ);
	return 0;
}

static int load_project(const gopts_t *g, compose_t *c, cb_error_t *err)
{
	_cleanup_strv_ char **names = NULL;
	const char *cf = getenv("COMPOSE_FILE");
	if (g->files) {
		for (size_t i = 0; g->files[i]; i++)
			names = cb_strv_push_take(names, strcmp(g->files[i], "-") ? absolute(g->files[i])
								     : cb_xstrdup("-"));
	} else if (cf && *cf) {
		_cleanup_free_ char *dup = cb_xstrdup(cf);
		for (char *s = NULL, *t = strtok_r(dup, ":", &s); t; t = strtok_r(NULL, ":", &s))
			names = cb_strv_push_take(names, absolute(t));
	} else if (find_default_files(&names, err) < 0) {
		return -1;
	}
	_cleanup_free_ char *pdir = g->project_dir ? absolute(g->project_dir)
				   : strcmp(names[0], "-") ? dir_of(names[0]) : absolute(".");
	if (load_env(g, pdir, &c->env, err) < 0)
		return -1;
	size_t n = cb_strv_len(names);
	df_compose_file_t *files = cb_xcalloc(n, sizeof(*files));
	char **datas = cb_xcalloc(n + 1, sizeof(char *));
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		files[i].name = names[i];
		if (!strcmp(names[i], "-")) {
			cb_buf_t b;
			cb_buf_init(&b);
			char chunk[65536];
			ssize_t r;
			while ((r = read(0, chunk, sizeof(chunk))) > 0 && b.len < COMPOSE_FILE_MAX)
				cb_buf_add(&b, chunk, (size_t)r);
			datas[i] = cb_buf_detach(&b, &files[i].len);
		} else if (cb_read_file(names[i], COMPOSE_FILE_MAX, &datas[i], &files[i].len, err) < 0) {
			rc = -1;
			if (err->code == ENOENT) {
				cb_error_release(err);
				rc = cb_error_fail(err, ENOENT, "compose file '%s' does not exist",
						   names[i]);
			}
		}
		files[i].data = datas[i];
	}
	if (rc == 0) {
		df_compose_opts_t o = {.files = files, .n_files = n, .project_dir = pdir,
				       .project_name = g->project, .env = c->env};
		rc = df_compose_load(&o, &c->p, err);
	}
	cb_strv_free(datas);
	free(files);
	if (rc < 0)
		return -1;
	for (size_t i = 0; c->p->warnings && c->p->warnings[i]; i++)
		cb_warn("%s", c->p->warnings[i]);
	c->files = cb_steal_pointer(&names);
	return 0;
}

int compose_service_env(const compose_t *c, const df_compose_service_t *s, char ***out,
			cb_error_t *err)
{
	_cleanup_strv_ char **base = NULL;
	for (size_t i = 0; s->env_files && s->env_files[i]; i++) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		if (cb_read_file(s->env_files[i], COMPOSE_FILE_MAX, &data, &len, err) < 0) {
			if (err->code == ENOENT && !s->env_files_required[i]) {
				cb_error_release(err);
				continue;
			}
			return cb_error_wrap(err, "service '%s': env_file", s->name);
		}
		_cleanup_strv_ char **kv = NULL;
		if (df_compose_parse_env_file(s->env_files[i], data, len, c->env, &kv, err) < 0)
			return cb_error_wrap(err, "service '%s'", s->name);
		char **m = df_compose_env_merge(base, kv);
		cb_strv_free(base);
		base = m;
	}
	*out = df_compose_env_merge(base, s->environment);
	return 0;
}

char *compose_image_ref(const compose_t *c, const df_compose_service_t *s, cb_error_t *err)
{
	_cleanup_free_ char *name = df_compose_image_name(c->p, s);
	char *full = reg_ref_normalize(name, err);
	if (!full)
		cb_error_wrap(err, "service '%s': image", s->name);
	return full;
}

/* ---- config ---- */

enum { O_FORMAT = CMD_OPT_LONG, O_SERVICES, O_VOLUMES, O_IMAGES, O_IGNORE_PUSH, O_IGNORE_BUILDABLE };

static const cmd_opt_t config_opts[] = {
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "yaml|json", "output format (default yaml)"},
	{"services", O_SERVICES, CMD_ARG_NONE, NULL, "print the services' names"},
	{"volumes", O_VOLUMES, CMD_ARG_NONE, NULL, "print the volumes' names"},
	{"images", O_IMAGES, CMD_ARG_NONE, NULL, "print the services' images"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "only check the files"},
	{0}};

static int compose_config(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	bool json = false, services = false, volumes = false, quiet = false, images = false;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, c->ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		switch (o) {
		case O_SERVICES: services = p.on; break;
		case O_VOLUMES: volumes = p.on; break;
		case O_IMAGES: images = p.on; break;
		case 'q': quiet = p.on; break;
		case O_FORMAT:
			if (strcmp(p.arg, "json") && strcmp(p.arg, "yaml"))
				return cmd_usage_error(err, "invalid --format '%s' (yaml or json)", p.arg);
			json = !strcmp(p.arg, "json");
			break;
		}
	}
	if (o < 0)
		return o;
	if (p.nargs)
		return cmd_usage_error(err, "'compose config' takes no arguments");
	/* env files are part of the resolved file, as docker compose shows it */
	for (size_t i = 0; i < c->p->n_services; i++) {
		df_compose_service_t *s = &c->p->services[i];
		char **env = NULL;
		if (compose_service_env(c, s, &env, err) < 0)
			return -1;
		cb_strv_free(s->environment);
		s->environment = env && env[0] ? env : (cb_strv_free(env), NULL);
	}
	if (quiet)
		return 0;
	if (services || images) {
		for (size_t i = 0; i < c->p->n_services; i++) {
			const df_compose_service_t *s = &c->p->services[c->p->order[i]];
			_cleanup_free_ char *img = df_compose_image_name(c->p, s);
			printf("%s\n", services ? s->name : img);
		}
		return 0;
	}
	if (volumes) {
		for (size_t i = 0; i < c->p->n_volumes; i++)
			printf("%s\n", c->p->volumes[i].key);
		return 0;
	}
	_cleanup_free_ char *out = json ? df_compose_to_json(c->p) : df_compose_to_yaml(c->p);
	fputs(out, stdout);
	return 0;
}

/* ---- push and pull ---- */

/* What push and pull start with: their options (the registry's, and
 * `flag`, their one flag of their own), the store, and the services named
 * (every one when none is). */
static int registry_services(compose_t *c, int argc, char **argv, reg_opts_t *ro, bool *flag,
			     store_t **st, size_t **idx, size_t *n, cb_error_t *err)
{
	cmd_reg_opts_init(ro);
	*flag = false;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, c->ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		if (o == O_IGNORE_PUSH || o == O_IGNORE_BUILDABLE)
			*flag = p.on;
		else
			cmd_reg_apply(ro, &p, o);
	}
	if (o < 0)
		return o;
	_cleanup_strv_ char **names = NULL;
	for (int i = 0; i < p.nargs; i++)
		names = cb_strv_push(names, p.args[i]);
	*st = cmd_store(c->ctx, err);
	if (!*st || df_compose_select(c->p, names, false, idx, n, err) < 0)
		return -1;
	return 0;
}

static const cmd_opt_t push_opts[] = {
	{"ignore-push-failures", O_IGNORE_PUSH, CMD_ARG_NONE, NULL, "go on past a service that fails"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print no progress"},
	CMD_REG_OPTS,
	{0}};

static const cmd_opt_t pull_opts[] = {
	{"ignore-buildable", O_IGNORE_BUILDABLE, CMD_ARG_NONE, NULL, "skip services that have a build"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print no progress"},
	CMD_REG_OPTS,
	{0}};

static int compose_push(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t ro;
	bool ignore_failures;
	store_t *st = NULL;
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	int rc = registry_services(c, argc, argv, &ro, &ignore_failures, &st, &idx, &n, err);
	if (rc)
		return rc;
	for (size_t k = 0; k < n; k++) {
		const df_compose_service_t *s = &c->p->services[idx[k]];
		if (!s->image) /* PROJECT-SERVICE names no registry: nothing to push */
			continue;
		_cleanup_free_ char *ref = compose_image_ref(c, s, err);
		if (!ref)
			return -1;
		_cleanup_free_ char *shown = reg_ref_shorten(ref);
		fprintf(stderr, "Pushing %s: %s\n", s->name, shown);
		_cleanup_free_ char *digest = NULL;
		if (reg_push(st, ref, NULL, &ro, &digest, err) < 0) {
			cb_error_wrap(err, "push service '%s' ('%s')", s->name, shown);
			if (!ignore_failures)
				return -1;
			cb_warn_error(err);
			continue;
		}
		fprintf(stderr, "Pushed %s: %s@%s\n", s->name, shown, digest);
	}
	return 0;
}

static int compose_pull(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t ro;
	bool ignore_buildable;
	store_t *st = NULL;
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	int rc = registry_services(c, argc, argv, &ro, &ignore_buildable, &st, &idx, &n, err);
	if (rc)
		return rc;
	for (size_t k = 0; k < n; k++) {
		const df_compose_service_t *s = &c->p->services[idx[k]];
		if (!s->image || (s->build && ignore_buildable))
			continue;
		_cleanup_free_ char *ref = compose_image_ref(c, s, err);
		if (!ref)
			return -1;
		_cleanup_free_ char *shown = reg_ref_shorten(ref);
		fprintf(stderr, "Pulling %s: %s\n", s->name, shown);
		if (reg_pull(st, ref, &ro, NULL, err) < 0) {
			cb_error_wrap(err, "pull service '%s' ('%s')", s->name, shown);
			if (!s->build)
				return -1;
			/* it can be built instead, as docker compose does */
			cb_warn_error(err);
		}
	}
	return 0;
}

/* ---- entry ---- */

/* The subcommands' entries: cmd_compose runs them itself (after loading the
 * project), the tables serve their --help, the man pages and completions. */
static int compose_sub_stub(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	(void)ctx, (void)argc, (void)argv;
	return cmd_usage_error(err, "compose subcommands run through 'cbuild compose'");
}

const cmd_def_t cmd_compose_subs[] = {
	{"build", compose_sub_stub, "cbuild compose build [OPTIONS] [SERVICE...]",
	 "build the services' images", compose_build_opts},
	{"up", compose_sub_stub, "cbuild compose up [OPTIONS] [SERVICE...]",
	 "create and start the services' containers", compose_up_opts},
	{"down", compose_sub_stub, "cbuild compose down [OPTIONS]",
	 "stop and remove the project's containers", compose_down_opts},
	{"ps", compose_sub_stub, "cbuild compose ps [OPTIONS]", "list the project's containers",
	 compose_ps_opts},
	{"logs", compose_sub_stub, "cbuild compose logs [OPTIONS] [SERVICE...]",
	 "show the services' output", compose_logs_opts},
	{"push", compose_sub_stub, "cbuild compose push [OPTIONS] [SERVICE...]",
	 "push the services' images", push_opts},
	{"pull", compose_sub_stub, "cbuild compose pull [OPTIONS] [SERVICE...]",
	 "pull the services' images", pull_opts},
	{"config", compose_sub_stub, "cbuild compose config [OPTIONS]",
	 "print the resolved compose file", config_opts},
	{0}};

static int (*const sub_fns[])(compose_t *, int, char **, cb_error_t *) = {
	compose_build, compose_up, compose_down, compose_ps, compose_logs, compose_push, compose_pull,
	compose_config,
};

enum { O_FILE = CMD_OPT_LONG + 50, O_PROJECT_DIR, O_ENV_FILE };

const cmd_opt_t cmd_compose_opts[] = {
	{"file", 'f', CMD_ARG_REQUIRED, "FILE", "the compose file (default compose.yaml, ...)", CMD_OPT_REPEAT},
	{"project-name", 'p', CMD_ARG_REQUIRED, "NAME", "the project's name (default: the directory's)"},
	{"project-directory", O_PROJECT_DIR, CMD_ARG_REQUIRED, "DIR", "the project's directory"},
	{"env-file", O_ENV_FILE, CMD_ARG_REQUIRED, "FILE", "the .env file to read"},
	{0}};

static int parse_global(cmd_ctx_t *ctx, int *argcp, char **argv, gopts_t *g, int *at, cb_error_t *err)
{
	int argc = *argcp;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		switch (o) {
		case 'f': g->files = cb_strv_push(g->files, p.arg); break;
		case 'p': g->project = p.arg; break;
		case O_PROJECT_DIR: g->project_dir = p.arg; break;
		case O_ENV_FILE: g->env_file = p.arg; break;
		}
	}
	if (o < 0)
		return o;
	if (p.nargs < 1) {
		cmd_opts_print_help(ctx->verb, stdout);
		return CMD_HELP;
	}
	*at = 1; /* the subcommand and its words are argv[1..] now */
	*argcp = 1 + p.nargs;
	return 0;
}

int cmd_compose(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	gopts_t g = {0};
	int at = 0;
	int rc = parse_global(ctx, &argc, argv, &g, &at, err);
	if (rc) {
		cb_strv_free(g.files);
		return rc;
	}
	int (*fn)(compose_t *, int, char **, cb_error_t *) = NULL;
	for (size_t i = 0; i < CB_ARRAY_SIZE(sub_fns); i++)
		if (!strcmp(cmd_compose_subs[i].name, argv[at])) {
			fn = sub_fns[i];
			ctx->verb = &cmd_compose_subs[i];
		}
	if (!fn) {
		cb_strv_free(g.files);
		return cmd_usage_error(err, "unknown compose command '%s'", argv[at]);
	}
	/* its --help needs no project */
	for (int i = at + 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cb_strv_free(g.files);
			cmd_opts_print_help(ctx->verb, stdout);
			return CMD_HELP;
		}
	compose_t c = {.ctx = ctx};
	rc = load_project(&g, &c, err);
	if (rc == 0)
		rc = fn(&c, argc - at, argv + at, err);
	df_compose_project_free(c.p);
	cb_strv_free(c.env);
	cb_strv_free(c.files);
	cb_strv_free(g.files);
	return rc;
}
