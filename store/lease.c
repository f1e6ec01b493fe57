#include "store/lease.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/image.h"
#include "store/store_internal.h"

/* The handle's fields are changed under lease_mu; the const handles that
 * readers pass (store_has_blob) still own a lease: it is bookkeeping, not
 * the store's content. */
static store_t *mut(const store_t *st) { return (store_t *)st; }

static uint64_t self_start(void)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long long start = 0;
	/* field 22 (starttime) is the 20th after the command's closing paren */
	for (int i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

static int begin_locked(store_t *st, cb_error_t *err)
{
	if (st->lease_id && st->lease_pid != getpid()) {
		/* a forked child (a container's monitor) that writes gets a
		 * lease of its own: its parent's ends when the parent exits.
		 * Closing our copy of the fd leaves the parent's flock held. */
		close(st->lease_fd);
		st->lease_fd = -1;
		free(st->lease_id);
		st->lease_id = NULL;
		cb_strv_free(st->lease_seen);
		st->lease_seen = NULL;
	}
	if (st->lease_id)
		return 0;
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 8;
	_cleanup_free_ char *id =
		cb_asprintf("%d-%llu-%08x", (int)getpid(), (unsigned long long)self_start(), r);
	_cleanup_free_ char *tmp = cb_asprintf("%s/leases/.new-%s", st->root, id);
	_cleanup_free_ char *path = cb_asprintf("%s/leases/%s", st->root, id);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return cb_error_errno(err, "create lease '%s'", tmp);
	/* locked before it has its name: gc never sees it ownerless */
	char head[64];
	int hn = snprintf(head, sizeof head, "pid %d\n", (int)getpid());
	if (flock(fd, LOCK_EX) < 0 || cb_write_all(fd, head, (size_t)hn, err) < 0 ||
	    rename(tmp, path) < 0) {
		if (!cb_error_is_set(err))
			cb_error_errno(err, "create lease '%s'", path);
		unlink(tmp);
		close(fd);
		return -1;
	}
	st->lease_id = cb_steal_pointer(&id);
	st->lease_fd = fd;
	st->lease_pid = getpid();
	return 0;
}

int store_lease_begin(store_t *st, cb_error_t *err)
{
	pthread_mutex_lock(&st->lease_mu);
	int rc = begin_locked(st, err);
	pthread_mutex_unlock(&st->lease_mu);
	return rc;
}

const char *store_lease_id(const store_t *st)
{
	return st->lease_id;
}

int store_leases_lock(const store_t *cst, cb_error_t *err)
{
	store_t *st = mut(cst);
	pthread_mutex_lock(&st->leases_lock_mu);
	if (st->leases_lock_depth++ > 0)
		return 0;
	if (st->leases_lock_fd < 0) {
		_cleanup_free_ char *p = cb_asprintf("%s/leases/lock", st->root);
		st->leases_lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	while (st->leases_lock_fd < 0 || flock(st->leases_lock_fd, LOCK_EX) < 0) {
		if (st->leases_lock_fd >= 0 && errno == EINTR)
			continue;
		st->leases_lock_depth--;
		pthread_mutex_unlock(&st->leases_lock_mu);
		return cb_error_errno(err, "lock the leases of '%s'", st->root);
	}
	return 0;
}

void store_leases_unlock(const store_t *cst)
{
	store_t *st = mut(cst);
	if (st->leases_lock_depth <= 0)
		CB_BUG("store_leases_unlock without lock");
	if (--st->leases_lock_depth == 0)
		flock(st->leases_lock_fd, LOCK_UN);
	pthread_mutex_unlock(&st->leases_lock_mu);
}

int store_lease_add(const store_t *cst, int kind, const char *digest, cb_error_t *err)
{
	store_t *st = mut(cst);
	if (digest_validate(digest, err) < 0)
		return -1;
	char line[DIGEST_HEX_LEN + 4];
	snprintf(line, sizeof line, "%c %s\n", kind, digest_hex(digest));
	pthread_mutex_lock(&st->lease_mu);
	int rc = 0;
	if ((rc = begin_locked(st, err)) < 0)
		goto out;
	if (st->lease_seen && oci_strset_has(st->lease_seen, line))
		goto out;
	if ((rc = store_leases_lock(st, err)) < 0)
		goto out;
	rc = cb_write_all(st->lease_fd, line, strlen(line), err);
	store_leases_unlock(st);
	if (rc == 0) {
		if (!st->lease_seen)
			st->lease_seen = cb_xcalloc(1, sizeof(char *));
		st->lease_seen = oci_strset_add(st->lease_seen, line);
	}
out:
	pthread_mutex_unlock(&st->lease_mu);
	return rc < 0 ? cb_error_wrap(err, "lease '%s'", digest) : 0;
}

/* Added first, checked after: a gc that read the leases before the add
 * holds the leases lock until its sweep is over, so the add waits for it
 * and the check sees what it left; a later gc sees the lease. */
bool store_lease_has_blob(const store_t *st, const char *digest)
{
	cb_error_t e = CB_ERROR_INIT;
	if (store_lease_add(st, LEASE_BLOB, digest, &e) < 0)
		cb_error_release(&e); /* read-only store: nothing can gc it either */
	_cleanup_free_ char *p = store_blob_path(st, digest);
	return access(p, F_OK) == 0;
}

bool store_lease_has_layer(const store_t *st, const char *diff_id)
{
	cb_error_t e = CB_ERROR_INIT;
	if (store_lease_add(st, LEASE_LAYER, diff_id, &e) < 0)
		cb_error_release(&e);
	_cleanup_free_ char *p = cb_asprintf("%s/layers/sha256/%s", st->root, digest_hex(diff_id));
	return cb_is_dir(p);
}

char *store_tmp_dir(const store_t *cst)
{
	store_t *st = mut(cst);
	cb_error_t e = CB_ERROR_INIT;
	pthread_mutex_lock(&st->lease_mu);
	char *dir = NULL;
	if (begin_locked(st, &e) == 0) {
		dir = cb_asprintf("%s/tmp/L-%s", st->root, st->lease_id);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			free(dir);
			dir = NULL;
		}
	}
	pthread_mutex_unlock(&st->lease_mu);
	cb_error_release(&e);
	return dir ? dir : cb_asprintf("%s/tmp", st->root);
}

void store_lease_end(store_t *st)
{
	if (!st->lease_id)
		return;
	if (st->lease_pid == getpid()) {
		/* the files go first: a lease file without its owner is what
		 * tells the next command that they are garbage */
		_cleanup_free_ char *dir = cb_asprintf("%s/tmp/L-%s", st->root, st->lease_id);
		_cleanup_free_ char *path = cb_asprintf("%s/leases/%s", st->root, st->lease_id);
		cb_error_t e = CB_ERROR_INIT;
		if (cb_rm_rf(dir, &e) < 0)
			cb_error_release(&e); /* a busy mount: the next command retries */
		else
			unlink(path);
	}
	close(st->lease_fd);
	st->lease_fd = -1;
	free(st->lease_id);
	st->lease_id = NULL;
	cb_strv_free(st->lease_seen);
	st->lease_seen = NULL;
}

bool store_lease_alive(const store_t *st, const char *id)
{
	if (!*id || strchr(id, '/') || id[0] == '.')
		return false;
	_cleanup_free_ char *p = cb_asprintf("%s/leases/%s", st->root, id);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT; /* cannot tell (EMFILE...): assume alive */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return false; /* nobody holds it: the owner is gone */
	return true;
}

/* ---- dead writers ---- */

/* A dead pull's complete, checked blobs (ok-HEX) move into blobs/ after a
 * second hash: the file was never fsynced, and a crash of the machine (not
 * only of the process) may have left it with holes. */
static void salvage(const store_t *st, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "ok-", 3) || strlen(de->d_name) != 3 + DIGEST_HEX_LEN)
			continue;
		_cleanup_free_ char *digest = cb_asprintf("sha256:%s", de->d_name + 3);
		_cleanup_free_ char *src = cb_path_join(dir, de->d_name);
		char got[DIGEST_STR_LEN + 1];
		cb_error_t e = CB_ERROR_INIT;
		if (!digest_is_valid(digest) || digest_file(src, got, &e) < 0 ||
		    strcmp(got, digest) != 0) {
			cb_error_release(&e);
			continue;
		}
		_cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0 || store_lease_add(st, LEASE_BLOB, digest, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		_cleanup_free_ char *dst = store_blob_path(st, digest);
		if (access(dst, F_OK) != 0 && rename(src, dst) == 0) {
			_cleanup_free_ char *bdir = cb_asprintf("%s/blobs/sha256", st->root);
			if (cb_fsync_dir(bdir, &e) < 0)
				cb_error_release(&e);
		}
	}
	closedir(d);
}

