/*
 * cbuild compose up [-d] [--build] [--no-build] [--no-deps] [SERVICE...]
 *               down [-v] [-t SECONDS]
 *               ps [-a] [-q] [--services]
 *               logs [-f] [--tail N] [-t] [--no-log-prefix] [SERVICE...]
 *
 * The project's containers are named PROJECT-SERVICE-1 (or container_name)
 * and made by the container library (builder/container.h). A project runs
 * like a pod: `up` forks one supervisor process per project which
 *
 *   - binds every published port on the host first (so "port in use" is an
 *     error before anything starts), then moves itself into a new network
 *     namespace (lo up) and starts the containers from there with the
 *     "host" network: they all share that namespace, and a hosts file bound
 *     on every container's /etc/hosts maps each service name to 127.0.0.1;
 *   - forwards connections from the host ports into the pod (runtime/forward.h,
 *     the forwarder of run -p: no iptables, no bridge);
 *   - starts services in dependency order, waiting for service_started,
 *     service_healthy (it runs the healthcheck inside the container with
 *     sbx_exec) or service_completed_successfully;
 *   - honours restart policies (no, always, on-failure[:N], unless-stopped)
 *     and keeps running health checks, until `down` ends it.
 *
 * Its state: ROOT/compose/PROJECT/ {supervisor (pid + start time), hosts,
 * health-SERVICE, supervisor.log}. Named volumes are the container
 * library's named volumes, ROOT/volumes/PROJECT_VOLUME/; `down -v` removes
 * them, plain `down` keeps them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/container.h"
#include "runtime/forward.h"
#include "runtime/sandbox.h"
#include "cmd/compose.h"
#include "cmd/resolve.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/image.h"

/* ---- names and paths ---- */

static char *ctr_name(const compose_t *c, const df_compose_service_t *s)
{
	return s->container_name ? cb_xstrdup(s->container_name)
				 : cb_asprintf("%s-%s-1", c->p->name, s->name);
}

