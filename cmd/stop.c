/* cbuild stop [-t SECONDS] CONTAINER...: STOPSIGNAL, then SIGKILL. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/container.h"
#include "cmd/cmd.h"
#include "common/util.h"

int cmd_stop(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"time", required_argument, NULL, 't'},
						 {NULL, 0, NULL, 0}};
	int timeout = 10, o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "t:", longopts, NULL)) != -1) {
		char *end;
		if (o != 't')
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		long v = strtol(optarg, &end, 10);
		if (*end || v < 0 || v > 86400)
			return cmd_usage_error(err, "invalid timeout '%s'", optarg);
		timeout = (int)v;
	}
	if (optind >= argc)
		return cmd_usage_error(err, "'stop' needs at least 1 container");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		cb_error_t e = CB_ERROR_INIT;
		bld_ctr_t *c = bld_ctr_load(st, argv[i], &e);
		if (c && bld_ctr_stop(st, c, timeout, &e) == 0)
			printf("%s\n", argv[i]);
		else
			rc = -1;
		bld_ctr_free(c);
		if (cb_error_is_set(&e)) {
			/* go on with the others, report the last failure */
			if (cb_error_is_set(err))
				cb_warn_error(err);
			cb_error_move(err, &e);
		}
	}
	return rc;
}
