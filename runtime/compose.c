/* The compose supervisor: a project's start order, health checks and
 * restarts (see runtime/compose.h). Moved from cmd/compose_run.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "runtime/compose.h"
#include "runtime/monitor.h"
#include "runtime/sandbox.h"
#include "store/places.h"

char *rt_compose_path(store_t *st, const char *project, const char *file)
{
	return store_place_compose(st, project, file);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ms_of(int64_t ns, int64_t dflt)
{
	return ns > 0 ? ns / 1000000 : dflt;
}

pid_t rt_compose_supervisor(store_t *st, const char *project)
{
	_cleanup_free_ char *p = rt_compose_path(st, project, "supervisor");
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(p, 256, &data, &len, &e) < 0) {
		cb_error_release(&e);
		return 0;
	}
	long pid = 0;
	unsigned long long start = 0;
	if (sscanf(data, "%ld %llu", &pid, &start) != 2 || pid <= 0)
		return 0;
	return rt_ctr_proc_start((pid_t)pid) == start ? (pid_t)pid : 0;
}

/* ---- the supervisor ---- */

typedef enum { SV_PENDING, SV_RUNNING, SV_EXITED, SV_FAILED } sv_state_t;
typedef enum { H_NONE, H_STARTING, H_HEALTHY, H_UNHEALTHY } health_t;

typedef struct svc {
	const rt_compose_svc_t *s;
	rt_ctr_t *ctr;
	rt_compose_health_t hc;
	sv_state_t state;
	int restarts;
	int64_t restart_at, next_check, started_at;
	health_t health;
	int fails;
} svc_t;

typedef struct sup {
	const char *project;
	store_t *st;
	svc_t *v;
	size_t n;
	int report_fd; /* to the `up` that forked us; -1 once ready */
} sup_t;

static volatile sig_atomic_t sup_stop;
static void on_term(int sig) { (void)sig; sup_stop = 1; }

static void report(sup_t *u, const char *fmt, ...) CB_PRINTF(2, 3);
static void report(sup_t *u, const char *fmt, ...)
{
	if (u->report_fd < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *line = cb_vasprintf(fmt, ap);
	va_end(ap);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_write_all(u->report_fd, line, strlen(line), &e) < 0 ||
	    cb_write_all(u->report_fd, "\n", 1, &e) < 0)
		cb_error_release(&e);
}

static svc_t *sup_find(sup_t *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].s->name, name))
			return &u->v[i];
	return NULL;
}

static void save_health(sup_t *u, svc_t *sv)
{
	static const char *const names[] = {"", "starting", "healthy", "unhealthy"};
	_cleanup_free_ char *file = cb_asprintf("health-%s", sv->s->name);
	_cleanup_free_ char *p = rt_compose_path(u->st, u->project, file);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_write_file_atomic(p, NULL, names[sv->health], strlen(names[sv->health]), 0644, &e) < 0)
		cb_error_release(&e);
}

/* One run of the healthcheck inside the container. */
static void health_check(sup_t *u, svc_t *sv)
{
	const rt_compose_health_t *h = &sv->hc;
	int64_t now = now_ms();
	sv->next_check = now + ms_of(h->interval_ns, 30000);
	if (sv->health == H_STARTING && now - sv->started_at < ms_of(h->start_period_ns, 0))
		sv->next_check = now + ms_of(h->start_interval_ns, 1000);
	_cleanup_strv_ char **argv = NULL;
	if (!strcmp(h->test[0], "CMD-SHELL"))
		argv = cb_strv_push(cb_strv_push(cb_strv_push(NULL, "/bin/sh"), "-c"),
				    h->test[1] ? h->test[1] : "true");
	else
		argv = cb_strv_dup(h->test + 1);
	if (!argv || !argv[0])
		return;
	sbx_config_t cfg;
	sbx_config_init(&cfg);
	cfg.argv = argv;
	cfg.env = sv->ctr->env;
	cfg.cwd = sv->ctr->cwd;
	cfg.user = sv->ctr->user;
	_cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	cfg.stdout_fd = cfg.stderr_fd = null;
	sbx_status_t status;
	cb_error_t e = CB_ERROR_INIT;
	bool ok = sbx_exec(sv->ctr->pid, &cfg, &status, &e) == 0 && !status.signaled &&
		  status.code == 0;
	cb_error_release(&e);
	health_t before = sv->health;
	if (ok) {
		sv->fails = 0;
		sv->health = H_HEALTHY;
	} else if (++sv->fails >= (h->retries > 0 ? h->retries : 3) &&
		   now - sv->started_at >= ms_of(h->start_period_ns, 0)) {
		sv->health = H_UNHEALTHY;
	}
	if (sv->health != before)
		save_health(u, sv);
}

