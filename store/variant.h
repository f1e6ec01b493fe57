/*
 * store/variant.h - the gzip variant of a layer kept uncompressed.
 *
 * `commit` writes its layer as a plain tar (application/vnd.oci.image.
 * layer.v1.tar): the snapshot only hashes it, so commit returns in the time
 * the snapshot takes, not the time gzip takes (docker and buildah keep their
 * diffs uncompressed too and compress at push). So does a build for every
 * layer it makes (builder/steps.h, build_t.keep_plain): it gzips nothing,
 * as BuildKit's and buildah's do not, unless its image must be gzip when it
 * ends (an index, --cache-to). Such a layer is marked here
 * ("gzip when it leaves"); push turns it into a gzip blob, made once with the
 * deterministic parallel gzip of layer_sink.c (and, to a registry, streamed
 * into the upload as it is made: registry/push_stream.h), and remembers it here
 * (diff_id -> gzip digest and size), so a second push sends the same bytes
 * without compressing again.
 *
 * A layer made uncompressed on purpose (build --compression none) has no mark
 * and is pushed as it is.
 *
 * Records live in ROOT/variants/sha256/DIFFID_HEX, one line:
 * "gzip" (marked) or "gzip sha256:HEX SIZE" (made). They are hints: written
 * without fsync, after the blob they name is durable; a lost record costs a
 * recompression that gives the same bytes, and a record naming a blob that
 * gc removed is made again. gc keeps a variant's blob while its diff_id's
 * blob or unpacked layer is kept (store_variant_each), and drops the records
 * of layers whose plain blob is gone (store_variant_prune).
 */
#ifndef CB_STORE_VARIANT_H
#define CB_STORE_VARIANT_H

#include <stdint.h>

#include "common/error.h"
#include "store/digest.h"
#include "store/layer.h"
#include "store/store.h"

/* The gzip level of a variant: a build's (why: store/layer.h), so a layer
 * built as gzip and one kept plain then pushed leave with the same bytes.
 * Part of the variant's bytes: a store whose variants were made at another
 * level keeps its records. */
#define STORE_VARIANT_GZIP_LEVEL LAYER_GZIP_LEVEL

typedef struct store_variant {
	char digest[DIGEST_STR_LEN + 1]; /* "" while only marked */
	int64_t size;
} store_variant_t;

/* Mark diff_id (the digest of an uncompressed layer blob in the store) as
 * one to gzip when pushed. Keeps a record already made. */
int store_variant_mark(store_t *st, const char *diff_id, cb_error_t *err);

/* 1 with *out filled when diff_id is marked (out->digest "" if its gzip
 * blob was never made or is gone), 0 when not marked. */
int store_variant_get(store_t *st, const char *diff_id, store_variant_t *out,
		      cb_error_t *err);

/* The gzip blob of the uncompressed layer blob diff_id: the recorded one
 * when its blob is still there, else made now (its diff_id checked while
 * compressing: EBADMSG when the plain blob does not hash to it) and
 * recorded. Marks diff_id as a side effect. */
int store_variant_gzip(store_t *st, const char *diff_id, store_variant_t *out,
		       cb_error_t *err);

/* The same, and when the blob is made now every byte of it goes to tee as
 * it is written (a recorded blob is returned with no call: the caller
 * compares what it got with out). The record is written once the blob is
 * whole and durable, so a failed or stopped stream leaves either none or
 * one naming a whole blob. */
int store_variant_gzip_tee(store_t *st, const char *diff_id,
			   void (*tee)(void *ctx, const void *data, size_t len), void *tee_ctx,
			   store_variant_t *out, cb_error_t *err);

/* Calls fn(ctx, diff_id, gzip_digest) for every made record (gc: keep
 * the gzip blob when diff_id is kept). Unreadable records are skipped. */
void store_variant_each(store_t *st,
			void (*fn)(void *ctx, const char *diff_id, const char *gzip_digest),
			void *ctx);

/* Removes the layer records whose plain blob (diff_id) is gone and the
 * manifest records whose local manifest blob is gone (gc, under the store
 * lock, after its sweep). A record is written after the blob it is about,
 * so a missing blob means gc took it, not that it is yet to come. Returns
 * the number of records removed. */
uint64_t store_variant_prune(store_t *st);

/* A manifest with marked layers leaves with other bytes (their gzip
 * variants), so a registry knows the image by another digest: push records
 * it (ROOT/variants/manifests/sha256/LOCAL_HEX, one line, a hint as the
 * layer records are) and inspect's RepoDigests shows it, as docker shows
 * the digest it pushed. */
int store_variant_set_manifest(store_t *st, const char *local, const char *pushed,
			       cb_error_t *err);

/* 1 with pushed set (DIGEST_STR_LEN + 1 bytes) when local has a record,
 * else 0. */
int store_variant_manifest(store_t *st, const char *local, char *pushed);

#endif
