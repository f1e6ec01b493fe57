/*
 * Reading layers: apply/unpack with OCI whiteout semantics, securely.
 *
 * Input is two libarchive readers in a row: the first ("raw" format with
 * the decompression filters) turns the blob into the plain tar stream while
 * our read callback hashes the compressed bytes; the second (tar format)
 * reads that stream while its callback hashes it (diff_id). Both digests
 * are therefore computed in the same single pass that extracts, and the
 * rest of the stream after the tar's end-of-archive is drained so that the
 * digests cover every byte.
 *
 * Extraction never trusts a name: names are cleaned as if rooted at "/"
 * (so "../x" and "/x" stay inside), parent directories are resolved with
 * openat2(RESOLVE_IN_ROOT) against the target (a symlink, even one made
 * earlier by the same layer, resolves inside the target), and the last
 * component is always created or changed relative to that parent without
 * following it. Where openat2 is missing, common/openroot.c resolves the
 * same way one component at a time.
 */
#include "store/layer_internal.h"
#include "store/lease.h"

#include "store/archive_lazy.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cancel.h"
#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"

#define IN_BUF (256u * 1024)

/* ---- the input pipeline ---- */

typedef struct lin {
	int fd;
	digest_ctx_t *blob, *diff;
	struct archive *raw, *tar;
	unsigned char *buf;
	bool raw_eof;
	uint64_t tar_bytes;
	lsink_t *sink; /* layer_write_tar: the plain tar also goes here */
	cb_error_t sink_err;
} lin_t;

static la_ssize_t raw_read_cb(struct archive *a, void *data, const void **out)
{
	lin_t *in = data;
	for (;;) {
		ssize_t n = read(in->fd, in->buf, IN_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read layer");
			return -1;
		}
		digest_update(in->blob, in->buf, (size_t)n);
		*out = in->buf;
		return n;
	}
}

static la_ssize_t tar_read_cb(struct archive *a, void *data, const void **out)
{
	lin_t *in = data;
	if (in->raw_eof)
		return 0;
	size_t size = 0;
	la_int64_t off = 0;
	int r = archive_read_data_block(in->raw, out, &size, &off);
	if (r == ARCHIVE_EOF) {
		in->raw_eof = true;
		return 0;
	}
	if (r < ARCHIVE_WARN) {
		archive_set_error(a, archive_errno(in->raw) ? archive_errno(in->raw) : EIO, "%s",
				  archive_error_string(in->raw) ?: "decompression failed");
		return -1;
	}
	digest_update(in->diff, *out, size);
	in->tar_bytes += size;
	if (in->sink && !cb_error_is_set(&in->sink_err) &&
	    lsink_write(in->sink, *out, size, &in->sink_err) < 0) {
		archive_set_error(a, in->sink_err.code ? in->sink_err.code : EIO, "write layer");
		return -1;
	}
	return (la_ssize_t)size;
}

static void lin_close(lin_t *in)
{
	if (in->tar)
		archive_read_free(in->tar);
	if (in->raw)
		archive_read_free(in->raw);
	digest_free(in->blob);
	digest_free(in->diff);
	free(in->buf);
	cb_error_release(&in->sink_err);
	memset(in, 0, sizeof(*in));
}

static int archive_fail(struct archive *a, cb_error_t *err, const char *what)
{
	int code = archive_errno(a);
	const char *msg = archive_error_string(a) ?: "unknown libarchive error";
	/* format errors carry EILSEQ, whose strerror text only confuses */
	if (code <= 0 || code == EILSEQ)
		return cb_error_fail(err, EINVAL, "%s: %s", what, msg);
	return cb_error_set(err, code, "%s: %s", what, msg);
}

/* Open the raw (decompressing) stage; with_tar adds the tar stage.
 * all_filters: every compression libarchive reads (ADD of an archive, as
 * before it came here: .Z, lz4, lzip...); a layer's are the five below. */
