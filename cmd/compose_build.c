/*
 * cbuild compose build [--no-cache] [--pull] [--build-arg K=V]... [-q] [SERVICE...]
 *
 * One `cbuild build` child process per service (the builder is not known
 * to be thread-safe and a child keeps a failure, a mount namespace or a
 * crash to itself). Independent services build at the same time; a service
 * whose Dockerfile builds FROM another service's image waits for it. The
 * children's output is read through pipes and printed line by line with a
 * "SERVICE  | " prefix, as docker compose does.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/compose.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/reference.h"

typedef enum { JOB_WAIT, JOB_RUN, JOB_OK, JOB_FAIL } job_state_t;

typedef struct job {
	const df_compose_service_t *s;
	char **tags;        /* full references; tags[0] the service's image */
	char *dockerfile;   /* path given to -f */
	size_t *deps;       /* jobs this one builds FROM */
	size_t n_deps;
	job_state_t state;
	pid_t pid;
	int fd;
	cb_buf_t line;
	int exit_code;
} job_t;

/* "ARG K=V" before the first FROM: a default a FROM line may use. */
static char **arg_default(char **env, const char *p)
{
	p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *e = p;
	while (*e && !isspace((unsigned char)*e))
		e++;
	_cleanup_free_ char *kv = cb_xstrndup(p, (size_t)(e - p));
	if (!strchr(kv, '='))
		return env;
	char *one[] = {kv, NULL};
	char **m = df_compose_env_merge(env, one);
	cb_strv_free(env);
	return m;
}

/* The FROM references of a Dockerfile, normalized, with ${ARG}s expanded
 * from the build args over the global ARG defaults (a cheap scan: enough
 * to see that one service builds FROM another's image). */
