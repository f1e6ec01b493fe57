/* cp between the host and a container, with docker's rules for the
 * destination: an existing directory receives SRC under its own name (or
 * SRC/.'s contents), an existing file is replaced by a file, a missing
 * DEST becomes SRC's copy (its parent must exist; "DEST/" must exist for a
 * file). The bytes travel as a tar: a producer reads the source tree
 * through O_NOFOLLOW fds (runtime/tartree.c), the store's hardened
 * extractor writes it (layer_apply: nothing lands outside its target, the
 * target itself resolved inside the container's root). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container_cp.h"
#include "runtime/container_internal.h"
#include "runtime/tartree.h"
#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"
#include "store/layer.h"

/* A path split as docker's cp reads it. */
typedef struct cp_path {
	char *parent; /* "" = the start (the root or the cwd) */
	char *base;   /* last component; "." for the start itself */
	bool slash;   /* ended with '/': must be a directory */
	bool dot;     /* ended with "/.": a directory's contents */
} cp_path_t;

static void cp_path_release(cp_path_t *p)
{
	free(p->parent);
	free(p->base);
}

/* in_root: leading slashes dropped (container paths are relative to its
 * root); else an absolute path keeps its '/'. */
static void cp_path_parse(const char *s, bool in_root, cp_path_t *p)
{
	memset(p, 0, sizeof *p);
	bool abs = s[0] == '/';
	while (in_root && *s == '/')
		s++;
	_cleanup_free_ char *t = cb_xstrdup(s);
	size_t n = strlen(t);
	if (n >= 2 && !strcmp(t + n - 2, "/.")) {
		p->dot = true;
		t[n -= 2] = 0;
	} else if (!strcmp(t, ".")) {
		p->dot = true;
		t[n = 0] = 0;
	}
	while (n > 0 && t[n - 1] == '/') {
		p->slash = true;
		t[--n] = 0;
	}
	char *sl = strrchr(t, '/');
	if (!n) {
		p->parent = cb_xstrdup(abs && !in_root ? "/" : "");
		p->base = cb_xstrdup(".");
		p->dot = true;
	} else if (!sl) {
		p->parent = cb_xstrdup("");
		p->base = cb_xstrdup(t);
	} else {
		*sl = 0;
		p->parent = cb_xstrdup(sl == t ? "/" : t);
		p->base = cb_xstrdup(sl + 1);
	}
}

/* Open dir (O_PATH) inside the container's root, or on the host. */
static int open_dir(int rootfd, const char *rel, cb_error_t *err)
{
	int fd = rootfd >= 0 ? cb_open_in_root(rootfd, *rel ? rel : ".", O_PATH | O_DIRECTORY, 0)
			     : open(*rel ? rel : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "'%s'", *rel ? rel : ".");
	return fd;
}

static char *joined(const cp_path_t *p)
{
	if (!strcmp(p->base, "."))
		return cb_xstrdup(*p->parent ? p->parent : ".");
	if (!*p->parent)
		return cb_xstrdup(p->base);
	return cb_asprintf("%s%s%s", p->parent, cb_str_has_suffix(p->parent, "/") ? "" : "/",
			   p->base);
}

/* The source: its parent dir fd and whether it is a directory. With
 * follow, a final symlink is resolved (inside the root for a container)
 * and *name becomes that file's /proc/self/fd path. */
typedef struct cp_src {
	int dirfd;     /* parent, O_PATH */
	int pinned;    /* -L: the resolved file, O_PATH; -1 */
	char name[64]; /* what to open at dirfd (base or /proc/self/fd/N) */
	const char *base;
	bool is_dir;
} cp_src_t;

static void cp_src_release(cp_src_t *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->pinned >= 0)
		close(s->pinned);
}