static char *state_path(store_t *st, const compose_t *c, const char *file)
{
	_cleanup_free_ char *sub = file ? cb_asprintf("compose/%s/%s", c->p->name, file)
					: cb_asprintf("compose/%s", c->p->name);
	return store_path(st, sub);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The supervisor's pid when it is alive (pid + start time match). */
static pid_t supervisor_alive(store_t *st, const compose_t *c)
{
	_cleanup_free_ char *p = state_path(st, c, "supervisor");
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
	return bld_ctr_proc_start((pid_t)pid) == start ? (pid_t)pid : 0;
}

/* The service's container, or NULL (ENOENT released) when it has none. */
static bld_ctr_t *load_ctr(store_t *st, const compose_t *c, const df_compose_service_t *s,
			   cb_error_t *err)
{
	_cleanup_free_ char *name = ctr_name(c, s);
	cb_error_t e = CB_ERROR_INIT;
	bld_ctr_t *ctr = bld_ctr_load(st, name, &e);
	if (!ctr && e.code != ENOENT)
		cb_error_move(err, &e);
	cb_error_release(&e);
	return ctr;
}

static int64_t ms_of(int64_t ns, int64_t dflt)
{
	return ns > 0 ? ns / 1000000 : dflt;
}

/* ---- creating the containers ---- */

static char *volume_spec(const compose_t *c, const df_compose_service_t *s, size_t i,
			 cb_error_t *err)
{
	const df_compose_mount_t *m = &s->volumes[i];
	const char *ro = m->read_only ? ":ro" : "";
	if (m->type == DF_MOUNT_BIND) {
		if (!cb_path_exists(m->source)) {
			if (!m->create_host_path)
				return cb_error_fail(err, ENOENT, "service '%s': bind source '%s' does "
						     "not exist", s->name, m->source), NULL;
			if (cb_mkdir_p(m->source, 0755, err) < 0)
				return NULL;
		}
		return cb_asprintf("%s:%s%s", m->source, m->target, ro);
	}
	if (m->type == DF_MOUNT_TMPFS) {
		cb_warn("service '%s': tmpfs on '%s' is not supported, ignored", s->name, m->target);
		return cb_xstrdup("");
	}
	if (!m->source)
		return cb_asprintf("%s_%s_anon%zu:%s%s", c->p->name, s->name, i, m->target, ro);
	const df_compose_volume_t *v = df_compose_volume(c->p, m->source);
	return cb_asprintf("%s:%s%s", v ? v->name : m->source, m->target, ro);
}

static void effective_health(store_t *st, const df_compose_service_t *s, const char *digest,
			     df_compose_healthcheck_t *hc);

static int create_one(compose_t *c, store_t *st, const df_compose_service_t *s,
		      const char *hosts, bld_ctr_t **out, df_compose_healthcheck_t *hc,
		      cb_error_t *err)
{
	_cleanup_free_ char *ref = compose_image_ref(c, s, err);
	if (!ref)
		return -1;
	_cleanup_free_ char *digest = NULL;
	bool always = s->pull_policy && !strcmp(s->pull_policy, "always");
	if (cmd_resolve_image(c->ctx, st, ref, always, NULL, &digest, err) < 0)
		return cb_error_wrap(err, "service '%s'", s->name);
	_cleanup_strv_ char **env = NULL, **vols = NULL, **cmd = NULL;
	if (compose_service_env(c, s, &env, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_volumes; i++) {
		char *v = volume_spec(c, s, i, err);
		if (!v)
			return -1;
		if (*v)
			vols = cb_strv_push_take(vols, v);
		else
			free(v);
	}
	vols = cb_strv_push_take(vols, cb_asprintf("%s:/etc/hosts:ro", hosts));
	_cleanup_free_ char *name = ctr_name(c, s);
	_cleanup_free_ char *shown = reg_ref_shorten(ref);
	bld_ctr_spec_t spec = {0};
	spec.image = digest;
	spec.image_name = shown;
	spec.name = name;
	if (s->entrypoint_set) { /* Docker: a new entrypoint drops the image's CMD */
		spec.entrypoint = "";
		cmd = cb_strv_dup(s->entrypoint);
		for (size_t i = 0; s->command && s->command[i]; i++)
			cmd = cb_strv_push(cmd, s->command[i]);
		if (!cmd || !cmd[0])
			return cb_error_fail(err, EINVAL, "service '%s': empty entrypoint", s->name);
	} else if (s->command_set && s->command && s->command[0]) {
		cmd = cb_strv_dup(s->command);
	}
	spec.cmd = cmd;
	spec.env = env;
	spec.cwd = s->working_dir;
	spec.user = s->user;
	spec.hostname = s->hostname ? s->hostname : s->name;
	spec.volumes = vols;
	spec.network = "host"; /* the pod's namespace: see the top of this file */
	if (bld_ctr_create(st, &spec, out, err) < 0)
		return cb_error_wrap(err, "service '%s'", s->name);
	effective_health(st, s, digest, hc);
	return 0;
}

/* The healthcheck a service runs: its own, else its image's HEALTHCHECK
 * (Docker's Healthcheck object: Test, Interval, Timeout, StartPeriod,
 * StartInterval in ns, Retries). */
static void effective_health(store_t *st, const df_compose_service_t *s, const char *digest,
			     df_compose_healthcheck_t *hc)
{
	*hc = s->healthcheck;
	hc->test = NULL;
	if (s->healthcheck.test) {
		hc->test = cb_strv_dup(s->healthcheck.test);
		return;
	}
	cb_error_t e = CB_ERROR_INIT;
	image_t *img = image_load(st, digest, &e);
	cb_error_release(&e);
	json_t *j = img && img->config ? img->config->healthcheck : NULL;
	json_t *test = json_object_get(j, "Test"), *it;
	size_t i;
	json_array_foreach(test, i, it)
		if (json_is_string(it))
			hc->test = cb_strv_push(hc->test, json_string_value(it));
	hc->interval_ns = json_integer_value(json_object_get(j, "Interval"));
	hc->timeout_ns = json_integer_value(json_object_get(j, "Timeout"));
	hc->start_period_ns = json_integer_value(json_object_get(j, "StartPeriod"));
	hc->start_interval_ns = json_integer_value(json_object_get(j, "StartInterval"));
	hc->retries = (int)json_integer_value(json_object_get(j, "Retries"));
	image_free(img);
}

static int write_hosts(store_t *st, const compose_t *c, char **path, cb_error_t *err)
{
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addstr(&b, "127.0.0.1\tlocalhost");
	for (size_t i = 0; i < c->p->n_services; i++) {
		const df_compose_service_t *s = &c->p->services[i];
		_cleanup_free_ char *cn = ctr_name(c, s);
		cb_buf_addf(&b, " %s %s", s->name, cn);
		if (s->hostname && strcmp(s->hostname, s->name))
			cb_buf_addf(&b, " %s", s->hostname);
	}
	cb_buf_addstr(&b, "\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	for (size_t i = 0; i < c->p->n_services; i++)
		for (size_t k = 0; c->p->services[i].extra_hosts && c->p->services[i].extra_hosts[k]; k++) {
			const char *h = c->p->services[i].extra_hosts[k];
			const char *colon = strchr(h, ':');
			if (colon)
				cb_buf_addf(&b, "%s\t%.*s\n", colon + 1, (int)(colon - h), h);
		}
	*path = state_path(st, c, "hosts");
	int rc = cb_write_file_atomic(*path, NULL, b.data, b.len, 0644, err);
	cb_buf_release(&b);
	return rc;
}

/* ---- ports: listeners on the host, forwarded into the pod ---- */

/* Bound before anything starts, so that "port in use" is an error of `up`;
 * the supervisor forwards them (runtime/forward.h) from inside the pod. */
static int bind_ports(const compose_t *c, const size_t *idx, size_t n, rt_fwd_t **out,
		      size_t *nout, cb_error_t *err)
{
	rt_fwd_t *v = NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		for (size_t p = 0; p < s->n_ports; p++) {
			const df_compose_port_t *pt = &s->ports[p];
			if (!pt->published)
				continue;
			if (strcmp(pt->protocol, "tcp")) {
				cb_warn("service '%s': %u/%s is not published (tcp only)", s->name,
					pt->published, pt->protocol);
				continue;
			}
			int fd = rt_fwd_listen(pt->host_ip ? pt->host_ip : "0.0.0.0",
					       (uint16_t)pt->published, false);
			if (fd < 0) {
				cb_error_errno(err, "service '%s': publish port %u", s->name, pt->published);
				for (size_t q = 0; q < k; q++)
					close(v[q].listen_fd);
				free(v);
				return -1;
			}
			v = cb_xreallocarray(v, k + 1, sizeof(*v));
			v[k++] = (rt_fwd_t){.listen_fd = fd, .netns_fd = -1,
					    .ctr_port = (uint16_t)pt->target};
		}
	}
	*out = v;
	*nout = k;
	return 0;
}

/* ---- the supervisor ---- */

typedef enum { SV_PENDING, SV_RUNNING, SV_EXITED, SV_FAILED } sv_state_t;
typedef enum { H_NONE, H_STARTING, H_HEALTHY, H_UNHEALTHY } health_t;

typedef struct svc {
	const df_compose_service_t *s;
	bld_ctr_t *ctr;
	df_compose_healthcheck_t hc; /* compose's, else the image's HEALTHCHECK (test owned) */
	sv_state_t state;
	int restarts;
	int64_t restart_at, next_check, started_at;
	health_t health;
	int fails;
} svc_t;

typedef struct sup {
	compose_t *c;
	store_t *st;
	svc_t *v;
	size_t n;
	int report_fd; /* to the `up` that forked us; -1 once ready */
	rt_fwd_t *ls;
	size_t nls;
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
	_cleanup_free_ char *p = state_path(u->st, u->c, file);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_write_file_atomic(p, NULL, names[sv->health], strlen(names[sv->health]), 0644, &e) < 0)
		cb_error_release(&e);
}

/* One run of the healthcheck inside the container. */
static void health_check(sup_t *u, svc_t *sv)
{
	const df_compose_healthcheck_t *h = &sv->hc;
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
	if (bld_ctr_start_detached(u->st, sv->ctr, err) < 0)
		return cb_error_wrap(err, "start service '%s'", sv->s->name);
	if (bld_ctr_refresh(u->st, sv->ctr, err) < 0)
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
	for (size_t d = 0; d < sv->s->n_depends_on; d++) {
		const df_compose_dep_t *dep = &sv->s->depends_on[d];
		svc_t *o = sup_find(u, dep->service);
		if (!o) /* not selected (--no-deps): not waited for */
			continue;
		if (o->state == SV_FAILED)
			return cb_error_fail(err, EIO, "service '%s': dependency '%s' failed to start",
					     sv->s->name, o->s->name);
		switch (dep->condition) {
		case DF_DEP_STARTED:
			if (o->state == SV_PENDING)
				return 0;
			break;
		case DF_DEP_HEALTHY:
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
		case DF_DEP_COMPLETED:
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
	const df_compose_restart_t *r = &sv->s->restart;
	switch (r->kind) {
	case DF_RESTART_ALWAYS:
	case DF_RESTART_UNLESS_STOPPED:
		return true;
	case DF_RESTART_ON_FAILURE:
		return sv->ctr->exit_code != 0 && (!r->max_retries || sv->restarts < r->max_retries);
	default:
		return false;
	}
}

/* PID 1 is gone but its monitor has not yet written the exit code: the
 * library reads that moment as "exited (137)"; wait for the real state. */
static bool monitor_finishing(const bld_ctr_t *c)
{
	return c->monitor_pid > 0 && c->monitor_start &&
	       bld_ctr_proc_start(c->monitor_pid) == c->monitor_start;
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
		if (sv->state == SV_RUNNING && bld_ctr_refresh(u->st, sv->ctr, &e) == 0 &&
		    sv->ctr->status == BLD_CTR_EXITED && !monitor_finishing(sv->ctr)) {
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

/* The pod is this process's network namespace: the forwarders connect to
 * the services' ports on its loopback. */
static int start_forwarders(sup_t *u, cb_error_t *err)
{
	if (!u->nls)
		return 0;
	int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return cb_error_errno(err, "open '/proc/self/ns/net'");
	for (size_t i = 0; i < u->nls; i++) {
		u->ls[i].netns_fd = ns;
		if (rt_fwd_start(&u->ls[i], err) < 0)
			return -1;
	}
	return 0;
}

/* The supervisor process: never returns. */
static _Noreturn void supervise(sup_t *u)
{
	cb_error_t e = CB_ERROR_INIT;
	setsid();
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	_cleanup_free_ char *logp = state_path(u->st, u->c, "supervisor.log");
	int lfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (lfd >= 0 && nfd >= 0) {
		dup2(nfd, 0);
		dup2(lfd, 1);
		dup2(lfd, 2);
	}
	if (unshare(CLONE_NEWNET) < 0 || sbx_loopback_up(&e) < 0 || start_forwarders(u, &e) < 0) {
		if (!cb_error_is_set(&e))
			cb_error_errno(&e, "new network namespace for the project");
		char buf[512];
		report(u, "error %s", cb_error_format(&e, buf, sizeof(buf)));
		report(u, "failed");
		_exit(1);
	}
	_cleanup_free_ char *pidp = state_path(u->st, u->c, "supervisor");
	_cleanup_free_ char *line = cb_asprintf("%ld %llu\n", (long)getpid(),
						(unsigned long long)bld_ctr_proc_start(getpid()));
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

/* ---- logs ---- */

typedef struct follow {
	const df_compose_service_t *s;
	bld_ctr_t *ctr;
	char *name;
	off_t off;
	cb_buf_t partial;
} follow_t;

static void print_log(follow_t *f, const char *rec, size_t len, int width, bool stamps,
		      bool prefix)
{
	const char *sp1 = memchr(rec, ' ', len);
	if (!sp1 || (size_t)(sp1 - rec) + 5 > len)
		return;
	bool full = sp1[3] == 'F';
	const char *text = sp1 + 5;
	cb_buf_add(&f->partial, text, len - (size_t)(text - rec));
	if (!full)
		return;
	if (prefix)
		printf("%-*s | ", width, f->name);
	if (stamps)
		printf("%.*s ", (int)(sp1 - rec), rec);
	printf("%s\n", f->partial.data);
	cb_buf_reset(&f->partial);
}

/* Print what the log has past f->off (complete records only); tail >= 0
 * keeps only the last tail records of this first read. */
static void read_log(follow_t *f, int width, long tail, bool stamps, bool prefix)
{
	_cleanup_free_ char *path = cb_path_join(f->ctr->dir, "log");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat sb;
	if (fstat(fd, &sb) < 0 || sb.st_size <= f->off)
		return;
	size_t len = (size_t)(sb.st_size - f->off);
	char *buf = cb_xmalloc(len + 1);
	ssize_t r = pread(fd, buf, len, f->off);
	if (r <= 0) {
		free(buf);
		return;
	}
	len = (size_t)r;
	char *end = memrchr(buf, '\n', len);
	if (!end) {
		free(buf);
		return;
	}
	size_t use = (size_t)(end - buf) + 1;
	f->off += (off_t)use;
	const char *p = buf;
	if (tail >= 0) {
		long lines = 0;
		for (const char *q = buf + use; q > buf; q--)
			if (q[-1] == '\n' && ++lines > tail) {
				p = q;
				break;
			}
	}
	while (p < buf + use) {
		const char *nl = memchr(p, '\n', (size_t)(buf + use - p));
		print_log(f, p, (size_t)(nl - p), width, stamps, prefix);
		p = nl + 1;
	}
	fflush(stdout);
	free(buf);
}

typedef struct logs_opts {
	bool follow, stamps, prefix;
	long tail;
} logs_opts_t;

static volatile sig_atomic_t logs_stop;
static void on_logs_sig(int sig) { (void)sig; logs_stop = 1; }

static int follow_logs(compose_t *c, store_t *st, const size_t *idx, size_t n,
		       const logs_opts_t *o, cb_error_t *err)
{
	follow_t *fs = cb_xcalloc(n + 1, sizeof(*fs));
	size_t nf = 0;
	int width = 0;
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		bld_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				goto out;
			continue;
		}
		fs[nf] = (follow_t){.s = s, .ctr = ctr, .name = ctr_name(c, s)};
		cb_buf_init(&fs[nf].partial);
		if ((int)strlen(fs[nf].name) > width)
			width = (int)strlen(fs[nf].name);
		nf++;
	}
	for (size_t i = 0; i < nf; i++)
		read_log(&fs[i], width, o->tail, o->stamps, o->prefix);
	if (o->follow) {
		struct sigaction sa = {.sa_handler = on_logs_sig}, old_int, old_term;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		int quiet_rounds = 0;
		while (!logs_stop && quiet_rounds < 3) {
			usleep(150000);
			bool running = false;
			for (size_t i = 0; i < nf; i++) {
				cb_error_t e = CB_ERROR_INIT;
				if (bld_ctr_refresh(st, fs[i].ctr, &e) < 0)
					cb_error_release(&e);
				running |= fs[i].ctr->status == BLD_CTR_RUNNING;
				read_log(&fs[i], width, -1, o->stamps, o->prefix);
			}
			/* restart policies can bring an exited one back: wait a little */
			quiet_rounds = running || supervisor_alive(st, c) ? 0 : quiet_rounds + 1;
		}
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
out:
	for (size_t i = 0; i < nf; i++) {
		bld_ctr_free(fs[i].ctr);
		free(fs[i].name);
		cb_buf_release(&fs[i].partial);
	}
	free(fs);
	return cb_error_is_set(err) ? -1 : 0;
}

int compose_logs(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	logs_opts_t o = {.prefix = true, .tail = -1};
	_cleanup_strv_ char **names = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-f") || !strcmp(a, "--follow"))
			o.follow = true;
		else if (!strcmp(a, "-t") || !strcmp(a, "--timestamps"))
			o.stamps = true;
		else if (!strcmp(a, "--no-log-prefix"))
			o.prefix = false;
		else if (!strcmp(a, "--tail") || !strcmp(a, "-n")) {
			if (i + 1 >= argc)
				return cmd_usage_error(err, "--tail needs a number");
			const char *v = argv[++i];
			o.tail = strcmp(v, "all") ? atol(v) : -1;
		} else if (cb_str_has_prefix(a, "--tail=")) {
			o.tail = strcmp(a + 7, "all") ? atol(a + 7) : -1;
		} else if (a[0] == '-') {
			return cmd_usage_error(err, "unknown option '%s'", a);
		} else {
			names = cb_strv_push(names, a);
		}
	}
	store_t *st = cmd_store(c->ctx, err);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	if (!st || df_compose_select(c->p, names, false, &idx, &n, err) < 0)
		return -1;
	return follow_logs(c, st, idx, n, &o, err);
}

/* ---- down ---- */

static void stop_supervisor(store_t *st, const compose_t *c)
{
	pid_t pid = supervisor_alive(st, c);
	if (!pid)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 50 && supervisor_alive(st, c) == pid; i++)
		usleep(100000);
	if (supervisor_alive(st, c) == pid)
		kill(pid, SIGKILL);
}

static int stop_timeout(const df_compose_service_t *s, int given)
{
	if (given >= 0)
		return given;
	return s->stop_grace_period_ns > 0 ? (int)(s->stop_grace_period_ns / 1000000000) : 10;
}

static int remove_services(compose_t *c, store_t *st, int timeout, cb_error_t *err)
{
	for (size_t k = c->p->n_services; k-- > 0;) {
		const df_compose_service_t *s = &c->p->services[c->p->order[k]];
		bld_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				return -1;
			continue;
		}
		int rc = bld_ctr_stop(st, ctr, stop_timeout(s, timeout), err);
		if (rc == 0)
			rc = bld_ctr_remove(st, ctr, true, err);
		if (rc == 0)
			fprintf(stderr, "Container %s  Removed\n", ctr->name);
		bld_ctr_free(ctr);
		if (rc < 0)
			return cb_error_wrap(err, "service '%s'", s->name);
	}
	return 0;
}

static int remove_volumes(compose_t *c, store_t *st, cb_error_t *err)
{
	_cleanup_strv_ char **names = NULL;
	for (size_t i = 0; i < c->p->n_volumes; i++)
		if (!c->p->volumes[i].external)
			names = cb_strv_push(names, c->p->volumes[i].name);
	for (size_t i = 0; i < c->p->n_services; i++)
		for (size_t k = 0; k < c->p->services[i].n_volumes; k++)
			if (c->p->services[i].volumes[k].type == DF_MOUNT_VOLUME &&
			    !c->p->services[i].volumes[k].source)
				names = cb_strv_push_take(names, cb_asprintf("%s_%s_anon%zu", c->p->name,
									     c->p->services[i].name, k));
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_free_ char *sub = cb_asprintf("volumes/%s", names[i]);
		_cleanup_free_ char *p = store_path(st, sub);
		if (!cb_path_exists(p))
			continue;
		if (cb_rm_rf(p, err) < 0)
			return cb_error_wrap(err, "remove volume '%s'", names[i]);
		fprintf(stderr, "Volume %s  Removed\n", names[i]);
	}
	return 0;
}

int compose_down(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	bool volumes = false;
	int timeout = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--volumes"))
			volumes = true;
		else if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--timeout")) && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else
			return cmd_usage_error(err, "unknown option '%s'", argv[i]);
	}
	store_t *st = cmd_store(c->ctx, err);
	if (!st)
		return -1;
	stop_supervisor(st, c);
	if (remove_services(c, st, timeout, err) < 0)
		return -1;
	if (volumes && remove_volumes(c, st, err) < 0)
		return -1;
	_cleanup_free_ char *dir = state_path(st, c, NULL);
	return cb_rm_rf(dir, err);
}

