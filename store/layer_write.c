/*
 * Snapshots: directory trees -> deterministic tar streams (see layer.h).
 *
 * Headers are written by us (layer_tar.c) rather than by libarchive so
 * that every byte is under our control: ustar headers (prefix/name split
 * when a long name allows it), a PAX header only when a field does not fit
 * (long names, big ids/sizes, xattrs), no uname/gname/atime/ctime,
 * whole-second mtimes (as Docker does), numbers in octal with a NUL,
 * directory names ending in "/". The walk here reads each directory fully
 * and sorts its names by bytes, so the order never depends on the file
 * system.
 */
#include "store/layer_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cancel.h"
#include "common/fs.h"
#include "common/util.h"

typedef struct hl_ent {
	dev_t dev;
	ino_t ino;
	char *path; /* tar name of the first link written */
} hl_ent_t;

typedef struct pending_dir {
	char *rel;
	char *abs;
	struct stat st;
	bool emitted;
} pending_dir_t;

typedef struct lw {
	lsink_t *sink;
	int64_t sde;
	uint64_t entries;
	const char *const *lowers; /* upper mode: lower dirs, top-most first */
	bool upper;
	hl_ent_t *hl; /* open-addressing table */
	size_t hl_cap, hl_n;
	pending_dir_t *pend; /* diff mode: directories not written yet */
	size_t npend, pend_cap;
	cb_buf_t pax, hdr, xnames, xvals;
	struct timespec since; /* diff mode: layer_opts_t.changed_after */
	const layer_inode_t *skip;
	size_t nskip;
	bool own_as_root; /* layer_opts_t's */
} lw_t;

static uid_t tar_uid(const lw_t *w, uid_t uid)
{
	return w->own_as_root && uid == geteuid() ? 0 : uid;
}

static gid_t tar_gid(const lw_t *w, gid_t gid)
{
	return w->own_as_root && gid == getegid() ? 0 : gid;
}

/* ---- tar headers (layer_tar.c) ---- */

static int put_header(lw_t *w, const hdr_t *h, cb_error_t *err)
{
	cb_buf_reset(&w->hdr);
	layer_tar_header(&w->hdr, &w->pax, h);
	w->entries++;
	return lsink_write(w->sink, w->hdr.data, w->hdr.len, err);
}

/* The xattrs of abs into w's scratch buffers (layer_read_xattrs). */
static int read_xattrs(lw_t *w, int fd, const char *abs, xattr_kv_t **out, size_t *n, int *ovl,
		       cb_error_t *err)
{
	return layer_read_xattrs(&w->xnames, &w->xvals, fd, abs, out, n, ovl, err);
}

/* ---- hard links ---- */

static size_t hl_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t x = (uint64_t)ino * 0x9E3779B97F4A7C15ULL ^ (uint64_t)dev;
	return (size_t)(x ^ (x >> 29)) & (cap - 1);
}

/* The tar name of an earlier link to the same inode, or NULL after
 * remembering `name` as the first one. */
static const char *hl_lookup(lw_t *w, const struct stat *st, const char *name)
{
	if (w->hl_n * 2 >= w->hl_cap) {
		size_t ncap = w->hl_cap ? w->hl_cap * 2 : 256;
		hl_ent_t *n = cb_xcalloc(ncap, sizeof(*n));
		for (size_t i = 0; i < w->hl_cap; i++) {
			if (!w->hl[i].path)
				continue;
			size_t j = hl_hash(w->hl[i].dev, w->hl[i].ino, ncap);
			while (n[j].path)
				j = (j + 1) & (ncap - 1);
			n[j] = w->hl[i];
		}
		free(w->hl);
		w->hl = n;
		w->hl_cap = ncap;
	}
	size_t j = hl_hash(st->st_dev, st->st_ino, w->hl_cap);
	while (w->hl[j].path) {
		if (w->hl[j].dev == st->st_dev && w->hl[j].ino == st->st_ino)
			return w->hl[j].path;
		j = (j + 1) & (w->hl_cap - 1);
	}
	w->hl[j].dev = st->st_dev;
	w->hl[j].ino = st->st_ino;
	w->hl[j].path = cb_xstrdup(name);
	w->hl_n++;
	return NULL;
}

/* ---- entries ---- */

