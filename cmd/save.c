/*
 * cbuild save [-o FILE] [--platform os/arch[/variant]] IMAGE...
 *
 * Writes what modern `docker save` writes (store/archive.h: an OCI image
 * layout plus the classic manifest.json and repositories), so that
 * `docker load`, `podman load`, `skopeo copy docker-archive:` and OCI tools
 * all read it. Here: which images, under which names.
 *
 * A name of an index saves one image, the platform's (this machine's by
 * default), as the classic `docker save` does: manifest.json has room for
 * one image per tag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/save.h"

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/archive.h"
#include "store/image.h"

/* The names an image is written under (store/archive.h writes them). */
typedef struct named {
	char *md, *index, *full, *ref_name, *repo_tag, *repo, *tag;
} named_t;

static void named_release(named_t *n)
{
	free(n->md);
	free(n->index);
	free(n->full);
	free(n->ref_name);
	free(n->repo_tag);
	free(n->repo);
	free(n->tag);
}

/* What the archive says of image `what`: the platform's image manifest (a
 * name of an index saves one image: manifest.json has room for one a tag)
 * and its names. as_ref (may be NULL) replaces the image's own name;
 * oci_tag (may be NULL) replaces the tag in
 * org.opencontainers.image.ref.name. */
static int name_image(store_t *st, const char *what, const char *platform, const char *as_ref,
		      const char *oci_tag, named_t *n, store_archive_image_t *im, cb_error_t *err)
{
	_cleanup_free_ char *md = NULL, *full = NULL;
	if (cmd_find_image(st, what, &md, &full, err) < 0)
		return -1;
	if (as_ref) {
		free(full);
		if (!(full = reg_ref_normalize(as_ref, err)))
			return -1;
	}
	image_t *img = image_load_platform(st, md, platform, err);
	if (!img)
		return cb_error_wrap(err, "image '%s'", what);
	n->md = cb_xstrdup(img->manifest_digest);
	/* a build's index (attestations, platforms) goes whole, unless one
	 * platform is asked for */
	if (!platform && strcmp(md, img->manifest_digest))
		n->index = cb_steal_pointer(&md);
	image_free(img);
	reg_ref_t r;
	if (full && reg_ref_parse(full, 0, &r, NULL) == 0) {
		n->full = cb_steal_pointer(&full);
		n->repo_tag = reg_ref_familiar(&r);
		n->repo = reg_ref_familiar_repo(&r);
		n->tag = cb_xstrdup(r.tag ? r.tag : "latest");
		n->ref_name = cb_xstrdup(oci_tag ? oci_tag : n->tag);
		reg_ref_release(&r);
	} else if (!full && oci_tag) {
		n->ref_name = cb_xstrdup(oci_tag);
	}
	im->manifest_digest = n->md;
	im->index_digest = n->index;
	im->full_name = n->full;
	im->ref_name = n->ref_name;
	im->repo_tag = n->repo_tag;
	im->repo = n->repo;
	im->tag = n->tag;
	return 0;
}

/* Write the archive to `out` (beside it, then renamed) or to stdout. */
static int save_to(store_t *st, const char *platform, const char *out, char *const *images, int n,
		   const char *as_ref, const char *oci_tag, char **digest_out, cb_error_t *err)
{
	named_t *names = cb_xcalloc((size_t)n, sizeof *names);
	store_archive_image_t *ims = cb_xcalloc((size_t)n, sizeof *ims);
	int rc = 0;
	for (int i = 0; rc == 0 && i < n; i++)
		rc = name_image(st, images[i], platform, as_ref, oci_tag, &names[i], &ims[i], err);
	if (rc == 0)
		rc = store_archive_write(st, out, ims, (size_t)n, err);
	if (rc == 0 && digest_out)
		*digest_out = cb_steal_pointer(&names[n - 1].md);
	for (int i = 0; i < n; i++)
		named_release(&names[i]);
	free(names);
	free(ims);
	return rc;
}

int cmd_save_archive(store_t *st, const char *file, const char *image, const char *as_ref,
		     const char *oci_tag, char **digest_out, cb_error_t *err)
{
	char *images[] = {(char *)image};
	_cleanup_free_ char *md = NULL;
	if (save_to(st, NULL, file, images, 1, as_ref, oci_tag, &md, err) < 0)
		return cb_error_wrap(err, "write archive '%s'", file);
	if (digest_out)
		*digest_out = cb_steal_pointer(&md);
	return 0;
}

enum { O_PLATFORM = CMD_OPT_LONG };

const cmd_opt_t cmd_save_opts[] = {
	{"output", 'o', CMD_ARG_REQUIRED, "FILE", "write to FILE instead of standard output"},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]", "save only this platform"},
	{0}};

int cmd_save(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *out = NULL, *platform = NULL;
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'o')
			out = p.arg;
		else if (c == O_PLATFORM && cmd_check_platform(p.arg, err) < 0)
			return CMD_USAGE;
		else if (c == O_PLATFORM)
			platform = p.arg;
	}
	if (c < 0)
		return c;
	if (p.nargs < 1)
		return cmd_nargs(ctx, p.nargs, 1, -1, err);
	if (out && !*out)
		return cmd_usage_error(err, "invalid output path '': empty (use -o FILE)");
	if (!out && isatty(1))
		return cmd_usage_error(err, "refusing to write an archive to a terminal: use -o FILE");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	return save_to(st, platform, out, p.args, p.nargs, NULL, NULL, NULL, err);
}
