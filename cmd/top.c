/* cbuild top CONTAINER [ps OPTIONS]: the container's processes as ps
 * shows them (host PIDs), in docker's columns. */
#include <stdio.h>
#include <string.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

const cmd_opt_t cmd_top_opts[] = {{0}};

/* docker's tabwriter (min width 20, padding 3); the last column as is */
static void print_rows(char ***rows)
{
	size_t ncols = cb_strv_len(rows[0]), w[64] = {0};
	if (ncols > 64)
		ncols = 64;
	for (size_t r = 0; rows[r]; r++)
		for (size_t i = 0; i < ncols && rows[r][i]; i++)
			if (strlen(rows[r][i]) + 3 > w[i])
				w[i] = strlen(rows[r][i]) + 3;
	for (size_t r = 0; rows[r]; r++) {
		for (size_t i = 0; i < ncols && rows[r][i]; i++) {
			if (i + 1 == ncols || !rows[r][i + 1])
				printf("%s", rows[r][i]);
			else
				printf("%-*s", (int)(w[i] < 20 ? 20 : w[i]), rows[r][i]);
		}
		printf("\n");
	}
}

int cmd_top(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		;
	store_t *st = NULL;
	if (o == 0)
		o = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (o < 0)
		return o;
	rt_ctr_t *c = rt_ctr_load(st, p.args[0], err);
	if (!c)
		return -1;
	/* what follows the container is ps's own: args[1..] */
	char **ps_args = cb_xcalloc((size_t)p.nargs, sizeof(char *));
	for (int i = 1; i < p.nargs; i++)
		ps_args[i - 1] = p.args[i];
	char ***rows = NULL;
	int rc = rt_ctr_top(st, c, ps_args, &rows, err);
	free(ps_args);
	rt_ctr_free(c);
	if (rc < 0)
		return -1;
	print_rows(rows);
	rt_ctr_top_free(rows);
	return 0;
}
