/*
 * The copy snapshotter's trees carried from one step to the next.
 *
 * Applying a state's layers twice for every step (base/ and merged/) costs
 * what unpacking the whole image costs, each step: 85 s instead of 6 for
 * the CI image's three steps on its 120 MB Debian base. But after a step,
 * merged/ IS the next step's state, and base/ differs from it only by what
 * the step changed, which is small. So a committed step's pair is kept
 * (keyed by the chain of diff_ids it now holds), with base/ brought up to
 * merged/ by copying over exactly the entries the diff compares as changed
 * (type, mode, owner, size, mtime, device, link target, xattrs) and removing
 * what merged/ no longer has; the next step on that state takes the pair as
 * it is. Entries are copied with their metadata (mtimes included), so that
 * the next diff finds them unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder/internal.h"
#include "common/fs.h"
#include "common/util.h"

/* ---- comparing and copying one entry ---- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name\0value-length:value" for every xattr of path, sorted by name. */
static char *xattr_blob(const char *path, size_t *len)
{
	char names[8192];
	ssize_t n = llistxattr(path, names, sizeof names);
	*len = 0;
	if (n <= 0)
		return NULL;
	cb_buf_t b;
	cb_buf_init(&b);
	/* the kernel lists in a stable order for one inode, not a sorted one:
	 * compare as sets by sorting the names first */
	char *list[256];
	size_t k = 0;
	for (char *p = names; p < names + n && k < 256; p += strlen(p) + 1)
		list[k++] = p;
	qsort(list, k, sizeof list[0], cmp_names);
	for (size_t i = 0; i < k; i++) {
		char val[4096];
		ssize_t v = lgetxattr(path, list[i], val, sizeof val);
		cb_buf_addf(&b, "%s=%zd:", list[i], v);
		if (v > 0)
			cb_buf_add(&b, val, (size_t)v);
	}
	return cb_buf_detach(&b, len);
}

static bool xattrs_equal(const char *a, const char *b)
{
	size_t la, lb;
	_cleanup_free_ char *xa = xattr_blob(a, &la);
	_cleanup_free_ char *xb = xattr_blob(b, &lb);
	return la == lb && (la == 0 || memcmp(xa, xb, la) == 0);
}

static bool links_equal(const char *a, const char *b)
{
	char ta[PATH_MAX], tb[PATH_MAX];
	ssize_t na = readlink(a, ta, sizeof ta), nb = readlink(b, tb, sizeof tb);
	return na == nb && na >= 0 && memcmp(ta, tb, (size_t)na) == 0;
}

/* The diff's notion of "changed" (store/layer_write.c, entry_changed), and
 * a different link count: base/ keeps merged/'s hard links, since the diff
 * of the next step reads a file's link count in base/ (layer_opts_t's
 * changed_after). */
static bool changed(const char *bp, const struct stat *o, const char *mp, const struct stat *n)
{
	if (!S_ISDIR(n->st_mode) && o->st_nlink != n->st_nlink)
		return true;
	if ((o->st_mode & S_IFMT) != (n->st_mode & S_IFMT) ||
	    (o->st_mode & 07777) != (n->st_mode & 07777) || o->st_uid != n->st_uid ||
	    o->st_gid != n->st_gid)
		return true;
	if (!S_ISDIR(n->st_mode) &&
	    (o->st_size != n->st_size || o->st_mtim.tv_sec != n->st_mtim.tv_sec ||
	     o->st_mtim.tv_nsec != n->st_mtim.tv_nsec || o->st_rdev != n->st_rdev ||
	     (S_ISLNK(n->st_mode) && !links_equal(bp, mp))))
		return true;
	return !xattrs_equal(bp, mp);
}

static void copy_meta(const char *from, const char *to, const struct stat *sb)
{
	char names[8192];
	ssize_t n = llistxattr(from, names, sizeof names);
	for (char *p = names; n > 0 && p < names + n; p += strlen(p) + 1) {
		char val[4096];
		ssize_t v = lgetxattr(from, p, val, sizeof val);
		if (v >= 0)
			lsetxattr(to, p, val, (size_t)v, 0); /* best effort */
	}
	if (lchown(to, sb->st_uid, sb->st_gid) < 0) {
		/* not permitted (rootless without a map): the owner stays ours */
	}
	if (!S_ISLNK(sb->st_mode))
		chmod(to, sb->st_mode & 07777);
	struct timespec ts[2] = {sb->st_atim, sb->st_mtim};
	utimensat(AT_FDCWD, to, ts, AT_SYMLINK_NOFOLLOW);
}

