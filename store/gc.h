/*
 * store/gc.h - garbage collection of the store.
 *
 * Roots: every manifest named in index.json (tagged or not; an index's
 * children too) and every kept reference (store/keep.h: build cache
 * entries, containers, lazy layers); gc reads no other module's files.
 * Everything a root reaches is kept: its manifest, config and layer blobs, and the
 * unpacked copies of its layers (layers/sha256/DIFFID). The rest goes.
 *
 * Every live lease (store/lease.h) is a root too: what a running build,
 * pull, commit or import made or uses is kept until it names it or exits.
 * Blobs and unpacked layers changed in the last `grace_seconds` are kept
 * even when unreferenced (0: none; leases make a grace unnecessary).
 *
 * Unpacked layers leave by rename into tmp/ before they are deleted, so a
 * kill mid-delete leaves no half layer under its name.
 */
#ifndef CB_STORE_GC_H
#define CB_STORE_GC_H

#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

typedef struct store_gc_stats {
	uint64_t blobs_removed;
	uint64_t layers_removed;
	uint64_t bytes_freed;
	uint64_t records_removed; /* variant records (store/variant.h) */
} store_gc_stats_t;

/* With drop_cache, build cache entries are removed first (prune). */
int store_gc(store_t *st, int grace_seconds, bool drop_cache, store_gc_stats_t *stats,
	     cb_error_t *err);

/* The manifests that build cache entries name (each once; caller frees),
 * for `system df`. */
char **store_cache_manifests(store_t *st);

#endif
