/* cbuild kill [-s SIGNAL] CONTAINER...: a signal (SIGKILL by default) to
 * each container's PID 1. */
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int kill_one(void *sig, store_t *st, const char *name, cb_error_t *err)
{
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_kill(st, c, *(int *)sig, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

const cmd_opt_t cmd_kill_opts[] = {
	{"signal", 's', CMD_ARG_REQUIRED, "SIGNAL",
	 "the signal, by name (TERM, SIGTERM) or number (default KILL)"},
	{0}};

int cmd_kill(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int sig = 9, o;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		sig = rt_ctr_parse_signal(p.arg);
		if (sig < 0)
			return cmd_usage_error(err, "invalid signal '%s'", p.arg);
	}
	store_t *st = NULL;
	if (o == 0)
		o = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (o < 0)
		return o;
	return cmd_each(st, p.args, p.nargs, kill_one, &sig, err);
}
