/* cbuild cp [-a] [-L] CONTAINER:SRC DEST|-, cbuild cp [-a] [-L] SRC|- CONTAINER:DEST */
#include <stdio.h>
#include <string.h>

#include "runtime/container_cp.h"
#include "cmd/cmd.h"
#include "common/util.h"

/* docker's split: an absolute path, one without ':' or one starting with
 * '.' is local; else what precedes the first ':' names a container. */
static char *split_arg(char *arg, char **path)
{
	char *colon = strchr(arg, ':');
	if (arg[0] == '/' || arg[0] == '.' || !colon) {
		*path = arg;
		return NULL;
	}
	*colon = 0;
	*path = colon + 1;
	return arg;
}

const cmd_opt_t cmd_cp_opts[] = {
	{"archive", 'a', CMD_ARG_NONE, NULL,
	 "archive mode: keep uid:gid (kept without it too, as docker 20.10 does)"},
	{"follow-link", 'L', CMD_ARG_NONE, NULL, "follow a symlink that SRC names"},
	{0}};

int cmd_cp(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	rt_cp_opts_t o = {false, false};
	cmd_opts_t p;
	int opt;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((opt = cmd_opts_next(&p, err)) > 0) {
		if (opt == 'a')
			o.archive = p.on;
		else if (opt == 'L')
			o.follow = p.on;
	}
	if (opt < 0)
		return opt;
	if (p.nargs != 2)
		return cmd_nargs(ctx, p.nargs, 2, 2, err);
	char *src, *dst;
	char *sc = split_arg(p.args[0], &src);
	char *dc = split_arg(p.args[1], &dst);
	if (sc && dc)
		return cmd_usage_error(err, "copying between containers is not supported");
	if (!sc && !dc)
		return cmd_usage_error(err, "must specify at least one container source");
	if ((sc && !*src) || (dc && !*dst))
		return cmd_usage_error(err, "a container path must not be empty");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	rt_ctr_t *c = rt_ctr_load(st, sc ? sc : dc, err);
	if (!c)
		return -1;
	int rc = sc ? rt_ctr_copy_out(st, c, src, dst, &o, err)
		    : rt_ctr_copy_in(st, c, src, dst, &o, err);
	rt_ctr_free(c);
	return rc;
}
