/*
 * store/layer.h - layers: directories <-> OCI layer tar streams.
 *
 * Writing: a tree (a whole directory, an overlayfs upper directory, or the
 * difference of two trees) becomes one deterministic tar stream in a single
 * streaming pass:
 *
 *     walk (sorted) -> tar (ustar + PAX where needed) -> sha256 (diff_id)
 *          -> compress (parallel gzip | zstd workers | none) -> sha256 (digest)
 *          -> tmp/ file renamed into blobs/sha256/
 *
 * Memory stays flat whatever the layer's size. The same tree gives the same
 * bytes everywhere: entries sorted by name (byte order), no atime/ctime,
 * no uname/gname, numeric uid/gid, mtimes clamped to source_date_epoch when
 * set, hard links inside the layer written as tar hard links, and the gzip
 * and zstd output independent of the number of threads.
 *
 * Reading: a layer blob is unpacked into layers/sha256/DIFFID_HEX/ in
 * overlay lower-dir format (whiteouts as 0/0 char devices, opaque dirs with
 * the trusted.overlay.opaque=y xattr) or applied onto a plain directory with
 * OCI whiteout semantics. Extraction never writes outside its target: paths
 * are resolved inside the target (symlinks included), `..` and absolute
 * names are contained, hard links may only point inside, and device nodes
 * are skipped with a warning when not root. The blob digest and diff_id are
 * checked while reading; on a mismatch nothing is kept.
 *
 * Every function follows common/error.h. Results are plain structs filled
 * by the callee; returned strings belong to the caller.
 */
#ifndef CB_STORE_LAYER_H
#define CB_STORE_LAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "common/error.h"
#include "store/digest.h"
#include "store/mediatype.h"
#include "store/store.h"

/* the layer media types it writes (store/mediatype.h) */
#define LAYER_MT_TAR MT_OCI_LAYER
#define LAYER_MT_GZIP MT_OCI_LAYER_GZIP
#define LAYER_MT_ZSTD MT_OCI_LAYER_ZSTD
#define LAYER_MT_DOCKER_GZIP MT_DOCKER_LAYER_GZIP

typedef enum layer_compress {
	LAYER_COMPRESS_GZIP = 0, /* the default */
	LAYER_COMPRESS_NONE,
	LAYER_COMPRESS_ZSTD,
} layer_compress_t;

typedef struct layer_inode {
	dev_t dev;
	ino_t ino;
} layer_inode_t;

/* gzip's default level. zlib's own default, 6, spends most of its time in
 * longest_match on text-like layers: on a 129 MB layer of binaries, docs
 * and hex text, 6 took 4.7 CPU s for 58.8 MB, 4 1.9 s for 59.9 MB (the
 * size skopeo's and buildah's pgzip make), 1 1.4 s for 63.4 MB (issue 29).
 * A build's blobs and a plain layer's gzip variant at push use the same
 * level, so a layer gets the same gzip bytes whichever way it leaves. */
#define LAYER_GZIP_LEVEL 4

