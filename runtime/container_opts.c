/*
 * More of a container's options (rt_ctr_extra_t, restart policy,
 * healthcheck): copies, config.json fields, and what they make of the
 * sandbox's configuration (capabilities, rlimits, tmpfs mounts, the init,
 * /etc/hosts and /etc/resolv.conf lines).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/json.h"

/* docker-init: Debian's tini, static, bound into the container as docker
 * binds its docker-init */
#define INIT_HOST_PATH "/usr/bin/tini-static"
#define INIT_CTR_PATH "/sbin/docker-init"

static char **dup_or_null(char *const *v) { return v && v[0] ? cb_strv_dup(v) : NULL; }

void ctr_extra_copy(rt_ctr_extra_t *dst, const rt_ctr_extra_t *src)
{
	memset(dst, 0, sizeof *dst);
	dst->tmpfs = dup_or_null(src->tmpfs);
	dst->extra_hosts = dup_or_null(src->extra_hosts);
	dst->dns = dup_or_null(src->dns);
	dst->labels = dup_or_null(src->labels);
	dst->cap_add = dup_or_null(src->cap_add);
	dst->cap_drop = dup_or_null(src->cap_drop);
	dst->ulimits = dup_or_null(src->ulimits);
	dst->read_only = src->read_only;
	dst->init = src->init;
	dst->stop_timeout = src->stop_timeout;
	dst->stop_timeout_set = src->stop_timeout_set;
	dst->memory = src->memory;
	dst->nano_cpus = src->nano_cpus;
}

void ctr_extra_release(rt_ctr_extra_t *e)
{
	char **lists[] = {e->tmpfs, e->extra_hosts, e->dns, e->labels, e->cap_add, e->cap_drop,
			  e->ulimits};
	for (size_t i = 0; i < CB_ARRAY_SIZE(lists); i++)
		cb_strv_free(lists[i]);
	memset(e, 0, sizeof *e);
}

/* ---- config.json ---- */

static const struct {
	const char *key;
	size_t off;
} list_fields[] = {
	{"tmpfs", offsetof(rt_ctr_extra_t, tmpfs)},
	{"extra_hosts", offsetof(rt_ctr_extra_t, extra_hosts)},
	{"dns", offsetof(rt_ctr_extra_t, dns)},
	{"labels", offsetof(rt_ctr_extra_t, labels)},
	{"cap_add", offsetof(rt_ctr_extra_t, cap_add)},
	{"cap_drop", offsetof(rt_ctr_extra_t, cap_drop)},
	{"ulimits", offsetof(rt_ctr_extra_t, ulimits)},
};

static char ***list_at(rt_ctr_extra_t *e, size_t i) { return (char ***)((char *)e + list_fields[i].off); }

static char **json_strv(json_t *a)
{
	char **v = NULL;
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s)
			v = cb_strv_push(v, s);
	}
	return v;
}

void ctr_opts_to_json(const rt_ctr_t *c, void *jv)
{
	json_t *j = jv;
	rt_ctr_extra_t *e = (rt_ctr_extra_t *)&c->extra;
	for (size_t i = 0; i < CB_ARRAY_SIZE(list_fields); i++)
		if (*list_at(e, i))
			json_object_set_new(j, list_fields[i].key, oci_json_strv(*list_at(e, i)));
	if (e->read_only)
		json_object_set_new(j, "read_only", json_true());
	if (e->init)
		json_object_set_new(j, "init", json_true());
	if (e->stop_timeout_set)
		json_object_set_new(j, "stop_timeout", json_integer(e->stop_timeout));
	if (e->memory > 0)
		json_object_set_new(j, "memory", json_integer(e->memory));
	if (e->nano_cpus > 0)
		json_object_set_new(j, "nano_cpus", json_integer(e->nano_cpus));
	if (c->restart != RT_CTR_RESTART_NO)
		json_object_set_new(j, "restart", json_pack("{s:s, s:i}", "name",
							    rt_ctr_restart_name(c->restart),
							    "max", c->restart_max));
	if (c->health.test)
		json_object_set_new(j, "health",
				    json_pack("{s:o, s:I, s:I, s:I, s:i}", "test",
					      oci_json_strv(c->health.test), "interval",
					      (json_int_t)c->health.interval_ns, "timeout",
					      (json_int_t)c->health.timeout_ns, "start_period",
					      (json_int_t)c->health.start_period_ns, "retries",
					      c->health.retries));
}