static int lin_open(lin_t *in, int fd, bool with_tar, bool all_filters, lsink_t *sink,
		    cb_error_t *err)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->sink = sink;
	in->blob = digest_new();
	in->diff = digest_new();
	in->buf = cb_xmalloc(IN_BUF);
	in->raw = archive_read_new();
	if (all_filters) {
		archive_read_support_filter_all(in->raw);
	} else {
		archive_read_support_filter_gzip(in->raw);
		archive_read_support_filter_zstd(in->raw);
		archive_read_support_filter_bzip2(in->raw);
		archive_read_support_filter_xz(in->raw);
		archive_read_support_filter_lzma(in->raw);
	}
	archive_read_support_format_raw(in->raw);
	struct archive_entry *e;
	if (archive_read_open(in->raw, in, NULL, raw_read_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(in->raw, &e) != ARCHIVE_OK) {
		archive_fail(in->raw, err, "read layer");
		lin_close(in);
		return -1;
	}
	if (!with_tar)
		return 0;
	in->tar = archive_read_new();
	archive_read_support_format_tar(in->tar);
	archive_read_support_format_gnutar(in->tar);
	if (archive_read_open(in->tar, in, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
		archive_fail(in->tar, err, "not a tar archive");
		lin_close(in);
		return -1;
	}
	return 0;
}

/* Read what is left after the tar's end (both streams) so that the
 * digests cover every byte, then compare them. */
static int lin_finish(lin_t *in, const char *want_digest, const char *want_diff_id,
		      char diff_id[DIGEST_STR_LEN + 1], cb_error_t *err)
{
	const void *p;
	while (!in->raw_eof) {
		la_ssize_t n = tar_read_cb(in->tar, in, &p);
		if (n < 0)
			return archive_fail(in->tar, err, "read layer");
	}
	for (;;) {
		ssize_t n = read(in->fd, in->buf, IN_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cb_error_errno(err, "read layer");
		if (n == 0)
			break;
		digest_update(in->blob, in->buf, (size_t)n);
	}
	char got_blob[DIGEST_STR_LEN + 1], got_diff[DIGEST_STR_LEN + 1];
	digest_final(in->blob, got_blob);
	digest_final(in->diff, got_diff);
	if (want_digest && strcmp(want_digest, got_blob))
		return cb_error_set(err, EBADMSG, "layer digest mismatch: expected '%s', got '%s'",
				    want_digest, got_blob);
	if (want_diff_id && strcmp(want_diff_id, got_diff))
		return cb_error_set(err, EBADMSG,
				    "layer diff_id mismatch: expected '%s', got '%s'", want_diff_id,
				    got_diff);
	if (diff_id)
		memcpy(diff_id, got_diff, sizeof(got_diff));
	return 0;
}

/* ---- path resolution inside the target ---- */

static int resolve_in_root(int rootfd, const char *path, cb_error_t *err)
{
	if (!*path) {
		int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? cb_error_errno(err, "resolve the layer root") : fd;
	}
	int fd = cb_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, CB_ROOT_NO_XDEV);
	return fd < 0 ? cb_error_errno(err, "resolve '%s'", path) : fd;
}

/* Open the parent directory of rel (a cleaned relative path), creating
 * missing directories on the way (0755, root-owned as the tar would have
 * them). */
static int open_parent(int rootfd, const char *rel, cb_error_t *err)
{
	const char *slash = strrchr(rel, '/');
	if (!slash)
		return resolve_in_root(rootfd, "", err);
	_cleanup_free_ char *dir = cb_xstrndup(rel, (size_t)(slash - rel));
	cb_error_t e = CB_ERROR_INIT;
	int fd = resolve_in_root(rootfd, dir, &e);
	if (fd >= 0 || e.code != ENOENT) {
		if (fd < 0)
			cb_error_move(err, &e);
		return fd;
	}
	cb_error_release(&e);
	/* create the missing ones, resolving each prefix from the root */
	for (size_t i = 0;; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		char c = dir[i];
		dir[i] = '\0';
		char *base = strrchr(dir, '/');
		_cleanup_free_ char *up = base ? cb_xstrndup(dir, (size_t)(base - dir)) : cb_xstrdup("");
		int pfd = resolve_in_root(rootfd, up, err);
		if (pfd < 0)
			return -1;
		if (mkdirat(pfd, base ? base + 1 : dir, 0755) < 0 && errno != EEXIST) {
			close(pfd);
			return cb_error_errno(err, "create directory '%s'", dir);
		}
		close(pfd);
		dir[i] = c;
		if (c == '\0')
			break;
	}
	return resolve_in_root(rootfd, dir, err);
}

/* rm -rf of name under dirfd, never following symlinks. */
static int remove_at(int dirfd, const char *name, cb_error_t *err);

static int empty_dir_at(int fd, bool (*keep)(void *, const char *), void *arg, cb_error_t *err)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return cb_error_errno(err, "read directory");
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (keep && keep(arg, de->d_name))
			continue;
		rc = remove_at(fd, de->d_name, err);
	}
	closedir(d);
	return rc;
}

