/* Containers on disk: create, find, load, state, stop, remove. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/mount.h"
#include "runtime/netavark.h"
#include "runtime/network.h"
#include "runtime/sandbox.h"
#include "runtime/volume.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/json.h"
#include "store/layer.h"
#include "store/keep.h"
#include "store/places.h"

#define CTR_JSON_MAX (1u << 20)

static const char *const status_names[] = {"created", "running", "exited"};

void rt_ctr_free(rt_ctr_t *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c->name);
	free(c->image);
	free(c->image_name);
	cb_strv_free(c->argv);
	cb_strv_free(c->env);
	cb_strv_free(c->config_env);
	free(c->cwd);
	free(c->user);
	free(c->hostname);
	cb_strv_free(c->volumes);
	cb_strv_free(c->anon_volumes);
	cb_strv_free(c->networks);
	cb_strv_free(c->net_aliases);
	cb_strv_free(c->net_ips);
	free(c->dns_server);
	free(c->ports);
	free(c->stop_signal);
	free(c->seccomp);
	cb_strv_free(c->health.test);
	ctr_extra_release(&c->extra);
	free(c);
}

char *ctr_path(const rt_ctr_t *c, const char *sub) { return cb_path_join(c->dir, sub); }

int64_t ctr_now(void) { return (int64_t)time(NULL); }

static char *fmt_time(int64_t t)
{
	if (t < 0)
		return cb_xstrdup("0001-01-01T00:00:00Z");
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return cb_xstrdup(buf);
}

static int64_t parse_time(json_t *j)
{
	const char *s = json_string_value(j);
	if (!s || cb_str_has_prefix(s, "0001-"))
		return -1;
	return oci_time_parse(s);
}

uint64_t rt_ctr_proc_start(pid_t pid)
{
	if (pid <= 0)
		return 0;
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields restart after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	/* field 3 (state) is the first after ')'; starttime is field 22 */
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

int ctr_enter_userns(const rt_ctr_t *c, cb_error_t *err)
{
	if (geteuid() == 0)
		return 0;
	/* A running container's own namespace: its owner (us) holds every
	 * capability there, so signals still reach processes of any mapped uid. */
	if (c && ctr_pid_alive(c->pid, c->pid_start)) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/ns/user", (int)c->pid);
		_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && setns(fd, CLONE_NEWUSER) == 0) {
			if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
				return cb_error_errno(err, "become root of the container's user "
							   "namespace");
			return 0;
		}
	}
	return sbx_enter_userns(0, err);
}

bool ctr_pid_alive(pid_t pid, uint64_t start)
{
	if (pid <= 0)
		return false;
	uint64_t now = rt_ctr_proc_start(pid);
	if (now == 0 || now != start)
		return false;
	/* a zombie is gone for our purposes */
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int rt_ctr_parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
		    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},
		    {"CONT", SIGCONT}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR}, {"ALRM", SIGALRM}};
	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s)) {
		char *end;
		long v = strtol(s, &end, 10);
		return (*end || v <= 0 || v >= NSIG) ? -1 : (int)v;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++)
		if (!strcasecmp(s, sigs[i].name))
			return sigs[i].sig;
	return -1;
}

/* ---- JSON ---- */

static char **json_strv(json_t *a)
{
	char **v = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s)
			v = cb_strv_push(v, s);
	}
	return v;
}

int rt_ctr_seccomp(const rt_ctr_t *c, sbx_config_t *cfg, sbx_scmp_profile_t **owned,
		   cb_error_t *err)
{
	*owned = NULL;
	if (!c->seccomp)
		return 0;
	if (!strcmp(c->seccomp, "unconfined")) {
		cfg->seccomp_unconfined = true;
		return 0;
	}
	*owned = sbx_seccomp_parse(c->seccomp, "(the container's)", err);
	if (!*owned)
		return -1;
	cfg->seccomp = *owned;
	return 0;
}

static char *json_dupstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? cb_xstrdup(s) : NULL;
}

static int write_json(store_t *st, const rt_ctr_t *c, const char *file, json_t *j,
		      cb_error_t *err)
{
	char *text = oci_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	_cleanup_free_ char *path = ctr_path(c, file);
	_cleanup_free_ char *tmp = store_place_tmp(st);
	int rc = cb_write_file_atomic(path, tmp, text, strlen(text), 0644, err);
	free(text);
	json_decref(j);
	return rc;
}

/* config.json's "network": the mode ctr_load reads back */
static const char *net_mode(const rt_ctr_t *c)
{
	if (c->net_pasta)
		return "pasta";
	if (c->net_none)
		return "none";
	return c->networks[0] ? "bridge" : "host";
}

