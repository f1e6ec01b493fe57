/*
 * store/keep.h - references that keep images alive: gc's only roots.
 *
 * As git's refs are the only roots of its gc, a store's are: the tags and
 * untagged entries of index.json (store.h: the OCI layout's own), every
 * live lease (lease.h: what a running process uses), and the records here,
 * which other modules add for what they keep: a build cache entry (step key
 * -> the step's image manifest), a container (ID -> its image), a lazy layer
 * (a remote blob a stored image names). gc reads these and nothing else; it
 * knows no other module's files.
 *
 * A record is refs/KIND/NAME: the digest ("sha256:HEX") on the first line,
 * then an optional note for people (a cache entry's step text). Its owner
 * adds it before the thing that needs the image becomes visible and removes
 * it after that thing is gone, so gc never drops what is in use.
 *
 * Stores made before these records (cache/KEYHEX.json with "manifest",
 * containers/ID/config.json with "image") are converted once, at open
 * (store_keep_migrate).
 */
#ifndef CB_STORE_KEEP_H
#define CB_STORE_KEEP_H

#include <stdbool.h>

#include "common/error.h"
#include "store/store.h"

typedef enum store_keep_kind {
	STORE_KEEP_CACHE,     /* a build cache entry: step key hex -> manifest */
	STORE_KEEP_CONTAINER, /* a container: ID -> its image's manifest (or index) */
	/* a lazy layer: a name of the owner's -> a blob. No module adds one
	 * today: a remote cache hit's absent layers are kept by the manifest
	 * its cache entry names; this is for a blob kept on its own */
	STORE_KEEP_LAZY,
	STORE_KEEP_KINDS
} store_keep_kind_t;

/* The kind's name ("cache", "container", "lazy"). */
const char *store_keep_kind_name(store_keep_kind_t kind);

/* Point KIND/NAME at digest (replacing an older target), with an optional
 * note (NULL: none). durable: fsynced before it returns (a container's);
 * without, a crash may lose or cut the record, which then reads as missing
 * (a cache entry's: a lost one is a miss). NAME: 1-255 bytes, no '/', not
 * starting with '.'; EINVAL otherwise, or for a digest that is not valid. */
int store_keep_set(store_t *st, store_keep_kind_t kind, const char *name, const char *digest,
		   const char *note, bool durable, cb_error_t *err);

/* The digest KIND/NAME points at. ENOENT when there is no such record (or
 * it was cut by a crash). */
int store_keep_get(const store_t *st, store_keep_kind_t kind, const char *name, digest_t *digest,
		   cb_error_t *err);

/* Remove KIND/NAME; a missing record is success. */
int store_keep_remove(const store_t *st, store_keep_kind_t kind, const char *name,
		      cb_error_t *err);

/* Call fn for each record of kind, in no particular order; digest is NULL
 * for a record that cannot be read or holds no valid digest. fn may remove
 * the record it is given. */
typedef void (*store_keep_fn)(void *ctx, store_keep_kind_t kind, const char *name,
			      const digest_t *digest);
int store_keep_each(const store_t *st, store_keep_kind_t kind, store_keep_fn fn, void *ctx,
		    cb_error_t *err);

/* Remove every record of kind (prune's "drop the build cache"). */
int store_keep_drop(const store_t *st, store_keep_kind_t kind, cb_error_t *err);

/* For store_open: make refs/ and convert an older store's records, once
 * (refs/v1 marks it done; a kill midway converts again at the next open). */
int store_keep_migrate(store_t *st, cb_error_t *err);

#endif
