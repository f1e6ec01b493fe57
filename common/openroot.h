/*
 * common/openroot.h - open a path inside a directory tree as if that
 * directory were the root (what openat2's RESOLVE_IN_ROOT does): `..` stops
 * at the root, absolute symlinks resolve from the root, nothing the path
 * names can lead outside it.
 *
 * openat2 is used where the kernel has it. Where it does not (kernels
 * before 5.6, seccomp profiles that answer ENOSYS for syscalls they do not
 * know, valgrind), the same resolution is done here one component at a
 * time with O_NOFOLLOW and readlinkat, so that COPY and layer extraction
 * work the same everywhere and stay contained.
 */
#ifndef CB_COMMON_OPENROOT_H
#define CB_COMMON_OPENROOT_H

#include <stdbool.h>

enum {
	CB_ROOT_NO_XDEV = 1 << 0, /* refuse to cross a mount point (EXDEV) */
};

/* openat(rootfd, rel, flags) resolved inside rootfd. rel is relative ("" or
 * "." is the root itself); flags are open(2) flags (O_CLOEXEC is added; with
 * O_NOFOLLOW a final symlink is not followed). Returns the fd, or -1 with
 * errno set as openat2 would (ENOENT, ENOTDIR, ELOOP, EXDEV, ...). */
int cb_open_in_root(int rootfd, const char *rel, int flags, unsigned root_flags);

/* The component walk alone (tests compare it with openat2). */
int cb_open_in_root_walk(int rootfd, const char *rel, int flags, unsigned root_flags);

#endif