void ctr_opts_from_json(rt_ctr_t *c, void *jv)
{
	json_t *j = jv;
	rt_ctr_extra_t *e = &c->extra;
	for (size_t i = 0; i < CB_ARRAY_SIZE(list_fields); i++)
		*list_at(e, i) = json_strv(json_object_get(j, list_fields[i].key));
	e->read_only = json_is_true(json_object_get(j, "read_only"));
	e->init = json_is_true(json_object_get(j, "init"));
	json_t *t = json_object_get(j, "stop_timeout");
	e->stop_timeout = (int)json_integer_value(t);
	e->stop_timeout_set = t != NULL;
	e->memory = json_integer_value(json_object_get(j, "memory"));
	e->nano_cpus = json_integer_value(json_object_get(j, "nano_cpus"));
	json_t *r = json_object_get(j, "restart");
	cb_error_t err = CB_ERROR_INIT;
	if (r && rt_ctr_parse_restart(json_string_value(json_object_get(r, "name")), &c->restart,
				      &c->restart_max, &err) < 0)
		cb_error_release(&err);
	c->restart_max = (int)json_integer_value(json_object_get(r, "max"));
	json_t *h = json_object_get(j, "health");
	if (h) {
		c->health.test = json_strv(json_object_get(h, "test"));
		c->health.interval_ns = json_integer_value(json_object_get(h, "interval"));
		c->health.timeout_ns = json_integer_value(json_object_get(h, "timeout"));
		c->health.start_period_ns = json_integer_value(json_object_get(h, "start_period"));
		c->health.retries = (int)json_integer_value(json_object_get(h, "retries"));
	}
}

/* ---- checks at create ---- */

