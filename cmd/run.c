/* cbuild run [OPTIONS] IMAGE [COMMAND [ARG...]]: a new container, attached
 * (cbuild's exit code is the container's) or detached (-d prints its ID). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "cmd/platform.h"
#include "cmd/resolve.h"
#include "cmd/run_opts.h"
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
	/* cbuild's sandbox always sets no_new_privs: asking for it is a no-op */
	if (!strcmp(opt, "no-new-privileges") || !strcmp(opt, "no-new-privileges:true") ||
	    !strcmp(opt, "no-new-privileges=true"))
		return 0;
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
	cmd_run_extra_release(&a->spec.extra);
}

enum { O_RM = CMD_OPT_LONG, O_NAME, O_ENVFILE, O_NETWORK, O_ENTRYPOINT, O_LOGOPT,
       O_PLATFORM, O_SECOPT, O_PIDS, O_HR, O_X, O_ALIAS, O_IP };

const cmd_opt_t cmd_run_opts[] = {
	{"detach", 'd', CMD_ARG_NONE, NULL, "run it in the background and print its ID"},
	{"interactive", 'i', CMD_ARG_NONE, NULL, "keep its standard input open"},
	{"tty", 't', CMD_ARG_NONE, NULL, "give it a terminal"},
	{"rm", O_RM, CMD_ARG_NONE, NULL, "remove the container when it exits"},
	{"name", O_NAME, CMD_ARG_REQUIRED, "NAME", "the container's name"},
	{"env", 'e', CMD_ARG_REQUIRED, "K=V", "set an environment variable", CMD_OPT_REPEAT},
	{"env-file", O_ENVFILE, CMD_ARG_REQUIRED, "FILE", "read environment variables from FILE",
	 CMD_OPT_REPEAT},
	{"volume", 'v', CMD_ARG_REQUIRED, "HOST:CTR[:ro]", "bind a host directory or file",
	 CMD_OPT_REPEAT},
	{"workdir", 'w', CMD_ARG_REQUIRED, "DIR", "working directory inside the container"},
	{"user", 'u', CMD_ARG_REQUIRED, "USER[:GROUP]", "user (name or UID) to run as"},
	{"hostname", 'h', CMD_ARG_REQUIRED, "NAME", "the container's host name"},
	{"network", O_NETWORK, CMD_ARG_REQUIRED, "NET", "network: bridge, host, none or a network's name"},
	{"net", O_NETWORK, CMD_ARG_REQUIRED, "NET", "same as --network", CMD_OPT_HIDDEN},
	{"entrypoint", O_ENTRYPOINT, CMD_ARG_REQUIRED, "CMD", "override the image's ENTRYPOINT"},
	{"publish", 'p', CMD_ARG_REQUIRED, "[[IP:]HOST:]CTR[/PROTO]",
	 "publish a container's port on the host (no HOST: a free port)", CMD_OPT_REPEAT},
	{"publish-all", 'P', CMD_ARG_NONE, NULL, "publish every EXPOSEd port on a free host port"},
	{"network-alias", O_ALIAS, CMD_ARG_REQUIRED, "NAME", "another name on a user network",
	 CMD_OPT_REPEAT},
	{"ip", O_IP, CMD_ARG_REQUIRED, "IP", "the container's address on a user network"},
	{"log-opt", O_LOGOPT, CMD_ARG_REQUIRED, "max-size=N|max-file=N", "log rotation", CMD_OPT_REPEAT},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]",
	 "the platform to run from a multi-platform image"},
	{"security-opt", O_SECOPT, CMD_ARG_REQUIRED, "seccomp=unconfined|PROFILE.json|no-new-privileges",
	 "security options"},
	{"pids-limit", O_PIDS, CMD_ARG_REQUIRED, "N", "most processes at once (-1: no limit)"},
	{"restart", O_HR, CMD_ARG_REQUIRED, "POLICY",
	 "restart when it exits: no, always, unless-stopped, on-failure[:N]"},
	{"health-cmd", O_HR, CMD_ARG_REQUIRED, "CMD", "command (run by /bin/sh -c) that checks health"},
	{"health-interval", O_HR, CMD_ARG_REQUIRED, "DURATION", "time between checks (default 30s)"},
	{"health-timeout", O_HR, CMD_ARG_REQUIRED, "DURATION",
	 "longest a check may run (default 30s)"},
	{"health-start-period", O_HR, CMD_ARG_REQUIRED, "DURATION",
	 "failures in this first while do not count"},
	{"health-retries", O_HR, CMD_ARG_REQUIRED, "N", "failures in a row that make it unhealthy"},
	{"no-healthcheck", O_HR, CMD_ARG_NONE, NULL, "disable the image's HEALTHCHECK"},
	{"mount", O_X, CMD_ARG_REQUIRED, "type=bind|volume|tmpfs,...",
	 "attach a file system (source=, target=, readonly, tmpfs-size=)", CMD_OPT_REPEAT},
	{"tmpfs", O_X, CMD_ARG_REQUIRED, "DIR[:OPTS]", "mount a tmpfs on DIR", CMD_OPT_REPEAT},
	{"read-only", O_X, CMD_ARG_NONE, NULL, "mount the root file system read-only"},
	{"init", O_X, CMD_ARG_NONE, NULL,
	 "run an init (tini) as PID 1 that reaps zombies and forwards signals"},
	{"add-host", O_X, CMD_ARG_REQUIRED, "HOST:IP", "add a line to /etc/hosts", CMD_OPT_REPEAT},
	{"dns", O_X, CMD_ARG_REQUIRED, "IP", "a nameserver for /etc/resolv.conf", CMD_OPT_REPEAT},
	{"label", O_X, CMD_ARG_REQUIRED, "K=V", "set a label on the container", CMD_OPT_REPEAT},
	{"cap-add", O_X, CMD_ARG_REQUIRED, "CAP", "add a Linux capability (or ALL)", CMD_OPT_REPEAT},
	{"cap-drop", O_X, CMD_ARG_REQUIRED, "CAP", "drop a Linux capability (or ALL)",
	 CMD_OPT_REPEAT},
	{"ulimit", O_X, CMD_ARG_REQUIRED, "NAME=SOFT[:HARD]", "set a resource limit (nofile, nproc, ...)",
	 CMD_OPT_REPEAT},
	{"memory", 'm', CMD_ARG_REQUIRED, "BYTES", "memory limit (e.g. 512m, 1g)"},
	{"cpus", O_X, CMD_ARG_REQUIRED, "N", "number of CPUs it may use (e.g. 1.5)"},
	{"stop-signal", O_X, CMD_ARG_REQUIRED, "SIGNAL", "signal `stop` sends (default SIGTERM)"},
	{"stop-timeout", O_X, CMD_ARG_REQUIRED, "SECONDS",
	 "seconds `stop` waits before SIGKILL (default 10)"},
	{0}};

