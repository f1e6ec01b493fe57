/* cbuild rm [-f] CONTAINER...: a running container needs -f (killed). */
#include <getopt.h>
#include <stdio.h>

#include "runtime/container.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int rm_one(void *force, store_t *st, const char *name, cb_error_t *err)
{
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_remove(st, c, *(bool *)force, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

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
	return cmd_each(st, argv + optind, argc - optind, rm_one, &force, err);
}
