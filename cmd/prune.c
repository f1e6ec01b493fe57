/* cbuild prune: remove dangling images (untagged, nothing built on them,
 * no container using them), the build cache and every blob and unpacked
 * layer no tag or container needs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/sandbox.h"
#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "store/gc.h"
#include "store/users.h"

enum { O_KEEP_CACHE = CMD_OPT_LONG };

const cmd_opt_t cmd_prune_opts[] = {
	{"keep-cache", O_KEEP_CACHE, CMD_ARG_NONE, NULL, "keep the build cache"},
	{"force", 'f', CMD_ARG_NONE, NULL, "accepted for docker: cbuild never asks"},
	{"all", 'a', CMD_ARG_NONE, NULL,
	 "also every image no container uses, tagged or not (docker's image prune -a)"},
	{0}};

int cmd_prune(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool keep_cache = false, all = false;
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0)
		if (c == O_KEEP_CACHE)
			keep_cache = p.on;
		else if (c == 'a')
			all = p.on;
	if (c < 0)
		return c;
	store_t *st = NULL;
	int n_rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (n_rc != 0)
		return n_rc;
	/* rootless: unpacked layers hold files of the user's subordinate ids,
	 * removable only as root of a user namespace that maps them (the store
	 * is open: its default root depends on who we are) */
	_cleanup_strv_ char **untagged_names = all ? cmd_untag_unused(st, err) : NULL;
	if (cb_error_is_set(err))
		return -1;
	if (geteuid() != 0 && sbx_enter_userns(0, err) < 0)
		return -1;
	size_t untagged = 0;
	if (store_prune_dangling(st, &untagged, err) < 0)
		return -1;
	store_gc_stats_t stats;
	if (store_gc(st, 0, !keep_cache, &stats, err) < 0)
		return -1;
	if (untagged_names && untagged_names[0]) {
		printf("Deleted Images:\n");
		for (size_t i = 0; untagged_names[i]; i++)
			printf("%s\n", untagged_names[i]);
		printf("\n");
	}
	char size[32];
	cmd_human_size((int64_t)stats.bytes_freed, size, sizeof(size));
	printf("Deleted %llu blobs and %llu unpacked layers\nTotal reclaimed space: %s\n",
	       (unsigned long long)stats.blobs_removed, (unsigned long long)stats.layers_removed,
	       size);
	return 0;
}
