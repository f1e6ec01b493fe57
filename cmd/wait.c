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

const cmd_opt_t cmd_wait_opts[] = {{0}};

int cmd_wait(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	return cmd_each_name(ctx, argc, argv, wait_one, err);
}
