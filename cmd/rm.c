/* cbuild rm [-f] CONTAINER...: a running container needs -f (killed). */
#include <stdio.h>

#include "runtime/container.h"
#include "cmd/cmd.h"
#include "common/util.h"

struct rm_flags {
	bool force, volumes;
};

static int rm_one(void *arg, store_t *st, const char *name, cb_error_t *err)
{
	const struct rm_flags *f = arg;
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_remove(st, c, f->force, err) : -1;
	if (rc == 0 && f->volumes)
		rt_ctr_remove_anon_volumes(st, c);
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

const cmd_opt_t cmd_rm_opts[] = {
	{"force", 'f', CMD_ARG_NONE, NULL, "remove a running container too (killed first)"},
	{"volumes", 'v', CMD_ARG_NONE, NULL, "remove the container's anonymous volumes"},
	{0}};

int cmd_rm(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	struct rm_flags f = {0};
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		if (o == 'f')
			f.force = p.on;
		else if (o == 'v')
			f.volumes = p.on;
	store_t *st = NULL;
	if (o == 0)
		o = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (o < 0)
		return o;
	return cmd_each(st, p.args, p.nargs, rm_one, &f, err);
}
