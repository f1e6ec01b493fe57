#include "store/keep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

#define KEEP_MAX (64u << 10) /* a record: a digest and a step's text */

static const char *const kind_dirs[STORE_KEEP_KINDS] = {"cache", "containers", "lazy"};
static const char *const kind_names[STORE_KEEP_KINDS] = {"cache", "container", "lazy"};

const char *store_keep_kind_name(store_keep_kind_t kind)
{
	return kind < STORE_KEEP_KINDS ? kind_names[kind] : "?";
}

static char *kind_dir(const store_t *st, store_keep_kind_t kind)
{
	if (kind >= STORE_KEEP_KINDS)
		CB_BUG("store_keep: kind %d", (int)kind);
	return cb_asprintf("%s/refs/%s", store_root(st), kind_dirs[kind]);
}

/* A name is one path component of a sane length: never "..", never a
 * hidden file (which every walk skips). */
static bool valid_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	return len > 0 && len <= 255 && name[0] != '.' && !strchr(name, '/');
}

static int check_name(const char *name, cb_error_t *err)
{
	if (!valid_name(name))
		return cb_error_fail(err, EINVAL, "invalid store reference name '%s'",
				     name ? name : "");
	return 0;
}

int store_keep_set(store_t *st, store_keep_kind_t kind, const char *name, const char *digest,
		   const char *note, bool durable, cb_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	if (!digest_is_valid(digest))
		return cb_error_fail(err, EINVAL, "reference '%s': invalid digest '%s'", name,
				     digest ? digest : "");
	_cleanup_free_ char *dir = kind_dir(st, kind);
	_cleanup_free_ char *path = cb_asprintf("%s/%s", dir, name);
	_cleanup_free_ char *tmp = cb_asprintf("%s/tmp", store_root(st));
	_cleanup_free_ char *text = note ? cb_asprintf("%s\n%s\n", digest, note)
					 : cb_asprintf("%s\n", digest);
	cb_error_t e = CB_ERROR_INIT;
	int rc = cb_write_file_replace(path, tmp, text, strlen(text), 0644, durable, &e);
	if (rc < 0 && e.code == ENOENT && cb_mkdir_p(dir, 0700, NULL) == 0) {
		/* its folder removed by hand since the store was opened */
		cb_error_release(&e);
		rc = cb_write_file_replace(path, tmp, text, strlen(text), 0644, durable, &e);
	}
	if (rc < 0) {
		cb_error_move(err, &e);
		return cb_error_wrap(err, "keep %s '%s'", kind_names[kind], name);
	}
	return 0;
}

/* The record's digest, checked: a record cut by a crash (written without
 * fsync) holds less than a whole first line and reads as missing. */
static bool read_record(const char *path, digest_t *digest)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(path, KEEP_MAX, &data, &len, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	if (len < DIGEST_STR_LEN + 1 || data[DIGEST_STR_LEN] != '\n')
		return false;
	data[DIGEST_STR_LEN] = '\0';
	if (digest_parse(data, digest, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	return true;
}

int store_keep_get(const store_t *st, store_keep_kind_t kind, const char *name, digest_t *digest,
		   cb_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	_cleanup_free_ char *dir = kind_dir(st, kind);
	_cleanup_free_ char *path = cb_asprintf("%s/%s", dir, name);
	if (!read_record(path, digest))
		return cb_error_fail(err, ENOENT, "no %s reference '%s'", kind_names[kind], name);
	return 0;
}

int store_keep_remove(const store_t *st, store_keep_kind_t kind, const char *name,
		      cb_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	_cleanup_free_ char *dir = kind_dir(st, kind);
	_cleanup_free_ char *path = cb_asprintf("%s/%s", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return cb_error_errno(err, "remove %s reference '%s'", kind_names[kind], name);
	return 0;
}

int store_keep_each(const store_t *st, store_keep_kind_t kind, store_keep_fn fn, void *ctx,
		    cb_error_t *err)
{
	_cleanup_free_ char *dir = kind_dir(st, kind);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return cb_error_errno(err, "open '%s'", dir);
	}
	/* names first: fn may remove the record it is given */
	_cleanup_strv_ char **names = cb_xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d)))
		if (valid_name(de->d_name))
			names = cb_strv_push(names, de->d_name);
	closedir(d);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *path = cb_asprintf("%s/%s", dir, names[i]);
		digest_t digest;
		bool ok = read_record(path, &digest);
		if (!ok && !cb_path_exists(path))
			continue; /* removed meanwhile */
		fn(ctx, kind, names[i], ok ? &digest : NULL);
	}
	return 0;
}