int ctr_write_config(store_t *st, const rt_ctr_t *c, cb_error_t *err)
{
	json_t *ports = json_array();
	for (size_t i = 0; i < c->n_ports; i++)
		json_array_append_new(ports, json_pack("{s:s, s:i, s:i, s:s}", "host_ip",
						       c->ports[i].host_ip, "host_port",
						       (int)c->ports[i].host_port, "container_port",
						       (int)c->ports[i].ctr_port, "proto",
						       c->ports[i].udp ? "udp" : "tcp"));
	_cleanup_free_ char *created = fmt_time(c->created);
	json_t *j = json_object();
	json_object_set_new(j, "id", oci_json_str(c->id));
	json_object_set_new(j, "name", oci_json_str(c->name));
	json_object_set_new(j, "image", oci_json_str(c->image));
	json_object_set_new(j, "image_name", oci_json_str(c->image_name ? c->image_name : ""));
	json_object_set_new(j, "created", oci_json_str(created));
	json_object_set_new(j, "created_ns", json_integer(c->created_ns));
	json_object_set_new(j, "argv", oci_json_strv(c->argv));
	json_object_set_new(j, "env", oci_json_strv(c->env));
	json_object_set_new(j, "config_env", oci_json_strv(c->config_env));
	json_object_set_new(j, "cwd", oci_json_str(c->cwd ? c->cwd : "/"));
	json_object_set_new(j, "user", oci_json_str(c->user ? c->user : ""));
	json_object_set_new(j, "hostname", oci_json_str(c->hostname));
	json_object_set_new(j, "volumes", oci_json_strv(c->volumes));
	json_object_set_new(j, "anon_volumes", oci_json_strv(c->anon_volumes));
	json_object_set_new(j, "ports", ports);
	json_object_set_new(j, "network", oci_json_str(net_mode(c)));
	json_object_set_new(j, "networks", oci_json_strv(c->networks));
	json_object_set_new(j, "net_aliases", oci_json_strv(c->net_aliases));
	json_object_set_new(j, "net_ips", oci_json_strv(c->net_ips));
	json_object_set_new(j, "tty", json_boolean(c->tty));
	json_object_set_new(j, "interactive", json_boolean(c->interactive));
	json_object_set_new(j, "stdin_once", json_boolean(c->stdin_once));
	json_object_set_new(j, "auto_remove", json_boolean(c->auto_remove));
	if (c->log_max_size > 0) {
		json_object_set_new(j, "log_max_size", json_integer(c->log_max_size));
		json_object_set_new(j, "log_max_file", json_integer(c->log_max_file));
	}
	if (c->stop_signal)
		json_object_set_new(j, "stop_signal", oci_json_str(c->stop_signal));
	if (c->seccomp)
		json_object_set_new(j, "seccomp", oci_json_str(c->seccomp));
	if (c->pids_limit > 0)
		json_object_set_new(j, "pids_limit", json_integer(c->pids_limit));
	ctr_opts_to_json(c, j);
	return write_json(st, c, "config.json", j, err);
}

int ctr_write_state(store_t *st, const rt_ctr_t *c, cb_error_t *err)
{
	_cleanup_free_ char *started = fmt_time(c->started);
	_cleanup_free_ char *finished = fmt_time(c->finished);
	json_t *j = json_pack("{s:s, s:i, s:I, s:i, s:I, s:i, s:s, s:s}", "status",
			      status_names[c->status], "monitor_pid", (int)c->monitor_pid,
			      "monitor_start", (json_int_t)c->monitor_start, "pid", (int)c->pid,
			      "pid_start", (json_int_t)c->pid_start, "exit_code", c->exit_code,
			      "started", started, "finished", finished);
	json_object_set_new(j, "restart_count", json_integer(c->restart_count));
	json_object_set_new(j, "restarting", json_boolean(c->restarting));
	json_object_set_new(j, "keeper_pid", json_integer(c->keeper_pid));
	json_object_set_new(j, "keeper_start", json_integer((json_int_t)c->keeper_start));
	/* the host ports of this start, one per mapping (-p CTR, -P pick
	 * theirs at start) */
	json_t *bound = json_array();
	for (size_t i = 0; i < c->n_ports; i++)
		json_array_append_new(bound, json_integer(c->ports[i].bound_port));
	json_object_set_new(j, "ports", bound);
	return write_json(st, c, "state.json", j, err);
}

