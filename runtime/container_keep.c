/*
 * The keeper: the process a detached container leaves behind (there is no
 * daemon). It forks one monitor per run of the container (ctr_monitor_run
 * in container_run.c: the overlay, the log, the exit record), runs the
 * healthcheck inside the container while it runs, and restarts it by its
 * --restart policy with docker's back-off. `stop` leaves a mark (ID/stopped)
 * before it signals, so an exit it caused is never restarted.
 *
 * The keeper itself stays in the host's namespaces: every run gets a fresh
 * monitor, with a fresh mount namespace and network attachment, exactly as
 * the first start had.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/container_ops.h"
#include "runtime/monitor.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/places.h"
#include "store/json.h"

/* docker's restartmanager: 100 ms, doubled per restart, at most a minute;
 * back to 100 ms after a run of 10 s or more */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 60000
#define BACKOFF_RESET_MS 10000
/* docker's health monitor: the last 5 results, 4 KiB of output each */
#define HEALTH_LOG_MAX 5
#define HEALTH_OUTPUT_MAX 4096

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ms_of(int64_t ns, int64_t dflt) { return ns > 0 ? (ns + 999999) / 1000000 : dflt; }

/* ---- policies ---- */

static const char *const restart_names[] = {"no", "always", "on-failure", "unless-stopped"};

const char *rt_ctr_restart_name(rt_ctr_restart_kind_t kind)
{
	return (size_t)kind < CB_ARRAY_SIZE(restart_names) ? restart_names[kind] : "no";
}

int rt_ctr_parse_restart(const char *s, rt_ctr_restart_kind_t *kind, int *max, cb_error_t *err)
{
	if (!s)
		return cb_error_fail(err, EINVAL, "invalid restart policy ''");
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	for (size_t i = 0; i < CB_ARRAY_SIZE(restart_names); i++) {
		if (strlen(restart_names[i]) != n || strncmp(s, restart_names[i], n))
			continue;
		int m = 0;
		if (colon) {
			char *end;
			long v = strtol(colon + 1, &end, 10);
			if (i != RT_CTR_RESTART_ON_FAILURE)
				return cb_error_fail(err, EINVAL, "invalid restart policy '%s': "
						     "maximum retry count can only be used with "
						     "'on-failure'", s);
			if (end == colon + 1 || *end || v < 0 || v > 1000000)
				return cb_error_fail(err, EINVAL, "invalid restart policy '%s': "
						     "maximum retry count must be a positive "
						     "integer", s);
			m = (int)v;
		}
		*kind = (rt_ctr_restart_kind_t)i;
		*max = m;
		return 0;
	}
	return cb_error_fail(err, EINVAL, "invalid restart policy '%s' (no, always, "
			     "unless-stopped, on-failure[:max-retries])", s);
}

/* docker's ShouldRestart, after an exit it did not cause by `stop` */
static bool should_restart(const rt_ctr_t *c)
{
	switch (c->restart) {
	case RT_CTR_RESTART_ALWAYS:
	case RT_CTR_RESTART_UNLESS_STOPPED:
		return true;
	case RT_CTR_RESTART_ON_FAILURE:
		return c->exit_code != 0 && (!c->restart_max || c->restart_count < c->restart_max);
	default:
		return false;
	}
}

/* ---- the stop mark ---- */

