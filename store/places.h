/*
 * store/places.h - the places under the store root that other modules keep
 * their records in.
 *
 * The store owns its layout: a module that needs a directory or a file under
 * the root (a container's state, a named volume, a network's record, a cache
 * mount, a build cache's side records) asks here instead of joining a path
 * onto store_root(). What a place holds is its owner's business; where it
 * lives is the store's, so a layout change is made in store/places.c alone.
 *
 * Every function returns an absolute path the caller frees. Nothing is
 * created: the caller makes the directory (cb_mkdir_p) or writes the file
 * (through store_place_tmp() and a rename, as every store write does).
 * Names are used as given: the caller has already checked them (a volume's
 * or a network's name, a container ID); they must not contain '/'.
 */
#ifndef CB_STORE_PLACES_H
#define CB_STORE_PLACES_H

#include "store/store.h"

/* ROOT/tmp: where a file is written before its rename into place (the same
 * filesystem as every place below). */
char *store_place_tmp(const store_t *st);
/* ROOT/tmp/NAME: a mkstemp template (NAME ending in XXXXXX), say. */
char *store_place_tmp_file(const store_t *st, const char *name);

/* ROOT/containers: one directory per container, named by its ID. */
char *store_place_containers(const store_t *st);
/* ROOT/containers/ID, or ROOT/containers/ID/FILE when file is not NULL. */
char *store_place_container(const store_t *st, const char *id, const char *file);

/* ROOT/volumes/NAME: a named volume's directory. */
char *store_place_volume(const store_t *st, const char *name);

/* ROOT/networks: the user-defined networks' records. */
char *store_place_networks(const store_t *st);
/* ROOT/networks/NAME.json */
char *store_place_network(const store_t *st, const char *name);

/* ROOT/compose/PROJECT, or ROOT/compose/PROJECT/FILE. */
char *store_place_compose(const store_t *st, const char *project, const char *file);

/* ROOT/mounts/cache/ID: the directory of RUN --mount=type=cache,id=NAME
 * (ID: the first 32 hex digits of NAME's sha256, so any NAME is a safe
 * file name). */
char *store_place_cache_mount(const store_t *st, const char *name);

/* The next two are named by a hash ("sha256:HEX") of what the caller
 * identifies them by; ID is the first 32 digits of HEX (128 bits: no
 * collisions, shorter names). */
/* ROOT/cache/ctxsum-ID.txt and ROOT/cache/explain-ID.json: the builder's
 * context checksums and step explanations. A prune that drops the build
 * cache drops them too. */
char *store_place_ctxsum(const store_t *st, const char *digest);
char *store_place_explain(const store_t *st, const char *digest);

/* ROOT/registry-sources.json: which repositories pulled blobs came from. */
char *store_place_registry_sources(const store_t *st);

#endif