static json_t *read_json(const rt_ctr_t *c, const char *file, cb_error_t *err)
{
	_cleanup_free_ char *path = ctr_path(c, file);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (cb_read_file(path, CTR_JSON_MAX, &data, &len, err) < 0)
		return NULL;
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		cb_error_fail(err, EBADMSG, "container '%.12s': bad %s: %s", c->id, file, je.text);
		return NULL;
	}
	return j;
}

/* A container made before config_env was recorded: its env without the
 * HOSTNAME and tty TERM that running added (its PATH stays: the default
 * cannot be told apart from an image's own). */
static char **config_env_of_old(const rt_ctr_t *c)
{
	char **env = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (!cb_str_has_prefix(c->env[i], "HOSTNAME=") &&
		    !(c->tty && cb_streq(c->env[i], "TERM=xterm")))
			env = cb_strv_push(env, c->env[i]);
	return env;
}

static void read_config(rt_ctr_t *c, json_t *j)
{
	c->name = json_dupstr(j, "name");
	c->image = json_dupstr(j, "image");
	c->image_name = json_dupstr(j, "image_name");
	c->argv = json_strv(json_object_get(j, "argv"));
	c->env = json_strv(json_object_get(j, "env"));
	c->cwd = json_dupstr(j, "cwd");
	c->user = json_dupstr(j, "user");
	c->hostname = json_dupstr(j, "hostname");
	c->volumes = json_strv(json_object_get(j, "volumes"));
	c->anon_volumes = json_strv(json_object_get(j, "anon_volumes"));
	c->stop_signal = json_dupstr(j, "stop_signal");
	c->created = parse_time(json_object_get(j, "created"));
	c->created_ns = json_integer_value(json_object_get(j, "created_ns"));
	const char *mode = json_string_value(json_object_get(j, "network"));
	c->net_none = cb_streq(mode, "none");
	c->net_pasta = cb_streq(mode, "pasta");
	c->networks = json_strv(json_object_get(j, "networks"));
	c->net_aliases = json_strv(json_object_get(j, "net_aliases"));
	c->net_ips = json_strv(json_object_get(j, "net_ips"));
	c->tty = json_is_true(json_object_get(j, "tty"));
	json_t *ce = json_object_get(j, "config_env");
	c->config_env = ce ? json_strv(ce) : config_env_of_old(c);
	c->interactive = json_is_true(json_object_get(j, "interactive"));
	c->stdin_once = json_is_true(json_object_get(j, "stdin_once"));
	c->auto_remove = json_is_true(json_object_get(j, "auto_remove"));
	c->log_max_size = json_integer_value(json_object_get(j, "log_max_size"));
	c->log_max_file = (int)json_integer_value(json_object_get(j, "log_max_file"));
	c->seccomp = json_dupstr(j, "seccomp");
	c->pids_limit = json_integer_value(json_object_get(j, "pids_limit"));
	ctr_opts_from_json(c, j);
	json_t *ports = json_object_get(j, "ports");
	c->n_ports = json_array_size(ports);
	c->ports = cb_xcalloc(c->n_ports + 1, sizeof(rt_ctr_port_t));
	for (size_t i = 0; i < c->n_ports; i++) {
		json_t *p = json_array_get(ports, i);
		const char *ip = json_string_value(json_object_get(p, "host_ip"));
		snprintf(c->ports[i].host_ip, sizeof c->ports[i].host_ip, "%s", ip ? ip : "0.0.0.0");
		c->ports[i].host_port = (uint16_t)json_integer_value(json_object_get(p, "host_port"));
		c->ports[i].ctr_port =
			(uint16_t)json_integer_value(json_object_get(p, "container_port"));
		c->ports[i].udp = cb_streq(json_string_value(json_object_get(p, "proto")), "udp");
	}
	if (!c->name)
		c->name = cb_xstrdup("");
	if (!c->hostname)
		c->hostname = cb_asprintf("%.12s", c->id);
}

static int read_state(rt_ctr_t *c, cb_error_t *err)
{
	json_t *j = read_json(c, "state.json", err);
	if (!j)
		return -1;
	const char *s = json_string_value(json_object_get(j, "status"));
	c->status = RT_CTR_CREATED;
	for (size_t i = 0; i < CB_ARRAY_SIZE(status_names); i++)
		if (cb_streq(s, status_names[i]))
			c->status = (rt_ctr_status_t)i;
	c->monitor_pid = (pid_t)json_integer_value(json_object_get(j, "monitor_pid"));
	c->monitor_start = (uint64_t)json_integer_value(json_object_get(j, "monitor_start"));
	c->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	c->pid_start = (uint64_t)json_integer_value(json_object_get(j, "pid_start"));
	c->exit_code = (int)json_integer_value(json_object_get(j, "exit_code"));
	c->started = parse_time(json_object_get(j, "started"));
	c->finished = parse_time(json_object_get(j, "finished"));
	c->restart_count = (int)json_integer_value(json_object_get(j, "restart_count"));
	c->restarting = json_is_true(json_object_get(j, "restarting"));
	c->keeper_pid = (pid_t)json_integer_value(json_object_get(j, "keeper_pid"));
	c->keeper_start = (uint64_t)json_integer_value(json_object_get(j, "keeper_start"));
	json_t *bound = json_object_get(j, "ports");
	for (size_t i = 0; i < c->n_ports; i++)
		c->ports[i].bound_port = (uint16_t)json_integer_value(json_array_get(bound, i));
	json_decref(j);
	return 0;
}

