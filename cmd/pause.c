/* cbuild pause CONTAINER...: freeze every process of each container (the
 * cgroup freezer); cbuild unpause CONTAINER...: thaw them. */
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int freeze_one(store_t *st, const char *name, bool freeze, cb_error_t *err)
{
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = !c ? -1 : freeze ? rt_ctr_pause(st, c, err) : rt_ctr_unpause(st, c, err);
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

static int pause_one(void *unused, store_t *st, const char *name, cb_error_t *err)
{
	(void)unused;
	return freeze_one(st, name, true, err);
}

static int unpause_one(void *unused, store_t *st, const char *name, cb_error_t *err)
{
	(void)unused;
	return freeze_one(st, name, false, err);
}

const cmd_opt_t cmd_pause_opts[] = {{0}};
const cmd_opt_t cmd_unpause_opts[] = {{0}};

int cmd_pause(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	return cmd_each_name(ctx, argc, argv, pause_one, err);
}

int cmd_unpause(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	return cmd_each_name(ctx, argc, argv, unpause_one, err);
}
