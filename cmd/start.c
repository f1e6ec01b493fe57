/* cbuild start [-a [-i]] CONTAINER...: run a created or exited container
 * again, on its kept upper directory, detached; with -a, attached to its
 * output from this start on, exiting with its code (docker's start -a). */
#include <errno.h>
#include <stdio.h>

#include "runtime/container.h"
#include "runtime/container_ops.h"
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

const cmd_opt_t cmd_start_opts[] = {
	{"attach", 'a', CMD_ARG_NONE, NULL, "follow its output and exit with its code"},
	{"interactive", 'i', CMD_ARG_NONE, NULL, "with -a: send this stdin to it"},
	{0}};

/* The log's end is marked before the start: nothing it prints is missed,
 * even when it exits at once. */
static int start_attached(cmd_ctx_t *ctx, store_t *st, const char *name, bool in, cb_error_t *err)
{
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	if (!c)
		return -1;
	rt_attach_t a = {.out_fd = 1, .err_fd = 2, .in_fd = in ? 0 : -1, .at_start = true,
			 .mark = rt_ctr_attach_mark(c)};
	int code = 0;
	int rc = rt_ctr_start_detached(st, c, err);
	if (rc == 0)
		rc = rt_ctr_attach(st, c, &a, &code, err);
	if (rc == 0)
		ctx->exit_code = code;
	rt_ctr_free(c);
	return rc;
}

int cmd_start(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool attach = false, in = false;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		if (o == 'a')
			attach = p.on;
		else if (o == 'i')
			in = p.on;
	}
	if (o < 0)
		return o;
	if (p.nargs < 1)
		return cmd_nargs(ctx, p.nargs, 1, -1, err);
	if (attach && p.nargs > 1)
		return cb_error_fail(err, EINVAL, "you cannot start and attach multiple "
						  "containers at once");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	if (attach)
		return start_attached(ctx, st, p.args[0], in, err);
	return cmd_each(st, p.args, p.nargs, start_one, NULL, err);
}
