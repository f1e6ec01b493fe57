/* cbuild wait CONTAINER...: block until each has stopped, print its exit
 * code (one line each, in order). */
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int wait_one(void *unused, store_t *st, const char *name, cb_error_t *err)
{
	(void)unused;
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int code = 0;
	int rc = c ? rt_ctr_wait(st, c, &code, err) : -1;
	if (rc == 0) {
		printf("%d\n", code);
		fflush(stdout); /* a script reading the codes one by one sees each */
	}
	rt_ctr_free(c);
	return rc;
}

int cmd_wait(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	if (argc < 2)
		return cmd_usage_error(err, "'wait' needs at least 1 container");
	if (argv[1][0] == '-' && argv[1][1])
		return cmd_usage_error(err, "unknown option '%s'", argv[1]);
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	return cmd_each(st, argv + 1, argc - 1, wait_one, NULL, err);
}
