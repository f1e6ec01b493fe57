/* Named volumes: directories of the store bound into containers. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/volume.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/places.h"

bool rt_vol_name_valid(const char *name)
{
	if (!name || !isalnum((unsigned char)name[0]) || !name[1])
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

static int check_name(const char *name, cb_error_t *err)
{
	if (rt_vol_name_valid(name))
		return 0;
	return cb_error_fail(err, EINVAL, "invalid volume name '%s': only [a-zA-Z0-9]"
					  "[a-zA-Z0-9_.-] are allowed, two characters at least",
			     name);
}

int rt_vol_ensure(store_t *st, const char *name, char **dir, bool *created, cb_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	_cleanup_free_ char *top = store_place_volume(st, NULL);
	if (cb_mkdir_p(top, 0700, err) < 0)
		return -1;
	_cleanup_free_ char *d = store_place_volume(st, name);
	bool made = mkdir(d, 0755) == 0;
	if (!made && errno != EEXIST)
		return cb_error_errno(err, "create volume '%s'", name);
	if (!cb_is_dir(d))
		return cb_error_fail(err, ENOTDIR, "volume '%s': '%s' is not a directory", name, d);
	if (created)
		*created = made;
	*dir = cb_steal_pointer(&d);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rt_vol_list(store_t *st, char ***out, cb_error_t *err)
{
	(void)err;
	_cleanup_free_ char *top = store_place_volume(st, NULL);
	char **names = cb_xcalloc(1, sizeof(char *));
	DIR *d = opendir(top);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!rt_vol_name_valid(de->d_name))
			continue;
		_cleanup_free_ char *p = cb_path_join(top, de->d_name);
		if (cb_is_dir(p))
			names = cb_strv_push(names, de->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, cb_strv_len(names), sizeof(char *), by_name);
	*out = names;
	return 0;
}

/* Whether a container's volume spec "SRC:DST[:opt]" names the volume. */
static bool spec_names(const char *spec, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(spec, name, n) && spec[n] == ':';
}

/* IDs of the containers whose config names the volume. */
static char **users_of(store_t *st, const char *name)
{
	char **users = cb_xcalloc(1, sizeof(char *));
	rt_ctr_t **all = ctr_load_all(st);
	for (size_t i = 0; all[i]; i++) {
		rt_ctr_t *c = all[i];
		for (size_t k = 0; c->volumes && c->volumes[k]; k++)
			if (spec_names(c->volumes[k], name)) {
				users = cb_strv_push(users, c->id);
				break;
			}
	}
	ctr_free_all(all);
	return users;
}

/* nftw has no context pointer: the walk's state is static, so rt_du is
 * not thread-safe (the verbs that call it run single-threaded). */
static uint64_t du_total;
static struct {
	dev_t dev;
	ino_t ino;
} *du_seen;
static size_t du_n;

static int du_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path, (void)flag, (void)ftw;
	/* docker counts file sizes, not blocks nor directories; a file with
	 * several hard links once */
	if (S_ISDIR(sb->st_mode))
		return 0;
	if (sb->st_nlink > 1) {
		for (size_t i = 0; i < du_n; i++)
			if (du_seen[i].dev == sb->st_dev && du_seen[i].ino == sb->st_ino)
				return 0;
		du_seen = cb_xreallocarray(du_seen, du_n + 1, sizeof *du_seen);
		du_seen[du_n].dev = sb->st_dev;
		du_seen[du_n++].ino = sb->st_ino;
	}
	du_total += (uint64_t)sb->st_size;
	return 0;
}

uint64_t rt_du(const char *path)
{
	du_total = 0;
	du_n = 0;
	int rc = nftw(path, du_one, 16, FTW_PHYS | FTW_MOUNT);
	(void)rc; /* unreadable: what was counted */
	free(du_seen);
	du_seen = NULL;
	return du_total;
}

/* Creation time: the directory's birth time where the file system keeps
 * one, else its mtime. */
static int64_t created_of(const char *dir)
{
	struct statx sx;
	if (statx(AT_FDCWD, dir, 0, STATX_BTIME | STATX_MTIME, &sx) == 0) {
		if (sx.stx_mask & STATX_BTIME)
			return sx.stx_btime.tv_sec;
		return sx.stx_mtime.tv_sec;
	}
	return 0;
}

int rt_vol_inspect(store_t *st, const char *name, bool with_size, rt_vol_info_t *out,
		   cb_error_t *err)
{
	_cleanup_free_ char *d = rt_vol_name_valid(name) ? store_place_volume(st, name) : NULL;
	if (!d || !cb_is_dir(d))
		return cb_error_fail(err, ENOENT, "no such volume: '%s'", name);
	memset(out, 0, sizeof *out);
	out->name = cb_xstrdup(name);
	out->created = created_of(d);
	out->size = with_size ? rt_du(d) : 0;
	out->users = users_of(st, name);
	out->mountpoint = cb_steal_pointer(&d);
	return 0;
}

void rt_vol_info_release(rt_vol_info_t *v)
{
	free(v->name);
	free(v->mountpoint);
	cb_strv_free(v->users);
	memset(v, 0, sizeof *v);
}

/* Under the store lock: no container that names it can be created
 * meanwhile (rt_ctr_create writes its config under the lock). */
static int remove_locked(store_t *st, const char *name, bool force, uint64_t *size,
			 cb_error_t *err)
{
	_cleanup_free_ char *d = rt_vol_name_valid(name) ? store_place_volume(st, name) : NULL;
	if (!d || !cb_is_dir(d))
		return force ? 0 : cb_error_fail(err, ENOENT, "no such volume: '%s'", name);
	_cleanup_strv_ char **users = users_of(st, name);
	if (users[0])
		return cb_error_fail(err, EBUSY, "remove volume '%s': it is in use by container "
						 "%.12s", name, users[0]);
	if (size)
		*size = rt_du(d);
	if (cb_rm_rf(d, err) < 0)
		return cb_error_wrap(err, "remove volume '%s'", name);
	return 0;
}

int rt_vol_remove(store_t *st, const char *name, bool force, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = remove_locked(st, name, force, NULL, err);
	store_unlock(st);
	return rc;
}

int rt_vol_prune(store_t *st, char ***removed, uint64_t *reclaimed, cb_error_t *err)
{
	_cleanup_strv_ char **names = NULL;
	if (rt_vol_list(st, &names, err) < 0 || store_lock(st, err) < 0)
		return -1;
	char **gone = cb_xcalloc(1, sizeof(char *));
	uint64_t total = 0;
	for (size_t i = 0; names[i]; i++) {
		uint64_t size = 0;
		cb_error_t e = CB_ERROR_INIT;
		if (remove_locked(st, names[i], true, &size, &e) < 0) {
			/* in use (the common case: quietly kept) or unremovable */
			if (e.code == EBUSY)
				cb_error_release(&e);
			else
				cb_warn_error(&e);
			continue;
		}
		total += size;
		gone = cb_strv_push(gone, names[i]);
	}
	store_unlock(st);
	if (reclaimed)
		*reclaimed = total;
	if (removed)
		*removed = gone;
	else
		cb_strv_free(gone);
	return 0;
}
