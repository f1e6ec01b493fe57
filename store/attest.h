/*
 * store/attest.h - attestations stored as BuildKit stores them
 * (docs/attestations/attestation-storage.md): the image becomes an OCI
 * index listing
 *
 *   - the image manifest, with its platform;
 *   - an attestation manifest: platform unknown/unknown, annotated
 *     vnd.docker.reference.type = attestation-manifest and
 *     vnd.docker.reference.digest = the image manifest's digest, whose
 *     layers are in-toto statements (application/vnd.in-toto+json, each
 *     annotated in-toto.io/predicate-type).
 *
 * Readers that know nothing of attestations pick the image by platform
 * (image_resolve leaves the unknown/unknown entry out), so run, FROM,
 * save and `docker pull` are unchanged. Everything written is a function
 * of its inputs: the same image and statements give the same index digest.
 */
#ifndef CB_STORE_ATTEST_H
#define CB_STORE_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "store/digest.h"
#include "store/mediatype.h"
#include "store/store.h"

#define ATTEST_REF_TYPE "vnd.docker.reference.type"
#define ATTEST_REF_DIGEST "vnd.docker.reference.digest"
#define ATTEST_PREDICATE_TYPE "in-toto.io/predicate-type"
#define ATTEST_MANIFEST_TYPE "attestation-manifest"
#define PREDICATE_SPDX "https://spdx.dev/Document"
#define PREDICATE_SLSA1 "https://slsa.dev/provenance/v1"

typedef struct store_attestation {
	const char *predicate_type; /* PREDICATE_SPDX, PREDICATE_SLSA1 */
	const char *statement;      /* the in-toto statement, JSON */
	size_t len;
} store_attestation_t;

/* Write the statements' blobs and the attestation manifest of the image
 * manifest `subject`; *desc gets its index entry (a new reference): the
 * unknown/unknown platform and the two reference annotations. A
 * multi-platform build puts one of these per platform in its index. */
int store_attest_manifest(store_t *st, const char *subject, const store_attestation_t *a,
			  size_t n, json_t **desc, cb_error_t *err);

/* Write the statements' blobs, the attestation manifest and the index for
 * the image manifest `manifest_digest` (in the store). index_digest gets
 * the index's digest, *index_size its size. */
int store_attest_index(store_t *st, const char *manifest_digest, const store_attestation_t *a,
		       size_t n, char index_digest[DIGEST_STR_LEN + 1], int64_t *index_size,
		       cb_error_t *err);

/* The statement of predicate type `predicate_type` attached to `digest`
 * (an index written as above, or a pulled one in the same shape) for its
 * image of `platform` (NULL: this machine's). *out is a new string.
 * ENOENT when digest is no index, or has no attestation of that type for
 * that image. */
int store_attest_read(store_t *st, const char *digest, const char *platform,
		      const char *predicate_type, char **out, size_t *len, cb_error_t *err);

#endif