/* The copies made by one sync of files with several links: a later name of
 * the same inode of merged/ is linked to the first copy. */
typedef struct links {
	struct {
		dev_t dev;
		ino_t ino;
		char *path;
	} *v;
	size_t n;
} links_t;

static const char *links_find(const links_t *l, const struct stat *sb)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].dev == sb->st_dev && l->v[i].ino == sb->st_ino)
			return l->v[i].path;
	return NULL;
}

static void links_add(links_t *l, const struct stat *sb, const char *path)
{
	l->v = cb_xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n].dev = sb->st_dev;
	l->v[l->n].ino = sb->st_ino;
	l->v[l->n++].path = cb_xstrdup(path);
}

static void links_release(links_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
}

static int copy_tree(links_t *l, const char *from, const char *to, cb_error_t *err);

static int copy_file(const char *from, const char *to, const struct stat *sb, cb_error_t *err)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		return cb_error_errno(err, "copy '%s'", from);
	off_t left = sb->st_size;
	while (left > 0) {
		ssize_t k = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (k < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
			char buf[65536];
			k = read(in, buf, sizeof buf);
			if (k > 0 && cb_write_all(out, buf, (size_t)k, err) < 0)
				return -1;
		}
		if (k < 0)
			return cb_error_errno(err, "copy '%s'", from);
		if (k == 0)
			break; /* shrank meanwhile: the diff read what it read */
		left -= k;
	}
	return 0;
}

/* Copy the entry from -> to (absent), with its metadata. */
static int copy_entry(links_t *l, const char *from, const char *to, const struct stat *sb,
		      cb_error_t *err)
{
	int rc = 0;
	const char *first = !S_ISDIR(sb->st_mode) && sb->st_nlink > 1 ? links_find(l, sb) : NULL;
	if (first) {
		if (link(first, to) == 0)
			return 0;
		/* not permitted (protected_hardlinks, rootless): a copy */
	}
	if (S_ISDIR(sb->st_mode)) {
		if (mkdir(to, 0700) < 0)
			return cb_error_errno(err, "copy '%s'", from);
		rc = copy_tree(l, from, to, err);
	} else if (S_ISREG(sb->st_mode)) {
		rc = copy_file(from, to, sb, err);
	} else if (S_ISLNK(sb->st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlink(from, t, sizeof t - 1);
		if (n < 0)
			return cb_error_errno(err, "copy '%s'", from);
		t[n] = '\0';
		if (symlink(t, to) < 0)
			return cb_error_errno(err, "copy '%s'", from);
	} else if (S_ISFIFO(sb->st_mode) || S_ISCHR(sb->st_mode) || S_ISBLK(sb->st_mode)) {
		if (mknod(to, sb->st_mode, sb->st_rdev) < 0)
			return cb_error_errno(err, "copy '%s'", from);
	} else {
		return 0; /* sockets: in no layer */
	}
	if (rc == 0)
		copy_meta(from, to, sb);
	if (rc == 0 && !S_ISDIR(sb->st_mode) && sb->st_nlink > 1 && !first)
		links_add(l, sb, to);
	return rc;
}

static int copy_tree(links_t *l, const char *from, const char *to, cb_error_t *err)
{
	DIR *d = opendir(from);
	if (!d)
		return cb_error_errno(err, "open '%s'", from);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *f = cb_path_join(from, de->d_name);
		_cleanup_free_ char *t = cb_path_join(to, de->d_name);
		struct stat sb;
		if (lstat(f, &sb) < 0)
			rc = cb_error_errno(err, "stat '%s'", f);
		else
			rc = copy_entry(l, f, t, &sb, err);
	}
	closedir(d);
	return rc;
}

/* ---- syncing base/ to merged/ ---- */