int ctr_mark_stopped(const rt_ctr_t *c, bool stopped, cb_error_t *err)
{
	_cleanup_free_ char *p = ctr_path(c, "stopped");
	if (!stopped) {
		if (unlink(p) < 0 && errno != ENOENT)
			return cb_error_errno(err, "remove '%s'", p);
		return 0;
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return cb_error_errno(err, "create '%s'", p);
	close(fd);
	return 0;
}

int rt_ctr_mark_stopped(const rt_ctr_t *c, cb_error_t *err)
{
	return ctr_mark_stopped(c, true, err);
}

bool ctr_is_marked_stopped(const rt_ctr_t *c)
{
	_cleanup_free_ char *p = ctr_path(c, "stopped");
	return cb_path_exists(p);
}

void ctr_keeper_end(const rt_ctr_t *c)
{
	if (!ctr_pid_alive(c->keeper_pid, c->keeper_start))
		return;
	kill(c->keeper_pid, SIGTERM);
	for (int i = 0; i < 200 && ctr_pid_alive(c->keeper_pid, c->keeper_start); i++)
		usleep(25 * 1000);
}

/* ---- healthcheck config ---- */

void rt_health_from_image(const oci_config_t *img, rt_ctr_health_t *out)
{
	json_t *j = img ? img->healthcheck : NULL;
	json_t *test = json_object_get(j, "Test"), *it;
	size_t i;
	json_array_foreach(test, i, it)
		if (json_is_string(it))
			out->test = cb_strv_push(out->test, json_string_value(it));
	out->interval_ns = json_integer_value(json_object_get(j, "Interval"));
	out->timeout_ns = json_integer_value(json_object_get(j, "Timeout"));
	out->start_period_ns = json_integer_value(json_object_get(j, "StartPeriod"));
	out->start_interval_ns = json_integer_value(json_object_get(j, "StartInterval"));
	out->retries = (int)json_integer_value(json_object_get(j, "Retries"));
}

void ctr_health_resolve(const rt_ctr_spec_t *s, const oci_config_t *img, rt_ctr_health_t *out)
{
	memset(out, 0, sizeof *out);
	if (s->no_healthcheck)
		return;
	rt_health_from_image(img, out);
	if (s->health_cmd) {
		cb_strv_free(out->test);
		out->test = cb_strv_push(cb_strv_push(NULL, "CMD-SHELL"), s->health_cmd);
	}
	if (s->health_interval_ns > 0)
		out->interval_ns = s->health_interval_ns;
	if (s->health_timeout_ns > 0)
		out->timeout_ns = s->health_timeout_ns;
	if (s->health_start_period_ns > 0)
		out->start_period_ns = s->health_start_period_ns;
	if (s->health_retries > 0)
		out->retries = s->health_retries;
	/* HEALTHCHECK NONE, or an empty test: none */
	if (out->test && (!out->test[0] || !strcmp(out->test[0], "NONE"))) {
		cb_strv_free(out->test);
		out->test = NULL;
	}
}

static bool has_health(const rt_ctr_t *c) { return c->health.test && c->health.test[0]; }

/* ---- health state: ID/health.json, docker's State.Health ---- */

static void health_save(store_t *st, const rt_ctr_t *c, json_t *h)
{
	char *text = oci_json_dumps(h, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	_cleanup_free_ char *path = ctr_path(c, "health.json");
	cb_error_t e = CB_ERROR_INIT;
	(void)st;
	/* beside it, no fsync: readers see a whole one; a crash loses a check */
	if (cb_write_file_replace(path, NULL, text, strlen(text), 0644, false, &e) < 0)
		cb_error_release(&e);
	free(text);
}

void *rt_ctr_health_json(const rt_ctr_t *c)
{
	if (!has_health(c))
		return NULL;
	_cleanup_free_ char *path = ctr_path(c, "health.json");
	json_t *j = json_load_file(path, 0, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	/* before the keeper's first word on this run: docker's initial state */
	if (!j)
		j = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
	/* a stopped container keeps its last checks, marked unhealthy (docker's
	 * State.SetStopped); the keeper starts afresh on the next start */
	if (c->status != RT_CTR_RUNNING)
		json_object_set_new(j, "Status", json_string("unhealthy"));
	return j;
}

char *rt_ctr_health_status(const rt_ctr_t *c)
{
	json_t *j = rt_ctr_health_json(c);
	const char *s = json_string_value(json_object_get(j, "Status"));
	char *out = s ? cb_xstrdup(s) : NULL;
	json_decref(j);
	return out;
}

/* ---- one healthcheck ---- */

static volatile sig_atomic_t probe_pid;
static volatile sig_atomic_t keep_term;

static void on_alarm(int sig)
{
	(void)sig;
	pid_t p = probe_pid;
	if (p > 0)
		kill(p, SIGKILL);
}

static void on_term(int sig)
{
	(void)sig;
	keep_term = 1;
}

static void on_chld(int sig) { (void)sig; /* only to cut a sleep short */ }

static int probe_output(void *opaque, int stream, const char *data, size_t len, cb_error_t *err)
{
	cb_buf_t *b = opaque;
	(void)stream, (void)err;
	if (b->len < HEALTH_OUTPUT_MAX)
		cb_buf_add(b, data, len < HEALTH_OUTPUT_MAX - b->len ? len : HEALTH_OUTPUT_MAX - b->len);
	return 0;
}

/* Run the test in the container; its exit code (-1: it could not run or
 * timed out), its output in *out. */
static int probe(const rt_ctr_t *c, cb_buf_t *out)
{
	char **t = c->health.test;
	_cleanup_strv_ char **argv = NULL;
	if (!strcmp(t[0], "CMD-SHELL"))
		argv = cb_strv_push(cb_strv_push(cb_strv_push(NULL, "/bin/sh"), "-c"),
				    t[1] ? t[1] : "true");
	else
		argv = cb_strv_dup(t + 1);
	if (!argv || !argv[0])
		return -1;
	sbx_config_t cfg;
	sbx_config_init(&cfg);
	cfg.argv = argv;
	cfg.env = c->env;
	cfg.cwd = c->cwd;
	cfg.user = c->user && *c->user ? c->user : NULL;
	cfg.output_cb = probe_output;
	cfg.output_opaque = out;
	cfg.tty_raw = false;
	cfg.forward_signals = false;
	sbx_handle_t *h = NULL;
	sbx_status_t status;
	cb_error_t e = CB_ERROR_INIT;
	if (sbx_exec_start(c->pid, &cfg, &h, &e) < 0) {
		char buf[512];
		cb_buf_addstr(out, cb_error_format(&e, buf, sizeof buf));
		cb_error_release(&e);
		return -1;
	}
	int64_t ms = ms_of(c->health.timeout_ns, 30000);
	probe_pid = sbx_handle_pid(h);
	struct itimerval tv = {.it_value = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000}};
	setitimer(ITIMER_REAL, &tv, NULL);
	int rc = sbx_wait(h, true, &status, &e);
	struct itimerval off = {0};
	setitimer(ITIMER_REAL, &off, NULL);
	probe_pid = 0;
	sbx_handle_free(h);
	if (rc < 0) {
		cb_error_release(&e);
		return -1;
	}
	if (status.signaled && status.signal == SIGKILL) {
		out->len = 0;
		cb_buf_addf(out, "Health check exceeded timeout (%lldms)", (long long)ms);
		return -1;
	}
	return sbx_status_shell_code(&status);
}

typedef struct health_run {
	json_t *state;     /* {Status, FailingStreak, Log} */
	int64_t started;   /* ms, monotonic: the start period counts from here */
	int64_t next;
} health_run_t;

static void health_begin(store_t *st, const rt_ctr_t *c, health_run_t *hr)
{
	json_decref(hr->state);
	hr->state = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
	hr->started = now_ms();
	hr->next = hr->started + ms_of(c->health.interval_ns, 30000);
	health_save(st, c, hr->state);
}

/* docker's handleProbeResult: a success is healthy at once; failures
 * count (not within the start period) and make it unhealthy at retries. */
static void health_check(store_t *st, const rt_ctr_t *c, health_run_t *hr)
{
	char start[CB_RFC3339_LEN], end[CB_RFC3339_LEN];
	cb_rfc3339_now(start);
	cb_buf_t out;
	cb_buf_init(&out);
	int code = probe(c, &out);
	cb_rfc3339_now(end);
	int64_t now = now_ms();
	hr->next = now + ms_of(c->health.interval_ns, 30000);
	json_t *log = json_object_get(hr->state, "Log");
	json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:s%}", "Start", start, "End", end,
					     "ExitCode", code, "Output", out.data ? out.data : "",
					     out.len));
	while (json_array_size(log) > HEALTH_LOG_MAX)
		json_array_remove(log, 0);
	cb_buf_release(&out);
	int streak = (int)json_integer_value(json_object_get(hr->state, "FailingStreak"));
	const char *status = json_string_value(json_object_get(hr->state, "Status"));
	if (code == 0) {
		streak = 0;
		status = "healthy";
	} else if (!(cb_streq(status, "starting") &&
		     now - hr->started < ms_of(c->health.start_period_ns, 0))) {
		if (++streak >= (c->health.retries > 0 ? c->health.retries : 3))
			status = "unhealthy";
	}
	json_object_set_new(hr->state, "Status", json_string(status));
	json_object_set_new(hr->state, "FailingStreak", json_integer(streak));
	health_save(st, c, hr->state);
}

