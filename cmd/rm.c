/* cbuild rm [-f] CONTAINER...: a running container needs -f (killed). */
#include <getopt.h>
#include <stdio.h>

#include "builder/container.h"
#include "cmd/cmd.h"
#include "common/util.h"

int cmd_rm(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"force", no_argument, NULL, 'f'},
						 {"volumes", no_argument, NULL, 'v'},
						 {NULL, 0, NULL, 0}};
	bool force = false;
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "fv", longopts, NULL)) != -1) {
		if (o == 'f')
			force = true;
		else if (o != 'v')
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return cmd_usage_error(err, "'rm' needs at least 1 container");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		cb_error_t e = CB_ERROR_INIT;
		bld_ctr_t *c = bld_ctr_load(st, argv[i], &e);
		if (c && bld_ctr_remove(st, c, force, &e) == 0)
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
