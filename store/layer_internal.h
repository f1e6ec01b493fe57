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