static bool has_health(const svc_t *sv)
{
	char **t = sv->hc.test;
	return t && t[0] && strcmp(t[0], "NONE");
}

static int start_svc(sup_t *u, svc_t *sv, cb_error_t *err)
{
	if (rt_ctr_start_detached(u->st, sv->ctr, err) < 0)
		return cb_error_wrap(err, "start service '%s'", sv->s->name);
	if (rt_ctr_refresh(u->st, sv->ctr, err) < 0)
		return -1;
	sv->state = SV_RUNNING;
	sv->started_at = now_ms();
	if (has_health(sv)) {
		sv->health = H_STARTING;
		sv->fails = 0;
		sv->next_check = sv->started_at + ms_of(sv->hc.start_interval_ns, 500);
		save_health(u, sv);
	}
	return 0;
}

/* 1 ready, 0 not yet, -1 never (err set). */
static int deps_ready(sup_t *u, svc_t *sv, cb_error_t *err)
{
	for (size_t d = 0; d < sv->s->n_deps; d++) {
		const rt_compose_dep_t *dep = &sv->s->deps[d];
		svc_t *o = sup_find(u, dep->service);
		if (!o) /* not selected (--no-deps): not waited for */
			continue;
		if (o->state == SV_FAILED)
			return cb_error_fail(err, EIO, "service '%s': dependency '%s' failed to start",
					     sv->s->name, o->s->name);
		switch (dep->condition) {
		case RT_DEP_STARTED:
			if (o->state == SV_PENDING)
				return 0;
			break;
		case RT_DEP_HEALTHY:
			if (!has_health(o))
				return cb_error_fail(err, EINVAL, "service '%s' waits for '%s' to be "
						     "healthy, but '%s' has no healthcheck",
						     sv->s->name, o->s->name, o->s->name);
			if (o->health == H_UNHEALTHY)
				return cb_error_fail(err, EIO, "dependency '%s' of service '%s' is "
						     "unhealthy", o->s->name, sv->s->name);
			if (o->health != H_HEALTHY)
				return 0;
			break;
		case RT_DEP_COMPLETED:
			if (o->state != SV_EXITED)
				return 0;
			if (o->ctr->exit_code != 0)
				return cb_error_fail(err, EIO, "service '%s': dependency '%s' exited "
						     "with %d", sv->s->name, o->s->name,
						     o->ctr->exit_code);
			break;
		}
	}
	return 1;
}

static bool wants_restart(const svc_t *sv)
{
	const rt_compose_restart_t *r = &sv->s->restart;
	switch (r->kind) {
	case RT_RESTART_ALWAYS:
	case RT_RESTART_UNLESS_STOPPED:
		return true;
	case RT_RESTART_ON_FAILURE:
		return sv->ctr->exit_code != 0 && (!r->max_retries || sv->restarts < r->max_retries);
	default:
		return false;
	}
}

/* PID 1 is gone but its monitor has not yet written the exit code: the
 * library reads that moment as "exited (137)"; wait for the real state. */
static bool monitor_finishing(const rt_ctr_t *c)
{
	return c->monitor_pid > 0 && c->monitor_start &&
	       rt_ctr_proc_start(c->monitor_pid) == c->monitor_start;
}

/* One pass over the services: starts, exits, restarts, health checks. */
static void sup_tick(sup_t *u)
{
	int64_t now = now_ms();
	bool all_started = true;
	for (size_t i = 0; i < u->n; i++) {
		svc_t *sv = &u->v[i];
		cb_error_t e = CB_ERROR_INIT;
		if (sv->state == SV_PENDING) {
			int r = deps_ready(u, sv, &e);
			if (r == 0) {
				all_started = false;
				continue;
			}
			if (r < 0 || start_svc(u, sv, &e) < 0) {
				sv->state = SV_FAILED;
				char buf[1024];
				report(u, "error %s", cb_error_format(&e, buf, sizeof(buf)));
				cb_error_release(&e);
				continue;
			}
			report(u, "started %s", sv->s->name);
			continue;
		}
		if (sv->state == SV_RUNNING && rt_ctr_refresh(u->st, sv->ctr, &e) == 0 &&
		    sv->ctr->status == RT_CTR_EXITED && !monitor_finishing(sv->ctr)) {
			sv->state = SV_EXITED;
			sv->health = has_health(sv) ? H_UNHEALTHY : H_NONE;
			if (has_health(sv))
				save_health(u, sv);
			if (wants_restart(sv))
				sv->restart_at = now + (100 << (sv->restarts < 6 ? sv->restarts : 6));
		}
		cb_error_release(&e);
		if (sv->state == SV_EXITED && sv->restart_at && now >= sv->restart_at) {
			sv->restart_at = 0;
			sv->restarts++;
			if (start_svc(u, sv, &e) < 0)
				cb_warn_error(&e);
		}
		if (sv->state == SV_RUNNING && has_health(sv) && now >= sv->next_check)
			health_check(u, sv);
	}
	bool failed = false;
	for (size_t i = 0; i < u->n; i++)
		failed |= u->v[i].state == SV_FAILED;
	if (u->report_fd >= 0 && (all_started || failed)) {
		report(u, failed ? "failed" : "ready");
		close(u->report_fd);
		u->report_fd = -1;
	}
}

