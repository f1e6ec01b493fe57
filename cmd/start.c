/* cbuild start CONTAINER...: run a created or exited container again, on
 * its kept upper directory, detached. */
#include <stdio.h>

#include "builder/container.h"
#include "cmd/cmd.h"
#include "common/util.h"

int cmd_start(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	if (argc < 2)
		return cmd_usage_error(err, "'start' needs at least 1 container");
	if (argv[1][0] == '-')
		return cmd_usage_error(err, "unknown option '%s'", argv[1]);
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		cb_error_t e = CB_ERROR_INIT;
		bld_ctr_t *c = bld_ctr_load(st, argv[i], &e);
		if (c && bld_ctr_start_detached(st, c, &e) == 0)
			printf("%s\n", argv[i]);
		else
			rc = -1;
		bld_ctr_free(c);
		if (cb_error_is_set(&e)) {
			if (cb_error_is_set(err))
				cb_warn_error(err);
			cb_error_move(err, &e);
		}
	}
	return rc;
}
