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

static int compose_config(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	bool json = false, services = false, volumes = false, quiet = false, images = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--format") && i + 1 < argc)
			a = argv[++i];
		else if (cb_str_has_prefix(a, "--format="))
			a += 9;
		else if (!strcmp(a, "--services")) {
			services = true;
			continue;
		} else if (!strcmp(a, "--volumes")) {
			volumes = true;
			continue;
		} else if (!strcmp(a, "--images")) {
			images = true;
			continue;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = true;
			continue;
		} else {
			return cmd_usage_error(err, "unknown option '%s'", a);
		}
		if (strcmp(a, "json") && strcmp(a, "yaml"))
			return cmd_usage_error(err, "invalid --format '%s' (yaml or json)", a);
		json = !strcmp(a, "json");
	}
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

static int parse_services(int argc, char **argv, reg_opts_t *ro, bool *flag, const char *flagname,
			  char ***names, cb_error_t *err)
{
	for (int i = 1; i < argc; i++) {
		int r = ro ? cmd_reg_option(ro, argc, argv, &i, err) : 0;
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (flagname && !strcmp(argv[i], flagname))
			*flag = true;
		else if (argv[i][0] == '-')
			return cmd_usage_error(err, "unknown option '%s'", argv[i]);
		else
			*names = cb_strv_push(*names, argv[i]);
	}
	return 0;
}

static int compose_push(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t ro;
	cmd_reg_opts_init(&ro);
	bool ignore_failures = false;
	_cleanup_strv_ char **names = NULL;
	int rc = parse_services(argc, argv, &ro, &ignore_failures, "--ignore-push-failures", &names,
				err);
	if (rc)
		return rc;
	store_t *st = cmd_store(c->ctx, err);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	if (!st || df_compose_select(c->p, names, false, &idx, &n, err) < 0)
		return -1;
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
	cmd_reg_opts_init(&ro);
	bool ignore_buildable = false;
	_cleanup_strv_ char **names = NULL;
	int rc = parse_services(argc, argv, &ro, &ignore_buildable, "--ignore-buildable", &names,
				err);
	if (rc)
		return rc;
	store_t *st = cmd_store(c->ctx, err);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	if (!st || df_compose_select(c->p, names, false, &idx, &n, err) < 0)
		return -1;
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

static const struct {
	const char *name;
	int (*fn)(compose_t *c, int argc, char **argv, cb_error_t *err);
} subcommands[] = {
	{"build", compose_build}, {"up", compose_up},     {"down", compose_down},
	{"ps", compose_ps},       {"logs", compose_logs}, {"push", compose_push},
	{"pull", compose_pull},   {"config", compose_config},
};

static int parse_global(int argc, char **argv, gopts_t *g, int *at, cb_error_t *err)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		bool missing = false;
		const char *v;
		if ((v = cmd_opt_value("--file", argc, argv, &i, &missing)) ||
		    (!missing && (v = cmd_opt_value("-f", argc, argv, &i, &missing))))
			g->files = cb_strv_push(g->files, v);
		else if (!missing && ((v = cmd_opt_value("--project-name", argc, argv, &i, &missing)) ||
				      (!missing && (v = cmd_opt_value("-p", argc, argv, &i, &missing)))))
			g->project = v;
		else if (!missing && (v = cmd_opt_value("--project-directory", argc, argv, &i, &missing)))
			g->project_dir = v;
		else if (!missing && (v = cmd_opt_value("--env-file", argc, argv, &i, &missing)))
			g->env_file = v;
		else if (missing)
			return cmd_usage_error(err, "option '%s' needs a value", argv[i]);
		else
			return cmd_usage_error(err, "unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return cmd_usage_error(err, "no compose command given (build, up, down, ps, logs, "
				       "push, pull or config)");
	*at = i;
	return 0;
}

int cmd_compose(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	gopts_t g = {0};
	int at = 0;
	int rc = parse_global(argc, argv, &g, &at, err);
	if (rc) {
		cb_strv_free(g.files);
		return rc;
	}
	int (*fn)(compose_t *, int, char **, cb_error_t *) = NULL;
	for (size_t i = 0; i < CB_ARRAY_SIZE(subcommands); i++)
		if (!strcmp(subcommands[i].name, argv[at]))
			fn = subcommands[i].fn;
	if (!fn) {
		cb_strv_free(g.files);
		return cmd_usage_error(err, "unknown compose command '%s'", argv[at]);
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
