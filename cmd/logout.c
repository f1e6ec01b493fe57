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

int cmd_logout(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t o;
	reg_opts_init(&o);
	const char *registry = NULL;
	for (int i = 1; i < argc; i++) {
		int r = cmd_reg_option(&o, argc, argv, &i, err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cmd_usage_error(err, "unknown option '%s'", argv[i]);
		if (registry)
			return cmd_usage_error(err, "logout takes one registry");
		registry = argv[i];
	}
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
