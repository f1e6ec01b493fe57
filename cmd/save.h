/*
 * cmd/save.h - the image archive writer of `cbuild save`, shared with
 * `cbuild push` (oci-archive: and docker-archive: destinations).
 *
 * The archive holds an OCI image layout (oci-layout, index.json,
 * blobs/sha256/...) and the classic manifest.json + repositories, so that
 * `docker load`, `skopeo ... docker-archive:` and `oci-archive:` all read
 * the same file.
 */
#ifndef CB_CMD_SAVE_H
#define CB_CMD_SAVE_H

#include "common/error.h"
#include "store/store.h"

/* Write the local image `image` (a name or ID, as `save` takes) to the tar
 * `file`, created beside it and renamed when complete. as_ref (may be
 * NULL) is the reference recorded in RepoTags, repositories and
 * io.containerd.image.name instead of the image's own name; oci_tag (may
 * be NULL) the org.opencontainers.image.ref.name instead of its tag.
 * digest_out (may be NULL) receives the manifest digest (caller frees). */
int cmd_save_archive(store_t *st, const char *file, const char *image, const char *as_ref,
		     const char *oci_tag, char **digest_out, cb_error_t *err);

#endif
