/* cbuild rename CONTAINER NEW_NAME */
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

int cmd_rename(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	if (argc != 3)
		return cmd_usage_error(err, "'rename' needs exactly 2 arguments");
	if (argv[1][0] == '-')
		return cmd_usage_error(err, "unknown option '%s'", argv[1]);
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	rt_ctr_t *c = rt_ctr_load(st, argv[1], err);
	if (!c)
		return -1;
	int rc = rt_ctr_rename(st, c, argv[2], err);
	rt_ctr_free(c);
	return rc;
}