/* ---- the keeper ---- */

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL); /* cut short by SIGCHLD or SIGTERM: callers look again */
}

/* The run's PID 1 as its monitor recorded it, once running; false when the
 * monitor ended first. */
static bool wait_running(store_t *st, rt_ctr_t *c, pid_t child)
{
	for (;;) {
		cb_error_t e = CB_ERROR_INIT;
		if (rt_ctr_refresh(st, c, &e) < 0)
			cb_error_release(&e);
		else if (c->status == RT_CTR_RUNNING && c->monitor_pid == child)
			return true;
		if (waitpid(child, NULL, WNOHANG) != 0)
			return false;
		sleep_ms(20);
	}
}

/* Until the run's monitor exits: its wait status. Health checks meanwhile. */
static int watch(store_t *st, rt_ctr_t *c, pid_t child, health_run_t *hr)
{
	int ws = 0;
	if (!has_health(c)) {
		while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
			;
		return ws;
	}
	if (!wait_running(st, c, child)) {
		waitpid(child, &ws, 0);
		return ws;
	}
	health_begin(st, c, hr);
	for (;;) {
		pid_t r = waitpid(child, &ws, WNOHANG);
		if (r == child || (r < 0 && errno != EINTR))
			return ws;
		int64_t now = now_ms();
		if (now >= hr->next && rt_ctr_paused(c)) /* an exec into it would hang */
			hr->next = now + 200;
		else if (now >= hr->next)
			health_check(st, c, hr);
		else /* a bounded sleep: an exit whose SIGCHLD came just before is seen soon */
			sleep_ms(hr->next - now < 200 ? hr->next - now : 200);
	}
}

