/* cbuild restart [-t SECONDS] CONTAINER...: stop (when running), start. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int restart_one(void *timeout, store_t *st, const char *name, cb_error_t *err)
{
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_restart(st, c, *(int *)timeout, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

int cmd_restart(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
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
		return cmd_usage_error(err, "'restart' needs at least 1 container");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	return cmd_each(st, argv + optind, argc - optind, restart_one, &timeout, err);
}