typedef struct layer_opts {
	layer_compress_t compression;
	int level;                 /* 0: default (gzip LAYER_GZIP_LEVEL, zstd 3) */
	int64_t source_date_epoch; /* clamp mtimes to this; -1: unset */
	int threads;               /* compression threads; 0: all CPUs, at least 2 */
	/* Only hash the tar (res->diff_id, tar_size, entries): no blob is
	 * written, no compression runs; res->digest is the diff_id and
	 * res->size the tar's size. What a build step needs at once; its blob
	 * is written later from the same tree (builder/committer.c). */
	bool hash_only;
	/* Commit the blob into this batch (store_blob_batch_add: complete,
	 * checked, in tmp/ until the batch is published) instead of on its
	 * own (an fsync of the blob and one of blobs/ each). NULL: on its own. */
	store_blob_batch_t *batch;
	/* The tar's diff_id when a first pass (hash_only) computed it: the
	 * second pass, which compresses, does not hash the tar again (res
	 * gets this one). NULL: hashed. */
	const char *diff_id;
	/* layer_write_diff: also changed is a non-directory whose ctime in
	 * new_tree is after changed_after (a link made to it, or made and
	 * removed, a chmod or chown to the same values), since overlayfs copies
	 * such a file up and the overlay snapshotter's layer holds it; not when
	 * it has fewer links than in old_tree (a name of it was removed), nor
	 * the inodes (of new_tree) in ctime_skip, which the step's sandbox
	 * moved aside and back. tv_sec 0: not used. */
	struct timespec changed_after;
	const layer_inode_t *ctime_skip;
	size_t n_ctime_skip;
	/* Entries owned by this process's uid (gid) are written as root's: a
	 * non-root build without a user namespace (RUN under proot), whose
	 * files are all its own where a build as root has root's. */
	bool own_as_root;
	/* Also hands every byte of a compressed blob (gzip, zstd), as it is
	 * written, to tee (push
	 * streams a gzip variant into its upload as it is made: registry/
	 * push_stream.c). NULL: none. */
	void (*tee)(void *ctx, const void *data, size_t len);
	void *tee_ctx;
} layer_opts_t;

#define LAYER_OPTS_INIT {LAYER_COMPRESS_GZIP, 0, -1, 0, false, NULL, NULL, {0, 0}, NULL, 0, false, NULL, NULL}

/* "gzip", "zstd", "none" (also "uncompressed") -> enum. EINVAL otherwise. */
int layer_compress_parse(const char *name, layer_compress_t *out, cb_error_t *err);
/* The OCI media type of a layer with that compression (static string). */
const char *layer_media_type(layer_compress_t c);

typedef struct layer_result {
	char digest[DIGEST_STR_LEN + 1];  /* sha256 of the blob as stored */
	char diff_id[DIGEST_STR_LEN + 1]; /* sha256 of the uncompressed tar */
	int64_t size;                     /* blob (compressed) size in bytes */
	int64_t tar_size;                 /* uncompressed tar size */
	uint64_t entries;                 /* tar entries written (whiteouts included) */
	const char *media_type;           /* static: LAYER_MT_* */
} layer_result_t;

/* ---- writing ---- */

/* The whole directory `dir` as a layer (import, ADD onto scratch). The
 * directory itself is the root: its entries are written as "NAME",
 * "NAME/CHILD", ... without a leading "./". Overlay whiteouts found in
 * dir are written as ordinary char devices (dir is not an upper). */
int layer_write_dir(store_t *st, const char *dir, const layer_opts_t *opts,
		    layer_result_t *res, cb_error_t *err);

/* An overlayfs upper directory as a layer. lowers: the lower directories
 * (top-most first), NULL-terminated; may be NULL for none. A whiteout
 * (char device 0/0) becomes ".wh.NAME" only when NAME exists in the merged
 * lowers. An opaque directory (trusted.overlay.opaque or user.overlay.opaque
 * = "y") becomes explicit ".wh." entries for every lower entry it hides
 * (recursively where a lower directory is replaced by an upper one).
 * overlay.* xattrs are never written; redirect/metacopy xattrs are refused
 * (mount without redirect_dir and metacopy). */
int layer_write_upper(store_t *st, const char *upper, const char *const *lowers,
		      const layer_opts_t *opts, layer_result_t *res, cb_error_t *err);

/* The difference old_tree -> new_tree as a layer (the copy-based
 * snapshotter): entries added or changed in new_tree (type, content, mode,
 * owner, xattrs, link target, device number; a regular file is taken as
 * unchanged when size and mtime (ns) are equal, as Docker does), and
 * ".wh.NAME" for entries removed. old_tree may be NULL (= empty). */
int layer_write_diff(store_t *st, const char *old_tree, const char *new_tree,
		     const layer_opts_t *opts, layer_result_t *res, cb_error_t *err);

