/* cbuild import [-c 'INSTRUCTION']... [-m MESSAGE] FILE|- [NAME[:TAG]]
 *
 * Like docker import: a root filesystem tarball (plain, gzip, zstd, bzip2
 * or xz) becomes a one-layer image. -c takes Dockerfile instructions
 * (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/builder.h"
#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/image.h"
#include "store/layer.h"

static int import_layer(store_t *st, const char *file, layer_result_t *res, cb_error_t *err)
{
	_cleanup_close_ int fd = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", file);
	layer_opts_t lo = LAYER_OPTS_INIT;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde)
		lo.source_date_epoch = strtoll(sde, NULL, 10);
	if (layer_write_tar(st, fd, &lo, res, err) < 0)
		return cb_error_wrap(err, "import '%s'", file);
	return 0;
}

enum { O_PLATFORM = CMD_OPT_LONG };

const cmd_opt_t cmd_import_opts[] = {
	{"change", 'c', CMD_ARG_REQUIRED, "INSTRUCTION", "apply a Dockerfile instruction (CMD, ENV, ...)",
	 CMD_OPT_REPEAT},
	{"message", 'm', CMD_ARG_REQUIRED, "TEXT", "the history comment"},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]", "the platform the config says"},
	{0}};

int cmd_import(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	_cleanup_strv_ char **changes = NULL;
	const char *message = NULL, *platform = NULL;
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'c')
			changes = cb_strv_push(changes, p.arg);
		else if (c == 'm')
			message = p.arg;
		else if (c == O_PLATFORM)
			platform = p.arg;
	}
	if (c < 0)
		return c;
	if (p.nargs < 1 || p.nargs > 2)
		return cmd_nargs(ctx, p.nargs, 1, 2, err);
	/* docker import --platform: the platform the config says */
	oci_platform_t plat;
	if (cmd_check_platform(platform, err) < 0)
		return CMD_USAGE;
	oci_platform_parse(platform, &plat, NULL);
	const char *file = p.args[0];
	_cleanup_free_ char *name = NULL;
	if (p.nargs == 2 && !(name = reg_ref_normalize(p.args[1], err)))
		return -1;
	oci_config_t *config = oci_config_new();
	oci_config_set_platform(config, &plat);
	if (bld_apply_changes(config, changes, err) < 0) {
		oci_config_free(config);
		return CMD_USAGE;
	}
	store_t *st = cmd_store(ctx, err);
	layer_result_t res;
	if (!st || import_layer(st, file, &res, err) < 0) {
		oci_config_free(config);
		return -1;
	}
	free(config->created);
	config->created = oci_time_now(-1);
	oci_config_add_diff_id(config, res.diff_id);
	_cleanup_free_ char *by = cb_asprintf("Imported from %s", strcmp(file, "-") ? file : "-");
	oci_config_add_history(config, config->created, by, message, false);
	oci_descriptor_t layer = {.media_type = (char *)res.media_type, .digest = res.digest,
				  .size = res.size};
	image_t *img = image_commit(st, config, &layer, 1, false, err);
	oci_config_free(config);
	if (!img)
		return -1;
	int rc = 0;
	/* an unnamed import is kept as an untagged entry, as docker's <none> */
	rc = store_set_ref(st, name, img->manifest_digest, img->manifest->media_type,
			   img->manifest_size, err);
	if (rc == 0)
		printf("%s\n", img->config_digest);
	image_free(img);
	return rc;
}
