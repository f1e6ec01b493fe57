#include "cmd/images_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/container.h"
#include "cmd/cmd.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/find.h"

int cmd_find_image(store_t *st, const char *what, char **manifest_digest, char **full_name,
		   cb_error_t *err)
{
	cb_error_t e = CB_ERROR_INIT;
	_cleanup_free_ char *full = reg_ref_normalize(what, &e);
	if (!full && !store_image_id_like(what)) {
		cb_error_move(err, &e);
		return -1;
	}
	cb_error_release(&e);
	if (store_image_find(st, what, full, manifest_digest, full_name, &e) == 0)
		return 0;
	if (e.code == ENOENT && full) {
		/* docker names the image as it would pull it: 'app:latest' */
		cb_error_release(&e);
		_cleanup_free_ char *shown = reg_ref_shorten(full);
		return cb_error_fail(err, ENOENT, "no such image: '%s'", shown);
	}
	cb_error_move(err, &e);
	return -1;
}

void cmd_image_user(store_t *st, const char *config_digest, cmd_image_user_t *u)
{
	char **ids = NULL;
	memset(u, 0, sizeof(*u));
	if (rt_ctr_list(st, &ids, NULL) < 0)
		return;
	for (size_t i = 0; ids && ids[i] && !u->running; i++) {
		rt_ctr_t *c = rt_ctr_load(st, ids[i], NULL);
		image_t *img = c ? image_load(st, c->image, NULL) : NULL;
		if (img && !strcmp(img->config_digest, config_digest)) {
			bool running = c->status == RT_CTR_RUNNING;
			if (!u->found || running)
				cmd_short_id(c->id, u->id);
			u->found = true;
			u->running = running;
		}
		image_free(img);
		rt_ctr_free(c);
	}
	cb_strv_free(ids);
}

int cmd_prune_untagged(store_t *st, size_t *removed, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	*removed = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		image_t *img = refs[i].name ? NULL : image_load(st, refs[i].digest, NULL);
		if (!img)
			continue;
		char **names = store_image_names(st, img->config_digest, NULL);
		size_t kids = 0;
		cmd_image_user_t u;
		cmd_image_user(st, img->config_digest, &u);
		if (names && !names[0] && store_image_children(st, img, &kids, NULL) == 0 &&
		    !kids && !u.found) {
			rc = store_remove_untagged(st, refs[i].digest, err);
			(*removed)++;
		}
		cb_strv_free(names);
		image_free(img);
	}
	store_refs_free(refs, n);
	return rc;
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
	size_t n = strnlen(hex, 12);
	memcpy(out, hex, n);
	out[n] = '\0';
}
