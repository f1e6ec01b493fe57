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
#include "store/users.h"

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

/* created_ns orders containers made in one second; older ones lack it */
static int64_t created_ns(const rt_ctr_t *c)
{
	return c->created_ns ? c->created_ns : c->created * 1000000000;
}

int cmd_image_user(store_t *st, const image_t *img, cmd_image_user_t *u, cb_error_t *err)
{
	store_image_users_t us = {0};
	if (store_image_users(st, img, &us, err) < 0)
		return -1;
	memset(u, 0, sizeof(*u));
	u->children = us.children;
	int64_t newest = 0;
	for (size_t i = 0; us.containers[i]; i++) {
		rt_ctr_t *c = rt_ctr_load(st, us.containers[i], NULL);
		if (!c)
			continue;
		bool running = c->status == RT_CTR_RUNNING;
		bool better = running ? !u->running || created_ns(c) > newest
				      : !u->running && (!u->found || created_ns(c) > newest);
		if (better) {
			cmd_short_id(c->id, u->id);
			newest = created_ns(c);
			u->running = running;
		}
		u->found = true;
		rt_ctr_free(c);
	}
	store_image_users_release(&us);
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

void cmd_human_units(uint64_t v, bool binary, int digits, char *buf, size_t len)
{
	static const char *const dec[] = {"B", "kB", "MB", "GB", "TB"};
	static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	const double base = binary ? 1024.0 : 1000.0;
	double d = (double)v;
	size_t i = 0;
	while (d >= base && i + 1 < CB_ARRAY_SIZE(dec))
		d /= base, i++;
	snprintf(buf, len, "%.*g%s", digits, d, binary ? bin[i] : dec[i]);
}

void cmd_human_size(int64_t bytes, char *buf, size_t len)
{
	cmd_human_units(bytes > 0 ? (uint64_t)bytes : 0, false, 3, buf, len);
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
