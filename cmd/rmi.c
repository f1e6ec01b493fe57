/* cbuild rmi [-f] IMAGE...
 *
 * Docker's rules (daemon/images/image_delete.go), with its texts:
 * - a name untags; the image goes with its last name unless a container
 *   uses it (then rmi refuses, -f untags and keeps the image untagged) or
 *   an image is built on it (kept untagged, as docker keeps a parent);
 * - an ID removes every name of the image (only with -f when it has names
 *   in several repositories) and the image, never while a running
 *   container or a child image needs it, and with -f only when a stopped
 *   container does;
 * - a removed image's untagged parent goes too when nothing else needs it.
 * Blobs no longer needed go at once (gc). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/find.h"
#include "store/gc.h"

/* docker's isSingleReference: one tag, and any digest names in its
 * repository only. */
static bool single_reference(char *const *names)
{
	size_t tags = 0;
	_cleanup_free_ char *repo = NULL;
	for (size_t i = 0; names[i]; i++) {
		const char *at = strchr(names[i], '@');
		const char *slash = strrchr(names[i], '/');
		const char *colon = strrchr(slash ? slash : names[i], ':');
		size_t len = at ? (size_t)(at - names[i])
				: colon ? (size_t)(colon - names[i]) : strlen(names[i]);
		if (!at)
			tags++;
		if (!repo)
			repo = cb_xstrndup(names[i], len);
		else if (strlen(repo) != len || strncmp(repo, names[i], len))
			return false;
	}
	return repo && tags <= 1;
}

static int untag(store_t *st, const char *full, cb_error_t *err)
{
	if (store_remove_ref(st, full, err) < 0)
		return -1;
	_cleanup_free_ char *shown = reg_ref_shorten(full);
	printf("Untagged: %s\n", shown);
	return 0;
}

static int untag_all(store_t *st, char *const *names, cb_error_t *err)
{
	for (size_t i = 0; names[i]; i++)
		if (untag(st, names[i], err) < 0)
			return -1;
	return 0;
}

typedef enum { C_CHILD = 1, C_RUNNING = 2, C_REFERENCED = 4, C_STOPPED = 8 } conflict_t;
#define C_HARD (C_CHILD | C_RUNNING)
#define C_SOFT (C_REFERENCED | C_STOPPED)

/* docker's checkImageDeleteConflict; *in_use when a child image or a
 * container uses img (set whatever the mask). */
static int check_conflict(store_t *st, const image_t *img, unsigned mask, bool *in_use,
			  cb_error_t *err)
{
	char id[13];
	cmd_short_id(img->config_digest, id);
	cmd_image_user_t u;
	if (cmd_image_user(st, img, &u, err) < 0)
		return -1;
	*in_use = u.children || u.found;
	if ((mask & C_CHILD) && u.children)
		return cb_error_fail(err, EBUSY,
				     "conflict: unable to delete %s (cannot be forced) - image has "
				     "dependent child images",
				     id);
	if ((mask & C_RUNNING) && u.running)
		return cb_error_fail(err, EBUSY,
				    "conflict: unable to delete %s (cannot be forced) - image is "
				    "being used by running container %s",
				    id, u.id);
	_cleanup_strv_ char **names = store_image_names(st, img->config_digest, err);
	if (!names)
		return -1;
	if ((mask & C_REFERENCED) && names[0])
		return cb_error_fail(err, EBUSY,
				    "conflict: unable to delete %s (must be forced) - image is "
				    "referenced in multiple repositories",
				    id);
	if ((mask & C_STOPPED) && u.found && !u.running)
		return cb_error_fail(err, EBUSY,
				    "conflict: unable to delete %s (must be forced) - image is "
				    "being used by stopped container %s",
				    id, u.id);
	return 0;
}

/* docker's imageDeleteHelper. quiet: after an untag or for a parent, a
 * conflict keeps the image (untagged) instead of failing, when a container
 * uses it or an image is built on it. */
