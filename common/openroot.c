/*
 * common/openroot.c - see openroot.h. The walk keeps one directory fd and
 * the names that led to it from the root; a symlink's target is spliced
 * into the path still to go (from the root when it is absolute), `..` walks
 * the names again minus the last one.
 */
#include "common/openroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

/* Linux's limit on symlinks followed in one lookup. */
#define MAX_SYMLINKS 40

/* openat2 answers EAGAIN for a path with `..` when any rename or mount
 * anywhere on the machine happened during the lookup (it cannot tell that
 * `..` stayed inside): retry a few times, then let the walk answer, which
 * does not depend on what the rest of the machine does. */
#define OPENAT2_TRIES 8

static int openat2_state; /* 0 unknown, 1 works, -1 ENOSYS */

int cb_open_in_root(int rootfd, const char *rel, int flags, unsigned root_flags)
{
	if (!*rel)
		rel = ".";
	if (openat2_state >= 0) {
		struct open_how how = {
			.flags = (uint64_t)(flags | O_CLOEXEC),
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
				   ((root_flags & CB_ROOT_NO_XDEV) ? RESOLVE_NO_XDEV : 0),
		};
		for (int i = 0; i < OPENAT2_TRIES; i++) {
			long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
			if (fd >= 0 || (errno != ENOSYS && errno != EAGAIN)) {
				openat2_state = 1;
				return (int)fd;
			}
			if (errno == ENOSYS) {
				openat2_state = -1;
				break;
			}
		}
	}
	return cb_open_in_root_walk(rootfd, rel, flags, root_flags);
}

/* The walk's state: the directory reached (fd and the names that led
 * there from the root, all real directories), and the path still to go. */
typedef struct walk {
	int rootfd, dirfd;
	dev_t root_dev;
	char **names; /* components from the root to dirfd */
	size_t depth;
	int links;
} walk_t;

static void walk_release(walk_t *w)
{
	if (w->dirfd >= 0 && w->dirfd != w->rootfd)
		close(w->dirfd);
	for (size_t i = 0; i < w->depth; i++)
		free(w->names[i]);
	free(w->names);
}

/* Back to the root (an absolute symlink target). */
static void walk_to_root(walk_t *w)
{
	if (w->dirfd != w->rootfd)
		close(w->dirfd);
	w->dirfd = w->rootfd;
	for (size_t i = 0; i < w->depth; i++)
		free(w->names[i]);
	w->depth = 0;
}

/* `..`: the parent of the current directory, or the root at the root. The
 * names are walked again from the root rather than opening "..", which a
 * concurrent rename could have moved outside. */
static int walk_up(walk_t *w)
{
	if (w->depth == 0)
		return 0;
	free(w->names[--w->depth]);
	int fd = w->rootfd;
	for (size_t i = 0; i < w->depth; i++) {
		int next = openat(fd, w->names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != w->rootfd)
			close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	if (w->dirfd != w->rootfd)
		close(w->dirfd);
	w->dirfd = fd;
	return 0;
}

static void walk_enter(walk_t *w, const char *name, int fd)
{
	if (w->dirfd != w->rootfd)
		close(w->dirfd);
	w->dirfd = fd;
	w->names = cb_xreallocarray(w->names, w->depth + 1, sizeof(*w->names));
	w->names[w->depth++] = cb_xstrdup(name);
}

/* A symlink met on the way: its target, followed by what came after it
 * (after_slash: the text after the link's name and its slash, or NULL when
 * the link's name ended the path), is the new path still to go. */
static char *walk_link(walk_t *w, int fd, const char *after_slash)
{
	if (++w->links > MAX_SYMLINKS) {
		errno = ELOOP;
		return NULL;
	}
	char target[4096];
	ssize_t n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return NULL;
	if (n == 0 || (size_t)n == sizeof(target)) {
		errno = n == 0 ? ENOENT : ENAMETOOLONG;
		return NULL;
	}
	target[n] = '\0';
	if (target[0] == '/')
		walk_to_root(w);
	return after_slash ? cb_asprintf("%s/%s", target, after_slash) : cb_xstrdup(target);
}

/* Split the next component off *rest (in place); NULL when none is left. */
static char *next_component(char **rest)
{
	char *p = *rest;
	while (*p == '/')
		p++;
	if (!*p)
		return NULL;
	char *slash = strchr(p, '/');
	if (slash) {
		*slash = '\0';
		*rest = slash + 1;
	} else {
		*rest = p + strlen(p);
	}
	return p;
}

static bool only_slashes(const char *s)
{
	while (*s == '/')
		s++;
	return !*s;
}

int cb_open_in_root_walk(int rootfd, const char *rel, int flags, unsigned root_flags)
{
	struct stat st;
	if (fstat(rootfd, &st) < 0)
		return -1;
	walk_t w = {.rootfd = rootfd, .dirfd = rootfd, .root_dev = st.st_dev};
	char *path = cb_xstrdup(*rel ? rel : ".");
	char *rest = path;
	int result = -1;
	for (;;) {
		char *name = next_component(&rest);
		if (!name) {
			/* the path ended on a directory (or was "."): open it */
			result = openat(w.dirfd, ".", flags | O_CLOEXEC);
			break;
		}
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			if (walk_up(&w) < 0)
				break;
			continue;
		}
		bool had_slash = rest > name + strlen(name);
		bool last = only_slashes(rest);
		int fd = openat(w.dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			break;
		}
		if ((root_flags & CB_ROOT_NO_XDEV) && st.st_dev != w.root_dev) {
			close(fd);
			errno = EXDEV;
			break;
		}
		/* a link is followed unless it ends the path under O_NOFOLLOW
		 * (a trailing slash makes it followed, as the kernel does) */
		if (S_ISLNK(st.st_mode) && (!last || had_slash || !(flags & O_NOFOLLOW))) {
			char *next = walk_link(&w, fd, had_slash ? rest : NULL);
			close(fd);
			if (!next)
				break;
			free(path);
			path = rest = next;
			continue;
		}
		if (!last) {
			if (!S_ISDIR(st.st_mode)) {
				close(fd);
				errno = ENOTDIR;
				break;
			}
			walk_enter(&w, name, fd);
			continue;
		}
		close(fd);
		/* O_NOFOLLOW: a name turned into a symlink since the check fails
		 * to open (or, with O_PATH, opens the link itself) */
		result = openat(w.dirfd, name,
				flags | O_NOFOLLOW | O_CLOEXEC | (had_slash ? O_DIRECTORY : 0));
		break;
	}
	int saved = errno;
	free(path);
	walk_release(&w);
	errno = saved;
	return result;
}