static char **from_refs(const char *df, char *const *build_args)
{
	char **v = NULL;
	_cleanup_strv_ char **args = NULL;
	bool seen_from = false;
	const char *p = df;
	while (p && *p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!seen_from && !strncasecmp(p, "ARG", 3) && (p[3] == ' ' || p[3] == '\t'))
			args = arg_default(args, p);
		if (!strncasecmp(p, "FROM", 4) && (p[4] == ' ' || p[4] == '\t')) {
			seen_from = true;
			const char *w = p + 4;
			for (;;) {
				while (*w == ' ' || *w == '\t')
					w++;
				const char *e = w;
				while (*e && !isspace((unsigned char)*e))
					e++;
				if (w[0] == '-' && w[1] == '-' && e > w) {
					w = e;
					continue;
				}
				_cleanup_free_ char *raw = cb_xstrndup(w, (size_t)(e - w));
				_cleanup_strv_ char **env = df_compose_env_merge(args, build_args);
				cb_error_t ignore = CB_ERROR_INIT;
				_cleanup_free_ char *word = df_compose_interpolate(raw, env, NULL, &ignore);
				cb_error_release(&ignore);
				char *full = word && *word ? reg_ref_normalize(word, &ignore) : NULL;
				cb_error_release(&ignore);
				if (full)
					v = cb_strv_push_take(v, full);
				break;
			}
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return v;
}

static void job_release(job_t *j)
{
	cb_strv_free(j->tags);
	free(j->dockerfile);
	free(j->deps);
	cb_buf_release(&j->line);
	if (j->fd >= 0)
		close(j->fd);
}

static int prepare_job(compose_t *c, store_t *st, job_t *j, char **dockerfile_text,
		       cb_error_t *err)
{
	const df_compose_build_t *b = j->s->build;
	if (!cb_is_dir(b->context))
		return cb_error_fail(err, ENOENT, "service '%s': build context '%s' is not a "
				     "directory", j->s->name, b->context);
	char *ref = compose_image_ref(c, j->s, err);
	if (!ref)
		return -1;
	j->tags = cb_strv_push_take(j->tags, ref);
	for (size_t i = 0; b->tags && b->tags[i]; i++) {
		char *t = reg_ref_normalize(b->tags[i], err);
		if (!t)
			return cb_error_wrap(err, "service '%s': build.tags", j->s->name);
		j->tags = cb_strv_push_take(j->tags, t);
	}
	size_t len = 0;
	if (b->dockerfile_inline) {
		_cleanup_free_ char *dir = store_mkdtemp(st, "compose-", err);
		if (!dir)
			return -1;
		j->dockerfile = cb_path_join(dir, "Dockerfile");
		if (cb_write_file_atomic(j->dockerfile, NULL, b->dockerfile_inline,
					 strlen(b->dockerfile_inline), 0644, err) < 0)
			return -1;
		*dockerfile_text = cb_xstrdup(b->dockerfile_inline);
		return 0;
	}
	j->dockerfile = cb_xstrdup(b->dockerfile);
	if (cb_read_file(b->dockerfile, 16u << 20, dockerfile_text, &len, err) < 0) {
		if (err->code != ENOENT)
			return -1;
		cb_error_release(err);
		return cb_error_fail(err, ENOENT, "service '%s': Dockerfile '%s' does not exist",
				     j->s->name, b->dockerfile);
	}
	return 0;
}

static char **child_argv(const store_t *st, const job_t *j, const compose_build_opts_t *o)
{
	const df_compose_build_t *b = j->s->build;
	char **v = cb_strv_push(NULL, "cbuild");
	v = cb_strv_push(cb_strv_push(v, "--root"), store_root(st));
	v = cb_strv_push(cb_strv_push(cb_strv_push(v, "build"), "--progress"), "plain");
	for (size_t i = 0; j->tags[i]; i++)
		v = cb_strv_push(cb_strv_push(v, "-t"), j->tags[i]);
	v = cb_strv_push(cb_strv_push(v, "-f"), j->dockerfile);
	_cleanup_strv_ char **args = df_compose_env_merge(b->args, o->build_args);
	for (size_t i = 0; args && args[i]; i++)
		v = cb_strv_push(cb_strv_push(v, "--build-arg"), args[i]);
	for (size_t i = 0; b->labels && b->labels[i]; i++)
		v = cb_strv_push(cb_strv_push(v, "--label"), b->labels[i]);
	for (size_t i = 0; b->secrets && b->secrets[i]; i++)
		v = cb_strv_push(cb_strv_push(v, "--secret"), b->secrets[i]);
	if (b->target)
		v = cb_strv_push(cb_strv_push(v, "--target"), b->target);
	if (o->no_cache || b->no_cache)
		v = cb_strv_push(v, "--no-cache");
	if (o->pull || b->pull)
		v = cb_strv_push(v, "--pull");
	if (o->quiet)
		v = cb_strv_push(v, "-q");
	return cb_strv_push(v, b->context);
}

static int start_job(const store_t *st, job_t *j, const compose_build_opts_t *o, cb_error_t *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	_cleanup_strv_ char **argv = child_argv(st, j, o);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return cb_error_errno(err, "fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(127);
		execv("/proc/self/exe", argv);
		dprintf(2, "cannot run cbuild: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	j->pid = pid;
	j->fd = p[0];
	j->state = JOB_RUN;
	return 0;
}

static void print_lines(job_t *j, int width, bool flush)
{
	char *start = j->line.data, *nl;
	while ((nl = memchr(start, '\n', j->line.len - (size_t)(start - j->line.data)))) {
		fprintf(stderr, "%-*s | %.*s\n", width, j->s->name, (int)(nl - start), start);
		start = nl + 1;
	}
	size_t rest = j->line.len - (size_t)(start - j->line.data);
	if (flush && rest) {
		fprintf(stderr, "%-*s | %.*s\n", width, j->s->name, (int)rest, start);
		rest = 0;
	}
	memmove(j->line.data, start, rest);
	j->line.len = rest;
	j->line.data[rest] = 0;
}

static void finish_job(job_t *j, int width)
{
	print_lines(j, width, true);
	close(j->fd);
	j->fd = -1;
	int status = 0;
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	j->state = j->exit_code == 0 ? JOB_OK : JOB_FAIL;
	fflush(stderr);
}

/* Start what can start; false when nothing runs and nothing can. */
static bool schedule(const store_t *st, job_t *jobs, size_t n, const compose_build_opts_t *o,
		     int width)
{
	bool running = false;
	for (size_t i = 0; i < n; i++) {
		job_t *j = &jobs[i];
		if (j->state == JOB_WAIT) {
			bool ready = true, failed = false;
			for (size_t d = 0; d < j->n_deps; d++) {
				ready &= jobs[j->deps[d]].state == JOB_OK;
				failed |= jobs[j->deps[d]].state == JOB_FAIL;
			}
			if (failed) {
				fprintf(stderr, "%-*s | not built: an image it builds FROM failed\n",
					width, j->s->name);
				j->state = JOB_FAIL;
				j->exit_code = -1;
			} else if (ready) {
				cb_error_t e = CB_ERROR_INIT;
				if (start_job(st, j, o, &e) < 0) {
					cb_warn_error(&e);
					j->state = JOB_FAIL;
					j->exit_code = -1;
				}
			}
		}
		running |= j->state == JOB_RUN;
	}
	return running;
}

static void run_jobs(const store_t *st, job_t *jobs, size_t n, const compose_build_opts_t *o,
		     int width)
{
	struct pollfd *pf = cb_xcalloc(n, sizeof(*pf));
	size_t *who = cb_xcalloc(n, sizeof(*who));
	while (schedule(st, jobs, n, o, width)) {
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			if (jobs[i].state == JOB_RUN) {
				pf[np].fd = jobs[i].fd;
				pf[np].events = POLLIN;
				who[np++] = i;
			}
		if (poll(pf, np, -1) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < np; k++) {
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			job_t *j = &jobs[who[k]];
			char buf[8192];
			ssize_t r = read(j->fd, buf, sizeof(buf));
			if (r > 0) {
				cb_buf_add(&j->line, buf, (size_t)r);
				print_lines(j, width, false);
			} else if (r == 0 || errno != EINTR) {
				finish_job(j, width);
			}
		}
	}
	free(pf);
	free(who);
}

/* Which job builds FROM which: by the tags each job makes. */
static void find_deps(job_t *jobs, size_t n, char **texts, const compose_build_opts_t *o)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_ char **bargs = df_compose_env_merge(jobs[i].s->build->args, o->build_args);
		_cleanup_strv_ char **froms = from_refs(texts[i], bargs);
		jobs[i].deps = cb_xcalloc(n + 1, sizeof(size_t));
		for (size_t k = 0; k < n; k++) {
			bool uses = false;
			for (size_t f = 0; k != i && froms && froms[f] && !uses; f++)
				for (size_t t = 0; jobs[k].tags[t] && !uses; t++)
					uses = !strcmp(froms[f], jobs[k].tags[t]);
			if (uses)
				jobs[i].deps[jobs[i].n_deps++] = k;
		}
	}
}

int compose_build_services(compose_t *c, const size_t *idx, size_t n,
			   const compose_build_opts_t *o, cb_error_t *err)
{
	store_t *st = cmd_store(c->ctx, err);
	if (!st)
		return -1;
	job_t *jobs = cb_xcalloc(n + 1, sizeof(*jobs));
	char **texts = cb_xcalloc(n + 1, sizeof(char *));
	size_t nj = 0;
	int width = 0, rc = 0;
	/* every check before the first build starts */
	for (size_t k = 0; k < n && rc == 0; k++) {
		const df_compose_service_t *s = &c->p->services[idx[k]];
		if (!s->build)
			continue;
		job_t *j = &jobs[nj];
		j->s = s;
		j->fd = -1;
		cb_buf_init(&j->line);
		nj++;
		rc = prepare_job(c, st, j, &texts[nj - 1], err);
		if ((int)strlen(s->name) > width)
			width = (int)strlen(s->name);
	}
	if (rc == 0) {
		find_deps(jobs, nj, texts, o);
		fflush(stdout);
		fflush(stderr);
		run_jobs(st, jobs, nj, o, width);
		for (size_t i = 0; i < nj && rc == 0; i++)
			if (jobs[i].state != JOB_OK)
				rc = cb_error_fail(err, EIO, "service '%s' failed to build%s", jobs[i].s->name,
						   jobs[i].exit_code > 0 ? "" : " (not started)");
	}
	for (size_t i = 0; i < nj; i++) {
		if (jobs[i].s->build->dockerfile_inline && jobs[i].dockerfile) {
			_cleanup_free_ char *dir = cb_xstrndup(jobs[i].dockerfile,
							       strlen(jobs[i].dockerfile) - 11);
			cb_error_t e = CB_ERROR_INIT;
			if (cb_rm_rf(dir, &e) < 0)
				cb_error_release(&e);
		}
		job_release(&jobs[i]);
	}
	cb_strv_free(texts);
	free(jobs);
	return rc;
}

enum { O_NO_CACHE = CMD_OPT_LONG, O_PULL, O_BUILD_ARG };

const cmd_opt_t compose_build_opts[] = {
	{"no-cache", O_NO_CACHE, CMD_ARG_NONE, NULL, "use no cached step"},
	{"pull", O_PULL, CMD_ARG_NONE, NULL, "pull base images even when they are in the store"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only errors"},
	{"build-arg", O_BUILD_ARG, CMD_ARG_REQUIRED, "K[=V]", "set a build-time ARG (no =V: from the environment)",
	 CMD_OPT_REPEAT},
	{0}};

int compose_build(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	compose_build_opts_t o = {0};
	_cleanup_strv_ char **names = NULL;
	int rc = 0;
	cmd_opts_t p;
	int k;
	cmd_opts_init(&p, c->ctx->verb, argc, argv);
	while ((k = cmd_opts_next(&p, err)) > 0) {
		const char *kv = p.arg;
		if (k == O_NO_CACHE)
			o.no_cache = p.on;
		else if (k == O_PULL)
			o.pull = p.on;
		else if (k == 'q')
			o.quiet = p.on;
		else if (strchr(kv, '='))
			o.build_args = cb_strv_push(o.build_args, kv);
		else if (getenv(kv)) /* K alone: from the environment, as docker */
			o.build_args = cb_strv_push_take(o.build_args, cb_asprintf("%s=%s", kv, getenv(kv)));
	}
	if (k < 0)
		rc = k;
	for (int i = 0; rc == 0 && i < p.nargs; i++)
		names = cb_strv_push(names, p.args[i]);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	if (rc == 0 && df_compose_select(c->p, names, false, &idx, &n, err) < 0)
		rc = -1;
	if (rc == 0)
		rc = compose_build_services(c, idx, n, &o, err);
	cb_strv_free(o.build_args);
	return rc;
}
