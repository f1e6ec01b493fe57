/*
 * cmd/push.c - `cbuild push [--format oci|docker] [--digestfile F] IMAGE [DEST]`.
 *
 * Registry and oci: destinations go through reg_push; the archive
 * destinations (oci-archive:FILE[:TAG], docker-archive:FILE[:REF]) are
 * written by save's archive writer, which already writes both layouts in
 * one tar (registry/ does not depend on cmd/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "cmd/reg_common.h"
#include "cmd/save.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/registry.h"
#include "store/find.h"

/* FILE[:NAME] after the transport (skopeo splits at the first ':'). */
static int push_archive(store_t *st, const char *src, const char *dest, bool oci,
			char **digest, cb_error_t *err)
{
	const char *spec = strchr(dest, ':') + 1;
	const char *colon = strchr(spec, ':');
	_cleanup_free_ char *file = colon ? cb_xstrndup(spec, (size_t)(colon - spec))
					  : cb_xstrdup(spec);
	const char *name = colon && colon[1] ? colon + 1 : NULL;
	if (!*file)
		return cmd_usage_error(err, "invalid destination '%s': no file name (%s:FILE[:%s])",
				       dest, oci ? "oci-archive" : "docker-archive",
				       oci ? "TAG" : "REF");
	if (cmd_save_archive(st, file, src, oci ? NULL : name, oci ? name : NULL, digest, err) < 0)
		return cb_error_wrap(err, "push '%s' to '%s'", src, dest);
	return 0;
}

enum { O_DIGESTFILE = CMD_OPT_LONG };

const cmd_opt_t cmd_push_opts[] = {
	{"format", 'f', CMD_ARG_REQUIRED, "oci|docker", "media types to push (default: as stored)"},
	{"digestfile", O_DIGESTFILE, CMD_ARG_REQUIRED, "FILE", "write the pushed manifest's digest to FILE"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print no progress"},
	CMD_REG_OPTS,
	{0}};

int cmd_push(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t o;
	cmd_reg_opts_init(&o);
	const char *digestfile = NULL;
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'f') {
			if (!strcmp(p.arg, "oci"))
				o.format = REG_FORMAT_OCI;
			else if (!strcmp(p.arg, "docker") || !strcmp(p.arg, "v2s2"))
				o.format = REG_FORMAT_DOCKER;
			else
				return cmd_usage_error(err, "unknown format '%s' (oci or docker)", p.arg);
		} else if (c == O_DIGESTFILE) {
			digestfile = p.arg;
		} else {
			cmd_reg_apply(&o, &p, c);
		}
	}
	if (c < 0)
		return c;
	if (p.nargs > 2)
		return cmd_nargs(ctx, p.nargs, 1, 2, err);
	const char *src = p.nargs > 0 ? p.args[0] : NULL, *dest = p.nargs > 1 ? p.args[1] : NULL;
	if (!src)
		return cmd_nargs(ctx, p.nargs, 1, 2, err);
	cmd_catch_interrupts();
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	_cleanup_free_ char *digest = NULL, *by_id = NULL, *name = NULL;
	/* an image named by its ID goes by its manifest digest (a destination
	 * is needed then); a tag goes as typed, to keep its tag */
	cb_error_t e = CB_ERROR_INIT;
	if (cmd_find_image(st, src, &by_id, &name, &e) < 0)
		cb_error_release(&e); /* reg_push says what is missing */
	if (name || !store_image_id_like(src)) {
		free(by_id);
		by_id = NULL;
	}
	bool oci_ar = dest && cb_str_has_prefix(dest, "oci-archive:");
	bool docker_ar = dest && cb_str_has_prefix(dest, "docker-archive:");
	/* "oci:" or "oci::TAG" would be a layout at "" + "/blobs": the root
	 * directory (skopeo fails on mkdir ""): say what is missing. */
	if (dest && cb_str_has_prefix(dest, "oci:") && (!dest[4] || dest[4] == ':'))
		return cmd_usage_error(err, "invalid destination '%s': no directory (oci:DIR[:TAG])",
				       dest);
	if (dest && !*dest)
		return cmd_usage_error(err, "invalid destination '': empty");
	if (oci_ar || docker_ar) {
		if (o.format != REG_FORMAT_KEEP)
			return cmd_usage_error(err, "--format is not supported for archives");
		int r = push_archive(st, src, dest, oci_ar, &digest, err);
		if (r < 0)
			return r; /* CMD_USAGE for a bad destination */
	} else if (reg_push(st, by_id ? by_id : src, dest, &o, &digest, err) < 0) {
		return -1;
	}
	if (digestfile && cb_write_file_atomic(digestfile, NULL, digest, strlen(digest), 0644, err) < 0)
		return cb_error_wrap(err, "write digest file '%s'", digestfile);
	if (!o.quiet)
		fprintf(stderr, "Writing manifest to image destination\n");
	printf("%s\n", digest);
	return 0;
}