/* ---- up ---- */

typedef struct up_opts {
	bool detach, build, no_build, no_deps;
	char **names;
} up_opts_t;

static int parse_up(int argc, char **argv, up_opts_t *o, cb_error_t *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-d") || !strcmp(a, "--detach"))
			o->detach = true;
		else if (!strcmp(a, "--build"))
			o->build = true;
		else if (!strcmp(a, "--no-build"))
			o->no_build = true;
		else if (!strcmp(a, "--no-deps"))
			o->no_deps = true;
		else if (a[0] == '-')
			return cmd_usage_error(err, "unknown option '%s'", a);
		else
			o->names = cb_strv_push(o->names, a);
	}
	if (o->build && o->no_build)
		return cmd_usage_error(err, "--build and --no-build exclude each other");
	return 0;
}

/* Build what --build asks for, and what has a build but no image yet. */
static int build_missing(compose_t *c, store_t *st, const size_t *idx, size_t n,
			 const up_opts_t *o, cb_error_t *err)
{
	_cleanup_free_ size_t *todo = cb_xcalloc(n + 1, sizeof(size_t));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		if (!s->build || o->no_build)
			continue;
		_cleanup_free_ char *ref = compose_image_ref(c, s, err);
		if (!ref)
			return -1;
		store_ref_t r = {0};
		bool have = store_get_ref(st, ref, &r, NULL) == 0;
		store_ref_release(&r);
		if (o->build || !have)
			todo[k++] = idx[i];
	}
	if (!k)
		return 0;
	compose_build_opts_t bo = {0};
	return compose_build_services(c, todo, k, &bo, err);
}

