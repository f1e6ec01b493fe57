/* cbuild cp [-a] [-L] CONTAINER:SRC DEST|-, cbuild cp [-a] [-L] SRC|- CONTAINER:DEST */
#include <getopt.h>
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

int cmd_cp(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"archive", no_argument, NULL, 'a'},
						 {"follow-link", no_argument, NULL, 'L'},
						 {NULL, 0, NULL, 0}};
	rt_cp_opts_t o = {false, false};
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+aL", longopts, NULL)) != -1) {
		if (opt == 'a')
			o.archive = true;
		else if (opt == 'L')
			o.follow = true;
		else
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 2)
		return cmd_usage_error(err, "'cp' needs exactly 2 arguments");
	char *src, *dst;
	char *sc = split_arg(argv[optind], &src);
	char *dc = split_arg(argv[optind + 1], &dst);
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
