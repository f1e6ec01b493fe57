/*
 * cmd/pull.c - `cbuild pull [--platform os/arch[/variant]] [--all-platforms] IMAGE`.
 *
 * Progress goes to stderr; stdout gets the image ID (the config digest),
 * as podman prints it, so that scripts can capture it; after
 * --all-platforms of an index, the index digest (there is no one config).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/reg_common.h"
#include "common/util.h"
#include "registry/registry.h"
#include "store/image.h"

/* The config digest of a stored manifest. */
static char *image_id(store_t *st, const char *manifest, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, manifest, 4u << 20, &data, &len, err) < 0)
		return NULL;
	const char *mt = oci_document_media_type(data, len);
	char *id = NULL;
	if (oci_media_type_is_index(mt)) {
		id = cb_xstrdup(manifest); /* an index */
	} else if (mt) {
		oci_manifest_t *m = oci_manifest_from_json(data, len, NULL);
		id = m ? cb_xstrdup(m->config.digest) : NULL;
		oci_manifest_free(m);
	}
	if (!id)
		cb_error_fail(err, EPROTO, "manifest '%s' has no config", manifest);
	return id;
}

enum { O_PLATFORM = CMD_OPT_LONG };

const cmd_opt_t cmd_pull_opts[] = {
	{"all-platforms", 'a', CMD_ARG_NONE, NULL, "pull every platform of a multi-platform image"},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]", "the platform to pull"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only the image ID"},
	CMD_REG_OPTS,
	{0}};

int cmd_pull(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t o;
	cmd_reg_opts_init(&o);
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'a')
			o.all_platforms = p.on;
		else if (c == O_PLATFORM)
			o.platform = p.arg;
		else
			cmd_reg_apply(&o, &p, c);
	}
	if (c < 0)
		return c;
	if (p.nargs > 1)
		return cmd_nargs(ctx, p.nargs, 1, 1, err);
	const char *image = p.nargs ? p.args[0] : NULL;
	if (!image)
		return cmd_nargs(ctx, p.nargs, 1, 1, err);
	reg_warm_up(); /* libcurl loads while the store opens */
	cmd_catch_interrupts();
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	_cleanup_free_ char *digest = NULL;
	if (reg_pull(st, image, &o, &digest, err) < 0)
		return -1;
	_cleanup_free_ char *id = image_id(st, digest, err);
	if (!id)
		return -1;
	if (!o.quiet)
		fprintf(stderr, "Digest: %s\n", digest);
	printf("%s\n", id);
	return 0;
}
