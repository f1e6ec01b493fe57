/* `run`'s durations, restart policy and healthcheck options (cmd/run_opts.h). */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/run_opts.h"
#include "common/util.h"

int cmd_parse_duration(const char *flag, const char *s, int64_t *ns, cb_error_t *err)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
		     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
	const char *p = s;
	double total = 0;
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || v < 0)
			goto bad;
		p = end;
		size_t best = CB_ARRAY_SIZE(units);
		for (size_t i = 0; i < CB_ARRAY_SIZE(units); i++)
			if (cb_str_has_prefix(p, units[i].unit) &&
			    (best == CB_ARRAY_SIZE(units) ||
			     strlen(units[i].unit) > strlen(units[best].unit)))
				best = i;
		if (best == CB_ARRAY_SIZE(units))
			goto bad;
		total += v * units[best].mul;
		p += strlen(units[best].unit);
	}
	if (p == s)
		goto bad;
	*ns = (int64_t)total;
	return 0;
bad:
	return cmd_usage_error(err, "invalid argument '%s' for '--%s': invalid duration (e.g. "
				    "30s, 1m30s, 500ms)", s, flag);
}

/* docker refuses a non-zero interval, timeout or start period under 1 ms */
static int parse_health_time(const char *flag, const char *v, int64_t *out, cb_error_t *err)
{
	int rc = cmd_parse_duration(flag, v, out, err);
	if (rc < 0)
		return rc;
	if (*out != 0 && *out < 1000000)
		return cmd_usage_error(err, "--%s cannot be less than 1ms", flag);
	return 0;
}

int cmd_run_health_restart_opt(const char *name, const char *value, rt_ctr_spec_t *s,
			       cb_error_t *err)
{
	if (!strcmp(name, "restart")) {
		if (rt_ctr_parse_restart(value, &s->restart, &s->restart_max, err) < 0)
			return CMD_USAGE;
		return 0;
	}
	if (!strcmp(name, "health-cmd")) {
		s->health_cmd = value;
		return 0;
	}
	if (!strcmp(name, "health-interval"))
		return parse_health_time(name, value, &s->health_interval_ns, err);
	if (!strcmp(name, "health-timeout"))
		return parse_health_time(name, value, &s->health_timeout_ns, err);
	if (!strcmp(name, "health-start-period"))
		return parse_health_time(name, value, &s->health_start_period_ns, err);
	if (!strcmp(name, "health-retries")) {
		char *end;
		errno = 0;
		long n = strtol(value, &end, 10);
		if (errno || end == value || *end || n < 0 || n > 1000000)
			return cmd_usage_error(err, "--health-retries cannot be negative ('%s')",
					       value);
		s->health_retries = (int)n;
		return 0;
	}
	if (!strcmp(name, "no-healthcheck")) {
		s->no_healthcheck = true;
		return 0;
	}
	return 1;
}

/* ---- more container options ---- */

/* docker's RAMInBytes: a number with an optional b, k, m, g, t unit (1024s) */
static int parse_bytes(const char *flag, const char *s, int64_t *out, cb_error_t *err)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	double mul = 1;
	switch (*end) {
	case 'b': case 'B': end++; break;
	case 'k': case 'K': mul = 1024.0; end++; break;
	case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
	}
	if (mul > 1 && (*end == 'b' || *end == 'B'))
		end++;
	if (errno || end == s || *end || v < 0)
		return cmd_usage_error(err, "invalid argument '%s' for '--%s': invalid size", s, flag);
	*out = (int64_t)(v * mul);
	return 0;
}

