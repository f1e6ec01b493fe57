/*
 * cmd/logout.c - `cbuild logout [REGISTRY]`: remove saved credentials.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/reg_common.h"
#include "common/util.h"
#include "registry/registry.h"

const cmd_opt_t cmd_logout_opts[] = {
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print less"},
	CMD_REG_OPTS,
	{0}};

int cmd_logout(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t o;
	reg_opts_init(&o);
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0)
		cmd_reg_apply(&o, &p, c);
	if (c < 0)
		return c;
	if (p.nargs > 1)
		return cmd_nargs(ctx, p.nargs, 0, 1, err);
	const char *registry = p.nargs ? p.args[0] : NULL;
	_cleanup_free_ char *host = reg_auth_normalize_host(registry ? registry : "docker.io");
	cb_error_t e = CB_ERROR_INIT;
	if (reg_logout(host, &o, &e) < 0) {
		if (e.code != ENOENT) {
			cb_error_move(err, &e);
			return -1;
		}
		/* as docker: not an error */
		cb_error_release(&e);
		fprintf(stderr, "Not logged in to %s\n", host);
		return 0;
	}
	printf("Removing login credentials for %s\n", host);
	return 0;
}