static int64_t clamp_mtime(const lw_t *w, const struct stat *st)
{
	int64_t t = (int64_t)st->st_mtim.tv_sec;
	if (w->sde >= 0 && t > w->sde)
		t = w->sde;
	return t;
}

/* Copy `size` bytes of fd into the tar stream, padded to a 512-byte block;
 * with out >= 0 the same bytes also go to out (a fused COPY writes the
 * destination file from the layer's buffer). abs names fd in messages.
 * holes: the file has fewer blocks than its size (from the caller's stat:
 * a walk has one already, no second fstat per file). */
static int write_file_data(lw_t *w, int fd, int out, const char *abs, uint64_t size, bool holes,
			   cb_error_t *err)
{
	/* past the default readahead only: a syscall per small file (20k of
	 * them in a source tree) buys nothing */
	if (size > (1u << 20))
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t left = size;
	bool eof = false, hole = false;
	while (left) {
		if (cb_cancel_check(err) < 0) /* a build's SIGTERM: see common/cancel.h */
			return -1;
		size_t avail;
		char *dst = lsink_reserve(w->sink, &avail);
		size_t want = left < avail ? (size_t)left : avail;
		ssize_t r = 0;
		if (!eof) {
			/* a hole is zeros in the tar, a hole in the copy: not read */
			r = holes ? cb_read_holes(fd, dst, want, &hole) : read(fd, dst, want);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return cb_error_errno(err, "read '%s'", abs);
		}
		if (r == 0) {
			/* the file shrank while we read it: the header promised
			 * `size` bytes (and a copy must hold what the layer
			 * says), so pad with zeros */
			eof = true;
			memset(dst, 0, want);
			r = (ssize_t)want;
		}
		/* before the commit: from then on the bytes belong to the
		 * compression workers */
		if (out >= 0 && hole &&
		    (lseek(out, r, SEEK_CUR) < 0 || ftruncate(out, (off_t)(size - left) + r) < 0))
			return cb_error_errno(err, "extend the copy of '%s'", abs);
		if (out >= 0 && !hole && cb_write_all(out, dst, (size_t)r, err) < 0)
			return -1;
		if (lsink_commit(w->sink, (size_t)r, err) < 0)
			return -1;
		left -= (uint64_t)r;
	}
	return size % 512 ? lsink_write(w->sink, layer_tar_zeros, 512 - size % 512, err) : 0;
}

/* Write one entry. rel: its tar name without trailing slash; dirfd+name:
 * where it is; abs: its absolute path (xattrs, messages). */
/* A header's type, and the size or device numbers it carries, from st;
 * false for what a tar cannot hold (a socket). The name, a link's target
 * and a hard link are the caller's. */
static bool hdr_type(hdr_t *h, const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		h->type = '5';
		return true;
	case S_IFREG:
		h->type = '0';
		h->size = (uint64_t)st->st_size;
		return true;
	case S_IFLNK:
		h->type = '2';
		return true;
	case S_IFCHR:
	case S_IFBLK:
		h->type = S_ISCHR(st->st_mode) ? '3' : '4';
		h->major = major(st->st_rdev);
		h->minor = minor(st->st_rdev);
		return true;
	case S_IFIFO:
		h->type = '6';
		return true;
	default:
		return false;
	}
}

/* dirfd/name's target into *out (new string); -1 with errno. */
static int read_link(int dirfd, const char *name, const struct stat *st, char **out)
{
	size_t cap = (size_t)st->st_size + 2;
	if (cap < 256)
		cap = 256;
	for (;;) {
		char *t = cb_xmalloc(cap);
		ssize_t n = readlinkat(dirfd, name, t, cap);
		if (n < 0) {
			int e = errno;
			free(t);
			errno = e;
			return -1;
		}
		if ((size_t)n < cap) {
			t[n] = '\0';
			*out = t;
			return 0;
		}
		free(t);
		cap *= 2;
	}
}

/* A regular file to read, without updating its atime: on relatime a fresh
 * file's first read dirties its inode (atime <= mtime), a journal write per
 * file of the step that made 100k of them. O_NOATIME needs the file's
 * owner or CAP_FOWNER (EPERM otherwise: read it as before). */
static int open_noatime(int dirfd, const char *name)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

