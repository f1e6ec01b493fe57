/*
 * common/fs.h - small file, fd and path utilities (libc only).
 *
 * All opens use O_CLOEXEC. Functions follow the error convention of
 * common/error.h. Paths given are borrowed; returned strings are owned by
 * the caller (free()).
 */
#ifndef CB_COMMON_FS_H
#define CB_COMMON_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* mkdir -p with mode for the directories it creates. */
int cb_mkdir_p(const char *path, mode_t mode, cb_error_t *err);

/* An exclusive flock on path (created with mode when missing), waited for:
 * the open fd, closed to unlock; -1 with err set, errno kept (EACCES and
 * EROFS tell a caller that may go on without it). */
int cb_lock_path(const char *path, mode_t mode, cb_error_t *err);

/* rm -rf; a missing path is success. Does not cross mount points: a mount
 * found inside is an error rather than a deleted host directory. */
int cb_rm_rf(const char *path, cb_error_t *err);

/* Read a whole file of at most max bytes into a NUL-terminated buffer. */
int cb_read_file(const char *path, size_t max, char **data, size_t *len, cb_error_t *err);

/* Write data to path atomically: temp file in the same directory (or in
 * tmpdir when non-NULL, which must be on the same file system), fsync,
 * rename, fsync of the directory. */
int cb_write_file_atomic(const char *path, const char *tmpdir, const void *data, size_t len,
			 mode_t mode, cb_error_t *err);
/* The same, with the fsyncs only when durable: without, a crash may leave
 * the old file, the new one, or (new name) an empty or cut one; never a
 * mix of old and new. For records whose loss costs nothing but a redo. */
int cb_write_file_replace(const char *path, const char *tmpdir, const void *data, size_t len,
			  mode_t mode, bool durable, cb_error_t *err);

/* write()/read() the whole buffer, retrying on EINTR and short counts. */
int cb_write_all(int fd, const void *data, size_t len, cb_error_t *err);
/* Returns bytes read (< len only at EOF) or -1. */
ssize_t cb_read_all(int fd, void *data, size_t len, cb_error_t *err);

/* fsync the directory containing path (or path itself when it is one). */
int cb_fsync_dir(const char *dir, cb_error_t *err);

/* "a" + "b" -> "a/b" without doubled slashes. */
char *cb_path_join(const char *a, const char *b);

/* Lexically clean a path as Go's path.Clean does ("a/../b/./c/" -> "b/c";
 * "/.." -> "/"; "" -> "."). */
char *cb_path_clean(const char *path);

bool cb_path_exists(const char *path);
bool cb_is_dir(const char *path);
/* A directory with no entries but . and .. (false when it cannot be read). */
bool cb_dir_is_empty(const char *path);

/* True in the host's (initial) user namespace, whose uid_map maps every id
 * onto itself; also true when /proc cannot tell. */
bool cb_in_initial_userns(void);

/* The file system `path` is on: "ext4", "xfs", "btrfs", "overlay", "tmpfs",
 * ...; "other" or "unknown" (statfs failed). */
const char *cb_fs_type_name(const char *path);

/* Make a unique temporary directory "DIR/PREFIXXXXXXX"; returns its path. */
char *cb_mkdtemp_in(const char *dir, const char *prefix, cb_error_t *err);

/* Set O_CLOEXEC on every fd >= lowfd (used before exec of helpers). */
void cb_close_fds_from(int lowfd);

/* Sparse writes: the first run of buf[0..size), which sits at file offset
 * off, made of whole 4 KiB blocks (of the file) that are all zero (*zero =
 * true: skip it, leaving a hole) or that are not (write them in one go).
 * Layer unpacking and ADD's archive extraction both cut their data with
 * it, so that a file of zeros costs no disk either way. */
size_t cb_zero_run(const void *buf, size_t size, uint64_t off, bool *zero);

/* Sparse reads. cb_fd_has_holes: fewer blocks allocated than the size
 * needs (a file worth looking at with SEEK_HOLE). cb_read_holes: read(2)
 * from the current position, except that in a hole it fills at most n
 * zeros (up to the hole's end) without reading and moves the position
 * past them, setting *hole; a file system without SEEK_DATA reads. So a
 * 10 GiB file of one hole costs memsets, not 10 GiB of reads. */
bool cb_fd_has_holes(int fd);
ssize_t cb_read_holes(int fd, void *buf, size_t n, bool *hole);
/* Copy in's data to out (both at offset 0, out empty) keeping in's holes
 * as holes: only the extents SEEK_DATA finds are read and written, then
 * out gets in's size. Checks cancellation (common/cancel.h) per extent and
 * per MiB. */
int cb_copy_sparse(int in, int out, cb_error_t *err);

#endif
