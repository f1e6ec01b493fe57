/*
 * runtime/usage.h - what `system df` shows: images, containers, volumes
 * and the build cache, each with how many there are, how many are in use,
 * the bytes they take and the bytes a prune would give back.
 *
 * Images: unique image IDs; in use when a container (running or not) is
 * made from one; SIZE counts each layer once (its unpacked size), and
 * RECLAIMABLE is what only unused images hold. Containers: their upper
 * directories; RECLAIMABLE is the stopped ones'. Volumes: named volumes;
 * in use when a container names one. Build cache: the entries' layers
 * that no image holds.
 */
#ifndef CB_RUNTIME_USAGE_H
#define CB_RUNTIME_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

typedef struct rt_usage_row {
	size_t total, active;
	uint64_t size, reclaimable;
} rt_usage_row_t;

typedef struct rt_usage {
	rt_usage_row_t images, containers, volumes, cache;
} rt_usage_t;

int rt_usage(store_t *st, rt_usage_t *u, cb_error_t *err);

/* ---- system prune ---- */

/* Remove every container that is not running: *removed gets their IDs,
 * *bytes what their upper directories held. */
int rt_prune_containers(store_t *st, char ***removed, uint64_t *bytes, cb_error_t *err);

/* Remove every user-defined network no container is on (never bridge,
 * host or none): *removed gets their names. */
int rt_prune_networks(store_t *st, char ***removed, cb_error_t *err);

#endif
