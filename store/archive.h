/*
 * store/archive.h - image archives: docker-archive and oci-archive, written
 * (save) and read (load).
 *
 * Written: what modern `docker save` writes, an OCI image layout
 * (oci-layout, index.json, blobs/sha256/...) plus the classic manifest.json
 * and repositories files pointing into blobs/, so that `docker load`,
 * `podman load`, `skopeo copy docker-archive:` and OCI tools all read it.
 * Blobs stream from the store into the tar; a file appears only when
 * complete (written beside it, then renamed).
 *
 * Read: what `docker save`, `podman save`, `skopeo copy docker-archive:` or
 * `oci-archive:` and `cbuild save` write. The archive is unpacked into the
 * handle's tmp/ directory by the store's one hardened extractor (layer_apply:
 * every entry resolved inside the target, no entry can leave it), then
 *   - an OCI layout inside (index.json + blobs/) is copied blob by blob,
 *     every digest verified, so manifests keep their digests; of an index,
 *     every manifest the archive holds is copied (other platforms' images,
 *     attestations) and the index is what the name holds, provided this
 *     machine's image is among them;
 *   - else the classic manifest.json: the config is kept byte for byte (the
 *     image ID does not change) and each layer tar becomes a layer blob.
 *
 * The store knows no reference syntax (registry/ does): the writer is given
 * its names made, the reader hands back the names as the archive wrote them.
 */
#ifndef CB_STORE_ARCHIVE_H
#define CB_STORE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "store/store.h"

/* One image of an archive being written. Every name may be NULL (none). */
typedef struct store_archive_image {
	const char *manifest_digest; /* an image manifest (an index's child) */
	const char *index_digest;    /* the index the name holds, or NULL: when
				      * every manifest it lists is in the store
				      * (a build's, with its attestations), the
				      * layout names the index, blobs and all */
	const char *full_name;       /* index.json's io.containerd.image.name */
	const char *ref_name;        /* index.json's org.opencontainers.image.ref.name */
	const char *repo_tag;        /* manifest.json's RepoTags entry ("app:1") */
	const char *repo, *tag;      /* the repositories file's entry */
} store_archive_image_t;

/* Write an archive of n images to file (NULL: to stdout). Blobs missing
 * from the store are fetched first (store_blob_ensure). */
int store_archive_write(store_t *st, const char *file, const store_archive_image_t *images,
			size_t n, cb_error_t *err);

/* Called for each image loaded, once its blobs are in the store: name is
 * the name the archive gives it (an OCI layout's annotation, which may be a
 * bare tag, with strict false; a manifest.json RepoTags entry with strict
 * true), NULL for none. A return <0 (err set) stops the load. */
typedef int (*store_archive_loaded_fn)(void *ctx, const char *name, bool strict,
				       const char *manifest_digest, cb_error_t *err);

/* Load the archive file ("-": stdin) into the store. */
int store_archive_load(store_t *st, const char *file, store_archive_loaded_fn fn, void *ctx,
		       cb_error_t *err);

#endif
