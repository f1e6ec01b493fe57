/*
 * store/find.h - image identity: finding an image by what a user typed, and
 * the relations between the images the store keeps.
 *
 * An image is an entry of index.json: a manifest (or an index) with a name
 * (the org.opencontainers.image.ref.name annotation), or without one. An
 * entry without a name is legal OCI and is how the store keeps an untagged
 * image, as docker keeps its `<none>` images: gc treats it as a root like a
 * tag, until rmi or prune drops it. The image ID is the config digest.
 *
 * An image is "built on" another (docker's parent) when its history and
 * layers extend the other's: FROM and commit make exactly that. The store
 * does not record parents, it sees them, so an image pulled on top of one
 * already here counts as its child too (it only keeps a record alive).
 */
#ifndef CB_STORE_FIND_H
#define CB_STORE_FIND_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "store/image.h"
#include "store/store.h"

/* Find an image by what a user typed, in docker's order:
 *   - a full ID, "sha256:HEX" or 64 bare hex digits: that image only;
 *   - a reference: `full` is the caller's normalization of `text` (NULL
 *     when it does not parse as one), a tag or "name@sha256:..." (any
 *     manifest of that digest here will do);
 *   - else a hex prefix of an ID ("sha256:" optional, any length): unique
 *     among the images here, tagged or not. The index entry's manifest (or
 *     index) digest also matches, as does an image of an index.
 * Sets *manifest_digest (caller frees) and, when the text named a tag,
 * *name (the full name; else NULL; name may be a NULL pointer). ENOENT
 * "no such image: 'x'" when nothing matches, EINVAL when a prefix matches
 * several images. */
int store_image_find(store_t *st, const char *text, const char *full, char **manifest_digest,
		     char **name, cb_error_t *err);

/* True when `text` has the form of an image ID or ID prefix: hex, with or
 * without "sha256:". */
bool store_image_id_like(const char *text);

/* How many other images in index.json (by ID) are built on img. */
int store_image_children(store_t *st, const image_t *img, size_t *n, cb_error_t *err);

/* The nearest image in index.json that img is built on, when it is kept
 * only by an untagged entry: its manifest digest (caller frees), else
 * NULL. For pruning parents after their last child is removed. */
char *store_image_untagged_parent(store_t *st, const image_t *img, cb_error_t *err);

/* Every full name (tag or name@digest) in index.json for the image ID
 * config_digest, an index's name counting for each of its images. A
 * NULL-terminated vector (never NULL on success; caller frees). */
char **store_image_names(store_t *st, const char *config_digest, cb_error_t *err);

/* Drop every untagged entry for the image ID config_digest. */
int store_image_forget(store_t *st, const char *config_digest, cb_error_t *err);

#endif
