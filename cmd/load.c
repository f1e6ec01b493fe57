/*
 * cbuild load [-i FILE] [-q]
 *
 * Reads what `docker save`, `podman save`, `skopeo copy docker-archive:` or
 * `oci-archive:` and `cbuild save` write (store/archive.h reads it); here
 * the names the archive gives are normalized and tagged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/archive.h"
#include "store/image.h"

/* md: an image manifest, or an index (with this machine's image in the
 * store) */
static int tag_loaded(store_t *st, const char *name, const char *md, bool quiet, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	image_t *img = image_load(st, md, err);
	if (!img)
		return -1;
	int rc = store_set_ref(st, name, md, oci_document_media_type(data, len), (int64_t)len, err);
	/* docker load -q hides progress only: the names are its result */
	(void)quiet;
	if (rc == 0) {
		if (name) {
			_cleanup_free_ char *shown = reg_ref_shorten(name);
			printf("Loaded image: %s\n", shown);
		} else {
			printf("Loaded image ID: %s\n", img->config_digest);
		}
	}
	image_free(img);
	return rc;
}

typedef struct load_ctx {
	store_t *st;
	bool quiet;
} load_ctx_t;

/* An image is in: tag it with its name, normalized. An OCI layout's
 * annotation that names no repository (a bare tag) or does not parse
 * leaves it untagged; a bad manifest.json RepoTags entry is an error. */
static int loaded(void *ctx, const char *name, bool strict, const char *md, cb_error_t *err)
{
	load_ctx_t *lc = ctx;
	_cleanup_free_ char *full = NULL;
	if (name && strict) {
		if (!(full = reg_ref_normalize(name, err)))
			return -1;
	} else if (name && strpbrk(name, "/:")) {
		cb_error_t e = CB_ERROR_INIT;
		full = reg_ref_normalize(name, &e);
		cb_error_release(&e);
	}
	return tag_loaded(lc->st, full, md, lc->quiet, err);
}

const cmd_opt_t cmd_load_opts[] = {
	{"input", 'i', CMD_ARG_REQUIRED, "FILE", "read from FILE instead of standard input"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print less"},
	{0}};

int cmd_load(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *in = "-";
	bool quiet = false;
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'i')
			in = p.arg;
		else if (c == 'q')
			quiet = true;
	}
	if (c < 0)
		return c;
	if (p.nargs != 0)
		return cmd_nargs(ctx, p.nargs, 0, 0, err);
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	load_ctx_t lc = {st, quiet};
	if (store_archive_load(st, in, loaded, &lc, err) < 0)
		return cb_error_wrap(err, "load '%s'", in);
	return 0;
}
