/* cbuild rename CONTAINER NEW_NAME */
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

const cmd_opt_t cmd_rename_opts[] = {{0}};

int cmd_rename(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		;
	store_t *st = NULL;
	if (o == 0)
		o = cmd_operands(ctx, &p, 2, 2, &st, err);
	if (o < 0)
		return o;
	rt_ctr_t *c = rt_ctr_load(st, p.args[0], err);
	if (!c)
		return -1;
	int rc = rt_ctr_rename(st, c, p.args[1], err);
	rt_ctr_free(c);
	return rc;
}
