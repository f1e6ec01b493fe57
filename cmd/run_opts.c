/* `run`'s durations, restart policy and healthcheck options (cmd/run_opts.h). */
#include <errno.h>
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