static int delete_image(store_t *st, const image_t *img, bool force, bool quiet,
			cb_error_t *err)
{
	cb_error_t e = CB_ERROR_INIT;
	bool in_use = false;
	if (check_conflict(st, img, force ? C_HARD : C_HARD | C_SOFT, &in_use, &e) < 0) {
		if (e.code == EBUSY && quiet && in_use) {
			cb_error_release(&e);
			return 0;
		}
		cb_error_move(err, &e);
		return -1;
	}
	_cleanup_strv_ char **names = store_image_names(st, img->config_digest, err);
	if (!names || untag_all(st, names, err) < 0 ||
	    store_image_forget(st, img->config_digest, err) < 0)
		return -1;
	printf("Deleted: %s\n", img->config_digest);
	/* a parent kept only for this image goes with it (docker's prune) */
	_cleanup_free_ char *parent_md = store_image_untagged_parent(st, img, NULL);
	image_t *parent = parent_md ? image_load(st, parent_md, NULL) : NULL;
	int rc = parent ? delete_image(st, parent, false, true, err) : 0;
	image_free(parent);
	return rc;
}

/* An untagged entry for the manifest or index md. */
static int keep_untagged(store_t *st, const char *md, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	const char *mt = oci_document_media_type(data, len);
	if (!mt)
		return cb_error_fail(err, EBADMSG, "manifest '%s' is not JSON", md);
	return store_set_ref(st, NULL, md, mt, (int64_t)len, err);
}

static int remove_by_name(store_t *st, const char *what, const char *full, const char *md,
			  const image_t *img, bool force, cb_error_t *err)
{
	_cleanup_strv_ char **names = store_image_names(st, img->config_digest, err);
	if (!names)
		return -1;
	cmd_image_user_t u;
	if (!force && single_reference(names)) {
		if (cmd_image_user(st, img, &u, err) < 0)
			return -1;
		char id[13];
		cmd_short_id(img->config_digest, id);
		if (u.found)
			return cb_error_fail(err, EBUSY,
					    "conflict: unable to remove repository reference \"%s\" "
					    "(must force) - container %s is using its referenced image %s",
					    what, u.id, id);
	}
	/* the last name: an untagged entry first, so that a crash in between
	 * leaves the image kept rather than lost */
	if (cb_strv_len(names) == 1 && keep_untagged(st, md, err) < 0)
		return -1;
	if (untag(st, full, err) < 0)
		return -1;
	if (cb_strv_len(names) > 1)
		return 0;
	return delete_image(st, img, force, true, err);
}

static int remove_by_id(store_t *st, const image_t *img, bool force, cb_error_t *err)
{
	_cleanup_strv_ char **names = store_image_names(st, img->config_digest, err);
	if (!names)
		return -1;
	if (single_reference(names)) {
		bool in_use;
		unsigned mask = force ? C_HARD : (C_HARD | C_SOFT) & ~C_REFERENCED;
		if (check_conflict(st, img, mask, &in_use, err) < 0)
			return -1;
		if (untag_all(st, names, err) < 0)
			return -1;
	}
	return delete_image(st, img, force, false, err);
}

static int remove_one(void *forcep, store_t *st, const char *what, cb_error_t *err)
{
	bool force = *(bool *)forcep;
	_cleanup_free_ char *md = NULL, *full = NULL;
	if (cmd_find_image(st, what, &md, &full, err) < 0)
		return -1;
	image_t *img = image_load(st, md, err);
	if (!img)
		return -1;
	int rc = full ? remove_by_name(st, what, full, md, img, force, err)
		      : remove_by_id(st, img, force, err);
	image_free(img);
	return rc;
}

const cmd_opt_t cmd_rmi_opts[] = {
	{"force", 'f', CMD_ARG_NONE, NULL, "remove an image containers or other names use"},
	{0}};

int cmd_rmi(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool force = false;
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0)
		force = p.on;
	store_t *st = NULL;
	if (c == 0)
		c = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (c < 0)
		return c;
	int rc = cmd_each(st, p.args, p.nargs, remove_one, &force, err);
	store_gc_stats_t stats;
	cb_error_t e = CB_ERROR_INIT;
	if (store_gc(st, 0, false, &stats, &e) < 0)
		cb_warn_error(&e);
	return rc;
}
