/* cbuild stop [-t SECONDS] CONTAINER...: STOPSIGNAL, then SIGKILL.
 * cbuild restart [-t SECONDS] CONTAINER...: stop (when running), start.
 * One verb shape: a timeout, then each container. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/container.h"
#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

typedef struct timed_op {
	int (*op)(store_t *st, rt_ctr_t *c, int timeout, cb_error_t *err);
	int timeout;
} timed_op_t;

static int timed_one(void *opaque, store_t *st, const char *name, cb_error_t *err)
{
	const timed_op_t *t = opaque;
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? t->op(st, c, t->timeout, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

static int timed_verb(cmd_ctx_t *ctx, int argc, char **argv, timed_op_t t, cb_error_t *err)
{
	long long timeout = t.timeout;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		if (o == 't' && cmd_opts_int(&p, 0, 86400, &timeout, err) < 0)
			return CMD_USAGE;
	store_t *st = NULL;
	if (o == 0)
		o = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (o < 0)
		return o;
	t.timeout = (int)timeout;
	return cmd_each(st, p.args, p.nargs, timed_one, &t, err);
}

const cmd_opt_t cmd_stop_opts[] = {
	{"time", 't', CMD_ARG_REQUIRED, "SECONDS",
	 "seconds to wait for it to exit before killing it (default: its --stop-timeout, "
	 "else 10)"},
	{0}};

int cmd_stop(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	/* -1: the container's own, as docker */
	return timed_verb(ctx, argc, argv, (timed_op_t){rt_ctr_stop, -1}, err);
}

const cmd_opt_t cmd_restart_opts[] = {
	{"time", 't', CMD_ARG_REQUIRED, "SECONDS",
	 "seconds to wait for it to exit before killing it (default 10)"},
	{0}};

int cmd_restart(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	return timed_verb(ctx, argc, argv, (timed_op_t){rt_ctr_restart, 10}, err);
}