static int emit(lw_t *w, const char *rel, int dirfd, const char *name, const char *abs,
		const struct stat *st, int *ovl, cb_error_t *err)
{
	if (cb_cancel_check(err) < 0)
		return -1;
	const char *first = NULL; /* an earlier name of this inode */
	if (S_ISREG(st->st_mode) && st->st_nlink > 1)
		first = hl_lookup(w, st, rel);
	_cleanup_close_ int fd = -1;
	if (S_ISREG(st->st_mode) && !first) {
		fd = open_noatime(dirfd, name);
		if (fd < 0)
			return cb_error_errno(err, "open '%s'", abs);
	}
	xattr_kv_t *xa = NULL;
	size_t nxa = 0;
	if (read_xattrs(w, fd, abs, &xa, &nxa, ovl, err) < 0)
		return -1;
	hdr_t h = {.mode = st->st_mode & 07777, .uid = tar_uid(w, st->st_uid),
		   .gid = tar_gid(w, st->st_gid), .mtime = clamp_mtime(w, st), .xattrs = xa,
		   .nxattrs = nxa};
	_cleanup_free_ char *tname = NULL;
	_cleanup_free_ char *target = NULL;
	bool data = false;
	if (!hdr_type(&h, st)) { /* sockets cannot be in a tar */
		free(xa);
		return 0;
	}
	if (S_ISDIR(st->st_mode)) {
		tname = cb_asprintf("%s/", rel);
	} else if (S_ISREG(st->st_mode) && first) {
		h.type = '1';
		h.link = first;
		h.size = 0;
	} else if (S_ISREG(st->st_mode)) {
		data = true;
	} else if (S_ISLNK(st->st_mode)) {
		if (read_link(dirfd, name, st, &target) < 0) {
			free(xa);
			return cb_error_errno(err, "read link '%s'", abs);
		}
		h.link = target;
	}
	h.name = tname ? tname : rel;
	h.name_len = strlen(h.name);
	int rc = put_header(w, &h, err);
	free(xa);
	if (rc < 0)
		return -1;
	if (data)
		return write_file_data(w, fd, -1, abs, h.size,
				       (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size, err);
	return 0;
}

static int emit_whiteout(lw_t *w, const char *parent_rel, const char *name, cb_error_t *err)
{
	_cleanup_free_ char *n = *parent_rel ? cb_asprintf("%s/" LAYER_WH_PREFIX "%s", parent_rel, name)
					     : cb_asprintf(LAYER_WH_PREFIX "%s", name);
	hdr_t h = {.name = n, .name_len = strlen(n), .type = '0', .mtime = 0};
	return put_header(w, &h, err);
}

/* ---- directory listing ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the directory open at fd (fd is not consumed). */
static int list_dir(int fd, const char *abs, char ***out, size_t *n, cb_error_t *err)
{
	int dfd = dup(fd);
	if (dfd < 0)
		return cb_error_errno(err, "read directory '%s'", abs);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return cb_error_errno(err, "read directory '%s'", abs);
	}
	rewinddir(d);
	char **v = NULL;
	size_t k = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (k + 1 >= cap) {
			cap = cap ? cap * 2 : 32;
			v = cb_xreallocarray(v, cap, sizeof(*v));
		}
		v[k++] = cb_xstrdup(de->d_name);
		errno = 0;
	}
	int e = errno;
	closedir(d);
	if (e) {
		for (size_t i = 0; i < k; i++)
			free(v[i]);
		free(v);
		errno = e;
		return cb_error_errno(err, "read directory '%s'", abs);
	}
	if (k)
		qsort(v, k, sizeof(*v), cmp_str);
	*out = v;
	*n = k;
	return 0;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- lowers (upper mode) ---- */

