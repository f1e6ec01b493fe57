/*
 * store/layer_internal.h - pieces shared by the layer_*.c files. Not a
 * public API: only store/layer*.c and the layer tests include it.
 *
 * lsink: the output half of a snapshot. Bytes of the plain tar go in (by
 * lsink_write, or lsink_reserve + lsink_commit to read file data straight
 * into the staging buffer); they are hashed (diff_id), compressed (parallel
 * gzip blocks / zstd workers / nothing) and streamed into a blob writer.
 * lsink_finish commits the blob and fills a layer_result_t.
 */
#ifndef CB_STORE_LAYER_INTERNAL_H
#define CB_STORE_LAYER_INTERNAL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

#include "store/layer.h"

typedef struct lsink lsink_t;

lsink_t *lsink_new(store_t *st, const layer_opts_t *opts, cb_error_t *err);
int lsink_write(lsink_t *s, const void *data, size_t len, cb_error_t *err);
/* Room for at least one byte at the returned pointer; *avail says how much. */
void *lsink_reserve(lsink_t *s, size_t *avail);
int lsink_commit(lsink_t *s, size_t n, cb_error_t *err);
/* Flush, commit the blob, fill res (entries = 0: the caller sets it), free s
 * in every case. */
int lsink_finish(lsink_t *s, layer_result_t *res, cb_error_t *err);
/* Drop everything (temp file removed). NULL-safe. */
void lsink_abort(lsink_t *s);

/* Number of compression threads for opts (>= 2 unless opts says 1). */
int layer_threads(const layer_opts_t *opts);

/* Whether a gzip block of these bytes is stored rather than deflated: its
 * byte entropy is above 7.99 bits (random or already-compressed data). */
bool layer_block_incompressible(const unsigned char *in, size_t len);

/* ---- the tar format of entries (layer_tar.c) ---- */

/* A tar block's padding: 512 zero bytes. */
extern const char layer_tar_zeros[512];

typedef struct xattr_kv {
	const char *name;
	const char *val;
	size_t len;
} xattr_kv_t;

/* One entry's header fields (borrowed). */
typedef struct hdr {
	const char *name; /* full tar name */
	size_t name_len;
	char type;
	unsigned mode;
	uint64_t uid, gid, size;
	int64_t mtime;
	const char *link;
	unsigned major, minor;
	const xattr_kv_t *xattrs;
	size_t nxattrs;
} hdr_t;

/* The header block(s) of h, after an extended header when some field does
 * not fit ustar, appended to out. pax is scratch space. */
void layer_tar_header(cb_buf_t *out, cb_buf_t *pax, const hdr_t *h);

/* Overlay xattrs seen by layer_read_xattrs. */
enum { OVL_OPAQUE = 1, OVL_REDIRECT = 2, OVL_METACOPY = 4 };
/* Read the xattrs of abs (by fd when >= 0, else not following symlinks),
 * sorted, overlay ones filtered; *ovl (may be NULL) gets OVL_* bits for the
 * overlay ones seen. The names and values live in names and vals (scratch,
 * reset here): *out (free it; NULL when none) is valid until their next use. */
int layer_read_xattrs(cb_buf_t *names, cb_buf_t *vals, int fd, const char *abs, xattr_kv_t **out,
		      size_t *n, int *ovl, cb_error_t *err);

/* Append to out the tar header of a char (block: block) device entry with
 * that device number, as snapshots write it. Linux's numbers (12-bit
 * majors, 20-bit minors) all fit ustar's fields; this lets tests build the
 * larger ones other systems may put in a layer. */
void layer_tar_dev_header(cb_buf_t *out, const char *name, bool block, unsigned major,
			  unsigned minor);

/* Overlay's whiteout: a char device 0/0. */
#define LAYER_IS_WHITEOUT(st) (S_ISCHR((st)->st_mode) && (st)->st_rdev == 0)
#define LAYER_WH_PREFIX ".wh."
#define LAYER_WH_OPAQUE ".wh..wh..opq"

#endif