/* How long a live monitor gets to record the exit of a PID 1 that is gone:
 * it reaps, then writes state.json; only a stuck monitor takes longer. */
#define MONITOR_GRACE_MS 3000

int rt_ctr_refresh(store_t *st, rt_ctr_t *c, cb_error_t *err)
{
	(void)st;
	bool monitor_gone = false;
	for (int waited = 0;; waited += 5) {
		if (read_state(c, err) < 0)
			return -1;
		if (c->status == RT_CTR_RUNNING && ctr_pid_alive(c->pid, c->pid_start)) {
			ctr_resume_orphaned(c);
			return 0;
		}
		if (c->status != RT_CTR_RUNNING) {
			/* a keeper killed during its back-off restarts nothing */
			if (c->restarting && !ctr_pid_alive(c->keeper_pid, c->keeper_start))
				c->restarting = false;
			return 0;
		}
		/* PID 1 is gone but its monitor lives: the real exit code is on
		 * its way (reading 137 now would be a lie). A monitor seen gone
		 * gets one more read: it writes its record before it exits, maybe
		 * just after the read above. */
		if (monitor_gone || waited >= MONITOR_GRACE_MS)
			break;
		monitor_gone = !ctr_pid_alive(c->monitor_pid, c->monitor_start);
		if (!monitor_gone)
			usleep(5 * 1000);
	}
	/* A monitor killed with -9, a reboot, a reused pid: the container is
	 * gone (its PID 1 died with the monitor). */
	c->status = RT_CTR_EXITED;
	c->exit_code = 137;
	if (c->finished < 0)
		c->finished = c->started;
	/* its monitor tears down at exit; a dead one left it to us */
	if (!ctr_pid_alive(c->monitor_pid, c->monitor_start))
		rt_nav_detach(c->id);
	return 0;
}

rt_ctr_t *ctr_load_id(store_t *st, const char *id, cb_error_t *err)
{
	rt_ctr_t *c = cb_xcalloc(1, sizeof *c);
	snprintf(c->id, sizeof c->id, "%s", id);
	c->dir = store_place_container(st, id, NULL);
	json_t *j = read_json(c, "config.json", err);
	if (!j) {
		rt_ctr_free(c);
		return NULL;
	}
	read_config(c, j);
	json_decref(j);
	if (rt_ctr_refresh(st, c, err) < 0 || ctr_remove_orphaned(st, c)) {
		if (!cb_error_is_set(err))
			cb_error_fail(err, ENOENT, "no such container: '%.12s'", id);
		rt_ctr_free(c);
		return NULL;
	}
	return c;
}

/* ---- listing and lookup ---- */

static bool is_id(const char *s)
{
	if (strlen(s) != CTR_ID_LEN)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

static char **raw_ids(store_t *st)
{
	_cleanup_free_ char *dir = store_place_containers(st);
	char **ids = cb_xcalloc(1, sizeof(char *));
	DIR *d = opendir(dir);
	if (!d)
		return ids;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_id(de->d_name))
			continue;
		/* config.json is written last and removed first */
		_cleanup_free_ char *cfg = cb_asprintf("%s/%s/config.json", dir, de->d_name);
		if (cb_path_exists(cfg))
			ids = cb_strv_push(ids, de->d_name);
	}
	closedir(d);
	return ids;
}

static char *config_name(store_t *st, const char *id)
{
	_cleanup_free_ char *path = store_place_container(st, id, "config.json");
	json_t *j = json_load_file(path, 0, NULL);
	char *name = j ? json_dupstr(j, "name") : NULL;
	json_decref(j);
	return name;
}

typedef struct {
	char *id;
	int64_t created;
} id_time_t;

static int by_created_desc(const void *a, const void *b)
{
	const id_time_t *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return strcmp(x->id, y->id);
}

/* Creation time in ns from config.json (file mtimes tick only every few ms,
 * too coarse for containers made back to back); 0 when unreadable. */
