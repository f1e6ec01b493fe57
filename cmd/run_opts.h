/*
 * cmd/run_opts.h - the values of `run`'s container options that need more
 * than a copy: durations, restart policies, health checks. Parsing only;
 * the runtime applies them.
 */
#ifndef CB_CMD_RUN_OPTS_H
#define CB_CMD_RUN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "runtime/container.h"

/* Go's time.ParseDuration as docker reads --health-interval and friends:
 * "1m30s", "500ms", "0"; a unit is required otherwise. Usage error
 * (CMD_USAGE) naming `flag` when invalid or negative. */
int cmd_parse_duration(const char *flag, const char *s, int64_t *ns, cb_error_t *err);

/* One of the options below, by its long name without "--", into s:
 * restart, health-cmd, health-interval, health-timeout,
 * health-start-period, health-retries, no-healthcheck. Returns 1 when the
 * name is not one of them, 0 when applied, CMD_USAGE with err. */
int cmd_run_health_restart_opt(const char *name, const char *value, rt_ctr_spec_t *s,
			       cb_error_t *err);

#endif

/* The lists behind a spec's rt_ctr_extra_t and the -v entries --mount
 * adds: owned here, freed by cmd_run_extra_release. */
typedef struct cmd_run_extra {
	rt_ctr_extra_t *e;  /* the spec's, whose lists point into this */
	char ***volumes;    /* the run's -v list: --mount bind|volume land there */
} cmd_run_extra_t;

/* One of --mount, --tmpfs, --read-only, --init, --add-host, --dns,
 * --label, --cap-add, --cap-drop, --ulimit, --memory, --cpus,
 * --stop-signal, --stop-timeout (by long name), on = the flag's value.
 * Returns 1 when the name is none of them, 0 when applied, CMD_USAGE. */
int cmd_run_extra_opt(cmd_run_extra_t *x, const char *name, const char *value, bool on,
		      cb_error_t *err);
void cmd_run_extra_release(rt_ctr_extra_t *e);