static int remove_at(int dirfd, const char *name, cb_error_t *err)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return cb_error_errno(err, "remove '%s'", name);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "remove '%s'", name);
	int rc = empty_dir_at(fd, NULL, NULL, err);
	close(fd);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cb_error_errno(err, "remove '%s'", name);
	return rc;
}

/* ---- a set of strings (paths written by this layer) ---- */

typedef struct strset {
	char **v;
	size_t cap, n;
} strset_t;

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool strset_has(const strset_t *s, const char *k)
{
	if (!s->cap)
		return false;
	for (size_t j = str_hash(k) & (s->cap - 1); s->v[j]; j = (j + 1) & (s->cap - 1))
		if (!strcmp(s->v[j], k))
			return true;
	return false;
}

static void strset_add(strset_t *s, const char *k)
{
	if (strset_has(s, k))
		return;
	if (s->n * 2 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		char **nv = cb_xcalloc(ncap, sizeof(*nv));
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i])
				continue;
			size_t j = str_hash(s->v[i]) & (ncap - 1);
			while (nv[j])
				j = (j + 1) & (ncap - 1);
			nv[j] = s->v[i];
		}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	size_t j = str_hash(k) & (s->cap - 1);
	while (s->v[j])
		j = (j + 1) & (s->cap - 1);
	s->v[j] = cb_xstrdup(k);
	s->n++;
}

static void strset_release(strset_t *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- applying entries ---- */

typedef struct dir_meta {
	char *rel;
	mode_t mode;
	struct timespec mtime;
} dir_meta_t;

typedef struct applier {
	int rootfd;
	unsigned flags;
	bool root;     /* running as root: devices, chown */
	bool no_chown; /* chown failed once with EPERM: stop trying */
	bool owner_set; /* every entry owned by uid:gid (ADD --chown) */
	uid_t uid;
	gid_t gid;
	strset_t added;
	dir_meta_t *dirs;
	size_t ndirs, dirs_cap;
	bool warned_dev;
	unsigned char zero_check;
} applier_t;

static bool xattr_refused(const char *name)
{
	/* overlay xattrs from a layer would steer the overlay mount of the
	 * unpacked lower (redirects, fake opaque dirs): never apply them */
	return cb_str_has_prefix(name, "trusted.overlay.") ||
	       cb_str_has_prefix(name, "user.overlay.");
}

static void apply_xattrs(applier_t *ap, struct archive_entry *e, int fd, int pfd,
			 const char *name)
{
	if (archive_entry_xattr_reset(e) == 0)
		return;
	const char *xn;
	const void *xv;
	size_t xl;
	_cleanup_free_ char *proc = NULL;
	while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK) {
		if (xattr_refused(xn))
			continue;
		int r;
		if (fd >= 0) {
			r = fsetxattr(fd, xn, xv, xl, 0);
		} else {
			if (!proc)
				proc = cb_asprintf("/proc/self/fd/%d/%s", pfd, name);
			r = lsetxattr(proc, xn, xv, xl, 0);
		}
		/* user.* on symlinks and security.* without privilege fail;
		 * the rest of the entry is still right */
		(void)r;
	}
	(void)ap;
}