static int sync_dir(links_t *l, const char *base, const char *merged, cb_error_t *err)
{
	int rc = 0;
	DIR *d = opendir(base); /* what merged/ no longer has goes */
	if (!d)
		return cb_error_errno(err, "open '%s'", base);
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *m = cb_path_join(merged, de->d_name);
		struct stat sb;
		if (lstat(m, &sb) < 0 && errno == ENOENT) {
			_cleanup_free_ char *b = cb_path_join(base, de->d_name);
			rc = cb_rm_rf(b, err);
		}
	}
	closedir(d);
	if (rc < 0 || !(d = opendir(merged)))
		return rc < 0 ? rc : cb_error_errno(err, "open '%s'", merged);
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *m = cb_path_join(merged, de->d_name);
		_cleanup_free_ char *b = cb_path_join(base, de->d_name);
		struct stat ms, bs;
		if (lstat(m, &ms) < 0)
			continue; /* a socket gone meanwhile */
		bool in_base = lstat(b, &bs) == 0;
		if (in_base && S_ISDIR(ms.st_mode) && S_ISDIR(bs.st_mode)) {
			rc = sync_dir(l, b, m, err);
			if (rc == 0 && changed(b, &bs, m, &ms))
				copy_meta(m, b, &ms);
			continue;
		}
		if (in_base && !changed(b, &bs, m, &ms))
			continue;
		if (in_base)
			rc = cb_rm_rf(b, err);
		if (rc == 0)
			rc = copy_entry(l, m, b, &ms, err);
	}
	closedir(d);
	return rc;
}

int bld_snap_copy_sync(const char *base, const char *merged, cb_error_t *err)
{
	links_t l = {0};
	int rc = sync_dir(&l, base, merged, err);
	links_release(&l);
	if (rc < 0)
		return cb_error_wrap(err, "bring '%s' up to '%s'", base, merged);
	return 0;
}

/* ---- the kept pairs ---- */

#define KEPT_MAX 4

static struct {
	char *chain; /* the diff_ids the pair holds, "a,b,c" */
	char *dir;   /* tmp/step-XXXXXX with base/ and merged/ */
} kept[KEPT_MAX];
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

char *bld_snap_chain(const bld_state_t *s, const char *next)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; i < s->n_layers && s->config->diff_ids && s->config->diff_ids[i]; i++)
		cb_buf_addf(&b, "%s,", s->config->diff_ids[i]);
	if (next)
		cb_buf_addf(&b, "%s,", next);
	cb_buf_addstr(&b, "");
	return cb_buf_detach(&b, NULL);
}

char *bld_snap_take_kept(const char *chain)
{
	char *dir = NULL;
	pthread_mutex_lock(&kept_lock);
	for (size_t i = 0; i < KEPT_MAX && !dir; i++)
		if (kept[i].chain && !strcmp(kept[i].chain, chain)) {
			dir = kept[i].dir;
			free(kept[i].chain);
			kept[i].chain = kept[i].dir = NULL;
		}
	pthread_mutex_unlock(&kept_lock);
	return dir;
}

static void drop_dir(char *dir)
{
	cb_error_t e = CB_ERROR_INIT;
	if (dir && cb_rm_rf(dir, &e) < 0)
		cb_warn_error(&e);
	free(dir);
}

void bld_snap_keep(char *chain, char *dir)
{
	char *old_chain = NULL, *old_dir = NULL;
	pthread_mutex_lock(&kept_lock);
	size_t slot = 0;
	for (size_t i = 0; i < KEPT_MAX; i++)
		if (!kept[i].chain) {
			slot = i;
			break;
		} else if (i == KEPT_MAX - 1) {
			/* full: the first slot goes (the oldest, roughly) */
			old_chain = kept[0].chain;
			old_dir = kept[0].dir;
			memmove(&kept[0], &kept[1], (KEPT_MAX - 1) * sizeof kept[0]);
			slot = KEPT_MAX - 1;
		}
	kept[slot].chain = chain;
	kept[slot].dir = dir;
	pthread_mutex_unlock(&kept_lock);
	free(old_chain);
	drop_dir(old_dir);
}

void bld_snap_copy_release(void)
{
	pthread_mutex_lock(&kept_lock);
	for (size_t i = 0; i < KEPT_MAX; i++) {
		free(kept[i].chain);
		drop_dir(kept[i].dir);
		kept[i].chain = kept[i].dir = NULL;
	}
	pthread_mutex_unlock(&kept_lock);
}