static bool is_opaque_dir(const char *abs)
{
	char v[2];
	ssize_t n = lgetxattr(abs, "trusted.overlay.opaque", v, sizeof(v));
	if (n == 1 && v[0] == 'y')
		return true;
	n = lgetxattr(abs, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

/* Look rel up in one lower: 1 found (st filled), 0 absent, -1 hidden by a
 * whiteout or non-directory on the way. *opq is set when a directory on
 * the way is opaque (lowers below this one are then invisible). Symlinks
 * are never followed: each component is checked before it is traversed. */
static int lower_probe(const char *lower, const char *rel, struct stat *st, bool *opq)
{
	_cleanup_free_ char *p = cb_path_join(lower, rel);
	size_t base = strlen(lower);
	*opq = false;
	for (size_t i = base + 1;; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		int r = lstat(p, st);
		if (r < 0) {
			p[i] = c;
			return 0;
		}
		if (c == '\0')
			return 1;
		if (!S_ISDIR(st->st_mode))
			return -1;
		if (is_opaque_dir(p))
			*opq = true;
		p[i] = c;
	}
}

/* Does rel exist in the merged view of the lowers? */
static bool lower_exists(lw_t *w, const char *rel, bool *isdir)
{
	for (size_t i = 0; w->lowers && w->lowers[i]; i++) {
		struct stat st;
		bool opq;
		int r = lower_probe(w->lowers[i], rel, &st, &opq);
		if (r < 0)
			return false;
		if (r > 0) {
			if (LAYER_IS_WHITEOUT(&st))
				return false;
			if (isdir)
				*isdir = S_ISDIR(st.st_mode);
			return true;
		}
		if (opq)
			return false;
	}
	return false;
}

typedef struct lname {
	char *name;
	size_t lower;
	bool whiteout;
	bool isdir;
} lname_t;

static int cmp_lname(const void *a, const void *b)
{
	const lname_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->lower < y->lower ? -1 : x->lower > y->lower;
}

/* The merged listing of directory rel in the lowers: names visible there
 * (isdir set), sorted, deduplicated. */
static int lower_list(lw_t *w, const char *rel, lname_t **out, size_t *n, cb_error_t *err)
{
	lname_t *v = NULL;
	size_t k = 0, cap = 0;
	for (size_t i = 0; w->lowers && w->lowers[i]; i++) {
		struct stat st;
		bool opq;
		int r = lower_probe(w->lowers[i], rel, &st, &opq);
		if (r < 0 || (r > 0 && !S_ISDIR(st.st_mode)))
			break;
		if (r == 0) {
			if (opq)
				break;
			continue;
		}
		_cleanup_free_ char *abs = cb_path_join(w->lowers[i], rel);
		_cleanup_close_ int fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			cb_error_errno(err, "open lower directory '%s'", abs);
			goto fail;
		}
		char **names = NULL;
		size_t nn = 0;
		if (list_dir(fd, abs, &names, &nn, err) < 0)
			goto fail;
		for (size_t j = 0; j < nn; j++) {
			struct stat cs;
			if (fstatat(fd, names[j], &cs, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (k == cap) {
				cap = cap ? cap * 2 : 64;
				v = cb_xreallocarray(v, cap, sizeof(*v));
			}
			v[k++] = (lname_t){names[j], i, LAYER_IS_WHITEOUT(&cs), S_ISDIR(cs.st_mode)};
		}
		free(names);
		if (opq || is_opaque_dir(abs))
			break;
	}
	if (k)
		qsort(v, k, sizeof(*v), cmp_lname);
	/* sorted by (name, lower): the first of each name is the top-most;
	 * whiteouts hide the name */
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m && !strcmp(v[i].name, v[m - 1].name)) {
			free(v[i].name);
			continue;
		}
		v[m++] = v[i];
	}
	size_t q = 0;
	for (size_t i = 0; i < m; i++) {
		if (v[i].whiteout) {
			free(v[i].name);
			continue;
		}
		v[q++] = v[i];
	}
	*out = v;
	*n = q;
	return 0;
fail:
	for (size_t i = 0; i < k; i++)
		free(v[i].name);
	free(v);
	return -1;
}

static void free_lnames(lname_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* ---- walking a tree ---- */

static char *child_of(const char *parent, const char *name)
{
	return *parent ? cb_asprintf("%s/%s", parent, name) : cb_xstrdup(name);
}

static int walk_dir(lw_t *w, int fd, const char *rel, const char *abs, bool opaque,
		    cb_error_t *err);

static int walk_child_dir(lw_t *w, int fd, const char *name, const char *rel, const char *abs,
			  bool opaque, cb_error_t *err)
{
	_cleanup_close_ int cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0)
		return cb_error_errno(err, "open directory '%s'", abs);
	return walk_dir(w, cfd, rel, abs, opaque, err);
}

/* One entry of a directory walk. In upper mode, `lower` is the entry of
 * the same name in the merged lowers when the parent is opaque. */
static int walk_entry(lw_t *w, int fd, const char *rel, const char *abs, const char *name,
		      bool opaque, const lname_t *lower, cb_error_t *err)
{
	_cleanup_free_ char *crel = child_of(rel, name);
	_cleanup_free_ char *cabs = cb_path_join(abs, name);
	struct stat st;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0; /* removed while we walked */
		return cb_error_errno(err, "stat '%s'", cabs);
	}
	if (w->upper && LAYER_IS_WHITEOUT(&st)) {
		bool hide = opaque ? lower != NULL : lower_exists(w, crel, NULL);
		return hide ? emit_whiteout(w, rel, name, err) : 0;
	}
	int ovl = 0;
	if (emit(w, crel, fd, name, cabs, &st, &ovl, err) < 0)
		return -1;
	if (w->upper && (ovl & (OVL_REDIRECT | OVL_METACOPY)))
		return cb_error_set(err, ENOTSUP,
				    "'%s' has an overlay redirect/metacopy xattr: mount the "
				    "overlay with redirect_dir=off,metacopy=off",
				    cabs);
	if (!S_ISDIR(st.st_mode))
		return 0;
	/* a directory that replaces a lower one inside an opaque directory
	 * hides that lower directory's entries too */
	bool copq = w->upper && ((ovl & OVL_OPAQUE) || (opaque && lower && lower->isdir));
	return walk_child_dir(w, fd, name, crel, cabs, copq, err);
}