static bool entry_has_xattr(struct archive_entry *e, const char *name)
{
	const char *xn;
	const void *xv;
	size_t xl;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK)
		if (strcmp(xn, name) == 0)
			return true;
	return false;
}

/* A directory that was already there keeps its inode, and with it xattrs
 * an earlier layer gave it: remove the ones this entry does not carry, so
 * that its xattrs are exactly the tar's. Overlay's own (this code manages
 * them) and the host's SELinux label stay. */
static void drop_stale_xattrs(int fd, struct archive_entry *e)
{
	ssize_t len = flistxattr(fd, NULL, 0);
	if (len <= 0)
		return;
	_cleanup_free_ char *names = cb_xmalloc((size_t)len + 1);
	len = flistxattr(fd, names, (size_t)len);
	if (len <= 0)
		return;
	names[len] = '\0';
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		if (xattr_refused(n) || strcmp(n, "security.selinux") == 0 ||
		    entry_has_xattr(e, n))
			continue;
		/* failures (no privilege for trusted.*) leave the rest right */
		(void)fremovexattr(fd, n);
	}
}

static uid_t entry_uid(const applier_t *ap, struct archive_entry *e)
{
	return ap->owner_set ? ap->uid : (uid_t)archive_entry_uid(e);
}

static gid_t entry_gid(const applier_t *ap, struct archive_entry *e)
{
	return ap->owner_set ? ap->gid : (gid_t)archive_entry_gid(e);
}

static void apply_owner(applier_t *ap, int pfd, const char *name, struct archive_entry *e)
{
	if (ap->no_chown)
		return;
	if (fchownat(pfd, name, entry_uid(ap, e), entry_gid(ap, e), AT_SYMLINK_NOFOLLOW) < 0 &&
	    (errno == EPERM || errno == EINVAL))
		ap->no_chown = true;
}

static int write_data(struct archive *a, int fd, const char *rel, int64_t size_total,
		      cb_error_t *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	for (;;) {
		if (cb_cancel_check(err) < 0)
			return -1;
		int r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return archive_fail(a, err, "read layer");
		const unsigned char *p = buf;
		/* zero 4 KiB blocks become holes: sparse files stay sparse */
		while (size) {
			bool zero;
			size_t run = cb_zero_run(p, size, (uint64_t)off, &zero);
			if (!zero && pwrite(fd, p, run, off) != (ssize_t)run)
				return cb_error_errno(err, "write '%s'", rel);
			p += run;
			off += (la_int64_t)run;
			size -= run;
		}
	}
	/* holes at the end have no data blocks: the size comes from the header */
	return ftruncate(fd, size_total) < 0 ? cb_error_errno(err, "write '%s'", rel) : 0;
}

static char *clean_name(const char *name)
{
	_cleanup_free_ char *abs = cb_asprintf("/%s", name);
	_cleanup_free_ char *c = cb_path_clean(abs);
	return cb_xstrdup(c + 1);
}

