/*
 * store/fsck.h - check a store, and repair what is broken.
 *
 * What is checked, in order: tmp/ garbage (what a dead writer left that
 * store_open could not remove), stale leases, every blob re-hashed, every
 * reference of index.json (manifest, config and layer blobs present and
 * parsing), build cache entries (their manifest present), containers' images,
 * and every unpacked layer (a directory, complete: each entry of its layer
 * tar present; a layer whose blob is gone cannot be checked and is said so).
 *
 * Each problem is reported as one line through the callback ("corrupt blob
 * 'sha256:...'"). With repair, what is broken is removed (a corrupt blob, a
 * reference to a broken image, a cache entry naming a missing manifest, an
 * incomplete unpacked layer, garbage) and the line says so. Repairs that
 * leave blobs unreferenced do not collect them: run prune.
 */
#ifndef CB_STORE_FSCK_H
#define CB_STORE_FSCK_H

#include <stdbool.h>

#include "common/error.h"
#include "store/store.h"

typedef struct store_fsck_opts {
	bool repair;
	/* A missing layer blob that a registry holds (a remote build-cache
	 * hit's lazy layer) is not a problem; cmd/ knows which (may be NULL). */
	bool (*remote_blob)(void *ctx, store_t *st, const char *digest);
	void *remote_ctx;
	void (*report)(void *ctx, const char *line);
	void *report_ctx;
} store_fsck_opts_t;

typedef struct store_fsck_result {
	unsigned problems; /* things found wrong */
	unsigned repaired; /* of those, removed or fixed */
	unsigned blobs, refs, layers, cache_entries; /* what was checked */
} store_fsck_result_t;

/* -1 only when the check itself cannot run (err set); problems found are
 * counted in res, not errors. */
int store_fsck(store_t *st, const store_fsck_opts_t *o, store_fsck_result_t *res,
	       cb_error_t *err);

/* Check that the unpacked layer dir holds every entry of the layer blob
 * (compressed or not). *missing receives how many are not there and *total
 * how many entries the tar has. */
int store_fsck_layer(store_t *st, const char *blob_digest, const char *dir, unsigned *missing,
		     unsigned *total, cb_error_t *err);

#endif
