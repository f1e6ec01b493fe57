/* cbuild restart [-t SECONDS] CONTAINER...: stop (when running), start. */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int restart_one(void *timeout, store_t *st, const char *name, cb_error_t *err)
{
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_restart(st, c, *(int *)timeout, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

const cmd_opt_t cmd_restart_opts[] = {
	{"time", 't', CMD_ARG_REQUIRED, "SECONDS",
	 "seconds to wait for it to exit before killing it (default 10)"},
	{0}};

int cmd_restart(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	long long timeout = 10;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		if (o == 't' && cmd_opts_int(&p, 0, 86400, &timeout, err) < 0)
			return CMD_USAGE;
	if (o < 0)
		return o;
	if (p.nargs < 1)
		return cmd_nargs(ctx, p.nargs, 1, -1, err);
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	int t = (int)timeout;
	return cmd_each(st, p.args, p.nargs, restart_one, &t, err);
}
