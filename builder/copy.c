/*
 * ADD and COPY: select files under a source root (the context, or another
 * stage or image mounted read-only), checksum them for the cache key, and
 * copy them into the step's root. A directory copied whole to a destination
 * where it replaces nothing also writes the step's layer as it goes (see
 * "copying with the layer written alongside").
 *
 * Every path inside a root is resolved as openat2(RESOLVE_IN_ROOT) does
 * (common/openroot.h; a userspace bld_walk where the kernel lacks it): a
 * symlink in the context or in the image can never make a copy read or
 * write outside its root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder/copy_select.h"
#include "builder/internal.h"
#include "common/cancel.h"
#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"
#include "runtime/isolation.h"
#include "store/digest.h"
#include "store/json.h"

/* ---- copying ---- */

typedef struct fuse fuse_t;

typedef struct copy_ctx {
	const bld_copy_opts_t *o;
	int dst_stack[256]; /* destination dir fd per depth */
	bool fresh[256];    /* that directory was made by this copy: nothing to replace in it */
	bool sgid[256];     /* that directory is setgid (new entries take its group) */
	int depth;
	fuse_t *fu;         /* the layer is written alongside; NULL: not */
} copy_ctx_t;

/* The owner of a directory the copy makes on the way to the destination. */
/* A non-root build without a user namespace (RUN under proot) owns every
 * file it makes, and its layers write them as root's (layer_opts_t's
 * own_as_root): root's owner is left as it is; another one still fails, as
 * it must (no file can be given away). */
static bool own_is_root(void)
{
	return geteuid() != 0 && rt_isolation_get() == RT_ISO_NONE;
}
uid_t bld_as_uid(uid_t u)
{
	return u == 0 && own_is_root() ? (uid_t)-1 : u;
}
gid_t bld_as_gid(gid_t g)
{
	return g == 0 && own_is_root() ? (gid_t)-1 : g;
}

static uid_t owner_uid(const bld_copy_opts_t *o)
{
	return o->uid == (uid_t)-1 ? 0 : o->uid;
}

static gid_t owner_gid(const bld_copy_opts_t *o)
{
	return o->gid == (gid_t)-1 ? 0 : o->gid;
}

/* The owner of the copy of source entry sb. */
static uid_t copy_uid(const bld_copy_opts_t *o, const struct stat *sb)
{
	return o->uid == (uid_t)-1 && o->keep_owner ? sb->st_uid : owner_uid(o);
}

static gid_t copy_gid(const bld_copy_opts_t *o, const struct stat *sb)
{
	return o->gid == (gid_t)-1 && o->keep_owner ? sb->st_gid : owner_gid(o);
}

static mode_t final_mode(const bld_copy_opts_t *o, mode_t mode)
{
	return o->chmod >= 0 ? (mode_t)o->chmod : (mode & 07777);
}

/* copy_file_range cannot cross into an overlay mount (EXDEV): once seen,
 * later copies go straight to read/write. */
static _Atomic bool cfr_unusable; /* concurrent stages copy too */

