/*
 * store/store.h - the content-addressed store on disk.
 *
 * The root is an OCI image layout (oci-layout, index.json, blobs/sha256/)
 * plus cbuild's own folders:
 *
 *   layers/sha256/DIFFID/   a layer unpacked (overlay lower dir format)
 *   refs/KIND/NAME          references that keep images alive (keep.h)
 *   leases/                 what running processes use (lease.h)
 *   cache/, containers/ID/, volumes/NAME/, networks/NAME.json, ...
 *                           other modules' records, in places handed
 *                           out by places.h
 *   tmp/                    files being written; emptied at open
 *   lock                    flock() file guarding index.json and cache/
 *
 * Lifecycle: store_open() creates the layout when missing and returns a
 * handle; store_free() closes it. A handle may be used from several threads
 * for blob reads and writes; index updates take the file lock.
 *
 * Blob writes go to tmp/, are hashed while written, fsynced, and renamed to
 * blobs/sha256/HEX only when the digest matches the expected one (if any).
 * A process killed at any point leaves only garbage in tmp/.
 */
#ifndef CB_STORE_STORE_H
#define CB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "store/digest.h"

typedef struct store store_t;

/* The default root: $CBUILD_ROOT, else /var/lib/cbuild for root, else
 * $XDG_DATA_HOME/cbuild or ~/.local/share/cbuild. Caller frees. */
char *store_default_root(void);

/* Open (creating when needed) the store at root. */
int store_open(const char *root, store_t **out, cb_error_t *err);
void store_free(store_t *st);

const char *store_root(const store_t *st);

/* Absolute path of ROOT/SUB (caller frees). */
char *store_path(const store_t *st, const char *sub);

/* A fresh directory under tmp/ for scratch work (caller removes it). */
char *store_mkdtemp(store_t *st, const char *prefix, cb_error_t *err);

/* The exclusive store lock (flock on ROOT/lock), recursive per handle. Held
 * only around short index/cache updates, never across a build step. */
int store_lock(store_t *st, cb_error_t *err);
void store_unlock(store_t *st);
/* A forked child that will take the lock while its parent (or a sibling)
 * may: give it a lock of its own. A flock belongs to the open file, which
 * fork shares, so without this the two would never exclude each other. */
int store_reopen_lock(store_t *st, cb_error_t *err);

/* ---- blobs ---- */

/* Path of blobs/sha256/HEX for a valid digest (caller frees). */
char *store_blob_path(const store_t *st, const char *digest);
bool store_has_blob(const store_t *st, const char *digest);
/* Size of a stored blob, or -1 with err set. */
int64_t store_blob_size(const store_t *st, const char *digest, cb_error_t *err);

typedef struct store_blob_writer store_blob_writer_t;

/* Start writing a blob into tmp/. */
store_blob_writer_t *store_blob_writer_new(store_t *st, cb_error_t *err);
/* Append bytes (hashed as they go). Every full 8 MiB is handed to the
 * disk's writeback at once, so the fsync at commit has little left to do
 * and the disk works while the producer goes on. */
int store_blob_writer_write(store_blob_writer_t *w, const void *data, size_t len, cb_error_t *err);
uint64_t store_blob_writer_size(const store_blob_writer_t *w);
/* Finish: fsync, check the digest against `expected` (NULL: no check),
 * rename into blobs/. digest_out (may be NULL) receives "sha256:HEX".
 * On a mismatch nothing is kept and err says both digests. The writer is
 * freed in every case. */
int store_blob_writer_commit(store_blob_writer_t *w, const char *expected,
			     char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err);
/* Abandon: remove the temp file and free. NULL-safe. */
void store_blob_writer_abort(store_blob_writer_t *w);

/* A writer thread in front of a blob writer, for big blobs: the producer
 * (a snapshot reading files, a pull receiving from a socket) fills
 * store_blob_pipe_buf() and submits it; the thread hashes and writes while
 * the producer fills the next of a few buffers. Every submit, drain and
 * finish reports the first failed write. Until finish or drain returns, the
 * blob writer belongs to the thread: do not touch it (not even its size:
 * store_blob_pipe_bytes counts what was submitted). The writer stays the
 * caller's to commit or abort after finish; free the pipe (which stops the
 * thread) before aborting it. */
typedef struct store_blob_pipe store_blob_pipe_t;
store_blob_pipe_t *store_blob_pipe_new(store_blob_writer_t *bw, size_t buf_size);
/* The buffer to fill next (buf_size bytes); changes with each submit. */
unsigned char *store_blob_pipe_buf(store_blob_pipe_t *p);
size_t store_blob_pipe_buf_size(const store_blob_pipe_t *p);
/* Queue the first len bytes of the current buffer. */
int store_blob_pipe_submit(store_blob_pipe_t *p, size_t len, cb_error_t *err);
uint64_t store_blob_pipe_bytes(const store_blob_pipe_t *p);
/* Wait until every submitted buffer is written (the thread keeps running). */
int store_blob_pipe_drain(store_blob_pipe_t *p, cb_error_t *err);
/* Write what is queued and stop the thread. */
int store_blob_pipe_finish(store_blob_pipe_t *p, cb_error_t *err);
void store_blob_pipe_free(store_blob_pipe_t *p);

