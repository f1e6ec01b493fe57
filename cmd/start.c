/* cbuild start CONTAINER...: run a created or exited container again, on
 * its kept upper directory, detached. */
#include <stdio.h>

#include "runtime/container.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int start_one(void *unused, store_t *st, const char *name, cb_error_t *err)
{
	(void)unused;
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_start_detached(st, c, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

const cmd_opt_t cmd_start_opts[] = {{0}};

int cmd_start(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	return cmd_each_name(ctx, argc, argv, start_one, err);
}