static int open_src(int rootfd, const cp_path_t *p, bool follow, cp_src_t *s, cb_error_t *err)
{
	s->dirfd = s->pinned = -1;
	s->base = p->base;
	if ((s->dirfd = open_dir(rootfd, p->parent, err)) < 0)
		return -1;
	snprintf(s->name, sizeof s->name, "%s", p->base);
	_cleanup_free_ char *full = joined(p);
	struct stat sb;
	if (follow || !strcmp(p->base, ".")) {
		s->pinned = rootfd >= 0 ? cb_open_in_root(rootfd, full, O_PATH, 0)
					: open(full, O_PATH | O_CLOEXEC);
		if (s->pinned < 0)
			return cb_error_errno(err, "'%s'", full);
		snprintf(s->name, sizeof s->name, "/proc/self/fd/%d", s->pinned);
	}
	if (fstatat(s->pinned >= 0 ? AT_FDCWD : s->dirfd, s->name, &sb,
		    s->pinned >= 0 ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
		return cb_error_errno(err, "'%s'", full);
	if (s->pinned >= 0) {
		/* the producer opens the magic link from AT_FDCWD */
		close(s->dirfd);
		s->dirfd = -1;
	}
	s->is_dir = S_ISDIR(sb.st_mode);
	if ((p->slash || p->dot) && !s->is_dir)
		return cb_error_fail(err, ENOTDIR, "'%s': not a directory", full);
	return 0;
}

/* Where the tar goes: a directory fd and the name of the top entry ("" =
 * the source directory's contents). */
static int open_dest(int rootfd, const cp_path_t *d, const cp_src_t *s, bool src_dot,
		     int *target, char **entry, cb_error_t *err)
{
	_cleanup_free_ char *full = joined(d);
	int fd = rootfd >= 0 ? cb_open_in_root(rootfd, full, O_PATH, 0)
			     : open(full, O_PATH | O_CLOEXEC);
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		*target = fd;
		*entry = cb_xstrdup(s->is_dir && src_dot ? "" : s->base);
		return 0;
	}
	if (fd >= 0) {
		close(fd);
		if (s->is_dir)
			return cb_error_fail(err, EISDIR, "cannot copy a directory to a file: '%s'",
					     full);
		if (d->slash || d->dot)
			return cb_error_fail(err, ENOTDIR, "'%s': not a directory", full);
	} else if (errno != ENOENT) {
		return cb_error_errno(err, "'%s'", full);
	} else if (!s->is_dir && d->slash) {
		return cb_error_fail(err, ENOENT, "the destination directory '%s' must exist",
				     full);
	}
	if ((*target = open_dir(rootfd, d->parent, err)) < 0)
		return -1;
	*entry = cb_xstrdup(d->base);
	return 0;
}

/* Source -> tar -> layer_apply into target/ (runtime/tartree.c). */
static int transfer(const cp_src_t *s, const char *entry, bool follow, int target,
		    unsigned apply_flags, cb_error_t *err)
{
	/* a pinned source is named by its /proc/self/fd path */
	int dirfd = s->pinned >= 0 ? AT_FDCWD : s->dirfd;
	rt_tartree_opts_t o = {false, follow};
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/self/fd/%d", target);
	return rt_tartree_copy(dirfd, s->name, entry, &o, dir, apply_flags, err);
}

/* The container's root as this process sees it: a running one's through
 * its PID 1 (volumes included), a stopped one's overlay mounted here. */
static int ctr_root(store_t *st, rt_ctr_t *c, cb_error_t *err)
{
	/* a PID 1 that is exiting has no root to open any more but is not a
	 * zombie yet: look again until it is running or recorded as exited */
	for (int tries = 0;; tries++) {
		if (rt_ctr_refresh(st, c, err) < 0)
			return -1;
		if (c->status != RT_CTR_RUNNING)
			break;
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/root", (int)c->pid);
		int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		/* the pid could have been reused between the check and the open */
		if (fd >= 0 && ctr_pid_alive(c->pid, c->pid_start))
			return fd;
		if (fd >= 0)
			close(fd);
		if (tries == 500)
			return cb_error_fail(err, ESRCH, "container '%s' is neither running nor "
							 "stopped", c->name);
		usleep(10 * 1000);
	}
	/* stopped: its monitor unmounted the overlay, we mount it ourselves */
	if (ctr_mount_stopped(st, c, err) < 0)
		return -1;
	_cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
	int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", rootfs);
	return fd;
}

int rt_ctr_copy_in(store_t *st, rt_ctr_t *c, const char *src, const char *dst,
		   const rt_cp_opts_t *o, cb_error_t *err)
{
	_cleanup_close_ int root = ctr_root(st, c, err);
	if (root < 0)
		return -1;
	cp_path_t d;
	cp_path_parse(dst, true, &d);
	int rc;
	if (!strcmp(src, "-")) {
		/* a tar on stdin: DEST must be a directory */
		_cleanup_free_ char *full = joined(&d);
		_cleanup_close_ int fd = cb_open_in_root(root, full, O_PATH | O_DIRECTORY, 0);
		char dir[64];
		snprintf(dir, sizeof dir, "/proc/self/fd/%d", fd);
		rc = fd < 0 ? cb_error_errno(err, "destination '%s' must be a directory", dst)
			    : layer_apply(0, dir, 0, NULL, NULL, err);
		cp_path_release(&d);
		return rc;
	}
	cp_path_t s;
	cp_path_parse(src, false, &s);
	cp_src_t so;
	int target = -1;
	_cleanup_free_ char *entry = NULL;
	rc = open_src(-1, &s, o->follow, &so, err);
	if (rc == 0)
		rc = open_dest(root, &d, &so, s.dot, &target, &entry, err);
	/* owners are kept with or without -a: dockerd 20.10 (the oracle)
	 * applies the uid:gid its client's tar carries either way */
	if (rc == 0)
		rc = transfer(&so, entry, o->follow, target, 0, err);
	if (target >= 0)
		close(target);
	cp_src_release(&so);
	cp_path_release(&s);
	cp_path_release(&d);
	return rc < 0 ? cb_error_wrap(err, "copy '%s' to container '%s'", src, c->name) : 0;
}

int rt_ctr_copy_out(store_t *st, rt_ctr_t *c, const char *src, const char *dst,
		    const rt_cp_opts_t *o, cb_error_t *err)
{
	_cleanup_close_ int root = ctr_root(st, c, err);
	if (root < 0)
		return -1;
	cp_path_t s;
	cp_path_parse(src, true, &s);
	cp_src_t so;
	int rc = open_src(root, &s, o->follow, &so, err);
	if (rc == 0 && !strcmp(dst, "-")) {
		/* the tar itself, as docker prints it: ids kept, SRC's name on top */
		rt_tartree_opts_t to = {false, o->follow};
		rc = rt_tartree_write(so.pinned >= 0 ? AT_FDCWD : so.dirfd, so.name,
				      so.is_dir && s.dot ? "" : so.base, &to, 1, err);
	} else if (rc == 0) {
		cp_path_t d;
		cp_path_parse(dst, false, &d);
		int target = -1;
		_cleanup_free_ char *entry = NULL;
		rc = open_dest(-1, &d, &so, s.dot, &target, &entry, err);
		/* files land owned by the caller, as docker's client extracts them */
		if (rc == 0)
			rc = transfer(&so, entry, o->follow, target, LAYER_APPLY_NO_CHOWN,
				      err);
		if (target >= 0)
			close(target);
		cp_path_release(&d);
	}
	cp_src_release(&so);
	cp_path_release(&s);
	return rc < 0 ? cb_error_wrap(err, "copy '%s' from container '%s'", src, c->name) : 0;
}
