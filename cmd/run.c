/* cbuild run [OPTIONS] IMAGE [COMMAND [ARG...]]: a new container, attached
 * (cbuild's exit code is the container's) or detached (-d prints its ID). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/container.h"
#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "cmd/platform.h"
#include "cmd/resolve.h"
#include "common/fs.h"
#include "common/util.h"

/* --env-file: K=V lines, '#' comments, a bare K takes the caller's value. */
static int read_env_file(const char *path, char ***env, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (cb_read_file(path, 1 << 20, &data, &len, err) < 0)
		return cb_error_wrap(err, "env file");
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = 0;
		if (!*line || *line == '#')
			continue;
		*env = cb_strv_push(*env, line);
	}
	return 0;
}

/* --log-opt max-size=10m (docker's decimal units: k, m, g) | max-file=N */
static int parse_log_opt(const char *opt, rt_ctr_spec_t *s, cb_error_t *err)
{
	char *end;
	if (!strncmp(opt, "max-size=", 9)) {
		double v = strtod(opt + 9, &end);
		double unit = 1;
		switch (*end) {
		case 'k': case 'K': unit = 1e3; end++; break;
		case 'm': case 'M': unit = 1e6; end++; break;
		case 'g': case 'G': unit = 1e9; end++; break;
		}
		if (*end == 'b' || *end == 'B')
			end++;
		if (end == opt + 9 || *end || v <= 0)
			return cmd_usage_error(err, "invalid --log-opt '%s'", opt);
		s->log_max_size = (int64_t)(v * unit);
		return 0;
	}
	if (!strncmp(opt, "max-file=", 9)) {
		long n = strtol(opt + 9, &end, 10);
		if (end == opt + 9 || *end || n < 1 || n > 1000)
			return cmd_usage_error(err, "invalid --log-opt '%s'", opt);
		s->log_max_file = (int)n;
		return 0;
	}
	return cmd_usage_error(err, "unknown --log-opt '%s' (max-size=, max-file=)", opt);
}

/* --security-opt seccomp=unconfined|PROFILE.json (also docker's old
 * "seccomp:"); the profile is read and checked now, and its text kept in
 * the container's config (a later change of the file does not change the
 * container, as with docker). */
static int parse_security_opt(const char *opt, char **seccomp, cb_error_t *err)
{
	if (strncmp(opt, "seccomp=", 8) && strncmp(opt, "seccomp:", 8))
		return cmd_usage_error(err, "unsupported --security-opt '%s' (seccomp=unconfined "
					    "or seccomp=PROFILE.json)", opt);
	const char *v = opt + 8;
	free(*seccomp);
	*seccomp = NULL;
	if (!strcmp(v, "unconfined")) {
		*seccomp = cb_xstrdup(v);
		return 0;
	}
	size_t len = 0;
	if (!*v)
		return cmd_usage_error(err, "--security-opt seccomp= needs a profile or 'unconfined'");
	if (cb_read_file(v, 1 << 20, seccomp, &len, err) < 0)
		return cb_error_wrap(err, "seccomp profile '%s'", v);
	sbx_scmp_profile_t *p = sbx_seccomp_parse(*seccomp, v, err);
	if (!p)
		return -1;
	sbx_seccomp_free(p);
	return 0;
}

/* --pids-limit N: docker's reading, 0 and -1 are no limit. */
static int parse_pids_limit(const char *s, int64_t *out, cb_error_t *err)
{
	char *end = NULL;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || end == s || *end || n < -1)
		return cmd_usage_error(err, "invalid --pids-limit '%s' (a number, -1 for none)", s);
	*out = n > 0 ? n : 0;
	return 0;
}

typedef struct run_args {
	rt_ctr_spec_t spec;
	char *seccomp;
	bool detach;
	const char *platform; /* --platform, for an image that is an index */
	char **env, **volumes, **ports, **aliases;
} run_args_t;

static void run_args_release(run_args_t *a)
{
	cb_strv_free(a->env);
	cb_strv_free(a->volumes);
	cb_strv_free(a->ports);
	cb_strv_free(a->aliases);
	free(a->seccomp);
}

