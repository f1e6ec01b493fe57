#include "cmd/images_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "common/util.h"
#include "registry/reference.h"

static bool is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

/* What an ID prefix finds in one entry of index.json: the entry itself
 * (its manifest or index digest, or the ID of the image it stands for on
 * this machine), else, for an index, one of its other platforms' images. */
static bool match_ref(store_t *st, const store_ref_t *ref, const char *hex, char **md,
		      char **id)
{
	image_t *img = image_load(st, ref->digest, NULL);
	if (cb_str_has_prefix(digest_hex(ref->digest), hex) ||
	    (img && cb_str_has_prefix(digest_hex(img->config_digest), hex))) {
		*md = cb_xstrdup(ref->digest);
		*id = img ? cb_xstrdup(img->config_digest) : cb_xstrdup(ref->digest);
		image_free(img);
		return true;
	}
	image_free(img);
	image_child_t *kids = NULL;
	size_t n = 0;
	if (!oci_media_type_is_index(ref->media_type) ||
	    image_index_children(st, ref->digest, &kids, &n, NULL) < 0)
		return false;
	bool found = false;
	for (size_t i = 0; !found && i < n; i++) {
		image_t *k = kids[i].present ? image_load(st, kids[i].digest, NULL) : NULL;
		if (k && (cb_str_has_prefix(digest_hex(k->config_digest), hex) ||
			  cb_str_has_prefix(digest_hex(k->manifest_digest), hex))) {
			*md = cb_xstrdup(k->manifest_digest);
			*id = cb_xstrdup(k->config_digest);
			found = true;
		}
		image_free(k);
	}
	image_children_free(kids, n);
	return found;
}

/* Match an image ID (config digest) or a prefix of it against every tagged
 * or untagged manifest of the index, and the images of every image index.
 * Several manifests of one image ID are one image, not an ambiguity. */
static int find_by_id(store_t *st, const char *hex, char **manifest_digest, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return -1;
	char *found = NULL, *found_id = NULL;
	bool ambiguous = false;
	for (size_t i = 0; i < n && !ambiguous; i++) {
		char *md = NULL, *id = NULL;
		if (!match_ref(st, &refs[i], hex, &md, &id))
			continue;
		if (!found) {
			found = md;
			found_id = id;
			continue;
		}
		ambiguous = strcmp(found_id, id) != 0;
		free(md);
		free(id);
	}
	store_refs_free(refs, n);
	free(found_id);
	if (ambiguous) {
		free(found);
		return cb_error_fail(err, EINVAL, "image ID prefix '%s' is ambiguous", hex);
	}
	if (!found)
		return cb_error_fail(err, ENOENT, "no such image: '%s'", hex);
	*manifest_digest = found;
	return 0;
}

int cmd_find_image(store_t *st, const char *what, char **manifest_digest, char **full_name,
		   cb_error_t *err)
{
	const char *hex = cb_str_has_prefix(what, "sha256:") ? what + 7 : what;
	if (is_hex(hex) && (hex != what || strlen(hex) >= 12)) {
		cb_error_t e = CB_ERROR_INIT;
		if (find_by_id(st, hex, manifest_digest, &e) == 0) {
			if (full_name)
				*full_name = NULL;
			return 0;
		}
		if (hex != what || e.code != ENOENT) {
			cb_error_move(err, &e);
			return -1;
		}
		cb_error_release(&e);
	}
	reg_ref_t r;
	if (reg_ref_parse(what, 0, &r, err) < 0)
		return -1;
	_cleanup_free_ char *full = reg_ref_full(&r);
	store_ref_t ref = {0};
	int rc = store_get_ref(st, full, &ref, NULL);
	if (rc < 0 && r.digest) {
		/* name@digest: any manifest with that digest will do */
		if (store_has_blob(st, r.digest)) {
			ref.digest = cb_xstrdup(r.digest);
			rc = 0;
		}
	}
	reg_ref_release(&r);
	if (rc < 0) {
		_cleanup_free_ char *shown = reg_ref_shorten(full);
		return cb_error_fail(err, ENOENT, "no such image: '%s'", shown);
	}
	*manifest_digest = cb_steal_pointer(&ref.digest);
	if (full_name)
		*full_name = cb_steal_pointer(&full);
	store_ref_release(&ref);
	return 0;
}

image_t *cmd_load_image_platform(store_t *st, const char *what, const char *platform,
				 cb_error_t *err)
{
	_cleanup_free_ char *md = NULL;
	if (cmd_find_image(st, what, &md, NULL, err) < 0)
		return NULL;
	image_t *img = image_load_platform(st, md, platform, err);
	if (!img)
		cb_error_wrap(err, "image '%s'", what);
	return img;
}

image_t *cmd_load_image(store_t *st, const char *what, cb_error_t *err)
{
	return cmd_load_image_platform(st, what, NULL, err);
}

int cmd_check_platform(const char *platform, cb_error_t *err)
{
	oci_platform_t p;
	cb_error_t e = CB_ERROR_INIT;
	if (!platform || oci_platform_parse(platform, &p, &e) == 0)
		return 0;
	int rc = cmd_usage_error(err, "%s", e.msg);
	cb_error_release(&e);
	return rc;
}

void cmd_human_size(int64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1000.0 && u + 1 < CB_ARRAY_SIZE(units)) {
		v /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lldB", (long long)bytes);
	else
		snprintf(buf, len, "%.3g%s", v, units[u]);
}

void cmd_human_duration(int64_t s, char *buf, size_t len)
{
	if (s < 1)
		snprintf(buf, len, "Less than a second");
	else if (s == 1)
		snprintf(buf, len, "1 second");
	else if (s < 60)
		snprintf(buf, len, "%lld seconds", (long long)s);
	else if (s < 120)
		snprintf(buf, len, "About a minute");
	else if (s < 3600)
		snprintf(buf, len, "%lld minutes", (long long)(s / 60));
	else if (s < 2 * 3600)
		snprintf(buf, len, "About an hour");
	else if (s < 48 * 3600)
		snprintf(buf, len, "%lld hours", (long long)(s / 3600));
	else if (s < 14 * 86400)
		snprintf(buf, len, "%lld days", (long long)(s / 86400));
	else if (s < 60 * 86400)
		snprintf(buf, len, "%lld weeks", (long long)(s / (7 * 86400)));
	else if (s < 730 * 86400)
		snprintf(buf, len, "%lld months", (long long)(s / (30 * 86400)));
	else
		snprintf(buf, len, "%lld years", (long long)(s / (365 * 86400)));
}

void cmd_human_ago(int64_t then, char *buf, size_t len)
{
	if (then < 0) {
		snprintf(buf, len, "N/A");
		return;
	}
	char d[64];
	cmd_human_duration((int64_t)time(NULL) - then, d, sizeof(d));
	snprintf(buf, len, "%s ago", d);
}

void cmd_short_id(const char *digest, char out[13])
{
	const char *hex = cb_str_has_prefix(digest, "sha256:") ? digest + 7 : digest;
	snprintf(out, 13, "%s", hex);
}
