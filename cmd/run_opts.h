/*
 * cmd/run_opts.h - the values of `run`'s container options that need more
 * than a copy: durations, restart policies, health checks. Parsing only;
 * the runtime applies them.
 */
#ifndef CB_CMD_RUN_OPTS_H
#define CB_CMD_RUN_OPTS_H

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
