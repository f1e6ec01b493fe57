/* cbuild kill [-s SIGNAL] CONTAINER...: a signal (SIGKILL by default) to
 * each container's PID 1. */
#include <getopt.h>
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int kill_one(void *sig, store_t *st, const char *name, cb_error_t *err)
{
	rt_ctr_t *c = rt_ctr_load(st, name, err);
	int rc = c ? rt_ctr_kill(st, c, *(int *)sig, err) : -1;
	if (rc == 0)
		printf("%s\n", name);
	rt_ctr_free(c);
	return rc;
}

int cmd_kill(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"signal", required_argument, NULL, 's'},
						 {NULL, 0, NULL, 0}};
	int sig = 9, o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
		if (o != 's')
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		sig = rt_ctr_parse_signal(optarg);
		if (sig < 0)
			return cmd_usage_error(err, "invalid signal '%s'", optarg);
	}
	if (optind >= argc)
		return cmd_usage_error(err, "'kill' needs at least 1 container");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	return cmd_each(st, argv + optind, argc - optind, kill_one, &sig, err);
}
