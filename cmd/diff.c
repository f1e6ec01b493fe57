/* cbuild diff CONTAINER: A/C/D lines, sorted, as docker diff prints them. */
#include <stdio.h>

#include "runtime/container.h"
#include "cmd/cmd.h"

const cmd_opt_t cmd_diff_opts[] = {{0}};

int cmd_diff(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	int o = cmd_opts_next(&p, err);
	if (o != 0)
		return o;
	if (p.nargs != 1)
		return cmd_nargs(ctx, p.nargs, 1, 1, err);
	store_t *st = cmd_store(ctx, err);
	rt_ctr_t *c = st ? rt_ctr_load(st, argv[1], err) : NULL;
	if (!c)
		return -1;
	rt_ctr_change_t *v = NULL;
	size_t n = 0;
	int rc = rt_ctr_diff(st, c, &v, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		printf("%c %s\n", v[i].kind, v[i].path);
	rt_ctr_changes_free(v, n);
	rt_ctr_free(c);
	return rc;
}