/* The supervisor process: never returns. */
static _Noreturn void supervise(sup_t *u)
{
	cb_error_t e = CB_ERROR_INIT;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	_cleanup_free_ char *pidp = rt_compose_path(u->st, u->project, "supervisor");
	_cleanup_free_ char *line = cb_asprintf("%ld %llu\n", (long)getpid(),
						(unsigned long long)rt_ctr_proc_start(getpid()));
	if (cb_write_file_atomic(pidp, NULL, line, strlen(line), 0644, &e) < 0)
		cb_warn_error(&e);
	while (!sup_stop) {
		sup_tick(u);
		while (waitpid(-1, NULL, WNOHANG) > 0) /* monitors we forked */
			;
		poll(NULL, 0, 100);
	}
	unlink(pidp);
	_exit(0);
}

void rt_compose_stop(store_t *st, const char *project)
{
	pid_t pid = rt_compose_supervisor(st, project);
	if (!pid)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 50 && rt_compose_supervisor(st, project) == pid; i++)
		usleep(100000);
	if (rt_compose_supervisor(st, project) == pid)
		kill(pid, SIGKILL);
}

/* Read the supervisor's report until "ready" or "failed". */
static int wait_ready(const rt_compose_project_t *pr, int fd, cb_error_t *err)
{
	FILE *f = fdopen(fd, "r");
	char line[2048];
	_cleanup_free_ char *first_err = NULL;
	bool ready = false;
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (cb_str_has_prefix(line, "started ")) {
			if (pr->on_started)
				pr->on_started(pr->ctx, line + 8);
		} else if (cb_str_has_prefix(line, "error ") && !first_err) {
			first_err = cb_xstrdup(line + 6);
		} else if (!strcmp(line, "ready")) {
			ready = true;
			break;
		} else if (!strcmp(line, "failed")) {
			break;
		}
	}
	if (f)
		fclose(f);
	else
		close(fd);
	if (ready)
		return 0;
	return cb_error_fail(err, EIO, "compose up: %s", first_err ? first_err : "the project's "
			     "supervisor ended before the services started");
}

typedef struct sup_arg {
	store_t *st;
	const rt_compose_project_t *pr;
} sup_arg_t;

/* The supervisor's side of rt_monitor_fork. */
static void sup_main(void *arg, int report_fd)
{
	const sup_arg_t *a = arg;
	const rt_compose_project_t *pr = a->pr;
	/* our own store handle: flock is per open file, not per process */
	store_t *mine = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (store_open(store_root(a->st), &mine, &e) < 0)
		_exit(1);
	svc_t *v = cb_xcalloc(pr->n_services + 1, sizeof(*v));
	for (size_t i = 0; i < pr->n_services; i++)
		v[i] = (svc_t){.s = &pr->services[i], .ctr = pr->services[i].ctr,
			       .hc = pr->services[i].health};
	sup_t u = {.project = pr->name, .st = mine, .v = v, .n = pr->n_services,
		   .report_fd = report_fd};
	supervise(&u);
}

int rt_compose_up(store_t *st, const rt_compose_project_t *pr, cb_error_t *err)
{
	_cleanup_free_ char *logp = rt_compose_path(st, pr->name, "supervisor.log");
	sup_arg_t arg = {st, pr};
	int report_fd = -1;
	pid_t pid;
	int rc = rt_monitor_fork("the project's supervisor", logp, sup_main, &arg, &report_fd,
				 &pid, err);
	return rc < 0 ? -1 : wait_ready(pr, report_fd, err);
}
