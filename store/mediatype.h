/*
 * store/mediatype.h - the media types of the OCI image spec and of Docker's
 * image manifest v2 schema 2, defined once for every module (the store
 * writes them, registry/ negotiates them, builder/ and cmd/ compare them).
 * Predicates over them are image.h's (oci_media_type_is_index) and
 * registry/wire.h's.
 */
#ifndef CB_STORE_MEDIATYPE_H
#define CB_STORE_MEDIATYPE_H

/* OCI image spec */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_LAYER_NONDIST_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

/* Docker image manifest v2, schema 2 */
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* attestations (in-toto statements in an image index) */
#define MT_IN_TOTO "application/vnd.in-toto+json"

#endif