static bool remove_tree(const char *p)
{
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(p, &e) == 0)
		return true;
	cb_error_release(&e); /* busy mounts: a later command retries */
	return false;
}

/* A stale lease: its owner's tmp/ directory (salvaged), then the file. */
static void drop_stale(const store_t *st, const char *id)
{
	_cleanup_free_ char *dir = cb_asprintf("%s/tmp/L-%s", st->root, id);
	salvage(st, dir);
	if (!remove_tree(dir))
		return;
	_cleanup_free_ char *p = cb_asprintf("%s/leases/%s", st->root, id);
	unlink(p);
}

unsigned store_tmp_clean(const store_t *st, unsigned *left)
{
	unsigned removed = 0, kept = 0;
	time_t now = time(NULL);
	_cleanup_free_ char *tmp = cb_asprintf("%s/tmp", st->root);
	DIR *d = opendir(tmp);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strncmp(de->d_name, "L-", 2)) {
			if (store_lease_alive(st, de->d_name + 2))
				continue;
			_cleanup_free_ char *dir = cb_path_join(tmp, de->d_name);
			salvage(st, dir);
			if (remove_tree(dir))
				removed++;
			else
				kept++;
			continue;
		}
		struct stat sb;
		/* an entry of no lease (an older cbuild's, index.json's temp
		 * file): its writer may be alive for a minute. ctime, not
		 * mtime: unpacking sets a directory's mtime to the tar's */
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now - sb.st_ctime < 60)
			continue;
		_cleanup_free_ char *p = cb_path_join(tmp, de->d_name);
		if (remove_tree(p))
			removed++;
		else
			kept++;
	}
	if (d)
		closedir(d);
	_cleanup_free_ char *ldir = cb_asprintf("%s/leases", st->root);
	d = opendir(ldir);
	while (d && (de = readdir(d))) {
		struct stat sb;
		if (!strncmp(de->d_name, ".new-", 5)) {
			if (fstatat(dirfd(d), de->d_name, &sb, 0) == 0 && now - sb.st_ctime >= 60)
				unlinkat(dirfd(d), de->d_name, 0), removed++;
		} else if (de->d_name[0] != '.' && strcmp(de->d_name, "lock") &&
			   !store_lease_alive(st, de->d_name)) {
			drop_stale(st, de->d_name);
			removed++;
		}
	}
	if (d)
		closedir(d);
	if (left)
		*left = kept;
	return removed;
}