static const struct {
	const char *name;
	int resource;
} ulimit_names[] = {
	{"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
	{"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK},
	{"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},     {"nofile", RLIMIT_NOFILE},
	{"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
	{"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
};

static int parse_limit_value(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < -1)
		return -1;
	*out = v == -1 ? RLIM_INFINITY : (uint64_t)v;
	return 0;
}

int rt_ctr_parse_ulimit(const char *s, sbx_rlimit_t *out, cb_error_t *err)
{
	const char *eq = strchr(s, '=');
	if (!eq)
		return cb_error_fail(err, EINVAL, "invalid ulimit argument '%s' (NAME=SOFT[:HARD])", s);
	size_t n = (size_t)(eq - s);
	int res = -1;
	for (size_t i = 0; i < CB_ARRAY_SIZE(ulimit_names); i++)
		if (strlen(ulimit_names[i].name) == n && !strncmp(s, ulimit_names[i].name, n))
			res = ulimit_names[i].resource;
	if (res < 0)
		return cb_error_fail(err, EINVAL, "invalid ulimit type '%.*s'", (int)n, s);
	_cleanup_free_ char *v = cb_xstrdup(eq + 1);
	char *colon = strchr(v, ':');
	if (colon)
		*colon = 0;
	uint64_t soft, hard;
	if (parse_limit_value(v, &soft) < 0 || parse_limit_value(colon ? colon + 1 : v, &hard) < 0)
		return cb_error_fail(err, EINVAL, "invalid ulimit argument '%s' (NAME=SOFT[:HARD])", s);
	if (soft > hard)
		return cb_error_fail(err, EINVAL, "ulimit '%s': soft limit %llu is above the hard "
				     "limit %llu", s, (unsigned long long)soft, (unsigned long long)hard);
	*out = (sbx_rlimit_t){.resource = res, .soft = soft, .hard = hard};
	return 0;
}

int rt_ctr_caps(char *const *add, char *const *drop, uint64_t *out, cb_error_t *err)
{
	uint64_t caps = SBX_CAPS_DEFAULT;
	for (size_t i = 0; drop && drop[i]; i++)
		if (!strcasecmp(drop[i], "ALL"))
			caps = 0;
	for (size_t i = 0; add && add[i]; i++)
		if (!strcasecmp(add[i], "ALL"))
			caps = sbx_caps_all();
	char *const *lists[] = {add, drop};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			if (!strcasecmp(lists[l][i], "ALL"))
				continue;
			int cap = sbx_cap_from_name(lists[l][i]);
			if (cap < 0)
				return cb_error_fail(err, EINVAL, "invalid capability '%s'", lists[l][i]);
			if (l == 0)
				caps |= UINT64_C(1) << cap;
			else
				caps &= ~(UINT64_C(1) << cap);
		}
	*out = caps;
	return 0;
}

int ctr_extra_check(const rt_ctr_extra_t *e, cb_error_t *err)
{
	uint64_t caps;
	if (rt_ctr_caps(e->cap_add, e->cap_drop, &caps, err) < 0)
		return -1;
	for (size_t i = 0; e->ulimits && e->ulimits[i]; i++) {
		sbx_rlimit_t r;
		if (rt_ctr_parse_ulimit(e->ulimits[i], &r, err) < 0)
			return -1;
	}
	for (size_t i = 0; e->extra_hosts && e->extra_hosts[i]; i++) {
		const char *h = e->extra_hosts[i];
		const char *sep = strchr(h, ':');
		if (!sep || sep == h || !sep[1])
			return cb_error_fail(err, EINVAL, "invalid argument '%s' for --add-host "
					     "(HOST:IP)", h);
	}
	for (size_t i = 0; e->tmpfs && e->tmpfs[i]; i++)
		if (e->tmpfs[i][0] != '/')
			return cb_error_fail(err, EINVAL, "invalid tmpfs '%s': the mount point "
					     "must be absolute", e->tmpfs[i]);
	if (e->init && access(INIT_HOST_PATH, X_OK) < 0)
		return cb_error_fail(err, ENOENT, "--init: no init binary '%s' (Debian's tini "
				     "package)", INIT_HOST_PATH);
	return 0;
}

/* ---- into the sandbox ---- */

/* --tmpfs OPTS: the mount flags (the sandbox mounts nosuid and nodev
 * anyway; ro is read-only, exec lifts docker's default noexec) out of
 * tmpfs's own data (size=, mode=, ...). */
static char *tmpfs_data(const char *opts, bool *ro, bool *exec)
{
	static const char *const flags[] = {"rw", "ro", "exec", "noexec", "suid", "nosuid",
					    "dev", "nodev", "atime", "noatime"};
	cb_buf_t b;
	cb_buf_init(&b);
	_cleanup_free_ char *copy = cb_xstrdup(opts);
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		bool flag = false;
		for (size_t i = 0; i < CB_ARRAY_SIZE(flags); i++)
			flag |= !strcmp(o, flags[i]);
		if (!strcmp(o, "ro"))
			*ro = true;
		if (!strcmp(o, "exec") || !strcmp(o, "noexec"))
			*exec = !strcmp(o, "exec");
		if (!flag)
			cb_buf_addf(&b, "%s%s", b.len ? "," : "", o);
	}
	if (!b.len) {
		cb_buf_release(&b);
		return NULL;
	}
	return cb_buf_detach(&b, NULL);
}

void ctr_sbx_extra_release(ctr_sbx_extra_t *x)
{
	free(x->rlimits);
	free(x->mounts);
	cb_strv_free(x->argv);
	cb_strv_free(x->dests);
	memset(x, 0, sizeof *x);
}

int ctr_sbx_extra(const rt_ctr_t *c, const sbx_mount_t *mounts, size_t n_mounts,
		  sbx_config_t *cfg, ctr_sbx_extra_t *x, cb_error_t *err)
{
	const rt_ctr_extra_t *e = &c->extra;
	memset(x, 0, sizeof *x);
	if (rt_ctr_caps(e->cap_add, e->cap_drop, &cfg->caps, err) < 0)
		return -1;
	size_t nu = cb_strv_len(e->ulimits), nt = cb_strv_len(e->tmpfs);
	x->rlimits = cb_xcalloc(nu + 1, sizeof *x->rlimits);
	for (size_t i = 0; i < nu; i++)
		if (rt_ctr_parse_ulimit(e->ulimits[i], &x->rlimits[i], err) < 0)
			return -1;
	cfg->rlimits = x->rlimits;
	cfg->n_rlimits = nu;
	cfg->readonly_rootfs = e->read_only;
	x->mounts = cb_xcalloc(n_mounts + nt + 2, sizeof *x->mounts);
	size_t n = 0;
	for (size_t i = 0; i < n_mounts; i++)
		x->mounts[n++] = mounts[i];
	for (size_t i = 0; i < nt; i++) {
		/* DEST[:OPTS]: docker's default tmpfs is noexec,nosuid,nodev */
		char *dest = cb_xstrdup(e->tmpfs[i]);
		char *colon = strchr(dest, ':');
		if (colon)
			*colon = 0;
		x->dests = cb_strv_push_take(x->dests, dest);
		bool ro = false, exec = false;
		char *data = colon ? tmpfs_data(colon + 1, &ro, &exec) : NULL;
		if (data)
			x->dests = cb_strv_push_take(x->dests, data);
		x->mounts[n++] = (sbx_mount_t){.type = SBX_MOUNT_TMPFS, .dest = dest,
					       .options = data, .readonly = ro,
					       .flags = exec ? 0 : MS_NOEXEC};
	}
	if (e->init) {
		x->mounts[n++] = (sbx_mount_t){.type = SBX_MOUNT_BIND, .source = INIT_HOST_PATH,
					       .dest = INIT_CTR_PATH, .readonly = true};
		x->argv = cb_strv_push(cb_strv_push(NULL, INIT_CTR_PATH), "--");
		for (size_t i = 0; cfg->argv[i]; i++)
			x->argv = cb_strv_push(x->argv, cfg->argv[i]);
		cfg->argv = x->argv;
	}
	cfg->mounts = x->mounts;
	cfg->n_mounts = n;
	return 0;
}

/* ---- /etc files ---- */

void ctr_extra_hosts(const rt_ctr_t *c, cb_buf_t *b)
{
	for (size_t i = 0; c->extra.extra_hosts && c->extra.extra_hosts[i]; i++) {
		const char *h = c->extra.extra_hosts[i];
		/* docker accepts HOST:IP (and HOST=IP); an IPv6 address holds colons */
		size_t n = strcspn(h, ":=");
		cb_buf_addf(b, "%s\t%.*s\n", h + n + 1, (int)n, h);
	}
}

char *ctr_extra_resolv(const rt_ctr_t *c, const char *base)
{
	if (!c->extra.dns)
		return NULL;
	cb_buf_t b;
	cb_buf_init(&b);
	/* the host's search and options stay, its nameservers are replaced; a
	 * network's own DNS (aardvark) stays first, as docker's embedded DNS
	 * does on a user network */
	_cleanup_free_ char *copy = cb_xstrdup(base ? base : "");
	char *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (c->dns_server || !cb_str_has_prefix(l, "nameserver"))
			cb_buf_addf(&b, "%s\n", l);
	for (size_t i = 0; c->extra.dns[i]; i++)
		cb_buf_addf(&b, "nameserver %s\n", c->extra.dns[i]);
	return cb_buf_detach(&b, NULL);
}