/* Remove what a previous `up` left of the selected services. */
static int clear_old(compose_t *c, store_t *st, const size_t *idx, size_t n, cb_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		bld_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				return -1;
			continue;
		}
		int rc = bld_ctr_remove(st, ctr, true, err);
		bld_ctr_free(ctr);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Read the supervisor's report until "ready" or "failed". */
static int wait_ready(compose_t *c, int fd, cb_error_t *err)
{
	FILE *f = fdopen(fd, "r");
	char line[2048];
	_cleanup_free_ char *first_err = NULL;
	bool ready = false;
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (cb_str_has_prefix(line, "started ")) {
			const df_compose_service_t *s = df_compose_service(c->p, line + 8);
			_cleanup_free_ char *cn = s ? ctr_name(c, s) : cb_xstrdup(line + 8);
			fprintf(stderr, "Container %s  Started\n", cn);
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

static int start_project(compose_t *c, store_t *st, svc_t *v, size_t n, rt_fwd_t *ls,
			 size_t nls, cb_error_t *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return cb_error_errno(err, "fork");
	}
	if (pid == 0) {
		close(p[0]);
		/* our own store handle: flock is per open file, not per process */
		store_t *mine = NULL;
		cb_error_t e = CB_ERROR_INIT;
		if (store_open(store_root(st), &mine, &e) < 0)
			_exit(1);
		sup_t u = {.c = c, .st = mine, .v = v, .n = n, .report_fd = p[1], .ls = ls,
			   .nls = nls};
		supervise(&u);
	}
	close(p[1]);
	for (size_t i = 0; i < nls; i++)
		close(ls[i].listen_fd);
	return wait_ready(c, p[0], err);
}

static volatile sig_atomic_t up_interrupted;
static void on_up_sig(int sig) { (void)sig; up_interrupted = 1; }

int compose_up(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	up_opts_t o = {0};
	int rc = parse_up(argc, argv, &o, err);
	if (rc) {
		cb_strv_free(o.names);
		return rc;
	}
	_cleanup_strv_ char **names = o.names;
	store_t *st = cmd_store(c->ctx, err);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	if (!st || df_compose_select(c->p, names, !o.no_deps, &idx, &n, err) < 0)
		return -1;
	if (supervisor_alive(st, c))
		return cb_error_fail(err, EBUSY, "project '%s' is already up: run 'compose down' "
				     "first", c->p->name);
	_cleanup_free_ char *dir = state_path(st, c, NULL);
	_cleanup_free_ char *hosts = NULL;
	if (build_missing(c, st, idx, n, &o, err) < 0 || cb_mkdir_p(dir, 0700, err) < 0 ||
	    write_hosts(st, c, &hosts, err) < 0 || clear_old(c, st, idx, n, err) < 0)
		return -1;
	svc_t *v = cb_xcalloc(n + 1, sizeof(*v));
	rt_fwd_t *ls = NULL;
	size_t nls = 0;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		v[i].s = &c->p->services[idx[i]];
		rc = create_one(c, st, v[i].s, hosts, &v[i].ctr, &v[i].hc, err);
		if (rc == 0)
			fprintf(stderr, "Container %s  Created\n", v[i].ctr->name);
	}
	if (rc == 0)
		rc = bind_ports(c, idx, n, &ls, &nls, err);
	if (rc == 0)
		rc = start_project(c, st, v, n, ls, nls, err);
	if (rc == 0 && !o.detach) {
		/* attached: follow the logs; Ctrl-C stops the project's containers */
		logs_opts_t lo = {.follow = true, .prefix = true, .tail = -1};
		struct sigaction sa = {.sa_handler = on_up_sig}, old;
		sigaction(SIGINT, &sa, &old);
		rc = follow_logs(c, st, idx, n, &lo, err);
		sigaction(SIGINT, &old, NULL);
		if (logs_stop || up_interrupted) {
			fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
			stop_supervisor(st, c);
			for (size_t i = 0; i < n; i++) {
				cb_error_t e = CB_ERROR_INIT;
				if (bld_ctr_stop(st, v[i].ctr, stop_timeout(v[i].s, -1), &e) < 0)
					cb_warn_error(&e);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		bld_ctr_free(v[i].ctr);
		cb_strv_free(v[i].hc.test);
	}
	free(v);
	free(ls);
	return rc;
}

/* ---- ps ---- */

static void ago(char *buf, size_t len, int64_t secs)
{
	if (secs < 60)
		snprintf(buf, len, "%lld seconds", (long long)secs);
	else if (secs < 3600)
		snprintf(buf, len, "%lld minutes", (long long)(secs / 60));
	else
		snprintf(buf, len, "%lld hours", (long long)(secs / 3600));
}

int compose_ps(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	bool all = false, quiet = false, services = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
			all = true;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--services"))
			services = true;
		else
			return cmd_usage_error(err, "unknown option '%s'", argv[i]);
	}
	store_t *st = cmd_store(c->ctx, err);
	if (!st)
		return -1;
	if (!quiet && !services)
		printf("%-24s %-28s %-10s %-28s %s\n", "NAME", "IMAGE", "SERVICE", "STATUS", "PORTS");
	int64_t now = time(NULL);
	for (size_t k = 0; k < c->p->n_services; k++) {
		const df_compose_service_t *s = &c->p->services[c->p->order[k]];
		bld_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				return -1;
			continue;
		}
		bool running = ctr->status == BLD_CTR_RUNNING;
		if (running || all) {
			char status[128], when[64];
			_cleanup_free_ char *hf = cb_asprintf("health-%s", s->name);
			_cleanup_free_ char *hp = state_path(st, c, hf);
			_cleanup_free_ char *health = NULL;
			size_t hl = 0;
			cb_error_t e = CB_ERROR_INIT;
			if (!running || cb_read_file(hp, 64, &health, &hl, &e) < 0)
				cb_error_release(&e);
			if (running) {
				ago(when, sizeof(when), now - ctr->started);
				snprintf(status, sizeof(status), "Up %s%s%s%s", when,
					 health && *health ? " (" : "", health ? health : "",
					 health && *health ? ")" : "");
			} else {
				ago(when, sizeof(when), ctr->finished > 0 ? now - ctr->finished : 0);
				snprintf(status, sizeof(status), "Exited (%d) %s ago", ctr->exit_code, when);
			}
			cb_buf_t ports;
			cb_buf_init(&ports);
			for (size_t p = 0; p < s->n_ports; p++)
				if (s->ports[p].published)
					cb_buf_addf(&ports, "%s%s:%u->%u/%s", ports.len ? ", " : "",
						    s->ports[p].host_ip ? s->ports[p].host_ip : "0.0.0.0",
						    s->ports[p].published, s->ports[p].target,
						    s->ports[p].protocol);
			if (quiet)
				printf("%s\n", ctr->id);
			else if (services)
				printf("%s\n", s->name);
			else
				printf("%-24s %-28s %-10s %-28s %s\n", ctr->name, ctr->image_name, s->name,
				       status, ports.data);
			cb_buf_release(&ports);
		}
		bld_ctr_free(ctr);
	}
	return 0;
}