static int walk_dir(lw_t *w, int fd, const char *rel, const char *abs, bool opaque,
		    cb_error_t *err)
{
	char **names = NULL;
	size_t n = 0;
	lname_t *low = NULL;
	size_t nlow = 0;
	if (list_dir(fd, abs, &names, &n, err) < 0)
		return -1;
	if (opaque && lower_list(w, rel, &low, &nlow, err) < 0) {
		free_names(names, n);
		return -1;
	}
	int rc = 0;
	/* merge the sorted upper names with the hidden lower ones, so that
	 * explicit whiteouts come in name order too */
	size_t i = 0, j = 0;
	while (rc == 0 && (i < n || j < nlow)) {
		int c = i == n ? 1 : j == nlow ? -1 : strcmp(names[i], low[j].name);
		if (c > 0) {
			rc = emit_whiteout(w, rel, low[j++].name, err);
		} else {
			const lname_t *l = NULL;
			if (c == 0)
				l = &low[j++];
			rc = walk_entry(w, fd, rel, abs, names[i++], opaque, l, err);
		}
	}
	free_names(names, n);
	free_lnames(low, nlow);
	return rc;
}

/* ---- diff of two trees ---- */

static int flush_pending(lw_t *w, cb_error_t *err)
{
	for (size_t i = 0; i < w->npend; i++) {
		pending_dir_t *p = &w->pend[i];
		if (p->emitted)
			continue;
		if (emit(w, p->rel, -1, NULL, p->abs, &p->st, NULL, err) < 0)
			return -1;
		p->emitted = true;
	}
	return 0;
}

