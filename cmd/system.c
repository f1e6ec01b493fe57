/* cbuild system df|prune (and system info): docker's housekeeping verbs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/sandbox.h"
#include "runtime/usage.h"
#include "runtime/volume.h"
#include "cmd/cmd.h"
#include "cmd/format.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/gc.h"
#include "store/users.h"

enum { O_FORMAT = CMD_OPT_LONG, O_VOLUMES };

static const cmd_opt_t df_opts[] = {
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "FORMAT",
	 "a Go template ({{.Type}}, {{.TotalCount}}, {{.Active}}, {{.Size}}, {{.Reclaimable}}), "
	 "table or json"},
	{0}};

static const cmd_fmt_field_t df_fields[] = {
	{"Type", "TYPE"},   {"TotalCount", "TOTAL"},        {"Active", "ACTIVE"},
	{"Size", "SIZE"},   {"Reclaimable", "RECLAIMABLE"},
};

static void df_row(cmd_fmt_t *f, const char *type, const rt_usage_row_t *r, bool percent)
{
	char total[32], active[32], size[32], rec[32], recp[48];
	snprintf(total, sizeof total, "%zu", r->total);
	snprintf(active, sizeof active, "%zu", r->active);
	cmd_human_units(r->size, false, 4, size, sizeof size); /* units.HumanSize */
	cmd_human_units(r->reclaimable, false, 4, rec, sizeof rec);
	if (percent && r->size)
		snprintf(recp, sizeof recp, "%s (%d%%)", rec,
			 (int)(r->reclaimable * 100 / r->size));
	else
		snprintf(recp, sizeof recp, "%s", rec);
	const char *row[] = {type, total, active, size, recp};
	cmd_fmt_row(f, row);
}

static int sys_df(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *format = NULL;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		if (o == O_FORMAT)
			format = p.arg;
	if (o < 0)
		return o;
	if (p.nargs)
		return cmd_nargs(ctx, p.nargs, 0, 0, err);
	cmd_fmt_t *f = NULL;
	if (cmd_fmt_new(format ? format : "table",
			"table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
			df_fields, CB_ARRAY_SIZE(df_fields), &f, err) < 0)
		return CMD_USAGE;
	store_t *st = cmd_store(ctx, err);
	rt_usage_t u;
	if (!st || rt_usage(st, &u, err) < 0) {
		cmd_fmt_free(f);
		return -1;
	}
	df_row(f, "Images", &u.images, true);
	df_row(f, "Containers", &u.containers, true);
	df_row(f, "Local Volumes", &u.volumes, true);
	df_row(f, "Build Cache", &u.cache, false);
	cmd_fmt_print(f, stdout);
	cmd_fmt_free(f);
	return 0;
}

static const cmd_opt_t prune_opts[] = {
	{"all", 'a', CMD_ARG_NONE, NULL,
	 "every image no container uses (not only dangling ones), and all build cache"},
	{"force", 'f', CMD_ARG_NONE, NULL, "do not ask for confirmation"},
	{"volumes", O_VOLUMES, CMD_ARG_NONE, NULL, "also every volume no container uses"},
	{0}};

static void print_section(const char *title, char *const *v)
{
	if (!v || !v[0])
		return;
	printf("%s:\n", title);
	for (size_t i = 0; v[i]; i++)
		printf("%s\n", v[i]);
	printf("\n");
}

char **cmd_untag_unused(store_t *st, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	char **out = cb_xcalloc(1, sizeof(char *));
	if (store_list_refs(st, &refs, &n, err) < 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		image_t *img = refs[i].name ? image_load(st, refs[i].digest, &e) : NULL;
		cb_error_release(&e);
		if (!img)
			continue;
		cmd_image_user_t u;
		bool used = cmd_image_user(st, img, &u, &e) < 0 || u.found;
		cb_error_release(&e); /* unknown users: keep it, as if used */
		if (!used && store_remove_ref(st, refs[i].name, &e) == 0) {
			reg_ref_t r;
			char *fam = NULL;
			if (reg_ref_parse(refs[i].name, 0, &r, &e) == 0) {
				fam = reg_ref_familiar(&r);
				reg_ref_release(&r);
			}
			out = cb_strv_push_take(out, cb_asprintf("untagged: %s",
								 fam ? fam : refs[i].name));
			free(fam);
		}
		cb_error_release(&e);
		image_free(img);
	}
	store_refs_free(refs, n);
	return out;
}