typedef struct keeper_arg {
	store_t *st;
	rt_ctr_t *c;
} keeper_arg_t;

static void keeper_signals(void)
{
	struct sigaction sa = {.sa_handler = on_term};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
}

static void default_signals(void)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
}

/* Gone from under us (rm -f), stopped, or asked to end. */
static bool keeper_done(const rt_ctr_t *c)
{
	_cleanup_free_ char *cfg = ctr_path(c, "config.json");
	return keep_term || ctr_is_marked_stopped(c) || !cb_path_exists(cfg);
}

/* The back-off before a restart, docker's: false when a stop came first. */
static bool back_off(store_t *st, rt_ctr_t *c, int64_t *backoff, int64_t ran_ms)
{
	if (ran_ms >= BACKOFF_RESET_MS)
		*backoff = 0;
	*backoff = *backoff ? *backoff * 2 : BACKOFF_FIRST_MS;
	if (*backoff > BACKOFF_MAX_MS)
		*backoff = BACKOFF_MAX_MS;
	c->restarting = true;
	cb_error_t e = CB_ERROR_INIT;
	if (ctr_write_state(st, c, &e) < 0)
		cb_error_release(&e);
	for (int64_t until = now_ms() + *backoff; !keeper_done(c) && now_ms() < until;)
		sleep_ms(until - now_ms() < 200 ? until - now_ms() : 200);
	c->restarting = false;
	if (!keeper_done(c))
		return true;
	if (ctr_write_state(st, c, &e) < 0)
		cb_error_release(&e);
	return false;
}

static _Noreturn void keeper_main_loop(store_t *st, rt_ctr_t *c, int ready)
{
	health_run_t hr = {0};
	int64_t backoff = 0;
	_cleanup_free_ char *health = ctr_path(c, "health.json");
	for (bool first = true;; first = false) {
		unlink(health); /* a new run starts again from "starting" */
		pid_t child = fork();
		if (child == 0) {
			default_signals();
			ctr_monitor_run(st, c, first ? ready : -1);
		}
		if (first)
			close(ready);
		if (child < 0)
			_exit(1);
		int64_t started = now_ms();
		int ws = watch(st, c, child, &hr);
		if (first && WIFEXITED(ws) && WEXITSTATUS(ws) == 1)
			_exit(1); /* `start` reports why it could not */
		cb_error_t e = CB_ERROR_INIT;
		if (keeper_done(c) || rt_ctr_refresh(st, c, &e) < 0) {
			cb_error_release(&e);
			_exit(0);
		}
		if (!should_restart(c) || !back_off(st, c, &backoff, now_ms() - started))
			_exit(0);
		c->restart_count++;
	}
}

static void keeper_main(void *arg, int ready)
{
	keeper_arg_t *a = arg;
	/* a lock of its own: the one it shares with its parent would make the
	 * two one holder (each monitor it forks reopens it again) */
	cb_error_t e = CB_ERROR_INIT;
	if (store_reopen_lock(a->st, &e) < 0) {
		char buf[1024];
		cb_error_format(&e, buf, sizeof buf);
		cb_error_t we = CB_ERROR_INIT;
		if (cb_write_all(ready, buf, strlen(buf), &we) < 0)
			cb_error_release(&we);
		_exit(1);
	}
	keeper_signals();
	a->c->keeper_pid = getpid();
	a->c->keeper_start = rt_ctr_proc_start(a->c->keeper_pid);
	keeper_main_loop(a->st, a->c, ready);
}

/* Fork the keeper and wait until the container runs. restarts: the restart
 * count it starts from (a `start` resets it to 0). */
