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

int cmd_pull(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t o;
	cmd_reg_opts_init(&o);
	const char *image = NULL;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		int r = cmd_reg_option(&o, argc, argv, &i, err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (!strcmp(argv[i], "--all-platforms") || !strcmp(argv[i], "-a"))
			o.all_platforms = true;
		else if ((v = cmd_opt_value("--platform", argc, argv, &i, &missing)))
			o.platform = v;
		else if (missing)
			return cmd_usage_error(err, "option '%s' needs a value", argv[i]);
		else if (argv[i][0] == '-' && argv[i][1])
			return cmd_usage_error(err, "unknown option '%s'", argv[i]);
		else if (image)
			return cmd_usage_error(err, "pull takes one image");
		else
			image = argv[i];
	}
	if (!image)
		return cmd_usage_error(err, "no image given");
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