static int parse(cmd_ctx_t *ctx, int argc, char **argv, run_args_t *a, cb_error_t *err)
{
	rt_ctr_spec_t *s = &a->spec;
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		const char *v = p.arg;
		switch (c) {
		case 'd': a->detach = p.on; break;
		case 'i': s->interactive = p.on; break;
		case 't': s->tty = p.on; break;
		case O_RM: s->auto_remove = p.on; break;
		case O_NAME: s->name = v; break;
		case 'e': a->env = cb_strv_push(a->env, v); break;
		case O_ENVFILE:
			if (read_env_file(v, &a->env, err) < 0)
				return -1;
			break;
		case 'v': a->volumes = cb_strv_push(a->volumes, v); break;
		case 'w': s->cwd = v; break;
		case 'u': s->user = v; break;
		case 'h': s->hostname = v; break;
		case O_NETWORK: s->network = v; break;
		case O_ENTRYPOINT: s->entrypoint = v; break;
		case 'p': a->ports = cb_strv_push(a->ports, v); break;
		case 'P': s->publish_all = p.on; break;
		case O_ALIAS: a->aliases = cb_strv_push(a->aliases, v); break;
		case O_IP: s->ip = v; break;
		case O_LOGOPT:
			if (parse_log_opt(v, s, err) < 0)
				return CMD_USAGE;
			break;
		case O_PLATFORM:
			if (cmd_check_platform(v, err) < 0)
				return CMD_USAGE;
			a->platform = v;
			break;
		case O_SECOPT: {
			int rc = parse_security_opt(v, &a->seccomp, err);
			if (rc < 0)
				return rc;
			s->seccomp = a->seccomp;
			break;
		}
		case O_PIDS:
			if (parse_pids_limit(v, &s->pids_limit, err) < 0)
				return CMD_USAGE;
			break;
		case 'm':
		case O_X: {
			cmd_run_extra_t x = {&s->extra, &a->volumes};
			int rc = cmd_run_extra_opt(&x, c == 'm' ? "memory" : p.opt->name, v, p.on, err);
			if (rc < 0)
				return rc;
			break;
		}
		case O_HR:
			if (p.opt->kind == CMD_ARG_NONE && !p.on)
				break;
			if (cmd_run_health_restart_opt(p.opt->name, v, s, err) < 0)
				return CMD_USAGE;
			break;
		}
	}
	if (c < 0)
		return c;
	if (s->log_max_file > 1 && !s->log_max_size)
		return cmd_usage_error(err, "--log-opt max-file needs max-size");
	if (s->no_healthcheck && (s->health_cmd || s->health_interval_ns || s->health_timeout_ns ||
				  s->health_start_period_ns || s->health_retries))
		return cmd_usage_error(err, "--no-healthcheck conflicts with --health-* options");
	if (s->restart != RT_CTR_RESTART_NO && s->auto_remove)
		return cmd_usage_error(err, "conflicting options: --restart and --rm");
	if (p.nargs < 1)
		return cmd_nargs(ctx, p.nargs, 1, -1, err);
	s->image_name = p.args[0];
	s->cmd = p.args + 1;
	s->env = a->env;
	s->volumes = a->volumes;
	s->ports = a->ports;
	s->aliases = a->aliases;
	return 0;
}

