/*
 * store/index.h - writing image indexes (OCI image index or Docker manifest
 * list): a multi-platform build's result, `cbuild manifest`'s lists. They
 * are edited through the index model (oci_index_t, store/image.h), which
 * writes back what it read and did not change; reading them (children,
 * resolution for a platform) is in store/image.h too.
 */
#ifndef CB_STORE_INDEX_H
#define CB_STORE_INDEX_H

#include <stdbool.h>

#include "common/error.h"
#include "store/image.h"
#include "store/store.h"

/* The index blob `digest` (EINVAL when it is not an index). */
int image_index_load(store_t *st, const char *digest, oci_index_t **out, cb_error_t *err);

/* {"architecture", "os"[, "variant"]} of p. */
json_t *image_index_platform_json(const oci_platform_t *p);

/* The descriptor of an image manifest in the store, with the platform its
 * config names: what `manifest add` and a multi-platform build list. */
int image_index_entry(store_t *st, const char *manifest_digest, oci_descriptor_t *out,
		      cb_error_t *err);

/* Add an entry (the index takes its contents, *entry is zeroed), replacing
 * one of the same digest in its place. */
void image_index_put_entry(oci_index_t *index, oci_descriptor_t *entry);

/* Store the index as a blob; *digest_out (caller frees) and its size. */
int image_index_write(store_t *st, oci_index_t *index, char **digest_out, int64_t *size_out,
		      cb_error_t *err);

/* MT_DOCKER_LIST or MT_OCI_INDEX, as the document says. */
const char *image_index_media_type(const oci_index_t *index);

#endif
