/*
 * runtime/tartree.h - one file or directory tree as a tar stream (what
 * `cp` sends between the host and a container, and `cp CTR:SRC -` prints).
 *
 * The tree is read through directory fds only: every component below the
 * starting directory is opened with O_NOFOLLOW, so a symlink inside a
 * container's tree is sent as a symlink and never followed to the host.
 * Regular files, directories, symlinks and fifos are sent; sockets and
 * device nodes are skipped (docker cp refuses devices too); hard links
 * become separate files.
 */
#ifndef CB_RUNTIME_TARTREE_H
#define CB_RUNTIME_TARTREE_H

#include <stdbool.h>

#include "common/error.h"

typedef struct rt_tartree_opts {
	bool zero_ids;   /* owner 0:0 for every entry (cp without -a) */
	bool follow;     /* follow a symlink at name itself (cp -L) */
} rt_tartree_opts_t;

/* Write dirfd/name as a tar on out. Its entries are called entry_name,
 * entry_name/a, ...; with entry_name "" (a directory's contents only, for
 * SRC/.) the directory itself is not sent and its children are "a", ....
 * The stream is closed (end-of-archive written) but out is not. */
int rt_tartree_write(int dirfd, const char *name, const char *entry_name,
		     const rt_tartree_opts_t *o, int out, cb_error_t *err);

/* Copy dirfd/name (named as in rt_tartree_write) into the directory dest:
 * the tar is written on a thread into a pipe that the store's extractor
 * (layer_apply with apply_flags) reads, so nothing lands outside dest and
 * the tree is never held whole in memory or on disk. */
int rt_tartree_copy(int dirfd, const char *name, const char *entry_name,
		    const rt_tartree_opts_t *o, const char *dest, unsigned apply_flags,
		    cb_error_t *err);

#endif