static int64_t created_ns_of(store_t *st, const char *id)
{
	_cleanup_free_ char *path = store_place_container(st, id, "config.json");
	json_t *j = json_load_file(path, 0, NULL);
	int64_t ns = j ? json_integer_value(json_object_get(j, "created_ns")) : 0;
	if (j && !ns) /* written before created_ns existed */
		ns = parse_time(json_object_get(j, "created")) * 1000000000;
	json_decref(j);
	return ns;
}

int rt_ctr_list(store_t *st, char ***out, cb_error_t *err)
{
	(void)err;
	/* `ps -a`, `rm`, ...: what killed cbuilds left goes (any store's: the
	 * run directory is the host's) */
	rt_nav_sweep_gone();
	char **ids = raw_ids(st);
	size_t n = cb_strv_len(ids);
	id_time_t *v = cb_xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		v[i].id = ids[i];
		v[i].created = created_ns_of(st, ids[i]);
	}
	qsort(v, n, sizeof *v, by_created_desc);
	char **sorted = cb_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		sorted[i] = v[i].id;
	free(v);
	free(ids);
	*out = sorted;
	return 0;
}

rt_ctr_t **ctr_load_all(store_t *st)
{
	_cleanup_strv_ char **ids = NULL;
	rt_ctr_list(st, &ids, NULL); /* never fails */
	size_t n = 0;
	rt_ctr_t **v = cb_xcalloc(cb_strv_len(ids) + 1, sizeof *v);
	for (size_t i = 0; ids[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		rt_ctr_t *c = ctr_load_id(st, ids[i], &e);
		if (c)
			v[n++] = c;
		else
			cb_error_release(&e); /* removed meanwhile */
	}
	return v;
}

void ctr_free_all(rt_ctr_t **v)
{
	for (size_t i = 0; v && v[i]; i++)
		rt_ctr_free(v[i]);
	free(v);
}

int rt_ctr_find(store_t *st, const char *what, char id[CTR_ID_LEN + 1], cb_error_t *err)
{
	_cleanup_strv_ char **ids = raw_ids(st);
	if (!*what)
		return cb_error_fail(err, ENOENT, "no such container: ''");
	for (size_t i = 0; ids[i]; i++)
		if (!strcmp(ids[i], what)) {
			snprintf(id, CTR_ID_LEN + 1, "%s", ids[i]);
			return 0;
		}
	for (size_t i = 0; ids[i]; i++) {
		_cleanup_free_ char *name = config_name(st, ids[i]);
		if (cb_streq(name, what)) {
			snprintf(id, CTR_ID_LEN + 1, "%s", ids[i]);
			return 0;
		}
	}
	const char *found = NULL;
	for (size_t i = 0; ids[i]; i++) {
		if (!cb_str_has_prefix(ids[i], what))
			continue;
		if (found)
			return cb_error_fail(err, EINVAL,
					     "container ID prefix '%s' is ambiguous", what);
		found = ids[i];
	}
	if (!found)
		return cb_error_fail(err, ENOENT, "no such container: '%s'", what);
	snprintf(id, CTR_ID_LEN + 1, "%s", found);
	return 0;
}

rt_ctr_t *rt_ctr_load(store_t *st, const char *what, cb_error_t *err)
{
	char id[CTR_ID_LEN + 1];
	if (rt_ctr_find(st, what, id, err) < 0)
		return NULL;
	return ctr_load_id(st, id, err);
}

/* ---- create ---- */

static char *random_name(void)
{
	static const char *const adj[] = {"brave", "calm",  "eager", "fancy", "gentle", "happy",
					  "jolly", "keen",  "lucid", "merry", "nifty",  "quirky",
					  "sharp", "sleek", "swift", "tender", "vivid", "witty"};
	static const char *const noun[] = {"babbage", "curie",  "darwin",  "euler",  "fermat",
					   "gauss",   "hopper", "kepler",  "lovelace", "noether",
					   "pascal",  "ritchie", "shannon", "thompson", "turing"};
	unsigned r = 0;
	if (getrandom(&r, sizeof r, 0) < 0)
		r = (unsigned)time(NULL);
	return cb_asprintf("%s_%s", adj[r % CB_ARRAY_SIZE(adj)],
			   noun[(r / 32) % CB_ARRAY_SIZE(noun)]);
}

bool ctr_valid_name(const char *s)
{
	/* docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+: two characters at least */
	if (!isalnum((unsigned char)*s) || !s[1])
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

bool ctr_name_taken(store_t *st, const char *name)
{
	_cleanup_strv_ char **ids = raw_ids(st);
	for (size_t i = 0; ids[i]; i++) {
		_cleanup_free_ char *n = config_name(st, ids[i]);
		if (cb_streq(n, name))
			return true;
	}
	return false;
}

/* Docker's rules: --entrypoint replaces the image's and drops its Cmd. */
static char **resolve_argv(const rt_ctr_spec_t *s, const oci_config_t *img)
{
	char **argv = cb_xcalloc(1, sizeof(char *));
	if (s->entrypoint) {
		if (*s->entrypoint)
			argv = cb_strv_push(argv, s->entrypoint);
	} else {
		for (size_t i = 0; img->entrypoint && img->entrypoint[i]; i++)
			argv = cb_strv_push(argv, img->entrypoint[i]);
	}
	char *const *cmd = s->cmd && s->cmd[0] ? s->cmd : (s->entrypoint ? NULL : img->cmd);
	for (size_t i = 0; cmd && cmd[i]; i++)
		argv = cb_strv_push(argv, cmd[i]);
	return argv;
}

static char **set_env(char **env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], kv, klen) && env[i][klen] == '=') {
			free(env[i]);
			env[i] = cb_xstrdup(kv);
			return env;
		}
	return cb_strv_push(env, kv);
}