static int copy_data(int in, int out, cb_error_t *err)
{
	if (cb_fd_has_holes(in)) /* copy_file_range and read fill holes */
		return cb_copy_sparse(in, out, err);
	while (!cfr_unusable) {
		/* 64 MiB at a time: a cancel is seen between two */
		if (cb_cancel_check(err) < 0)
			return -1;
		ssize_t n = copy_file_range(in, NULL, out, NULL, 64 << 20, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
			return cb_error_errno(err, "copy");
		cfr_unusable = true;
	}
	return bld_read_chunks(in, bld_write_chunk, &out, err);
}

/* Remove whatever stands at dstfd/name unless it is a directory and a
 * directory is wanted. */
static void clear_dest(int dstfd, const char *name, bool want_dir)
{
	struct stat sb;
	if (fstatat(dstfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISDIR(sb.st_mode)) {
		if (!want_dir)
			unlinkat(dstfd, name, AT_REMOVEDIR);
		return;
	}
	unlinkat(dstfd, name, 0);
}

static int set_meta(int dstfd, const char *name, const struct stat *sb, const bld_copy_opts_t *o,
		    cb_error_t *err)
{
	if (fchownat(dstfd, name, bld_as_uid(copy_uid(o, sb)), bld_as_gid(copy_gid(o, sb)), AT_SYMLINK_NOFOLLOW) < 0)
		return cb_error_errno(err, "chown '%s'", name);
	if (!S_ISLNK(sb->st_mode) && fchmodat(dstfd, name, final_mode(o, sb->st_mode), 0) < 0)
		return cb_error_errno(err, "chmod '%s'", name);
	struct timespec ts[2] = {sb->st_mtim, sb->st_mtim};
	if (utimensat(dstfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return cb_error_errno(err, "set times of '%s'", name);
	return 0;
}

/* Copy one entry into dstfd. In a directory this copy made (fresh), no
 * entry can stand in the way: that saves a lookup per file, which on an
 * overlay is one per lower layer. *made_dir: a new directory was made. */
static int copy_one(int srcparent, const char *srcname, int dstfd, const char *dstname,
		    const struct stat *sb, const bld_copy_opts_t *o, bool fresh, bool *made_dir,
		    cb_error_t *err)
{
	if (!fresh)
		clear_dest(dstfd, dstname, S_ISDIR(sb->st_mode));
	if (S_ISDIR(sb->st_mode)) {
		int r = mkdirat(dstfd, dstname, 0755);
		if (r < 0 && errno != EEXIST)
			return cb_error_errno(err, "mkdir '%s'", dstname);
		if (made_dir)
			*made_dir = r == 0;
	} else if (S_ISLNK(sb->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(srcparent, srcname, target, sizeof(target) - 1);
		if (n < 0)
			return cb_error_errno(err, "readlink '%s'", srcname);
		target[n] = '\0';
		if (symlinkat(target, dstfd, dstname) < 0)
			return cb_error_errno(err, "symlink '%s'", dstname);
	} else if (S_ISREG(sb->st_mode)) {
		_cleanup_close_ int in = openat(srcparent, srcname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return cb_error_errno(err, "open '%s'", srcname);
		_cleanup_close_ int out = openat(dstfd, dstname,
						 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
						 0600);
		if (out < 0)
			return cb_error_errno(err, "create '%s'", dstname);
		if (copy_data(in, out, err) < 0)
			return cb_error_wrap(err, "copy '%s'", srcname);
		/* metadata through the open fd: no more path lookups */
		struct timespec ts[2] = {sb->st_mtim, sb->st_mtim};
		if (fchown(out, bld_as_uid(copy_uid(o, sb)), bld_as_gid(copy_gid(o, sb))) < 0 ||
		    fchmod(out, final_mode(o, sb->st_mode)) < 0 || futimens(out, ts) < 0)
			return cb_error_errno(err, "set owner, mode and times of '%s'", dstname);
		return 0;
	} else if (S_ISFIFO(sb->st_mode) || S_ISCHR(sb->st_mode) || S_ISBLK(sb->st_mode)) {
		if (mknodat(dstfd, dstname, sb->st_mode, sb->st_rdev) < 0)
			return cb_error_errno(err, "mknod '%s'", dstname);
	} else {
		return 0; /* sockets are not copied */
	}
	return set_meta(dstfd, dstname, sb, o, err);
}

static int fuse_entry(copy_ctx_t *c, int parentfd, const char *name, const char *rel,
		      const struct stat *sb, int depth, cb_error_t *err);

static int copy_entry(void *vctx, int parentfd, const char *name, const char *rel,
		      const struct stat *sb, int depth, cb_error_t *err)
{
	copy_ctx_t *c = vctx;
	if (depth < 0) { /* leaving a directory: restore its times after its children */
		int d = -depth;
		close(c->dst_stack[d]);
		c->dst_stack[d] = -1;
		struct timespec ts[2] = {sb->st_mtim, sb->st_mtim};
		utimensat(c->dst_stack[d - 1], name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (depth + 1 >= (int)CB_ARRAY_SIZE(c->dst_stack))
		return cb_error_fail(err, ELOOP, "'%s': directories nested too deeply", rel);
	if (c->fu)
		return fuse_entry(c, parentfd, name, rel, sb, depth, err);
	int dstfd = c->dst_stack[depth];
	bool made = false;
	if (copy_one(parentfd, name, dstfd, name, sb, c->o, c->fresh[depth], &made, err) < 0)
		return -1;
	if (S_ISDIR(sb->st_mode)) {
		int sub = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return cb_error_errno(err, "open '%s'", name);
		c->dst_stack[depth + 1] = sub;
		c->fresh[depth + 1] = made;
	}
	return 0;
}

/* ---- copying with the layer written alongside ---- */

/*
 * When a directory is copied to a destination that does not exist below
 * (ADD src /src, COPY . /app), the upper directory ends up holding only the
 * destination's parents (copied up or made by mkdir_in_root, untouched once
 * the destination exists), the destination and what the copy makes in it.
 * Every attribute of the new entries is decided here (mode, owner, mtime,
 * size; no xattrs), and the bld_walk visits them in the order
 * layer_write_upper would, so the layer's tar is written while copying:
 * each file is read once, into the layer's buffer and from there into the
 * copy, and compression runs alongside. The destination's own mtime is the
 * one exception that would drift (every new child touches it): it is put
 * back to the value written once the copy is done.
 *
 * The new tree is made in the upper directory itself rather than through
 * the overlay: every create through it costs overlayfs' own lookup and
 * inode on top of the real file system's. This is safe because the
 * destination is an upper-only directory that nothing looks into through
 * the mount before it is unmounted and snapshotted. Anything that does not
 * fit (an xattr inherited by new files, an opaque parent, a parent reached
 * through a symlink) is seen before the first file is copied, and the copy
 * then goes the usual way.
 */
struct fuse {
	layer_stream_t *ls;
	cb_buf_t name;     /* scratch: the tar name of an entry */
	const char *dest;  /* tar name of the destination directory */
	size_t skip;       /* length of the match's rel prefix with its slash */
	uid_t euid;
	gid_t egid;
	int umask;         /* -1: unknown */
	struct timespec dest_mtime;
	mode_t dest_mode;
	int upper_dest; /* the destination in the upper directory */
};

/* The process umask, without changing it (umask(2) would race with
 * concurrent stages): from /proc/self/status. -1 when unknown. */
static int read_umask(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned m;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &m) == 1)
			return (int)m;
	return -1;
}

/* New entries are owned by the fsuid/fsgid, or take the group of a setgid
 * parent: a chown to that owner changes nothing. */
static bool chown_needed(const copy_ctx_t *c, int depth, const struct stat *tsb)
{
	return tsb->st_uid != c->fu->euid || tsb->st_gid != c->fu->egid || c->sgid[depth];
}

/* A mode given at creation is exact when the umask keeps it whole and no
 * special bit is in play (setgid parents give new dirs S_ISGID). */
static bool chmod_needed(const copy_ctx_t *c, int depth, mode_t final, bool dir)
{
	return c->fu->umask < 0 || (final & 07000) || (final & (mode_t)c->fu->umask) ||
	       (dir && c->sgid[depth]);
}

static const char *fuse_name(fuse_t *f, const char *rel)
{
	cb_buf_reset(&f->name);
	cb_buf_addf(&f->name, "%s/%s", f->dest, rel + f->skip);
	return f->name.data;
}

static int fuse_file(copy_ctx_t *c, int parentfd, const char *name, int depth,
		     struct stat *tsb, cb_error_t *err)
{
	int dstfd = c->dst_stack[depth];
	mode_t final = tsb->st_mode & 07777;
	bool do_chmod = chmod_needed(c, depth, final, false);
	/* O_NOATIME: no inode update per read (owner or CAP_FOWNER only) */
	_cleanup_close_ int in = openat(parentfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
	if (in < 0 && errno == EPERM)
		in = openat(parentfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return cb_error_errno(err, "open '%s'", name);
	_cleanup_close_ int out = openat(dstfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
					 do_chmod ? 0600 : final);
	if (out < 0)
		return cb_error_errno(err, "create '%s'", name);
	if ((chown_needed(c, depth, tsb) && fchown(out, bld_as_uid(tsb->st_uid), bld_as_gid(tsb->st_gid)) < 0) ||
	    (do_chmod && fchmod(out, final) < 0))
		return cb_error_errno(err, "set owner and mode of '%s'", name);
	struct stat real;
	/* whether setuid/setgid bits stuck is the kernel's call: ask it */
	if ((final & 06000) && fstat(out, &real) == 0)
		tsb->st_mode = real.st_mode;
	const char *tname = c->fu->name.data;
	if (layer_stream_add(c->fu->ls, tname, tsb, NULL, err) < 0 ||
	    layer_stream_data(c->fu->ls, in, out, (uint64_t)tsb->st_size, err) < 0)
		return cb_error_wrap(err, "copy '%s'", name);
	struct timespec ts[2] = {tsb->st_mtim, tsb->st_mtim};
	if (futimens(out, ts) < 0)
		return cb_error_errno(err, "set times of '%s'", name);
	return 0;
}

static int fuse_dir(copy_ctx_t *c, const char *name, int depth, struct stat *tsb,
		    cb_error_t *err)
{
	int dstfd = c->dst_stack[depth];
	mode_t final = tsb->st_mode & 07777;
	bool do_chmod = chmod_needed(c, depth, final, true);
	if (mkdirat(dstfd, name, do_chmod ? 0700 : final) < 0)
		return cb_error_errno(err, "mkdir '%s'", name);
	if ((chown_needed(c, depth, tsb) &&
	     fchownat(dstfd, name, bld_as_uid(tsb->st_uid), bld_as_gid(tsb->st_gid), AT_SYMLINK_NOFOLLOW) < 0) ||
	    (do_chmod && fchmodat(dstfd, name, final, 0) < 0))
		return cb_error_errno(err, "set owner and mode of '%s'", name);
	struct stat real;
	if ((final & 06000) && fstatat(dstfd, name, &real, AT_SYMLINK_NOFOLLOW) == 0)
		tsb->st_mode = real.st_mode;
	if (layer_stream_add(c->fu->ls, c->fu->name.data, tsb, NULL, err) < 0)
		return -1;
	int sub = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return cb_error_errno(err, "open '%s'", name);
	c->dst_stack[depth + 1] = sub;
	c->fresh[depth + 1] = true;
	c->sgid[depth + 1] = (tsb->st_mode & S_ISGID) != 0;
	return 0;
}

static int fuse_other(copy_ctx_t *c, int parentfd, const char *name, int depth,
		      struct stat *tsb, cb_error_t *err)
{
	int dstfd = c->dst_stack[depth];
	char target[4096];
	const char *link = NULL;
	if (S_ISLNK(tsb->st_mode)) {
		ssize_t n = readlinkat(parentfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return cb_error_errno(err, "readlink '%s'", name);
		target[n] = '\0';
		if (symlinkat(target, dstfd, name) < 0)
			return cb_error_errno(err, "symlink '%s'", name);
		link = target;
		if (chown_needed(c, depth, tsb) &&
		    fchownat(dstfd, name, bld_as_uid(tsb->st_uid), bld_as_gid(tsb->st_gid), AT_SYMLINK_NOFOLLOW) < 0)
			return cb_error_errno(err, "chown '%s'", name);
		tsb->st_mode = S_IFLNK | 0777;
	} else {
		mode_t final = tsb->st_mode & 07777;
		if (mknodat(dstfd, name, (tsb->st_mode & S_IFMT) | 0600, tsb->st_rdev) < 0)
			return cb_error_errno(err, "mknod '%s'", name);
		if (fchownat(dstfd, name, bld_as_uid(tsb->st_uid), bld_as_gid(tsb->st_gid), AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dstfd, name, final, 0) < 0)
			return cb_error_errno(err, "set owner and mode of '%s'", name);
		struct stat real;
		if ((final & 06000) && fstatat(dstfd, name, &real, AT_SYMLINK_NOFOLLOW) == 0)
			tsb->st_mode = real.st_mode;
	}
	struct timespec ts[2] = {tsb->st_mtim, tsb->st_mtim};
	if (utimensat(dstfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return cb_error_errno(err, "set times of '%s'", name);
	return layer_stream_add(c->fu->ls, c->fu->name.data, tsb, link, err);
}

static int fuse_entry(copy_ctx_t *c, int parentfd, const char *name, const char *rel,
		      const struct stat *sb, int depth, cb_error_t *err)
{
	fuse_name(c->fu, rel);
	/* what the copy will be, and what its tar entry says */
	struct stat tsb = *sb;
	tsb.st_uid = copy_uid(c->o, sb);
	tsb.st_gid = copy_gid(c->o, sb);
	tsb.st_mode = (sb->st_mode & S_IFMT) | final_mode(c->o, sb->st_mode);
	switch (sb->st_mode & S_IFMT) {
	case S_IFREG:
		return fuse_file(c, parentfd, name, depth, &tsb, err);
	case S_IFDIR:
		return fuse_dir(c, name, depth, &tsb, err);
	case S_IFLNK:
	case S_IFIFO:
	case S_IFCHR:
	case S_IFBLK:
		return fuse_other(c, parentfd, name, depth, &tsb, err);
	default:
		return 0; /* sockets are not copied */
	}
}

static bool xattr_kept(const char *name)
{
	/* what a layer keeps (see store/layer_write.c) */
	return !cb_str_has_prefix(name, "trusted.overlay.") && !cb_str_has_prefix(name, "user.overlay.") &&
	       strcmp(name, "security.selinux");
}

/* Does the new destination directory carry an xattr (a default ACL, say)
 * that the entries made in it would inherit? */
static bool has_kept_xattrs(int fd)
{
	char names[4096];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	if (n < 0)
		return errno != ENOTSUP;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
		if (xattr_kept(names + i))
			return true;
	return false;
}

/* Is `name` the only entry of directory dir? */
static bool only_entry(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *de;
	size_t n = 0;
	bool found = false;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		found |= !strcmp(de->d_name, name);
	}
	closedir(d);
	return n == 1 && found;
}

static void fuse_free(fuse_t *f)
{
	if (!f)
		return;
	layer_stream_abort(f->ls);
	if (f->upper_dest >= 0)
		close(f->upper_dest);
	cb_buf_release(&f->name);
	free(f);
}

/* Write the destination's parents and itself into a new layer stream, as
 * they are in the upper directory. NULL when the upper holds anything
 * else, or anything only layer_write_upper can write. */
static fuse_t *fuse_begin(bld_copy_layer_t *L, const char *dest, int destfd, const char *rel)
{
	if (!*dest || has_kept_xattrs(destfd))
		return NULL;
	cb_error_t e = CB_ERROR_INIT;
	fuse_t *f = cb_xcalloc(1, sizeof(*f));
	f->upper_dest = -1;
	cb_buf_init(&f->name);
	f->ls = layer_stream_new(L->st, L->opts, &e);
	_cleanup_strv_ char **comps = bld_split_path(dest);
	cb_buf_t path;
	cb_buf_init(&path);
	struct stat sb = {0};
	bool ok = f->ls != NULL;
	for (size_t i = 0; ok && comps[i]; i++) {
		_cleanup_free_ char *dir = cb_path_join(L->upper, path.data);
		if (i)
			cb_buf_addch(&path, '/');
		cb_buf_addstr(&path, comps[i]);
		ok = only_entry(dir, comps[i]) &&
		     layer_stream_add_path(f->ls, L->upper, path.data, &sb, &e) == 0 &&
		     S_ISDIR(sb.st_mode);
	}
	cb_buf_release(&path);
	cb_error_release(&e);
	if (ok) {
		_cleanup_free_ char *ud = cb_path_join(L->upper, dest);
		f->upper_dest = open(ud, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (!ok || f->upper_dest < 0) {
		fuse_free(f);
		return NULL;
	}
	f->dest = dest;
	f->skip = *rel ? strlen(rel) + 1 : 0;
	f->euid = geteuid();
	f->egid = getegid();
	f->umask = read_umask();
	f->dest_mtime = sb.st_mtim;
	f->dest_mode = sb.st_mode;
	return f;
}

/* A destination that exists below (WORKDIR /app, then COPY . .) can take
 * the fused path too when the copy replaces nothing in it: every entry it
 * makes there is a new name, and there is at least one (else the usual
 * path leaves the upper empty). The destination is then copied up right
 * away (by setting its mtime), so that it is in the upper, as overlayfs
 * makes it, before its header is written. */
static bool only_new_names(const bld_source_t *src, int sfd, const char *rel, int dstfd)
{
	_cleanup_strv_ char **names = bld_list_dir(sfd);
	size_t n = 0;
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_free_ char *crel = *rel ? cb_asprintf("%s/%s", rel, names[i])
						 : cb_xstrdup(names[i]);
		struct stat sb, there;
		if (fstatat(sfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return false;
		if (S_ISSOCK(sb.st_mode) || (S_ISDIR(sb.st_mode) ? bld_src_hidden_dir(src, crel) : bld_src_hidden(src, crel)))
			continue;
		if (fstatat(dstfd, names[i], &there, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			return false;
		n++;
	}
	/* its mtime "now", as the usual path's first new entry would make it */
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_NOW}};
	return n && futimens(dstfd, ts) == 0;
}

static int fuse_end(fuse_t *f, bld_copy_layer_t *L, int destfd, cb_error_t *err)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, f->dest_mtime};
	if (futimens(destfd, ts) < 0)
		return cb_error_errno(err, "set times of '/%s'", f->dest);
	layer_stream_t *ls = cb_steal_pointer(&f->ls);
	if (layer_stream_finish(ls, &L->res, err) < 0)
		return -1;
	L->done = true;
	return 0;
}

/* mkdir -p of rel inside the root; new directories get the copy's owner.
 * Returns an fd of the directory. */
static int mkdir_in_root(int rootfd, const char *rel, const bld_copy_opts_t *o, cb_error_t *err)
{
	int fd = bld_open_in_root(rootfd, rel, O_RDONLY | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT) {
		if (fd < 0)
			return cb_error_errno(err, "open '/%s'", rel);
		return fd;
	}
	_cleanup_free_ char *parent = cb_xstrdup(rel);
	char *slash = strrchr(parent, '/');
	const char *base = slash ? slash + 1 : rel;
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	_cleanup_close_ int pfd = mkdir_in_root(rootfd, parent, o, err);
	if (pfd < 0)
		return -1;
	if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
		return cb_error_errno(err, "mkdir '/%s'", rel);
	if (fchownat(pfd, base, bld_as_uid(owner_uid(o)), bld_as_gid(owner_gid(o)), AT_SYMLINK_NOFOLLOW) < 0)
		return cb_error_errno(err, "chown '/%s'", rel);
	fd = bld_open_in_root(rootfd, rel, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return cb_error_errno(err, "open '/%s'", rel);
	return fd;
}

/* layer: write the step's layer while copying when the tree allows it
 * (NULL: never). */
static int copy_match(const bld_source_t *src, const char *rel, int rootfd, const char *dest,
		      bool dest_is_dir, const bld_copy_opts_t *o, bld_copy_layer_t *layer,
		      cb_error_t *err)
{
	_cleanup_close_ int sfd = bld_open_in_root(src->rootfd, rel, O_RDONLY);
	struct stat sb;
	if (sfd < 0 || fstat(sfd, &sb) < 0)
		return cb_error_errno(err, "open '%s'", *rel ? rel : ".");
	if (S_ISDIR(sb.st_mode)) {
		copy_ctx_t c = {.o = o};
		_cleanup_close_ int there = bld_open_in_root(rootfd, dest, O_PATH);
		c.fresh[0] = there < 0 && errno == ENOENT;
		c.dst_stack[0] = mkdir_in_root(rootfd, dest, o, err);
		if (c.dst_stack[0] < 0)
			return -1;
		if (layer && (c.fresh[0] || only_new_names(src, sfd, rel, c.dst_stack[0])))
			c.fu = fuse_begin(layer, dest, c.dst_stack[0], rel);
		if (c.fu) {
			c.sgid[0] = (c.fu->dest_mode & S_ISGID) != 0;
			/* the new tree is made in the upper directory itself */
			close(c.dst_stack[0]);
			c.dst_stack[0] = cb_steal_fd(&c.fu->upper_dest);
		}
		int rc = bld_walk(src, sfd, rel, 0, copy_entry, &c, err);
		if (c.fu && rc == 0)
			rc = fuse_end(c.fu, layer, c.dst_stack[0], err);
		fuse_free(c.fu);
		for (int i = 0; i < (int)CB_ARRAY_SIZE(c.dst_stack); i++)
			if (c.dst_stack[i] > 0 && (i == 0 || rc < 0))
				close(c.dst_stack[i]);
		return rc;
	}
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	_cleanup_free_ char *dir = NULL, *name = NULL;
	if (dest_is_dir) {
		dir = cb_xstrdup(dest);
		name = cb_xstrdup(base);
	} else {
		const char *slash = strrchr(dest, '/');
		dir = slash ? cb_xstrndup(dest, (size_t)(slash - dest)) : cb_xstrdup("");
		name = cb_xstrdup(slash ? slash + 1 : dest);
	}
	_cleanup_close_ int dfd = mkdir_in_root(rootfd, dir, o, err);
	if (dfd < 0)
		return -1;
	if (o->is_add && S_ISREG(sb.st_mode)) {
		int r = bld_extract_archive(sfd, dfd, o->uid != (uid_t)-1, owner_uid(o), owner_gid(o),
					    err);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	/* copy_one works on (parent, name): reopen the source's parent */
	_cleanup_free_ char *sparent = strrchr(rel, '/') ? cb_xstrndup(rel, (size_t)(base - rel - 1))
							  : cb_xstrdup("");
	_cleanup_close_ int spfd = bld_open_in_root(src->rootfd, sparent, O_RDONLY | O_DIRECTORY);
	if (spfd < 0)
		return cb_error_errno(err, "open '%s'", sparent);
	struct stat lsb;
	/* a top-level symlink source is followed (Docker copies the target) */
	if (fstatat(spfd, base, &lsb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lsb.st_mode)) {
		clear_dest(dfd, name, false);
		_cleanup_close_ int out = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
								   O_CLOEXEC,
						 0600);
		if (out < 0 || copy_data(sfd, out, err) < 0)
			return cb_error_is_set(err) ? -1 : cb_error_errno(err, "create '%s'", name);
		return set_meta(dfd, name, &sb, o, err);
	}
	return copy_one(spfd, base, dfd, name, &sb, o, false, NULL, err);
}

/* COPY --parents: the match lands at dest/KEPT, KEPT being its path below
 * the pivot (a directory's contents go into dest/KEPT/, as a directory
 * source's do into dest/). The destination is always a directory. */
static int copy_with_parents(const bld_source_t *src, const bld_match_t *mt, int rootfd,
			     const char *dest, const bld_copy_opts_t *o, cb_error_t *err)
{
	const char *kept = mt->rel + mt->pivot;
	_cleanup_close_ int fd = bld_open_in_root(src->rootfd, mt->rel, O_PATH);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0)
		return cb_error_errno(err, "open '%s'", *mt->rel ? mt->rel : ".");
	_cleanup_free_ char *under = NULL;
	if (S_ISDIR(sb.st_mode)) {
		under = cb_xstrdup(kept);
	} else {
		const char *slash = strrchr(kept, '/');
		under = slash ? cb_xstrndup(kept, (size_t)(slash - kept)) : cb_xstrdup("");
	}
	_cleanup_free_ char *to = !*dest ? cb_xstrdup(under)
			       : !*under ? cb_xstrdup(dest)
					 : cb_asprintf("%s/%s", dest, under);
	return copy_match(src, mt->rel, rootfd, to, true, o, NULL, err);
}

int bld_copy(const bld_source_t *src, const char *rootfs, const bld_copy_opts_t *o,
	     cb_error_t *err)
{
	const df_copy_t *cp = o->copy;
	_cleanup_free_ char *abs = cp->dest[0] == '/' ? cb_xstrdup(cp->dest)
						      : cb_path_join(o->workdir ? o->workdir : "/",
								     cp->dest);
	bool trailing = cb_str_has_suffix(cp->dest, "/") || cb_str_has_suffix(cp->dest, "/.") ||
			!strcmp(cp->dest, ".");
	_cleanup_free_ char *dest = bld_clean_rel(abs);
	if (!dest)
		dest = cb_xstrdup("");
	_cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cb_error_errno(err, "open '%s'", rootfs);
	bld_matches_t m = {0};
	bool multi;
	if (bld_select_sources(src, cp->sources, &m, &multi, err) < 0) {
		bld_matches_free(&m);
		return -1;
	}
	bool dest_is_dir = trailing || !*dest || cp->parents;
	if (!dest_is_dir) {
		_cleanup_close_ int fd = bld_open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY);
		dest_is_dir = fd >= 0;
	}
	int rc = 0;
	if (multi && !dest_is_dir && m.n > 1)
		rc = cb_error_fail(err, EINVAL,
				   "when using %s with more than one source file, the destination "
				   "must be a directory and end with a /",
				   o->is_add ? "ADD" : "COPY");
	/* one source copied whole: its layer can be written as it is copied */
	const char *nofuse = getenv("CBUILD_COPY_NOFUSE");
	bld_copy_layer_t *layer = o->layer;
	if (m.n != 1 || cp->parents || (nofuse && strcmp(nofuse, "0")))
		layer = NULL;
	for (size_t i = 0; i < m.n && rc == 0; i++)
		rc = cp->parents ? copy_with_parents(src, &m.v[i], rootfd, dest, o, err)
				 : copy_match(src, m.v[i].rel, rootfd, dest, dest_is_dir, o, layer, err);
	bld_matches_free(&m);
	return rc;
}

int bld_mkdir_in_root(const char *rootfs, const char *path, uid_t uid, gid_t gid, cb_error_t *err)
{
	_cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cb_error_errno(err, "open '%s'", rootfs);
	_cleanup_free_ char *rel = bld_clean_rel(path);
	if (!rel || !*rel)
		return 0;
	bld_copy_opts_t o = {.uid = uid, .gid = gid, .chmod = -1};
	int fd = mkdir_in_root(rootfd, rel, &o, err);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}