static bool ask(bool all, bool volumes)
{
	_cleanup_free_ char *w = cb_asprintf(
		"WARNING! This will remove:\n"
		"  - all stopped containers\n"
		"  - all networks not used by at least one container\n%s%s",
		volumes ? "  - all volumes not used by at least one container\n" : "",
		all ? "  - all images without at least one container associated to them\n"
		      "  - all build cache\n"
		    : "  - all dangling images\n  - all dangling build cache\n");
	return cmd_confirm(w);
}

static int sys_prune(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool all = false, force = false, volumes = false;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		if (o == 'a')
			all = p.on;
		else if (o == 'f')
			force = p.on;
		else if (o == O_VOLUMES)
			volumes = p.on;
	}
	if (o < 0)
		return o;
	store_t *st = NULL;
	int n_rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (n_rc != 0)
		return n_rc;
	if (!force && !ask(all, volumes))
		return 0;
	_cleanup_strv_ char **ctrs = NULL, **nets = NULL, **vols = NULL, **imgs = NULL;
	uint64_t ctr_bytes = 0, vol_bytes = 0;
	if (rt_prune_containers(st, &ctrs, &ctr_bytes, err) < 0 ||
	    rt_prune_networks(st, &nets, err) < 0 ||
	    (volumes && rt_vol_prune(st, &vols, &vol_bytes, err) < 0))
		return -1;
	imgs = all ? cmd_untag_unused(st, err) : cb_xcalloc(1, sizeof(char *));
	/* rootless: unpacked layers hold files of subordinate ids (cmd/prune.c) */
	if (geteuid() != 0 && sbx_enter_userns(0, err) < 0)
		return -1;
	size_t dangling = 0;
	if (store_prune_dangling(st, &dangling, err) < 0)
		return -1;
	store_gc_stats_t gs;
	if (store_gc(st, 0, true, &gs, err) < 0)
		return -1;
	print_section("Deleted Containers", ctrs);
	print_section("Deleted Networks", nets);
	print_section("Deleted Volumes", vols);
	print_section("Deleted Images", imgs);
	char size[32];
	cmd_human_units(ctr_bytes + vol_bytes + gs.bytes_freed, false, 4, size, sizeof size);
	printf("Total reclaimed space: %s\n", size);
	return 0;
}

const cmd_opt_t cmd_container_prune_opts[] = {
	{"force", 'f', CMD_ARG_NONE, NULL, "do not ask for confirmation"},
	{0}};

/* docker's container prune: every stopped container, their IDs, the bytes
 * their writable layers held. */
int cmd_container_prune(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool force = false;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		if (o == 'f')
			force = p.on;
	if (o < 0)
		return o;
	store_t *st = NULL;
	int n_rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (n_rc != 0)
		return n_rc;
	if (!force && !cmd_confirm("WARNING! This will remove all stopped containers."))
		return 0;
	_cleanup_strv_ char **ctrs = NULL;
	uint64_t bytes = 0;
	if (rt_prune_containers(st, &ctrs, &bytes, err) < 0)
		return -1;
	print_section("Deleted Containers", ctrs);
	char size[32];
	cmd_human_units(bytes, false, 4, size, sizeof size);
	printf("Total reclaimed space: %s\n", size);
	return 0;
}

const cmd_def_t cmd_system_subs[] = {
	{"df", sys_df, "cbuild system df [OPTIONS]",
	 "show the disk space images, containers, volumes and the build cache use", df_opts},
	{"info", cmd_info, "cbuild system info [OPTIONS]",
	 "show the store, the snapshotter and the isolation builds get here", cmd_info_opts},
	{"prune", sys_prune, "cbuild system prune [OPTIONS]",
	 "remove stopped containers, unused networks, dangling images and the build cache",
	 prune_opts},
	{0}};