/* --mount type=bind|volume|tmpfs,source=,target=,readonly,tmpfs-size=,tmpfs-mode= */
static int parse_mount(cmd_run_extra_t *x, const char *v, cb_error_t *err)
{
	_cleanup_free_ char *copy = cb_xstrdup(v);
	const char *type = "volume", *src = NULL, *dst = NULL;
	bool ro = false;
	_cleanup_free_ char *tmpfs_opts = NULL;
	cb_buf_t o;
	cb_buf_init(&o);
	char *save = NULL;
	for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(f, '=');
		const char *val = eq ? eq + 1 : "";
		if (eq)
			*eq = 0;
		if (!strcmp(f, "type"))
			type = val;
		else if (!strcmp(f, "source") || !strcmp(f, "src"))
			src = val;
		else if (!strcmp(f, "target") || !strcmp(f, "destination") || !strcmp(f, "dst"))
			dst = val;
		else if (!strcmp(f, "readonly") || !strcmp(f, "ro"))
			ro = !eq || !strcmp(val, "true") || !strcmp(val, "1");
		else if (!strcmp(f, "tmpfs-size"))
			cb_buf_addf(&o, "%ssize=%s", o.len ? "," : "", val);
		else if (!strcmp(f, "tmpfs-mode"))
			cb_buf_addf(&o, "%smode=%s", o.len ? "," : "", val);
		else if (strcmp(f, "bind-propagation") && strcmp(f, "consistency")) {
			cb_buf_release(&o);
			return cmd_usage_error(err, "invalid argument '%s' for '--mount': unknown "
						    "field '%s'", v, f);
		}
	}
	tmpfs_opts = cb_buf_detach(&o, NULL);
	if (!dst || *dst != '/')
		return cmd_usage_error(err, "invalid argument '%s' for '--mount': target is "
					    "required and must be absolute", v);
	if (!strcmp(type, "tmpfs")) {
		if (src)
			return cmd_usage_error(err, "invalid argument '%s' for '--mount': source "
						    "is not allowed for tmpfs mounts", v);
		x->e->tmpfs = cb_strv_push_take(x->e->tmpfs, *tmpfs_opts ? cb_asprintf("%s:%s", dst,
			tmpfs_opts) : cb_xstrdup(dst));
		return 0;
	}
	if (strcmp(type, "bind") && strcmp(type, "volume"))
		return cmd_usage_error(err, "invalid argument '%s' for '--mount': type '%s' is "
					    "not bind, volume or tmpfs", v, type);
	if (!strcmp(type, "volume") && (!src || !*src)) {
		/* an anonymous volume: the runtime names it by a random id */
		*x->volumes = cb_strv_push_take(*x->volumes, cb_asprintf("%s%s", dst,
									 ro ? ":ro" : ""));
		return 0;
	}
	if (!src || !*src)
		return cmd_usage_error(err, "invalid mount config for type \"bind\": field "
					    "Source must not be empty");
	bool bind = !strcmp(type, "bind");
	if (bind && (*src != '/' || access(src, F_OK) < 0))
		/* unlike -v, --mount never creates the host path (docker) */
		return cmd_usage_error(err, "invalid mount config for type \"bind\": bind source "
					    "path does not exist: %s", src);
	if (!bind && strchr(src, '/'))
		return cmd_usage_error(err, "invalid mount config for type \"volume\": invalid "
					    "volume name '%s'", src);
	*x->volumes = cb_strv_push_take(*x->volumes, cb_asprintf("%s:%s%s", src, dst,
								 ro ? ":ro" : ""));
	return 0;
}

static int parse_extra_value(cmd_run_extra_t *x, const char *name, const char *v,
			     cb_error_t *err)
{
	rt_ctr_extra_t *e = x->e;
	if (!strcmp(name, "memory")) {
		if (parse_bytes(name, v, &e->memory, err) < 0)
			return CMD_USAGE;
		if (e->memory && e->memory < 6 * 1024 * 1024)
			return cmd_usage_error(err, "minimum memory limit allowed is 6MB");
		return 0;
	}
	if (!strcmp(name, "cpus")) {
		char *end;
		double c = strtod(v, &end);
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (end == v || *end || c < 0)
			return cmd_usage_error(err, "invalid argument '%s' for '--cpus'", v);
		if (c > (double)ncpu || (c > 0 && c < 0.01))
			return cmd_usage_error(err, "range of CPUs is from 0.01 to %ld.00, as there "
						    "are only %ld CPUs available", ncpu, ncpu);
		e->nano_cpus = (int64_t)(c * 1e9);
		return 0;
	}
	if (!strcmp(name, "stop-timeout")) {
		char *end;
		long t = strtol(v, &end, 10);
		if (end == v || *end || t < -1 || t > 86400)
			return cmd_usage_error(err, "invalid argument '%s' for '--stop-timeout'", v);
		e->stop_timeout = t < 0 ? 86400 : (int)t; /* -1: wait for ever (a day) */
		e->stop_timeout_set = true;
		return 0;
	}
	if (!strcmp(name, "stop-signal")) {
		if (rt_ctr_parse_signal(v) < 0)
			return cmd_usage_error(err, "invalid signal: %s", v);
		e->stop_signal = v;
		return 0;
	}
	if (!strcmp(name, "mount"))
		return parse_mount(x, v, err);
	return 1;
}

int cmd_run_extra_opt(cmd_run_extra_t *x, const char *name, const char *value, bool on,
		      cb_error_t *err)
{
	static const struct {
		const char *name;
		size_t off;
	} lists[] = {{"tmpfs", offsetof(rt_ctr_extra_t, tmpfs)},
		     {"add-host", offsetof(rt_ctr_extra_t, extra_hosts)},
		     {"dns", offsetof(rt_ctr_extra_t, dns)},
		     {"label", offsetof(rt_ctr_extra_t, labels)},
		     {"cap-add", offsetof(rt_ctr_extra_t, cap_add)},
		     {"cap-drop", offsetof(rt_ctr_extra_t, cap_drop)},
		     {"ulimit", offsetof(rt_ctr_extra_t, ulimits)}};
	rt_ctr_extra_t *e = x->e;
	for (size_t i = 0; i < CB_ARRAY_SIZE(lists); i++)
		if (!strcmp(name, lists[i].name)) {
			char ***l = (char ***)((char *)e + lists[i].off);
			*l = cb_strv_push(*l, value);
			return 0;
		}
	if (!strcmp(name, "read-only")) {
		e->read_only = on;
		return 0;
	}
	if (!strcmp(name, "init")) {
		e->init = on;
		return 0;
	}
	return parse_extra_value(x, name, value, err);
}

void cmd_run_extra_release(rt_ctr_extra_t *e)
{
	char **lists[] = {e->tmpfs, e->extra_hosts, e->dns, e->labels, e->cap_add, e->cap_drop,
			  e->ulimits};
	for (size_t i = 0; i < CB_ARRAY_SIZE(lists); i++)
		cb_strv_free(lists[i]);
}
