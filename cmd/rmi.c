/* cbuild rmi [-f] IMAGE...
 *
 * A name untags; an ID removes every tag of that image (only with -f when
 * there are several, as docker does). Blobs no longer needed go at once. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/gc.h"

/* Whether an index (a multi-platform image) holds the image config_digest
 * among the platforms in the store. */
static bool index_holds(store_t *st, const store_ref_t *ref, const char *config_digest)
{
	image_child_t *kids = NULL;
	size_t n = 0;
	bool holds = false;
	if (!oci_media_type_is_index(ref->media_type) ||
	    image_index_children(st, ref->digest, &kids, &n, NULL) < 0)
		return false;
	for (size_t i = 0; !holds && i < n; i++) {
		image_t *k = kids[i].present ? image_load(st, kids[i].digest, NULL) : NULL;
		holds = k && !strcmp(k->config_digest, config_digest);
		image_free(k);
	}
	image_children_free(kids, n);
	return holds;
}

/* Every index name whose manifest has the given config digest; a name of
 * an index goes with any of its platforms' images (it is the name of each). */
static char **names_of_image(store_t *st, const char *config_digest, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return NULL;
	char **names = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		if (!refs[i].name)
			continue;
		image_t *img = image_load(st, refs[i].digest, &e);
		if (!img)
			cb_error_release(&e);
		if ((img && !strcmp(img->config_digest, config_digest)) ||
		    index_holds(st, &refs[i], config_digest))
			names = cb_strv_push(names, refs[i].name);
		image_free(img);
	}
	store_refs_free(refs, n);
	return names;
}

static int untag(store_t *st, const char *full, cb_error_t *err)
{
	if (store_remove_ref(st, full, err) < 0)
		return -1;
	_cleanup_free_ char *shown = reg_ref_shorten(full);
	printf("Untagged: %s\n", shown);
	return 0;
}

static int remove_one(void *forcep, store_t *st, const char *what, cb_error_t *err)
{
	bool force = *(bool *)forcep;
	_cleanup_free_ char *md = NULL, *full = NULL;
	if (cmd_find_image(st, what, &md, &full, err) < 0)
		return -1;
	if (full)
		return untag(st, full, err);
	image_t *img = image_load(st, md, err);
	if (!img)
		return -1;
	_cleanup_strv_ char **names = names_of_image(st, img->config_digest, err);
	image_free(img);
	if (!names)
		return -1;
	if (cb_strv_len(names) > 1 && !force)
		return cb_error_fail(err, EBUSY,
				    "unable to delete '%s' (must be forced): image is referenced "
				    "in multiple repositories",
				    what);
	for (size_t i = 0; names[i]; i++)
		if (untag(st, names[i], err) < 0)
			return -1;
	return 0;
}

int cmd_rmi(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"force", no_argument, NULL, 'f'},
						 {NULL, 0, NULL, 0}};
	bool force = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f", longopts, NULL)) != -1) {
		if (c != 'f')
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		force = true;
	}
	if (optind >= argc)
		return cmd_usage_error(err, "'rmi' needs at least 1 argument");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	int rc = cmd_each(st, argv + optind, argc - optind, remove_one, &force, err);
	store_gc_stats_t stats;
	cb_error_t e = CB_ERROR_INIT;
	if (store_gc(st, 0, false, &stats, &e) < 0)
		cb_warn_error(&e);
	return rc;
}