/* -e NAME takes the caller's value, as docker does; unset: nothing. */
static char *user_env(const char *kv)
{
	if (strchr(kv, '='))
		return cb_xstrdup(kv);
	const char *v = getenv(kv);
	return v ? cb_asprintf("%s=%s", kv, v) : NULL;
}

static bool env_has_key(char *const *env, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], kv, klen) && env[i][klen] == '=')
			return true;
	return false;
}

/* Docker's merge of a container's Config.Env: the user's values first,
 * then each image variable the user did not set. */
static char **resolve_config_env(const rt_ctr_spec_t *s, const oci_config_t *img)
{
	char **env = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; s->env && s->env[i]; i++) {
		char *kv = user_env(s->env[i]);
		if (kv)
			env = set_env(env, kv);
		free(kv);
	}
	for (size_t i = 0; img->env && img->env[i]; i++)
		if (!env_has_key(env, img->env[i]))
			env = cb_strv_push(env, img->env[i]);
	return env;
}

/* What the process gets: the config env over the PATH default and
 * HOSTNAME, TERM for a tty when not set (added by docker at start, so
 * never committed). */
static char **resolve_env(char *const *config_env, const char *hostname, bool tty)
{
	char **env = cb_xcalloc(1, sizeof(char *));
	env = set_env(env, "PATH=" SBX_DEFAULT_PATH);
	_cleanup_free_ char *h = cb_asprintf("HOSTNAME=%s", hostname);
	env = set_env(env, h);
	for (size_t i = 0; config_env[i]; i++)
		env = set_env(env, config_env[i]);
	if (tty && !env_has_key(config_env, "TERM="))
		env = set_env(env, "TERM=xterm");
	return env;
}

static int fill_from_spec(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img,
			  cb_error_t *err)
{
	c->image = cb_xstrdup(s->image);
	c->image_name = cb_xstrdup(s->image_name ? s->image_name : s->image);
	c->argv = resolve_argv(s, img);
	if (!c->argv[0])
		return cb_error_fail(err, EINVAL, "no command specified");
	c->hostname = s->hostname && *s->hostname ? cb_xstrdup(s->hostname)
						  : cb_asprintf("%.12s", c->id);
	c->config_env = resolve_config_env(s, img);
	c->env = resolve_env(c->config_env, c->hostname, s->tty);
	const char *cwd = s->cwd && *s->cwd ? s->cwd : img->working_dir;
	c->cwd = cb_xstrdup(cwd && *cwd ? cwd : "/");
	if (c->cwd[0] != '/')
		return cb_error_fail(err, EINVAL, "the working directory '%s' is invalid: it "
						  "needs to be an absolute path", c->cwd);
	const char *user = s->user && *s->user ? s->user : img->user;
	c->user = cb_xstrdup(user ? user : "");
	if (ctr_fill_volumes(c, s, img, err) < 0)
		return -1;
	if (ctr_fill_net(c, s, img, err) < 0)
		return -1;
	c->tty = s->tty;
	c->interactive = s->interactive;
	c->stdin_once = s->stdin_once;
	c->auto_remove = s->auto_remove;
	c->log_max_size = s->log_max_size > 0 ? s->log_max_size : 0;
	c->log_max_file = s->log_max_file > 0 ? s->log_max_file : 1;
	c->seccomp = s->seccomp ? cb_xstrdup(s->seccomp) : NULL;
	c->pids_limit = s->pids_limit > 0 ? s->pids_limit : 0;
	c->restart = s->restart;
	c->restart_max = s->restart == RT_CTR_RESTART_ON_FAILURE ? s->restart_max : 0;
	if (c->restart != RT_CTR_RESTART_NO && s->auto_remove)
		return cb_error_fail(err, EINVAL, "conflicting options: --restart and --rm");
	ctr_health_resolve(s, img, &c->health);
	if (ctr_extra_check(&s->extra, err) < 0)
		return -1;
	ctr_extra_copy(&c->extra, &s->extra);
	const char *sig = s->extra.stop_signal ? s->extra.stop_signal : img->stop_signal;
	c->stop_signal = sig ? cb_xstrdup(sig) : NULL;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	c->created = (int64_t)now.tv_sec;
	c->created_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	c->started = c->finished = -1;
	return 0;
}