/* xattrs of a and b equal (overlay ones ignored)? */
static bool xattrs_equal(lw_t *w, const char *a, const char *b)
{
	xattr_kv_t *xa = NULL, *xb = NULL;
	size_t na = 0, nb = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (read_xattrs(w, -1, a, &xa, &na, NULL, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	/* read_xattrs reuses w's buffers: copy a's set out first */
	cb_buf_t ka;
	cb_buf_init(&ka);
	for (size_t i = 0; i < na; i++) {
		cb_buf_addf(&ka, "%s=%zu:", xa[i].name, xa[i].len);
		cb_buf_add(&ka, xa[i].val, xa[i].len);
		cb_buf_addch(&ka, '\0');
	}
	free(xa);
	bool eq = false;
	if (read_xattrs(w, -1, b, &xb, &nb, NULL, &e) == 0 && na == nb) {
		cb_buf_t kb;
		cb_buf_init(&kb);
		for (size_t i = 0; i < nb; i++) {
			cb_buf_addf(&kb, "%s=%zu:", xb[i].name, xb[i].len);
			cb_buf_add(&kb, xb[i].val, xb[i].len);
			cb_buf_addch(&kb, '\0');
		}
		eq = ka.len == kb.len && !memcmp(ka.data, kb.data, ka.len);
		cb_buf_release(&kb);
	}
	cb_error_release(&e);
	free(xb);
	cb_buf_release(&ka);
	return eq;
}

static bool links_equal(int ofd, int nfd, const char *name)
{
	char a[4096], b[4096];
	ssize_t la = readlinkat(ofd, name, a, sizeof(a));
	ssize_t lb = readlinkat(nfd, name, b, sizeof(b));
	return la >= 0 && la == lb && !memcmp(a, b, (size_t)la);
}

/* Touched by the step where overlayfs would have copied it up although
 * nothing the tar holds changed (layer_opts_t.changed_after). A file with
 * fewer links than before lost a name: only the other name's ctime
 * changed, which copies nothing up. */
static bool touched(const lw_t *w, const struct stat *o, const struct stat *n)
{
	if (!w->since.tv_sec || S_ISDIR(n->st_mode) || n->st_nlink < o->st_nlink)
		return false;
	if (n->st_ctim.tv_sec < w->since.tv_sec ||
	    (n->st_ctim.tv_sec == w->since.tv_sec && n->st_ctim.tv_nsec <= w->since.tv_nsec))
		return false;
	for (size_t i = 0; i < w->nskip; i++)
		if (w->skip[i].dev == n->st_dev && w->skip[i].ino == n->st_ino)
			return false;
	return true;
}

static bool entry_changed(lw_t *w, int ofd, int nfd, const char *name, const char *oabs,
			  const char *nabs, const struct stat *o, const struct stat *n)
{
	if (touched(w, o, n))
		return true;
	if ((o->st_mode & S_IFMT) != (n->st_mode & S_IFMT) || (o->st_mode & 07777) != (n->st_mode & 07777) ||
	    o->st_uid != n->st_uid || o->st_gid != n->st_gid)
		return true;
	if (!S_ISDIR(n->st_mode)) {
		/* content: trusted unchanged when size and mtime (ns) match,
		 * as Docker's change detection does */
		if (o->st_size != n->st_size || o->st_mtim.tv_sec != n->st_mtim.tv_sec ||
		    o->st_mtim.tv_nsec != n->st_mtim.tv_nsec || o->st_rdev != n->st_rdev)
			return true;
		if (S_ISLNK(n->st_mode) && !links_equal(ofd, nfd, name))
			return true;
	}
	return !xattrs_equal(w, oabs, nabs);
}

static int diff_dir(lw_t *w, int ofd, int nfd, const char *rel, const char *oabs,
		    const char *nabs, cb_error_t *err);

static int diff_entry(lw_t *w, int ofd, int nfd, const char *rel, const char *oabs,
		      const char *nabs, const char *name, bool in_old, bool in_new, cb_error_t *err)
{
	_cleanup_free_ char *crel = child_of(rel, name);
	_cleanup_free_ char *cn = cb_path_join(nabs, name);
	_cleanup_free_ char *co = cb_path_join(oabs, name);
	struct stat os, ns;
	if (in_old && fstatat(ofd, name, &os, AT_SYMLINK_NOFOLLOW) < 0)
		in_old = false;
	if (in_new && fstatat(nfd, name, &ns, AT_SYMLINK_NOFOLLOW) < 0)
		in_new = false;
	if (!in_new) {
		if (!in_old)
			return 0;
		if (flush_pending(w, err) < 0)
			return -1;
		return emit_whiteout(w, rel, name, err);
	}
	bool both_dirs = in_old && S_ISDIR(os.st_mode) && S_ISDIR(ns.st_mode);
	if (both_dirs) {
		if (w->npend == w->pend_cap) {
			w->pend_cap = w->pend_cap ? w->pend_cap * 2 : 16;
			w->pend = cb_xreallocarray(w->pend, w->pend_cap, sizeof(*w->pend));
		}
		w->pend[w->npend++] =
			(pending_dir_t){cb_xstrdup(crel), cb_xstrdup(cn), ns, false};
		int rc = 0;
		if (entry_changed(w, ofd, nfd, name, co, cn, &os, &ns))
			rc = flush_pending(w, err);
		_cleanup_close_ int cofd =
			openat(ofd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int cnfd =
			openat(nfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (rc == 0 && (cofd < 0 || cnfd < 0))
			rc = cb_error_errno(err, "open directory '%s'", cofd < 0 ? co : cn);
		if (rc == 0)
			rc = diff_dir(w, cofd, cnfd, crel, co, cn, err);
		w->npend--;
		free(w->pend[w->npend].rel);
		free(w->pend[w->npend].abs);
		return rc;
	}
	if (in_old && !entry_changed(w, ofd, nfd, name, co, cn, &os, &ns))
		return 0;
	if (flush_pending(w, err) < 0 || emit(w, crel, nfd, name, cn, &ns, NULL, err) < 0)
		return -1;
	if (S_ISDIR(ns.st_mode))
		return walk_child_dir(w, nfd, name, crel, cn, false, err);
	return 0;
}

static int diff_dir(lw_t *w, int ofd, int nfd, const char *rel, const char *oabs,
		    const char *nabs, cb_error_t *err)
{
	char **on = NULL, **nn = NULL;
	size_t no = 0, nnn = 0;
	if (ofd >= 0 && list_dir(ofd, oabs, &on, &no, err) < 0)
		return -1;
	if (list_dir(nfd, nabs, &nn, &nnn, err) < 0) {
		free_names(on, no);
		return -1;
	}
	int rc = 0;
	size_t i = 0, j = 0;
	while (rc == 0 && (i < no || j < nnn)) {
		int c = i == no ? 1 : j == nnn ? -1 : strcmp(on[i], nn[j]);
		if (c < 0)
			rc = diff_entry(w, ofd, nfd, rel, oabs, nabs, on[i++], true, false, err);
		else if (c > 0)
			rc = diff_entry(w, ofd, nfd, rel, oabs, nabs, nn[j++], false, true, err);
		else {
			rc = diff_entry(w, ofd, nfd, rel, oabs, nabs, nn[j], true, true, err);
			i++;
			j++;
		}
	}
	free_names(on, no);
	free_names(nn, nnn);
	return rc;
}

/* ---- public ---- */

static void lw_release(lw_t *w)
{
	for (size_t i = 0; i < w->hl_cap; i++)
		free(w->hl[i].path);
	free(w->hl);
	for (size_t i = 0; i < w->npend; i++) {
		free(w->pend[i].rel);
		free(w->pend[i].abs);
	}
	free(w->pend);
	cb_buf_release(&w->pax);
	cb_buf_release(&w->hdr);
	cb_buf_release(&w->xnames);
	cb_buf_release(&w->xvals);
	lsink_abort(w->sink);
}

static int lw_init(lw_t *w, store_t *st, const layer_opts_t *opts, cb_error_t *err)
{
	memset(w, 0, sizeof(*w));
	layer_opts_t def = LAYER_OPTS_INIT;
	if (!opts)
		opts = &def;
	w->sde = opts->source_date_epoch;
	w->since = opts->changed_after;
	w->skip = opts->ctime_skip;
	w->nskip = opts->n_ctime_skip;
	w->own_as_root = opts->own_as_root;
	cb_buf_init(&w->pax);
	cb_buf_init(&w->hdr);
	cb_buf_init(&w->xnames);
	cb_buf_init(&w->xvals);
	w->sink = lsink_new(st, opts, err);
	if (!w->sink) {
		lw_release(w); /* the callers return at once */
		return -1;
	}
	return 0;
}

static int lw_finish(lw_t *w, layer_result_t *res, cb_error_t *err)
{
	static const char eoa[1024];
	if (lsink_write(w->sink, eoa, sizeof(eoa), err) < 0)
		return -1;
	lsink_t *s = w->sink;
	w->sink = NULL;
	if (lsink_finish(s, res, err) < 0)
		return -1;
	res->entries = w->entries;
	return 0;
}

static int open_tree(const char *dir, cb_error_t *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open directory '%s'", dir);
	return fd;
}

int layer_write_dir(store_t *st, const char *dir, const layer_opts_t *opts, layer_result_t *res,
		    cb_error_t *err)
{
	_cleanup_close_ int fd = open_tree(dir, err);
	if (fd < 0)
		return cb_error_wrap(err, "snapshot '%s'", dir);
	lw_t w;
	if (lw_init(&w, st, opts, err) < 0)
		return cb_error_wrap(err, "snapshot '%s'", dir);
	int rc = walk_dir(&w, fd, "", dir, false, err);
	if (rc == 0)
		rc = lw_finish(&w, res, err);
	lw_release(&w);
	return rc < 0 ? cb_error_wrap(err, "snapshot '%s'", dir) : 0;
}

int layer_write_upper(store_t *st, const char *upper, const char *const *lowers,
		      const layer_opts_t *opts, layer_result_t *res, cb_error_t *err)
{
	_cleanup_close_ int fd = open_tree(upper, err);
	if (fd < 0)
		return cb_error_wrap(err, "snapshot '%s'", upper);
	lw_t w;
	if (lw_init(&w, st, opts, err) < 0)
		return cb_error_wrap(err, "snapshot '%s'", upper);
	w.upper = true;
	w.lowers = lowers;
	int rc = walk_dir(&w, fd, "", upper, false, err);
	if (rc == 0)
		rc = lw_finish(&w, res, err);
	lw_release(&w);
	return rc < 0 ? cb_error_wrap(err, "snapshot '%s'", upper) : 0;
}

int layer_write_diff(store_t *st, const char *old_tree, const char *new_tree,
		     const layer_opts_t *opts, layer_result_t *res, cb_error_t *err)
{
	_cleanup_close_ int nfd = open_tree(new_tree, err);
	if (nfd < 0)
		return cb_error_wrap(err, "diff '%s'", new_tree);
	_cleanup_close_ int ofd = -1;
	if (old_tree && (ofd = open_tree(old_tree, err)) < 0)
		return cb_error_wrap(err, "diff '%s'", new_tree);
	lw_t w;
	if (lw_init(&w, st, opts, err) < 0)
		return cb_error_wrap(err, "diff '%s'", new_tree);
	int rc = diff_dir(&w, ofd, nfd, "", old_tree ? old_tree : "", new_tree, err);
	if (rc == 0)
		rc = lw_finish(&w, res, err);
	lw_release(&w);
	return rc < 0 ? cb_error_wrap(err, "diff '%s' -> '%s'", old_tree ? old_tree : "(empty)",
				      new_tree)
		      : 0;
}

/* ---- entry by entry ---- */

struct layer_stream {
	lw_t w;
};

layer_stream_t *layer_stream_new(store_t *st, const layer_opts_t *opts, cb_error_t *err)
{
	layer_stream_t *ls = cb_xcalloc(1, sizeof(*ls));
	if (lw_init(&ls->w, st, opts, err) < 0) {
		lw_release(&ls->w);
		free(ls);
		return NULL;
	}
	ls->w.upper = true;
	return ls;
}

int layer_stream_add_path(layer_stream_t *ls, const char *upper, const char *rel,
			  struct stat *sb, cb_error_t *err)
{
	_cleanup_free_ char *abs = cb_path_join(upper, rel);
	struct stat st;
	if (lstat(abs, &st) < 0)
		return cb_error_errno(err, "stat '%s'", abs);
	if (LAYER_IS_WHITEOUT(&st))
		return cb_error_set(err, ENOTSUP, "'%s' is a whiteout", abs);
	int ovl = 0;
	/* AT_FDCWD + the absolute path: emit opens and reads links by it */
	if (emit(&ls->w, rel, AT_FDCWD, abs, abs, &st, &ovl, err) < 0)
		return -1;
	if (ovl)
		return cb_error_set(err, ENOTSUP, "'%s' has overlay metadata", abs);
	if (sb)
		*sb = st;
	return 0;
}

int layer_stream_add(layer_stream_t *ls, const char *rel, const struct stat *sb,
		     const char *link, cb_error_t *err)
{
	hdr_t h = {.mode = sb->st_mode & 07777, .uid = sb->st_uid, .gid = sb->st_gid,
		   .mtime = clamp_mtime(&ls->w, sb)};
	if (!hdr_type(&h, sb) || LAYER_IS_WHITEOUT(sb))
		return 0;
	_cleanup_free_ char *tname = S_ISDIR(sb->st_mode) ? cb_asprintf("%s/", rel) : NULL;
	if (S_ISLNK(sb->st_mode))
		h.link = link;
	h.name = tname ? tname : rel;
	h.name_len = strlen(h.name);
	return put_header(&ls->w, &h, err);
}

int layer_stream_data(layer_stream_t *ls, int in, int out, uint64_t size, cb_error_t *err)
{
	return write_file_data(&ls->w, in, out, "source file", size, cb_fd_has_holes(in), err);
}

int layer_stream_finish(layer_stream_t *ls, layer_result_t *res, cb_error_t *err)
{
	int rc = lw_finish(&ls->w, res, err);
	lw_release(&ls->w);
	free(ls);
	return rc;
}

void layer_stream_abort(layer_stream_t *ls)
{
	if (!ls)
		return;
	lw_release(&ls->w);
	free(ls);
}