static void set_times(int pfd, const char *name, struct archive_entry *e)
{
	struct timespec ts[2];
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	ts[0] = ts[1];
	utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int reopen_dir(int pfd, const char *name, cb_error_t *err)
{
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open directory '%s'", name);
	return fd;
}

static bool keep_added(void *arg, const char *name)
{
	void **a = arg;
	applier_t *ap = a[0];
	const char *parent = a[1];
	_cleanup_free_ char *rel = *parent ? cb_asprintf("%s/%s", parent, name) : cb_xstrdup(name);
	return strset_has(&ap->added, rel);
}

static int apply_whiteout(applier_t *ap, const char *rel, const char *base, cb_error_t *err)
{
	_cleanup_free_ char *parent = cb_xstrndup(rel, (size_t)(base - rel) ? (size_t)(base - rel) - 1 : 0);
	bool overlay = ap->flags & LAYER_APPLY_OVERLAY;
	cb_error_t e = CB_ERROR_INIT;
	/* overlay format needs the parent to hold the marker; plain apply has
	 * nothing to delete under a parent that does not exist */
	_cleanup_close_ int pfd = overlay ? open_parent(ap->rootfd, rel, &e)
					  : resolve_in_root(ap->rootfd, parent, &e);
	if (pfd < 0) {
		if (!overlay && (e.code == ENOENT || e.code == ENOTDIR)) {
			cb_error_release(&e);
			return 0;
		}
		cb_error_move(err, &e);
		return -1;
	}
	if (!strcmp(base, LAYER_WH_OPAQUE)) {
		_cleanup_close_ int dfd = reopen_dir(pfd, ".", err);
		if (dfd < 0)
			return -1;
		if (overlay) {
			const char *x = (ap->flags & LAYER_APPLY_USERXATTR) ? "user.overlay.opaque"
									   : "trusted.overlay.opaque";
			if (fsetxattr(dfd, x, "y", 1, 0) < 0)
				return cb_error_errno(err, "mark '%s' opaque", parent);
			return 0;
		}
		void *arg[2] = {ap, parent};
		return empty_dir_at(dfd, keep_added, arg, err);
	}
	const char *victim = base + strlen(LAYER_WH_PREFIX);
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, "..") || strchr(victim, '/'))
		return cb_error_set(err, EINVAL, "invalid whiteout '%s'", rel);
	_cleanup_free_ char *vrel = *parent ? cb_asprintf("%s/%s", parent, victim) : cb_xstrdup(victim);
	struct stat st;
	bool exists = fstatat(pfd, victim, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (overlay) {
		/* the target is fresh: anything there is this layer's own */
		if (exists)
			return 0;
		if (mknodat(pfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
			return cb_error_errno(err, "create whiteout '%s'", vrel);
		return 0;
	}
	if (!exists || strset_has(&ap->added, vrel))
		return 0;
	return remove_at(pfd, victim, err);
}

static void defer_dir(applier_t *ap, const char *rel, struct archive_entry *e)
{
	if (ap->ndirs == ap->dirs_cap) {
		ap->dirs_cap = ap->dirs_cap ? ap->dirs_cap * 2 : 64;
		ap->dirs = cb_xreallocarray(ap->dirs, ap->dirs_cap, sizeof(*ap->dirs));
	}
	dir_meta_t *d = &ap->dirs[ap->ndirs++];
	d->rel = cb_xstrdup(rel);
	d->mode = archive_entry_mode(e) & 07777;
	d->mtime.tv_sec = archive_entry_mtime(e);
	d->mtime.tv_nsec = archive_entry_mtime_nsec(e);
}

/* Directory modes and times last, deepest first: writing children changes
 * a directory's mtime, and a read-only directory must still take them. */
static void finish_dirs(applier_t *ap)
{
	for (size_t i = ap->ndirs; i-- > 0;) {
		dir_meta_t *d = &ap->dirs[i];
		cb_error_t e = CB_ERROR_INIT;
		int fd = -1;
		if (!*d->rel) {
			fd = fcntl(ap->rootfd, F_DUPFD_CLOEXEC, 3);
		} else {
			const char *slash = strrchr(d->rel, '/');
			_cleanup_free_ char *parent =
				slash ? cb_xstrndup(d->rel, (size_t)(slash - d->rel)) : cb_xstrdup("");
			int pfd = resolve_in_root(ap->rootfd, parent, &e);
			if (pfd >= 0) {
				fd = openat(pfd, slash ? slash + 1 : d->rel,
					    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				close(pfd);
			}
		}
		cb_error_release(&e);
		if (fd >= 0) {
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			chmod(proc, d->mode);
			struct timespec ts[2] = {d->mtime, d->mtime};
			utimensat(AT_FDCWD, proc, ts, 0);
			close(fd);
		}
		free(d->rel);
	}
	free(ap->dirs);
	ap->dirs = NULL;
	ap->ndirs = ap->dirs_cap = 0;
}

/* Can the kernel hold this entry's device number? Tars from other systems
 * may carry larger ones (in base-256 fields or SCHILY.devmajor/devminor
 * records, both of which libarchive reads); glibc's makedev would pack them
 * into bits mknod refuses with a bare EINVAL. */
static bool linux_devnum(struct archive_entry *e)
{
	return archive_entry_rdevmajor(e) <= 0xfff && archive_entry_rdevminor(e) <= 0xfffff;
}

static int create_entry(applier_t *ap, struct archive *a, struct archive_entry *e, int pfd,
			const char *rel, const char *base, cb_error_t *err)
{
	mode_t type = archive_entry_filetype(e);
	mode_t mode = archive_entry_mode(e) & 07777;
	const char *hl = archive_entry_hardlink(e);
	if (hl) {
		_cleanup_free_ char *trel = clean_name(hl);
		const char *slash = strrchr(trel, '/');
		_cleanup_free_ char *tparent =
			slash ? cb_xstrndup(trel, (size_t)(slash - trel)) : cb_xstrdup("");
		_cleanup_close_ int tpfd = resolve_in_root(ap->rootfd, tparent, err);
		if (tpfd < 0)
			return cb_error_wrap(err, "hard link '%s' -> '%s'", rel, hl);
		if (!*trel || linkat(tpfd, slash ? slash + 1 : trel, pfd, base, 0) < 0)
			return cb_error_errno(err, "hard link '%s' -> '%s'", rel, hl);
		return 0;
	}
	switch (type) {
	case AE_IFREG: {
		_cleanup_close_ int fd =
			openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return cb_error_errno(err, "create '%s'", rel);
		if (write_data(a, fd, rel, archive_entry_size(e), err) < 0)
			return -1;
		if (!ap->no_chown && fchown(fd, entry_uid(ap, e), entry_gid(ap, e)) < 0)
			ap->no_chown = true;
		fchmod(fd, mode);
		apply_xattrs(ap, e, fd, pfd, base);
		struct timespec ts[2];
		ts[1].tv_sec = archive_entry_mtime(e);
		ts[1].tv_nsec = archive_entry_mtime_nsec(e);
		ts[0] = ts[1];
		futimens(fd, ts);
		return 0;
	}
	case AE_IFDIR: {
		bool existed = false;
		if (mkdirat(pfd, base, 0700) < 0) {
			if (errno != EEXIST)
				return cb_error_errno(err, "create directory '%s'", rel);
			existed = true;
		}
		apply_owner(ap, pfd, base, e);
		_cleanup_close_ int dfd = reopen_dir(pfd, base, err);
		if (dfd < 0)
			return -1;
		if (existed)
			drop_stale_xattrs(dfd, e);
		apply_xattrs(ap, e, dfd, pfd, base);
		defer_dir(ap, rel, e);
		return 0;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target || symlinkat(target, pfd, base) < 0)
			return cb_error_errno(err, "create symlink '%s'", rel);
		apply_owner(ap, pfd, base, e);
		apply_xattrs(ap, e, -1, pfd, base);
		set_times(pfd, base, e);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		int r;
		if (type == AE_IFIFO)
			r = mkfifoat(pfd, base, 0600);
		else if (!ap->root)
			r = -1, errno = EPERM;
		else if (!linux_devnum(e))
			return cb_error_set(err, EOVERFLOW,
					    "device '%s' %lu:%lu: Linux device numbers have at most "
					    "12-bit majors and 20-bit minors",
					    rel, (unsigned long)archive_entry_rdevmajor(e),
					    (unsigned long)archive_entry_rdevminor(e));
		else
			r = mknodat(pfd, base, type | 0600, archive_entry_rdev(e));
		if (r < 0) {
			if (errno == EPERM && type != AE_IFIFO) {
				if (!ap->warned_dev)
					cb_warn("skipping device node '%s' (and any others): not "
						"permitted",
						rel);
				ap->warned_dev = true;
				return 0;
			}
			return cb_error_errno(err, "create '%s'", rel);
		}
		apply_owner(ap, pfd, base, e);
		fchmodat(pfd, base, mode, 0);
		apply_xattrs(ap, e, -1, pfd, base);
		set_times(pfd, base, e);
		return 0;
	}
	default:
		return cb_error_set(err, EINVAL, "unsupported tar entry type for '%s'", rel);
	}
}

/* An absolute name, or one whose ".." climb above where it starts. */
static bool escapes(const char *name)
{
	if (name[0] == '/')
		return true;
	int depth = 0;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2))
			depth--;
		else if (n && !(n == 1 && *p == '.'))
			depth++;
		if (depth < 0)
			return true;
		p += n + (p[n] == '/');
	}
	return false;
}