int ctr_image_lowers(store_t *st, const char *manifest_digest, char ***lowers,
		     oci_config_t **cfg, cb_error_t *err)
{
	image_t *img = image_load(st, manifest_digest, err);
	if (!img)
		return -1;
	size_t n = img->manifest->n_layers;
	if (n != cb_strv_len(img->config->diff_ids)) {
		image_free(img);
		return cb_error_fail(err, EBADMSG, "image '%s': %zu layers but %zu diff_ids",
				     manifest_digest, n, cb_strv_len(img->config->diff_ids));
	}
	char **v = NULL;
	if (rt_chain_lowers(st, img->manifest->layers, img->config->diff_ids, n, &v, err) < 0) {
		image_free(img);
		return -1;
	}
	*lowers = v;
	if (cfg)
		*cfg = cb_steal_pointer(&img->config);
	image_free(img);
	return 0;
}

static int make_dirs(rt_ctr_t *c, cb_error_t *err)
{
	static const char *const subs[] = {"upper", "work", "rootfs", "init"};
	if (mkdir(c->dir, 0700) < 0)
		return cb_error_errno(err, "create '%s'", c->dir);
	for (size_t i = 0; i < CB_ARRAY_SIZE(subs); i++) {
		_cleanup_free_ char *p = ctr_path(c, subs[i]);
		if (mkdir(p, 0755) < 0)
			return cb_error_errno(err, "create '%s'", p);
	}
	_cleanup_free_ char *log = ctr_path(c, "log");
	int fd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return cb_error_errno(err, "create '%s'", log);
	close(fd);
	return 0;
}

