/* cbuild unpause CONTAINER...: thaw containers that pause froze. */
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int unpause_one(void *unused, store_t *st, const char *name, cb_error_t *err)
{
	(void)unused;
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_unpause(st, c, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

const cmd_opt_t cmd_unpause_opts[] = {{0}};

int cmd_unpause(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		;
	if (o < 0)
		return o;
	if (p.nargs < 1)
		return cmd_usage_error(err, "'unpause' needs at least 1 container");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	return cmd_each(st, p.args, p.nargs, unpause_one, NULL, err);
}