static int apply_entry(applier_t *ap, struct archive *a, struct archive_entry *e,
		       cb_error_t *err)
{
	const char *name = archive_entry_pathname(e);
	if (!name)
		return cb_error_set(err, EINVAL, "tar entry without a name");
	if ((ap->flags & LAYER_APPLY_REFUSE_ESCAPES) && escapes(name))
		return cb_error_fail(err, EINVAL, "tar entry '%s' leaves the archive", name);
	_cleanup_free_ char *rel = clean_name(name);
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	if (cb_str_has_prefix(base, LAYER_WH_PREFIX) && !(ap->flags & LAYER_APPLY_NO_WHITEOUTS))
		return apply_whiteout(ap, rel, base, err);
	if (!*rel) {
		/* the root itself: only its metadata */
		if (archive_entry_filetype(e) == AE_IFDIR) {
			apply_owner(ap, ap->rootfd, ".", e);
			drop_stale_xattrs(ap->rootfd, e);
			apply_xattrs(ap, e, ap->rootfd, ap->rootfd, ".");
			defer_dir(ap, "", e);
		}
		return 0;
	}
	_cleanup_close_ int pfd = open_parent(ap->rootfd, rel, err);
	if (pfd < 0)
		return -1;
	struct stat st;
	bool is_dir = archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e);
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !(is_dir && S_ISDIR(st.st_mode))) {
		if (remove_at(pfd, base, err) < 0)
			return -1;
	}
	if (!(ap->flags & LAYER_APPLY_OVERLAY))
		strset_add(&ap->added, rel);
	return create_entry(ap, a, e, pfd, rel, base, err);
}