int store_keep_drop(const store_t *st, store_keep_kind_t kind, cb_error_t *err)
{
	_cleanup_free_ char *dir = kind_dir(st, kind);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : cb_error_errno(err, "open '%s'", dir);
	struct dirent *de;
	while ((de = readdir(d)))
		if (valid_name(de->d_name))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return 0;
}

/* ---- older stores ---- */

/* cache/KEYHEX.json {"manifest": ..., "step": ...} -> refs/cache/KEYHEX;
 * the old file goes once its record is written. */
static void migrate_cache(store_t *st)
{
	_cleanup_free_ char *dir = cb_asprintf("%s/cache", store_root(st));
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len != DIGEST_HEX_LEN + 5 || strcmp(de->d_name + DIGEST_HEX_LEN, ".json"))
			continue;
		_cleanup_free_ char *p = cb_asprintf("%s/%s", dir, de->d_name);
		_cleanup_free_ char *name = cb_xstrndup(de->d_name, DIGEST_HEX_LEN);
		json_t *j = json_load_file(p, 0, NULL);
		const char *m = json_string_value(json_object_get(j, "manifest"));
		const char *step = json_string_value(json_object_get(j, "step"));
		cb_error_t e = CB_ERROR_INIT;
		if (!digest_is_valid(m) ||
		    store_keep_set(st, STORE_KEEP_CACHE, name, m, step, false, &e) == 0)
			unlinkat(dirfd(d), de->d_name, 0); /* converted, or a miss anyway */
		cb_error_release(&e);
		json_decref(j);
	}
	closedir(d);
}

/* containers/ID/config.json {"image": ...} -> refs/containers/ID. */
static void migrate_containers(store_t *st)
{
	_cleanup_free_ char *dir = cb_asprintf("%s/containers", store_root(st));
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!valid_name(de->d_name))
			continue;
		_cleanup_free_ char *p = cb_asprintf("%s/%s/config.json", dir, de->d_name);
		json_t *j = json_load_file(p, 0, NULL);
		const char *img = json_string_value(json_object_get(j, "image"));
		cb_error_t e = CB_ERROR_INIT;
		if (digest_is_valid(img) &&
		    store_keep_set(st, STORE_KEEP_CONTAINER, de->d_name, img, NULL, true, &e) < 0)
			cb_warn_error(&e);
		json_decref(j);
	}
	closedir(d);
}

int store_keep_migrate(store_t *st, cb_error_t *err)
{
	_cleanup_free_ char *mark = cb_asprintf("%s/refs/v1", store_root(st));
	if (cb_path_exists(mark))
		return 0;
	for (int k = 0; k < STORE_KEEP_KINDS; k++) {
		_cleanup_free_ char *dir = kind_dir(st, (store_keep_kind_t)k);
		if (cb_mkdir_p(dir, 0700, err) < 0)
			return -1;
	}
	/* under the lock: one converter at a time, and none while a gc runs */
	if (store_lock(st, err) < 0)
		return -1;
	int rc = 0;
	if (!cb_path_exists(mark)) {
		migrate_containers(st);
		migrate_cache(st);
		_cleanup_free_ char *tmp = cb_asprintf("%s/tmp", store_root(st));
		rc = cb_write_file_atomic(mark, tmp, "1\n", 2, 0644, err);
	}
	store_unlock(st);
	return rc;
}