/* An existing tar stream read from fd (plain, gzip, zstd, bzip2 or xz:
 * detected) as a layer, recompressed as opts asks. diff_id is the sha256 of
 * the uncompressed tar. Streams; fd is read to EOF and not closed. */
int layer_write_tar(store_t *st, int fd, const layer_opts_t *opts, layer_result_t *res,
		    cb_error_t *err);

/* ---- writing entry by entry (a tree and its layer made at once) ---- */

/* A layer stream takes the entries of an overlay upper directory one by
 * one, from a caller that is making that upper directory at the same time
 * (COPY writing the layer while it copies, reading each file once). The
 * caller gives the entries in layer_write_upper's order (a depth-first walk,
 * names sorted by bytes) and must leave the tree exactly as described: then
 * the blob is byte for byte the one layer_write_upper would write for it.
 * Entries needing whiteouts or opaque directories cannot be given: use
 * layer_write_upper for such trees.
 *
 *     ls = layer_stream_new(st, opts, err);
 *     layer_stream_add_path(ls, upper, "usr", &sb, err);   existing entries
 *     layer_stream_add(ls, "usr/app/", &sb, NULL, err);    described ones
 *     layer_stream_data(ls, in, out, sb.st_size, err);     a file's bytes
 *     layer_stream_finish(ls, &res, err);                  or _abort(ls)
 */
typedef struct layer_stream layer_stream_t;

layer_stream_t *layer_stream_new(store_t *st, const layer_opts_t *opts, cb_error_t *err);

/* Write the entry upper/rel as it is on disk (stat, xattrs, link target,
 * content), as layer_write_upper would. *sb (may be NULL) gets its stat.
 * An overlay whiteout, opaque, redirect or metacopy marker is refused with
 * ENOTSUP (the caller falls back to layer_write_upper). */
int layer_stream_add_path(layer_stream_t *ls, const char *upper, const char *rel,
			  struct stat *sb, cb_error_t *err);

/* Write an entry named rel (no trailing slash) from sb's type, mode & 07777,
 * st_uid, st_gid, st_mtim (seconds; clamped like every entry), st_size
 * (regular files: their data must follow through layer_stream_data) and
 * st_rdev, with no xattrs; link is a symlink's target. Sockets and 0/0 char
 * devices (overlay whiteouts of nothing) write nothing, as in a walk of a
 * fresh upper directory. */
int layer_stream_add(layer_stream_t *ls, const char *rel, const struct stat *sb,
		     const char *link, cb_error_t *err);

/* The data of the regular file just added: exactly size bytes read from in,
 * each chunk also written to out when out >= 0 (one read feeds the copy and
 * the layer). If in ends early both get zeros up to size; bytes past size
 * are not read. */
int layer_stream_data(layer_stream_t *ls, int in, int out, uint64_t size, cb_error_t *err);

/* End the tar, commit the blob, fill res; frees ls in every case. */
int layer_stream_finish(layer_stream_t *ls, layer_result_t *res, cb_error_t *err);
/* Drop everything written (no blob). NULL-safe. */
void layer_stream_abort(layer_stream_t *ls);

/* ---- reading ---- */

/* Flags of layer_apply*. */
enum {
	/* Overlay lower-dir format: whiteouts become 0/0 char devices and
	 * opaque markers the overlay.opaque xattr (instead of deleting). */
	LAYER_APPLY_OVERLAY = 1 << 0,
	/* With LAYER_APPLY_OVERLAY: user.overlay.opaque (userxattr mounts)
	 * instead of trusted.overlay.opaque. */
	LAYER_APPLY_USERXATTR = 1 << 1,
	/* Keep the extracting user as owner (rootless without a userns map);
	 * also the default when chown is not permitted. */
	LAYER_APPLY_NO_CHOWN = 1 << 2,
	/* Refuse (EINVAL) an entry named absolute or climbing above the
	 * target with "..", instead of containing it: an image archive
	 * (load), which Docker refuses as a breakout. */
	LAYER_APPLY_REFUSE_ESCAPES = 1 << 3,
	/* No whiteout semantics: ".wh.NAME" is a file like any other (a tar
	 * that is not a layer). */
	LAYER_APPLY_NO_WHITEOUTS = 1 << 4,
};

