/*
 * registry/push_stream.h - the gzip variant of a plain layer (store/
 * variant.h) streamed into its upload as it is made (issue 29).
 *
 * push makes a committed layer's gzip on a thread while the image's other
 * blobs upload; here that gzip's bytes also go, as they come, into an upload
 * session of their own: POST blobs/uploads/, one PATCH whose body is the
 * stream (Transfer-Encoding: chunked, as docker's own push sends a layer;
 * docker-registry and zot take it), then PUT ?digest= once the gzip ends and
 * its digest is known. The same bytes are the local variant blob, written
 * and recorded as store_variant_gzip does (the next push reuses it; the
 * manifest is the same bytes as when the variant was made first).
 *
 * A registry that refuses the streamed PATCH as unsupported (405, 501,
 * 411, 415, 416, 400 SIZE_INVALID), or a session that cannot go on without replaying the stream
 * (a 401 in the middle), falls back: the variant is still made whole, and
 * the caller uploads it as any blob. Any other error (4xx/5xx answer, the
 * connection dropped, a digest the registry refuses) fails the push; the
 * local variant is whole or not recorded either way.
 *
 * Memory: a ring of RING_CAP bytes between the gzip and the upload (the
 * gzip waits while it is full), never a whole layer.
 */
#ifndef CB_REGISTRY_PUSH_STREAM_H
#define CB_REGISTRY_PUSH_STREAM_H

#include <stdbool.h>

#include "common/error.h"
#include "registry/registry.h"
#include "store/store.h"
#include "store/variant.h"

typedef struct push_stream push_stream_t;

/* Starts making the gzip variants of the plain layers diff_ids (NULL-
 * terminated; copied), one after the other on a thread, each streamed to
 * repository `path` of `domain` on a client of its own (opened here; when
 * it cannot be, they are only made). Never fails: errors come from
 * push_stream_finish. */
push_stream_t *push_stream_start(store_t *st, char *const *diff_ids, const char *domain,
				 const char *path, const reg_opts_t *o);

/* Waits for the thread. 0: every variant made (out[i], one per diff_id)
 * and uploaded[i] tells whether the registry has it (a PUT it accepted);
 * -1 with err: a gzip failed (its error) or an upload failed. Frees ps. */
int push_stream_finish(push_stream_t *ps, store_variant_t *out, bool *uploaded,
		       cb_error_t *err);

#endif