static int parse(int argc, char **argv, run_args_t *a, cb_error_t *err)
{
	enum { O_RM = 256, O_NAME, O_ENVFILE, O_HOSTNAME, O_NETWORK, O_ENTRYPOINT, O_LOGOPT, O_PLATFORM,
	       O_SECOPT, O_PIDS, O_ALIAS, O_IP };
	static const struct option longopts[] = {
		{"detach", no_argument, NULL, 'd'},
		{"interactive", no_argument, NULL, 'i'},
		{"tty", no_argument, NULL, 't'},
		{"rm", no_argument, NULL, O_RM},
		{"name", required_argument, NULL, O_NAME},
		{"env", required_argument, NULL, 'e'},
		{"env-file", required_argument, NULL, O_ENVFILE},
		{"volume", required_argument, NULL, 'v'},
		{"workdir", required_argument, NULL, 'w'},
		{"user", required_argument, NULL, 'u'},
		{"hostname", required_argument, NULL, O_HOSTNAME},
		{"network", required_argument, NULL, O_NETWORK},
		{"net", required_argument, NULL, O_NETWORK},
		{"entrypoint", required_argument, NULL, O_ENTRYPOINT},
		{"publish", required_argument, NULL, 'p'},
		{"publish-all", no_argument, NULL, 'P'},
		{"network-alias", required_argument, NULL, O_ALIAS},
		{"ip", required_argument, NULL, O_IP},
		{"log-opt", required_argument, NULL, O_LOGOPT},
		{"platform", required_argument, NULL, O_PLATFORM},
		{"security-opt", required_argument, NULL, O_SECOPT},
		{"pids-limit", required_argument, NULL, O_PIDS},
		{NULL, 0, NULL, 0}};
	rt_ctr_spec_t *s = &a->spec;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+dite:v:w:u:p:P", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': a->detach = true; break;
		case 'i': s->interactive = true; break;
		case 't': s->tty = true; break;
		case O_RM: s->auto_remove = true; break;
		case O_NAME: s->name = optarg; break;
		case 'e': a->env = cb_strv_push(a->env, optarg); break;
		case O_ENVFILE:
			if (read_env_file(optarg, &a->env, err) < 0)
				return -1;
			break;
		case 'v': a->volumes = cb_strv_push(a->volumes, optarg); break;
		case 'w': s->cwd = optarg; break;
		case 'u': s->user = optarg; break;
		case O_HOSTNAME: s->hostname = optarg; break;
		case O_NETWORK: s->network = optarg; break;
		case O_ENTRYPOINT: s->entrypoint = optarg; break;
		case 'p': a->ports = cb_strv_push(a->ports, optarg); break;
		case 'P': s->publish_all = true; break;
		case O_ALIAS: a->aliases = cb_strv_push(a->aliases, optarg); break;
		case O_IP: s->ip = optarg; break;
		case O_LOGOPT:
			if (parse_log_opt(optarg, s, err) < 0)
				return CMD_USAGE;
			break;
		case O_PLATFORM:
			if (cmd_check_platform(optarg, err) < 0)
				return CMD_USAGE;
			a->platform = optarg;
			break;
		case O_SECOPT: {
			int rc = parse_security_opt(optarg, &a->seccomp, err);
			if (rc < 0)
				return rc;
			s->seccomp = a->seccomp;
			break;
		}
		case O_PIDS:
			if (parse_pids_limit(optarg, &s->pids_limit, err) < 0)
				return CMD_USAGE;
			break;
		default:
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (s->log_max_file > 1 && !s->log_max_size)
		return cmd_usage_error(err, "--log-opt max-file needs max-size");
	if (optind >= argc)
		return cmd_usage_error(err, "'run' needs an image");
	s->image_name = argv[optind];
	s->cmd = argv + optind + 1;
	s->env = a->env;
	s->volumes = a->volumes;
	s->ports = a->ports;
	s->aliases = a->aliases;
	return 0;
}

/* The image manifest to run: a local image (for an index, the platform's
 * child, so that the container records the image it really runs), else a
 * pull of it. */
static int find_or_pull(cmd_ctx_t *ctx, store_t *st, const char *what, const char *platform,
			char **md, cb_error_t *err)
{
	cb_error_t e = CB_ERROR_INIT;
	_cleanup_free_ char *found = NULL;
	if (cmd_find_image(st, what, &found, NULL, &e) == 0) {
		int rc = cmd_platform_pick(st, what, found, platform, md, err);
		if (rc < 0)
			return cb_error_wrap(err, "image '%s'", what);
		if (rc == CMD_PICK_OK) {
			cmd_platform_warn(st, *md, platform);
			return 0;
		}
		/* not here for that platform: docker asks the registry */
		return cmd_resolve_image(ctx, st, what, false, platform, md, err);
	}
	if (e.code != ENOENT) {
		cb_error_move(err, &e);
		return -1;
	}
	cb_error_release(&e);
	fprintf(stderr, "Unable to find image '%s' locally\n", what);
	return cmd_resolve_image(ctx, st, what, false, platform, md, err);
}

int cmd_run(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	run_args_t a = {0};
	int rc = parse(argc, argv, &a, err);
	if (rc < 0) {
		run_args_release(&a);
		return rc;
	}
	store_t *st = cmd_store(ctx, err);
	_cleanup_free_ char *md = NULL;
	rt_ctr_t *c = NULL;
	if (!st || find_or_pull(ctx, st, a.spec.image_name, a.platform, &md, err) < 0) {
		run_args_release(&a);
		return -1;
	}
	a.spec.image = md;
	rc = rt_ctr_create(st, &a.spec, &c, err);
	run_args_release(&a);
	if (rc < 0)
		return -1;
	if (a.detach) {
		rc = rt_ctr_start_detached(st, c, err);
		if (rc == 0) {
			printf("%s\n", c->id);
		} else if (c->auto_remove) {
			cb_error_t e = CB_ERROR_INIT;
			if (rt_ctr_remove(st, c, true, &e) < 0)
				cb_error_release(&e);
		}
		rt_ctr_free(c);
		return rc;
	}
	rt_ctr_io_t io = {.out_fd = 1, .err_fd = 2};
	sbx_status_t status;
	fflush(stdout);
	rc = rt_ctr_run(st, c, &io, &status, err);
	rt_ctr_free(c);
	if (rc == 0)
		ctx->exit_code = sbx_status_shell_code(&status);
	return rc;
}