/* Every entry of in onto ap's root. max_bytes: the entries' sizes
 * together at most that (0: no limit), else EFBIG. */
static int apply_all(applier_t *ap, lin_t *in, uint64_t max_bytes, cb_error_t *err)
{
	uint64_t total = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in->tar, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return archive_fail(in->tar, err, "read layer");
		int64_t size = archive_entry_size(e);
		total += size > 0 ? (uint64_t)size : 0;
		if (max_bytes && total > max_bytes)
			return cb_error_set(err, EFBIG, "archive expands to more than %llu bytes at '%s'",
					    (unsigned long long)max_bytes,
					    archive_entry_pathname(e) ?: "");
		if (cb_cancel_check(err) < 0 || apply_entry(ap, in->tar, e, err) < 0)
			return -1;
	}
}

/* apply_all onto rootfd (taken: closed here), checking the digests. */
static int apply_fd(applier_t *ap, int fd, bool all_filters, uint64_t max_bytes,
		    const char *expected_digest, const char *expected_diff_id, cb_error_t *err)
{
	ap->root = geteuid() == 0;
	lin_t in;
	int rc = lin_open(&in, fd, true, all_filters, NULL, err);
	if (rc == 0) {
		rc = apply_all(ap, &in, max_bytes, err);
		finish_dirs(ap);
		if (rc == 0)
			rc = lin_finish(&in, expected_digest, expected_diff_id, NULL, err);
		lin_close(&in);
	}
	strset_release(&ap->added);
	close(ap->rootfd);
	return rc;
}