int rt_ctr_create(store_t *st, const rt_ctr_spec_t *spec, rt_ctr_t **out, cb_error_t *err)
{
	if (spec->name && !ctr_valid_name(spec->name))
		return cb_error_fail(err, EINVAL, "invalid container name '%s': only "
						  "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", spec->name);
	image_t *img = image_load(st, spec->image, err);
	if (!img)
		return -1;
	rt_ctr_t *c = cb_xcalloc(1, sizeof *c);
	cb_random_hex(c->id, CTR_ID_LEN / 2);
	c->dir = store_place_container(st, c->id, NULL);
	int rc = fill_from_spec(c, spec, img->config, err);
	image_free(img);
	if (rc < 0 || store_lock(st, err) < 0) {
		rt_ctr_free(c);
		return -1;
	}
	/* the lock makes check-then-create atomic against other cbuilds */
	rt_net_t *net = c->networks[0] ? rt_net_load(st, c->networks[0], err) : NULL;
	if (c->networks[0] && !net) {
		rc = -1;
	} else if (spec->name && ctr_name_taken(st, spec->name)) {
		rc = cb_error_fail(err, EEXIST, "the container name '%s' is already in use",
				   spec->name);
	} else {
		c->name = spec->name ? cb_xstrdup(spec->name) : random_name();
		/* config.json last: a directory without it is not a container yet;
		 * the reference that keeps its image from gc before it */
		rc = store_keep_set(st, STORE_KEEP_CONTAINER, c->id, c->image, NULL, true, err);
		if (rc == 0)
			rc = make_dirs(c, err);
		if (rc == 0 && c->restart != RT_CTR_RESTART_NO)
			ctr_boot_record(st);
		if (rc == 0)
			rc = ctr_write_state(st, c, err);
		if (rc == 0)
			rc = ctr_write_config(st, c, err);
		if (rc < 0) {
			cb_error_t e = CB_ERROR_INIT;
			if (cb_rm_rf(c->dir, &e) < 0)
				cb_error_release(&e);
			store_keep_remove(st, STORE_KEEP_CONTAINER, c->id, NULL);
		}
	}
	rt_net_free(net);
	store_unlock(st);
	if (rc < 0) {
		rt_ctr_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* ---- stop and remove ---- */

static bool wait_gone(store_t *st, rt_ctr_t *c, int ms)
{
	for (int waited = 0;; waited += 50) {
		cb_error_t e = CB_ERROR_INIT;
		if (rt_ctr_refresh(st, c, &e) < 0) {
			cb_error_release(&e);
			return true;
		}
		/* the monitor records the exit: wait for it, not only for PID 1 */
		if (c->status != RT_CTR_RUNNING && !ctr_pid_alive(c->monitor_pid, c->monitor_start))
			return true;
		if (ms >= 0 && waited >= ms)
			return false;
		usleep(50 * 1000);
	}
}

int rt_ctr_stop(store_t *st, rt_ctr_t *c, int timeout, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	/* before the signal: the keeper must see a stop, not an exit to restart */
	if (ctr_mark_stopped(c, true, err) < 0)
		return -1;
	if (c->status != RT_CTR_RUNNING) {
		ctr_keeper_end(c);
		return 0;
	}
	ctr_thaw_if_paused(c); /* a frozen process acts on no signal */
	int sig = c->stop_signal ? rt_ctr_parse_signal(c->stop_signal) : SIGTERM;
	if (sig < 0)
		sig = SIGTERM;
	if (ctr_pid_alive(c->pid, c->pid_start) && kill(c->pid, sig) < 0 && errno != ESRCH)
		return cb_error_errno(err, "signal container '%.12s'", c->id);
	if (timeout < 0) /* not given: --stop-timeout, else docker's 10 s */
		timeout = c->extra.stop_timeout_set ? c->extra.stop_timeout : 10;
	if (!wait_gone(st, c, timeout * 1000)) {
		if (ctr_pid_alive(c->pid, c->pid_start) && kill(c->pid, SIGKILL) < 0 &&
		    errno != ESRCH)
			return cb_error_errno(err, "kill container '%.12s'", c->id);
		if (!wait_gone(st, c, 10000))
			return cb_error_fail(err, ETIMEDOUT, "container '%.12s' did not stop",
					     c->id);
	}
	ctr_keeper_end(c);
	return 0;
}

int rt_ctr_remove(store_t *st, rt_ctr_t *c, bool force, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	if (c->restarting && !force)
		return cb_error_fail(err, EBUSY, "you cannot remove a restarting container '%s': "
						 "stop it first or use -f", c->name);
	/* no restart after this */
	if (force && ctr_pid_alive(c->keeper_pid, c->keeper_start))
		kill(c->keeper_pid, SIGKILL);
	if (c->status == RT_CTR_RUNNING) {
		if (!force)
			return cb_error_fail(err, EBUSY, "container '%s' is running: stop it "
							 "first or use -f", c->name);
		if (ctr_pid_alive(c->pid, c->pid_start))
			kill(c->pid, SIGKILL);
		ctr_thaw_if_paused(c);
	}
	/* a monitor still writing (or an attached run): kill it for good, then
	 * its mount namespace and overlay are gone */
	if (!wait_gone(st, c, force ? 5000 : 0) && force &&
	    ctr_pid_alive(c->monitor_pid, c->monitor_start))
		kill(c->monitor_pid, SIGKILL);
	for (int i = 0; i < 100 && ctr_pid_alive(c->monitor_pid, c->monitor_start); i++)
		usleep(20 * 1000);
	/* rootless: files of the container's other uids are ours only as
	 * root of a user namespace mapped the same way */
	if (ctr_enter_userns(NULL, err) < 0)
		return cb_error_wrap(err, "remove container '%.12s'", c->id);
	/* config.json first: a half-removed directory is no longer listed */
	_cleanup_free_ char *cfg = ctr_path(c, "config.json");
	if (unlink(cfg) < 0 && errno != ENOENT)
		return cb_error_errno(err, "remove '%s'", cfg);
	if (cb_rm_rf(c->dir, err) < 0)
		return cb_error_wrap(err, "remove container '%.12s'", c->id);
	/* its image may go now: the overlay on its layers is gone */
	if (store_keep_remove(st, STORE_KEEP_CONTAINER, c->id, err) < 0)
		return cb_error_wrap(err, "remove container '%.12s'", c->id);
	/* a crashed monitor's namespace, NAT rules and addresses */
	rt_nav_detach(c->id);
	return 0;
}

void rt_ctr_remove_anon_volumes(store_t *st, const rt_ctr_t *c)
{
	for (size_t i = 0; c->anon_volumes && c->anon_volumes[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		if (rt_vol_remove(st, c->anon_volumes[i], true, &e) < 0)
			cb_warn_error(&e);
	}
}
