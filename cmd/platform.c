/*
 * cmd/platform.c - the platform of a local image: an index's child for the
 * platform asked for, a single image checked against it, docker's warning
 * for an image this machine runs only under an emulator.
 */
#include "cmd/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/image.h"

/* The config of image manifest md (NULL when it does not load). */
static image_t *load_quiet(store_t *st, const char *md)
{
	cb_error_t e = CB_ERROR_INIT;
	image_t *img = image_load(st, md, &e);
	cb_error_release(&e);
	return img;
}

static int pick_child(store_t *st, const char *digest, const oci_platform_t *want,
		      const char *platform, char **md, cb_error_t *err)
{
	image_child_t *kids = NULL;
	size_t n = 0;
	if (image_index_children(st, digest, &kids, &n, err) < 0)
		return -1;
	int best_present = 0, best_absent = 0;
	for (size_t i = 0; i < n; i++) {
		int s = oci_platform_score(want, kids[i].os, kids[i].arch, kids[i].variant);
		if (kids[i].present && s > best_present)
			best_present = s;
		else if (!kids[i].present && s > best_absent)
			best_absent = s;
	}
	image_children_free(kids, n);
	if (best_present > 0 && best_present >= best_absent)
		return image_resolve(st, digest, platform, md, err);
	if (best_absent > 0)
		return CMD_PICK_PULL;
	return image_resolve(st, digest, platform, md, err); /* its error names the platforms */
}

int cmd_platform_pick(store_t *st, const char *what, const char *digest, const char *platform,
		      char **md, cb_error_t *err)
{
	(void)what;
	oci_platform_t want;
	if (oci_platform_parse(platform, &want, err) < 0)
		return -1;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	if (oci_media_type_is_index(oci_document_media_type(data, len)))
		return pick_child(st, digest, &want, platform, md, err);
	image_t *img = load_quiet(st, digest);
	bool match = !img || oci_config_platform_score(img->config, &want) > 0;
	image_free(img);
	if (!match && platform)
		return CMD_PICK_PULL;
	*md = cb_xstrdup(digest);
	return CMD_PICK_OK;
}

int cmd_platform_mismatch(store_t *st, const char *what, const char *md, const char *platform,
			  cb_error_t *err)
{
	oci_platform_t want;
	if (oci_platform_parse(platform, &want, err) < 0)
		return -1;
	image_t *img = load_quiet(st, md);
	_cleanup_free_ char *have = img ? oci_config_platform(img->config) : cb_xstrdup("unknown");
	_cleanup_free_ char *ws = oci_platform_format(&want);
	image_free(img);
	return cb_error_fail(err, ENOENT,
			     "image with reference %s was found but its platform (%s) does not "
			     "match the specified platform (%s)",
			     what, have, ws);
}

void cmd_platform_warn(store_t *st, const char *md, const char *platform)
{
	image_t *img = load_quiet(st, md);
	if (!img)
		return;
	oci_platform_t have, host;
	_cleanup_free_ char *hs = oci_config_platform(img->config);
	image_free(img);
	if (oci_platform_parse(hs, &have, NULL) < 0 || oci_platform_is_native(&have))
		return;
	oci_platform_host(&host);
	_cleanup_free_ char *host_s = oci_platform_format(&host);
	fprintf(stderr,
		"WARNING: The requested image's platform (%s) does not match the detected host "
		"platform (%s)%s\n",
		hs, host_s, platform ? "" : " and no specific platform was requested");
}