/* A tar that is not a layer (an image archive, a build context; compressed
 * or not) extracted into dir, an existing directory, with layer_apply's
 * containment: ".wh." names are plain files, the extracting user owns
 * everything, absolute and climbing names are refused (EINVAL), symlinks
 * resolve inside dir. fd is read to EOF and not closed. */
int layer_extract_plain(int fd, const char *dir, cb_error_t *err);

/* layer_extract_at's options (ADD of a local archive). */
typedef struct layer_extract_opts {
	unsigned flags; /* LAYER_APPLY_* */
	bool chown;     /* every entry owned by uid:gid (ADD --chown) */
	uid_t uid;
	gid_t gid;
	uint64_t max_bytes; /* the entries' sizes together at most this, else
			     * EFBIG "archive expands to more than N bytes at
			     * 'NAME'" (0: no limit): decompression bombs */
} layer_extract_opts_t;

/* A tar that is not a layer, compressed with anything libarchive reads,
 * extracted into the directory dirfd (borrowed) with layer_apply's rules:
 * names and symlinks resolve inside dirfd, holes stay holes. Cancellation
 * (common/cancel.h) stops it between entries and data blocks (EINTR).
 * dirfd may hold partial results on failure. */
int layer_extract_at(int fd, int dirfd, const layer_extract_opts_t *opts, cb_error_t *err);

/* *is_tar: whether fd holds a tar (compressed with anything libarchive
 * reads) with at least one entry. fd is read from offset 0 and left there. */
int layer_probe_tar(int fd, bool *is_tar, cb_error_t *err);

/* Apply a layer (compressed or not: detected) read from fd onto target_dir
 * (an existing directory) with OCI whiteout semantics: ".wh.NAME" deletes
 * NAME, ".wh..wh..opq" empties its directory except for entries of this
 * layer. expected_digest / expected_diff_id (may be NULL) are checked on the
 * compressed and uncompressed bytes; fd is read to EOF for that. On a digest
 * mismatch the error is EBADMSG (target_dir may hold partial results: use
 * layer_unpack for all-or-nothing). fd is not closed. */
int layer_apply(int fd, const char *target_dir, unsigned flags, const char *expected_digest,
		const char *expected_diff_id, cb_error_t *err);

/* Same, opening path. */
int layer_apply_path(const char *path, const char *target_dir, unsigned flags,
		     cb_error_t *err);

/* Make sure layers/sha256/DIFFID_HEX/ holds the layer unpacked in overlay
 * lower-dir format (opaque dirs marked with trusted.overlay.opaque as root,
 * user.overlay.opaque otherwise: mount those with userxattr); extract the blob (verifying blob_digest and diff_id while
 * reading) into tmp/ first and rename it into place, so that concurrent
 * unpacks of the same layer are safe and a failure keeps nothing.
 * media_type may be NULL (compression is detected anyway). *path (caller
 * frees) is the unpacked directory. */
int layer_unpack(store_t *st, const char *blob_digest, const char *diff_id,
		 const char *media_type, char **path, cb_error_t *err);

/* Path of layers/sha256/DIFFID_HEX (caller frees); no check that it exists. */
char *layer_unpacked_path(const store_t *st, const char *diff_id);
bool layer_is_unpacked(const store_t *st, const char *diff_id);

/* Record dir (already in overlay lower-dir format, e.g. a build step's upper
 * directory just snapshotted as diff_id) as the unpacked copy of diff_id by
 * renaming it to layers/sha256/DIFFID_HEX. dir must be on the store's file
 * system and is consumed: when the layer is already unpacked, dir is
 * removed instead. *path (may be NULL; caller frees) receives the layer's
 * path. */
int layer_adopt_dir(store_t *st, const char *dir, const char *diff_id, char **path,
		    cb_error_t *err);

#endif