/* Batched commits, for many blobs at once (a pull of many small layers):
 * their flushes share journal commits instead of two fsyncs per blob each.
 * store_blob_batch_add checks the digest like commit but leaves the blob,
 * complete, in tmp/; store_blob_batch_publish makes every added blob
 * durable (fdatasync, from several threads at once), then renames them into
 * blobs/ and fsyncs blobs/ once; it may be called again after more adds.
 * So a file in blobs/ is still always complete and durable. Blobs added but
 * not published are removed by store_blob_batch_free (NULL-safe). */
typedef struct store_blob_batch store_blob_batch_t;
store_blob_batch_t *store_blob_batch_new(store_t *st);
/* A batch whose blobs keep their writers' own file names in tmp/ (not
 * ok-DIGEST): for one blob written beside other threads' batches in the
 * same process (a build's stages), where two batches with the same blob
 * would otherwise share one file name, and the first publish would take
 * the file the second one still names. */
store_blob_batch_t *store_blob_batch_new_private(store_t *st);
/* Like store_blob_writer_commit (the writer is freed in every case). */
int store_blob_batch_add(store_blob_batch_t *b, store_blob_writer_t *w, const char *expected,
			 char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err);
int store_blob_batch_publish(store_blob_batch_t *b, cb_error_t *err);
/* Like publish, for a writer that publishes batch after batch (a build's
 * steps): blobs/ is fsynced together with the added blobs, which makes the
 * names of the batches published before durable, instead of after these
 * renames. So the blobs are complete and durable in blobs/ at once, their
 * names only after the next publish_lazy or store_blobs_sync: nothing
 * durable may name them before. One journal commit a batch, not two. */
int store_blob_batch_publish_lazy(store_blob_batch_t *b, cb_error_t *err);
/* Move src's added, unpublished blobs into dst (one already there: its
 * file is removed); src is left empty. */
void store_blob_batch_move(store_blob_batch_t *dst, store_blob_batch_t *src);
/* fsync of blobs/: every rename into it so far is durable. */
int store_blobs_sync(store_t *st, cb_error_t *err);
void store_blob_batch_free(store_blob_batch_t *b);

/* One-shot write of a buffer. */
int store_put_blob(store_t *st, const void *data, size_t len, const char *expected,
		   char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err);
/* The same into a batch (b NULL: store_put_blob). A blob already stored
 * is not written again. */
int store_put_blob_in(store_t *st, store_blob_batch_t *b, const void *data, size_t len,
		      const char *expected, char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err);

/* Read a whole blob of at most max bytes, verifying its digest. */
int store_read_blob(const store_t *st, const char *digest, size_t max, char **data, size_t *len,
		    cb_error_t *err);

/* Open a blob for streaming reads (O_RDONLY|O_CLOEXEC); the caller checks
 * the digest if it needs to. Returns the fd or -1. */
int store_open_blob(const store_t *st, const char *digest, cb_error_t *err);

/* Lazy blobs. A store may hold images whose layer blobs live only in a
 * registry (remote build-cache hits). Whoever can fetch them (cmd/, through
 * registry/) installs a fetcher; store_blob_ensure() calls it for a blob
 * that is missing, and the code that needs a blob's bytes (unpack, save,
 * push) calls store_blob_ensure() first. Listing and inspecting never fetch.
 * The fetcher writes through store_blob_writer (digest checked) and
 * returns 0 once the blob is in blobs/, -1 with err otherwise. */
typedef int (*store_blob_fetch_fn)(void *ctx, store_t *st, const char *digest, cb_error_t *err);
void store_set_blob_fetcher(store_t *st, store_blob_fetch_fn fn, void *ctx);
/* 0 when the blob is here (fetching it if needed and possible); ENOENT when
 * it is missing and no fetcher could get it. */
int store_blob_ensure(store_t *st, const char *digest, cb_error_t *err);

/* Re-hash a stored blob and compare with its name. */
int store_verify_blob(const store_t *st, const char *digest, cb_error_t *err);

/* ---- index.json: tags ---- */

/* One manifest descriptor of index.json. */
typedef struct store_ref {
	char *name;       /* full normalized reference, e.g. docker.io/library/app:1;
			     NULL for an untagged entry */
	char *digest;     /* manifest digest */
	char *media_type; /* manifest media type */
	int64_t size;     /* manifest size */
} store_ref_t;

void store_ref_release(store_ref_t *r);
void store_refs_free(store_ref_t *refs, size_t n);

/* All descriptors of index.json, in file order. */
int store_list_refs(store_t *st, store_ref_t **refs, size_t *n, cb_error_t *err);

/* Point a full reference name at a manifest (replacing an older target),
 * under the lock, index.json rewritten whole and atomically. A NULL name
 * adds an untagged entry for the manifest (once); a name drops the
 * manifest's untagged entry. An older target that no entry names any more
 * stays as an untagged entry (docker's dangling image). */
int store_set_ref(store_t *st, const char *name, const char *digest, const char *media_type,
		  int64_t size, cb_error_t *err);

/* Remove the untagged entries of a manifest digest (none: 0). */
int store_remove_untagged(store_t *st, const char *digest, cb_error_t *err);

/* Remove a name. ENOENT when it is not there. */
int store_remove_ref(store_t *st, const char *name, cb_error_t *err);

/* Remove the entry of name, or (name NULL) the untagged entries of digest. */
int store_remove_refs_to(store_t *st, const char *name, const char *digest, cb_error_t *err);

/* Look up a full reference name; ENOENT when missing. */
int store_get_ref(store_t *st, const char *name, store_ref_t *out, cb_error_t *err);

#endif
