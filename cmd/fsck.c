/* cbuild fsck [--repair]: check the store; with --repair, remove what is
 * broken. One line per problem on stdout; exit 1 when something is wrong
 * (with --repair: when something could not be repaired). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/sandbox.h"
#include "cmd/cmd.h"
#include "common/util.h"
#include "registry/sources.h"
#include "store/fsck.h"

static void report(void *ctx, const char *line)
{
	(void)ctx;
	printf("%s\n", line);
	fflush(stdout);
}

/* A lazy layer (remote build-cache hit) is named in the registry sources. */
static bool remote_blob(void *ctx, store_t *st, const char *digest)
{
	(void)ctx;
	char **repos = reg_sources_get(st, digest);
	bool yes = repos && repos[0];
	cb_strv_free(repos);
	return yes;
}

const cmd_opt_t cmd_fsck_opts[] = {
	{"repair", CMD_OPT_LONG, CMD_ARG_NONE, NULL, "remove what is broken (the rest stays usable)"},
	{0}};

int cmd_fsck(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool repair = false;
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0)
		repair = p.on;
	if (c < 0)
		return c;
	store_t *st = NULL;
	int n_rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (n_rc != 0)
		return n_rc;
	/* rootless: unpacked layers hold files of subordinate ids (see prune) */
	if (geteuid() != 0 && sbx_enter_userns(0, err) < 0)
		return -1;
	store_fsck_opts_t o = {.repair = repair, .remote_blob = remote_blob, .report = report};
	store_fsck_result_t res;
	if (store_fsck(st, &o, &res, err) < 0)
		return -1;
	printf("checked %u blobs, %u references, %u cache entries, %u unpacked layers: ",
	       res.blobs, res.refs, res.cache_entries, res.layers);
	if (!res.problems)
		printf("no problems\n");
	else
		printf("%u problems, %u repaired\n", res.problems, res.repaired);
	if (res.problems > res.repaired)
		return cb_error_fail(err, 0, "the store has %u problems%s", res.problems - res.repaired,
				    repair ? " left" : " (fsck --repair removes what is broken)");
	return 0;
}