/* ---- reading the leases (gc) ---- */

static void read_lease(int fd, store_lease_fn fn, void *ctx)
{
	_cleanup_fclose_ FILE *f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return;
	}
	char line[256];
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		if (n != DIGEST_HEX_LEN + 3 || line[1] != ' ' || line[n - 1] != '\n')
			continue;
		line[n - 1] = 0;
		char digest[DIGEST_STR_LEN + 1];
		/* the length was checked above: exactly 64 hex digits follow */
		snprintf(digest, sizeof digest, "sha256:%.*s", DIGEST_HEX_LEN, line + 2);
		if (digest_is_valid(digest))
			fn(ctx, line[0], digest);
	}
}

int store_leases_each(const store_t *st, store_lease_fn fn, void *ctx, cb_error_t *err)
{
	_cleanup_free_ char *ldir = cb_asprintf("%s/leases", st->root);
	DIR *d = opendir(ldir);
	if (!d)
		return errno == ENOENT ? 0 : cb_error_errno(err, "read leases '%s'", ldir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lock") ||
		    cb_streq(de->d_name, st->lease_id))
			continue;
		if (!store_lease_alive(st, de->d_name)) {
			drop_stale(st, de->d_name);
			continue;
		}
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			read_lease(fd, fn, ctx);
	}
	closedir(d);
	return 0;
}
