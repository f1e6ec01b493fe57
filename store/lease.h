/*
 * store/lease.h - leases: what a running process uses, so that gc keeps it.
 *
 * Modelled on containerd's leases: a lease is a record naming objects that
 * are in use though nothing else references them yet (a build's blobs
 * before its tag, a pull's layers before its manifest, the base image of a
 * build whose cache entry a prune drops). gc treats every live lease as a
 * root. containerd's daemon expires a lease its client forgot (24 h by
 * default); with no daemon, the owner's flock tells at once and for sure
 * whether the owner lives, so there is no expiry to tune.
 *
 * One lease per store handle, begun lazily by the first add (or the first
 * use of the handle's tmp/ directory): leases/ID, a file that the owner
 * holds flock(LOCK_EX) on for its whole life. A lease whose flock can be
 * taken has no owner left (the process died: the kernel dropped its lock)
 * and is stale: store_open removes it with the owner's tmp/L-ID/ directory.
 * The file lists the covered objects, one "KIND HEX" line each (b: a blob,
 * kept with whatever it reaches when it is a manifest or index; l: an
 * unpacked layer by diff_id).
 *
 * The protocol that makes it race-free: an add is written under the leases
 * lock (leases/lock), and gc holds that lock from reading the leases to the
 * end of its sweep. So an object is added before it is made visible (a
 * blob before its rename into blobs/) or added and then checked to exist
 * (store_has_blob, layer_unpack's "already there").
 *
 * Forked children share the flock (same open file), so a lease lives while
 * any of them does; only the process that began it ends it.
 */
#ifndef CB_STORE_LEASE_H
#define CB_STORE_LEASE_H

#include <stdbool.h>

#include "common/error.h"
#include "store/store.h"

enum { LEASE_BLOB = 'b', LEASE_LAYER = 'l' };

typedef struct store_lease store_lease_t;

/* Begin the handle's lease (no-op when it has one). */
int store_lease_begin(store_t *st, cb_error_t *err);

/* Add a digest ("sha256:HEX") of the given kind to the handle's lease,
 * beginning it when needed. Call it before the object becomes visible. */
int store_lease_add(const store_t *st, int kind, const char *digest, cb_error_t *err);

/* The same, and then whether the object exists, both under the leases lock:
 * true means it exists and gc will keep it while this process lives. */
bool store_lease_has_blob(const store_t *st, const char *digest);
bool store_lease_has_layer(const store_t *st, const char *diff_id);

/* End the handle's lease: its tmp/ directory and file go. Called by
 * store_free; a forked child's store_free leaves its parent's lease. */
void store_lease_end(store_t *st);

/* tmp/L-ID: the handle's own directory for files being written (the lease
 * begun first, so that a dead writer's files are recognised). Falls back to
 * tmp/ when no lease can be made. Caller frees. */
char *store_tmp_dir(const store_t *st);

/* The handle's lease ID, or NULL when it has none. */
const char *store_lease_id(const store_t *st);

/* ---- for gc and fsck ---- */

/* The leases lock (flock on leases/lock): gc holds it from reading the
 * leases to the end of its sweep. Recursive per handle. */
int store_leases_lock(const store_t *st, cb_error_t *err);
void store_leases_unlock(const store_t *st);

/* Whether lease ID has a living owner. */
bool store_lease_alive(const store_t *st, const char *id);

/* Call fn for each object of every live lease except the handle's own
 * (call with the leases lock held). Stale leases are removed on the way,
 * their tmp/ directories with them (with salvage, see store_tmp_clean). */
typedef void (*store_lease_fn)(void *ctx, int kind, const char *digest);
int store_leases_each(const store_t *st, store_lease_fn fn, void *ctx, cb_error_t *err);

/* Remove what dead writers left in tmp/: the tmp/L-ID/ directories of
 * leases without an owner (their complete, checked blobs "ok-HEX" are
 * re-hashed and moved into blobs/, so an interrupted pull resumes), stale
 * lease files, and other entries unchanged for a minute (old stores).
 * Returns how many entries were removed (or could not be). */
unsigned store_tmp_clean(const store_t *st, unsigned *left);

#endif
