/* cbuild commit [-m MSG] [-a AUTHOR] [-c INSTRUCTION]... [--pause=true]
 * CONTAINER [IMAGE[:TAG]]: the container's changes as a new image. */
#include <stdio.h>
#include <string.h>

#include "builder/builder.h"
#include "cmd/cmd.h"
#include "runtime/container.h"
#include "common/util.h"
#include "registry/reference.h"

enum { O_FORMAT = CMD_OPT_LONG };

const cmd_opt_t cmd_commit_opts[] = {
	{"message", 'm', CMD_ARG_REQUIRED, "TEXT", "the commit message (history comment)"},
	{"author", 'a', CMD_ARG_REQUIRED, "NAME", "the image's author"},
	{"change", 'c', CMD_ARG_REQUIRED, "INSTRUCTION", "apply a Dockerfile instruction (CMD, ENV, ...)",
	 CMD_OPT_REPEAT},
	{"pause", 'p', CMD_ARG_NONE, NULL, "pause the container while committing (default true)"},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "oci|docker", "media types of the image (default oci)"},
	{0}};

int cmd_commit(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	rt_ctr_commit_opts_t co = {.pause = true};
	_cleanup_strv_ char **changes = NULL;
	int o;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		switch (o) {
		case 'm': co.message = p.arg; break;
		case 'a': co.author = p.arg; break;
		case 'c': changes = cb_strv_push(changes, p.arg); break;
		case 'p': co.pause = p.on; break;
		case O_FORMAT:
			if (strcmp(p.arg, "oci") && strcmp(p.arg, "docker"))
				return cmd_usage_error(err, "invalid --format '%s'", p.arg);
			co.docker_format = !strcmp(p.arg, "docker");
			break;
		}
	}
	if (o < 0)
		return o;
	if (p.nargs < 1 || p.nargs > 2)
		return cmd_nargs(ctx, p.nargs, 1, 2, err);
	co.changes = changes;
	co.apply_changes = bld_apply_changes;
	_cleanup_free_ char *name = NULL;
	if (p.nargs == 2 && !(name = reg_ref_normalize(p.args[1], err)))
		return -1;
	store_t *st = cmd_store(ctx, err);
	rt_ctr_t *c = st ? rt_ctr_load(st, p.args[0], err) : NULL;
	if (!c)
		return -1;
	image_t *img = rt_ctr_commit(st, c, &co, err);
	rt_ctr_free(c);
	if (!img)
		return -1;
	int rc = store_set_ref(st, name, img->manifest_digest, img->manifest->media_type,
			       img->manifest_size, err);
	if (rc == 0)
		printf("%s\n", img->config_digest);
	image_free(img);
	return rc;
}