/* docker run's status when the container's command did not start: 127 not
 * found, 126 not runnable, else 125 (cbuild's own failure). */
static int exec_fail_code(const cb_error_t *err)
{
	int code = sbx_exec_error_status(err);
	return code ? code : 125;
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

/* run -it from a terminal: docker's client attached to its daemon's
 * container, here a detached container (its monitor apart, as run -d's)
 * this process attaches to, so that Ctrl-P Ctrl-Q leaves it running (exit
 * 0, as docker's run). The log's end is marked before the start: nothing
 * it prints first is missed. */
static int run_terminal(cmd_ctx_t *ctx, store_t *st, rt_ctr_t *c, cb_error_t *err)
{
	rt_attach_t a = {.out_fd = 1, .err_fd = 2, .in_fd = 0, .detach_keys = "\x10\x11",
			 .at_start = true, .mark = rt_ctr_attach_mark(c)};
	int code = 0;
	/* --rm: its monitor removes it at the exit, after we read the code */
	int hold = c->auto_remove ? rt_ctr_hold_removal(c, err) : -1;
	if (c->auto_remove && hold < 0) {
		rt_ctr_free(c);
		return -1;
	}
	int rc = rt_ctr_start_detached(st, c, err);
	if (rc < 0)
		ctx->fail_code = exec_fail_code(err);
	if (rc < 0 && c->auto_remove) {
		cb_error_t e = CB_ERROR_INIT;
		if (rt_ctr_remove(st, c, true, &e) < 0)
			cb_error_release(&e);
	}
	if (rc == 0)
		rc = cmd_attach_terminal(st, c, &a, &code, err);
	if (rc == 0 && !a.detached)
		ctx->exit_code = code;
	if (hold >= 0)
		close(hold);
	rt_ctr_free(c);
	return rc;
}

int cmd_run(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	run_args_t a = {0};
	int rc = parse(ctx, argc, argv, &a, err);
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
	/* docker's run -i without -d: StdinOnce (start -ai ends at our EOF) */
	a.spec.stdin_once = a.spec.interactive && !a.detach;
	rc = rt_ctr_create(st, &a.spec, &c, err);
	run_args_release(&a);
	if (rc < 0)
		return -1;
	if (a.detach) {
		rc = rt_ctr_start_detached(st, c, err);
		if (rc < 0)
			ctx->fail_code = exec_fail_code(err);
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
	if (c->tty && c->interactive && isatty(0))
		return run_terminal(ctx, st, c, err);
	rt_ctr_io_t io = {.out_fd = 1, .err_fd = 2};
	sbx_status_t status;
	fflush(stdout);
	rc = rt_ctr_run(st, c, &io, &status, err);
	rt_ctr_free(c);
	if (rc == 0)
		ctx->exit_code = sbx_status_shell_code(&status);
	else
		ctx->fail_code = exec_fail_code(err);
	return rc;
}