static int keep_start(store_t *st, rt_ctr_t *c, int restarts, cb_error_t *err)
{
	c->restart_count = restarts;
	c->restarting = false;
	keeper_arg_t arg = {st, c};
	int ready = -1;
	pid_t pid;
	if (rt_monitor_fork("the container monitor", NULL, keeper_main, &arg, &ready, &pid, err) < 0)
		return -1;
	cb_buf_t msg;
	cb_buf_init(&msg);
	char buf[1024];
	ssize_t n;
	while ((n = read(ready, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		cb_buf_add(&msg, buf, (size_t)n);
	}
	close(ready);
	int rc = 0;
	if (msg.len) {
		rc = cb_error_fail(err, EIO, "%s", msg.data);
		waitpid(pid, NULL, 0);
	}
	cb_buf_release(&msg);
	if (rc == 0) {
		/* a --rm container may be gone already: it ran, that is success */
		cb_error_t e = CB_ERROR_INIT;
		if (rt_ctr_refresh(st, c, &e) < 0)
			cb_error_release(&e);
	}
	return rc;
}

int rt_ctr_start_detached(store_t *st, rt_ctr_t *c, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	if (c->status == RT_CTR_RUNNING)
		return 0;
	/* docker's start: the stop is forgotten, the restart count reset */
	if (ctr_mark_stopped(c, false, err) < 0)
		return -1;
	if (c->restarting && ctr_pid_alive(c->keeper_pid, c->keeper_start))
		return 0; /* its keeper starts it after the back-off */
	return keep_start(st, c, 0, err);
}

void ctr_keep_after_attached(store_t *st, rt_ctr_t *c)
{
	cb_error_t e = CB_ERROR_INIT;
	if (c->restart == RT_CTR_RESTART_NO)
		return;
	if (rt_ctr_refresh(st, c, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	if (c->status == RT_CTR_RUNNING || ctr_is_marked_stopped(c) || !should_restart(c))
		return;
	/* the first restart is this one: on-failure:N counts it */
	if (keep_start(st, c, c->restart_count + 1, &e) < 0)
		cb_warn_error(&e);
}

/* ---- after a reboot ---- */

static char *current_boot_id(void)
{
	const char *env = getenv("CBUILD_BOOT_ID");
	if (env && *env)
		return cb_xstrdup(env);
	char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file("/proc/sys/kernel/random/boot_id", 256, &data, &len, &e) < 0) {
		cb_error_release(&e);
		return NULL;
	}
	data[strcspn(data, "\n")] = 0;
	return data;
}

/* ROOT/containers/.boot_id: the boot the keepers' containers last ran in
 * (the temp file of a rewrite goes beside it) */
static char *boot_path(store_t *st)
{
	_cleanup_free_ char *dir = store_place_containers(st);
	return cb_path_join(dir, ".boot_id");
}

/* True once per boot: the caller that saw the boot id change (under the
 * store lock, so two commands at once do not both restart). A store that
 * never recorded one has no container to start: the id is recorded when the
 * first container with a restart policy is made (ctr_boot_record). */
static bool boot_changed(store_t *st)
{
	_cleanup_free_ char *now = current_boot_id();
	_cleanup_free_ char *path = boot_path(st);
	_cleanup_free_ char *old = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (!now)
		return false;
	if (cb_read_file(path, 256, &old, &len, &e) < 0) {
		cb_error_release(&e);
		return false; /* the common case: no lock taken */
	}
	if (cb_streq(old, now))
		return false;
	if (store_lock(st, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	free(old);
	old = NULL;
	bool seen = cb_read_file(path, 256, &old, &len, &e) == 0;
	cb_error_release(&e);
	bool changed = seen && !cb_streq(old, now);
	if (changed && cb_write_file_atomic(path, NULL, now, strlen(now), 0644, &e) < 0)
		cb_warn_error(&e);
	store_unlock(st);
	return changed;
}

void ctr_boot_record(store_t *st)
{
	_cleanup_free_ char *now = current_boot_id();
	_cleanup_free_ char *path = boot_path(st);
	cb_error_t e = CB_ERROR_INIT;
	if (now && !cb_path_exists(path) &&
	    cb_write_file_atomic(path, NULL, now, strlen(now), 0644, &e) < 0)
		cb_warn_error(&e);
}

void rt_ctr_boot(store_t *st)
{
	if (!boot_changed(st))
		return;
	cb_error_t e = CB_ERROR_INIT;
	rt_ctr_t **all = ctr_load_all(st);
	for (size_t i = 0; all[i]; i++) {
		rt_ctr_t *c = all[i];
		bool again = c->restart == RT_CTR_RESTART_ALWAYS ||
			     (c->restart == RT_CTR_RESTART_UNLESS_STOPPED && !ctr_is_marked_stopped(c));
		if (again && c->status != RT_CTR_RUNNING &&
		    !ctr_pid_alive(c->keeper_pid, c->keeper_start) &&
		    rt_ctr_start_detached(st, c, &e) < 0)
			cb_warn_error(&e);
	}
	ctr_free_all(all);
}