int layer_apply(int fd, const char *target_dir, unsigned flags, const char *expected_digest,
		const char *expected_diff_id, cb_error_t *err)
{
	applier_t ap;
	memset(&ap, 0, sizeof(ap));
	ap.flags = flags;
	ap.no_chown = flags & LAYER_APPLY_NO_CHOWN;
	ap.rootfd = open(target_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ap.rootfd < 0)
		return cb_error_errno(err, "apply layer to '%s'", target_dir);
	if (apply_fd(&ap, fd, false, 0, expected_digest, expected_diff_id, err) < 0)
		return cb_error_wrap(err, "apply layer to '%s'", target_dir);
	return 0;
}

int layer_extract_at(int fd, int dirfd, const layer_extract_opts_t *opts, cb_error_t *err)
{
	applier_t ap;
	memset(&ap, 0, sizeof(ap));
	ap.flags = opts->flags;
	ap.no_chown = opts->flags & LAYER_APPLY_NO_CHOWN;
	ap.owner_set = opts->chown;
	ap.uid = opts->uid;
	ap.gid = opts->gid;
	ap.rootfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (ap.rootfd < 0)
		return cb_error_errno(err, "extract archive");
	return apply_fd(&ap, fd, true, opts->max_bytes, NULL, NULL, err);
}

int layer_probe_tar(int fd, bool *is_tar, cb_error_t *err)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return cb_error_errno(err, "read archive");
	lin_t in;
	cb_error_t e = CB_ERROR_INIT;
	bool tar = false;
	if (lin_open(&in, fd, true, true, NULL, &e) == 0) {
		struct archive_entry *entry;
		tar = archive_read_next_header(in.tar, &entry) == ARCHIVE_OK;
		lin_close(&in);
	}
	cb_error_release(&e);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return cb_error_errno(err, "read archive");
	*is_tar = tar;
	return 0;
}

int layer_extract_plain(int fd, const char *dir, cb_error_t *err)
{
	return layer_apply(fd, dir,
			   LAYER_APPLY_NO_CHOWN | LAYER_APPLY_REFUSE_ESCAPES | LAYER_APPLY_NO_WHITEOUTS,
			   NULL, NULL, err);
}

int layer_apply_path(const char *path, const char *target_dir, unsigned flags, cb_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open layer '%s'", path);
	return layer_apply(fd, target_dir, flags, NULL, NULL, err);
}

/* ---- importing a tar stream ---- */

int layer_write_tar(store_t *st, int fd, const layer_opts_t *opts, layer_result_t *res,
		    cb_error_t *err)
{
	layer_opts_t def = LAYER_OPTS_INIT;
	lin_t in;
	lsink_t *sink = lsink_new(st, opts ? opts : &def, err);
	if (!sink)
		return cb_error_wrap(err, "import layer");
	if (lin_open(&in, fd, true, false, sink, err) < 0) {
		lsink_abort(sink);
		return cb_error_wrap(err, "import layer");
	}
	/* walk the headers so that only a real tar is accepted; the bytes
	 * reach the sink through the read callback, once */
	int rc = 0;
	uint64_t entries = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in.tar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN || archive_read_data_skip(in.tar) < ARCHIVE_WARN) {
			if (cb_error_is_set(&in.sink_err))
				cb_error_move(err, &in.sink_err);
			else
				archive_fail(in.tar, err, entries ? "read layer" : "not a tar archive");
			rc = -1;
			break;
		}
		entries++;
	}
	if (rc == 0)
		rc = lin_finish(&in, NULL, NULL, NULL, err);
	if (rc == 0 && cb_error_is_set(&in.sink_err)) {
		cb_error_move(err, &in.sink_err);
		rc = -1;
	}
	lsink_t *s = in.sink;
	in.sink = NULL;
	lin_close(&in);
	if (rc < 0) {
		lsink_abort(s);
		return cb_error_wrap(err, "import layer");
	}
	if (lsink_finish(s, res, err) < 0)
		return cb_error_wrap(err, "import layer");
	res->entries = entries;
	return 0;
}
