/*
 * registry/registry.h - pull, push, login and logout against OCI / Docker
 * registries (the OCI distribution protocol over libcurl).
 *
 * Every call is self-contained: it opens its own HTTP connections, pings
 * /v2/, answers the 401 challenge (Basic, or Bearer with a token fetched
 * from the realm and cached per scope until it expires), and closes
 * everything before returning. Nothing is global except curl_global_init,
 * done once on first use.
 *
 * Pull writes every byte through store_blob_writer (tmp/, digest checked
 * before rename), so a failed or interrupted pull leaves only garbage in
 * tmp/ and never a bad blob. It does not unpack layers.
 *
 * Transient failures (connection refused/reset, timeouts, 5xx, 429 with
 * Retry-After) are retried with exponential backoff, a bounded number of
 * times. HTTP 401/403 become EACCES, 404 ENOENT, with messages such as
 * "push denied: repository does not exist or you have no access" and
 * "manifest unknown: app:9".
 *
 * Credentials (credentials.c): read from $REGISTRY_AUTH_FILE, ~/.docker/config.json
 * ($DOCKER_CONFIG/config.json) and $XDG_RUNTIME_DIR/containers/auth.json, in
 * that order, or only from opts->auth_file when set. `credHelpers` and
 * `credsStore` run docker-credential-NAME get. Login/logout write
 * ~/.docker/config.json (or opts->auth_file), mode 0600; when that file
 * names a helper for the registry (credHelpers, else credsStore), login
 * runs docker-credential-NAME store and leaves only an empty auths entry
 * in the file, and logout runs erase.
 *
 * TLS: plain HTTP is used for localhost, 127.0.0.0/8 and ::1 when HTTPS
 * does not answer, and for every host when tls_verify is false. Extra CA
 * certificates (*.crt) and client certificates (*.cert + *.key) come from
 * $CBUILD_CERTS_DIR/HOST[:PORT]/, /etc/containers/certs.d/HOST[:PORT]/ and
 * /etc/docker/certs.d/HOST[:PORT]/.
 *
 * Blob sources: after a pull, ROOT/registry-sources.json records which
 * registry repositories each blob was pulled from, so that a later push to
 * another repository on the same registry mounts the blob instead of
 * uploading it: {"sha256:HEX": ["host:port/repo"]}. It is a
 * hint only: a missing or broken file is ignored.
 */
#ifndef CB_REGISTRY_REGISTRY_H
#define CB_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

/* Progress events, for a live display or plain lines. */
typedef enum reg_progress_state {
	REG_PROGRESS_START,    /* a blob transfer begins (total may be 0 if unknown) */
	REG_PROGRESS_BYTES,    /* `done` bytes so far */
	REG_PROGRESS_EXISTS,   /* already present (local store, or remote for push) */
	REG_PROGRESS_MOUNTED,  /* push: mounted from another repository */
	REG_PROGRESS_DONE,     /* finished and verified */
	REG_PROGRESS_RETRY,    /* failed transiently, will retry */
} reg_progress_state_t;

typedef void (*reg_progress_fn)(void *ctx, const char *digest, reg_progress_state_t state,
				uint64_t done, uint64_t total);

typedef enum reg_format {
	REG_FORMAT_KEEP = 0, /* push the manifest as stored */
	REG_FORMAT_OCI,      /* convert to OCI media types */
	REG_FORMAT_DOCKER,   /* convert to Docker v2 schema 2 media types */
} reg_format_t;

typedef struct reg_opts {
	/* Pull: "os/arch[/variant]"; NULL = linux + this machine's arch. */
	const char *platform;
	/* false: accept any certificate and allow plain HTTP (--tls-verify=false). */
	bool tls_verify;
	/* Read and write credentials only here (--authfile); NULL = defaults. */
	const char *auth_file;
	/* Explicit credentials (--creds user:pass); override stored ones. */
	const char *username;
	const char *password;
	/* Root of a certs.d tree to use instead of the default folders (tests);
	 * NULL = $CBUILD_CERTS_DIR, then /etc/containers/certs.d and
	 * /etc/docker/certs.d. */
	const char *certs_dir;
	/* Push: media types of the pushed manifest. */
	reg_format_t format;
	/* Parallel blob transfers (0 = default 8). */
	unsigned max_parallel;
	/* Progress events go to the callback if set, unless quiet (registry/
	 * prints nothing: cmd/reg_progress.c is the display). */
	reg_progress_fn progress;
	void *progress_ctx;
	bool quiet;
	/* Pull: from an index, every image manifest and its blobs; the tag
	 * then names the index (--all-platforms). */
	bool all_platforms;
	/* Push: every layer as stored. Without it, a layer kept uncompressed
	 * until it leaves (commit's, store/variant.h) goes as its gzip
	 * variant; a cache artifact keeps them, since its entries name the
	 * stored digests. */
	bool keep_layers;
} reg_opts_t;

/* Defaults: tls_verify = true, everything else 0/NULL. */
void reg_opts_init(reg_opts_t *o);

/* Start loading libcurl (and the 30 libraries it brings, 20-30 ms) on a
 * background thread, so that it overlaps the command's local work (opening
 * or creating the store); the first transfer waits for it if needed.
 * For commands that will talk to a registry and do not fork. */
void reg_warm_up(void);

/* Wait for the thread reg_warm_up started, if any. Call before the process
 * exits: exit() running OpenSSL's and libcurl's teardown while that thread
 * is still initialising them crashed about one early-failing pull in 500
 * (issue 23). cmd/main.c calls it after every command. */
void reg_warm_up_join(void);

/* ---- pull ---- */

/* Pull `ref` (Docker-style reference, e.g. "busybox", "localhost:5000/a:1",
 * "ghcr.io/o/a@sha256:HEX") into the store: manifest, config and layers as
 * blobs (layers are not unpacked), and the tag
 * reg_ref_full(ref) -> the chosen manifest in index.json. From an index
 * (OCI index or Docker manifest list) the platform manifest is chosen and
 * the index blob is stored too; the tag points at the platform manifest.
 * With opts->all_platforms, every image manifest of the index is pulled
 * with its blobs, and the tag (and manifest_digest_out) names the index.
 * A pull by digest tags "domain/path@sha256:HEX"; by tag and digest, the
 * digest is what is fetched.
 * manifest_digest_out (may be NULL) receives the tagged manifest's digest
 * "sha256:HEX" (caller frees). */
int reg_pull(store_t *st, const char *ref, const reg_opts_t *opts, char **manifest_digest_out,
	     cb_error_t *err);

/* ---- push ---- */

/* Push the local image `src` (a reference in the store, normalized as
 * reg_ref_normalize does, or a manifest digest "sha256:" + hex) to `dest`:
 *   NULL                  the same name as src (its registry)
 *   "docker://REF" / REF  a registry reference
 *   "oci:DIR[:TAG]"       an OCI image layout directory
 *   "oci-archive:FILE[:TAG]", "docker-archive:FILE[:REF]"  ENOTSUP here:
 *                         `cbuild push` writes them with save's archive
 *                         writer (cmd/save.h)
 * Blobs already at the destination are skipped; layers are uploaded in
 * parallel, then the config, then the manifest with its media type.
 * digest_out (may be NULL) receives the pushed manifest digest (caller
 * frees). */
int reg_push(store_t *st, const char *src, const char *dest, const reg_opts_t *opts,
	     char **digest_out, cb_error_t *err);

/* ---- build cache artifacts (registry/artifact.c) ---- */

/* The config media type of a cbuild build-cache artifact. The artifact is
 * an OCI image manifest whose config blob (this type) lists the cache
 * entries and whose layers are every layer those entries reference, so
 * that the registry keeps them (and checks they exist) in the cache
 * repository. */
#define REG_MT_CACHE_CONFIG "application/vnd.cbuild.cache.config.v1+json"

struct oci_descriptor;

/* Push a cache artifact to `ref`: config (its bytes, REG_MT_CACHE_CONFIG)
 * and the layers it references (blobs of the store; missing ones are
 * fetched first through store_blob_ensure). Layers already in another
 * repository of the same registry are mounted. digest_out (may be NULL):
 * the artifact manifest's digest (caller frees). */
int reg_cache_push(store_t *st, const char *ref, const char *config, size_t config_len,
		   const struct oci_descriptor *layers, size_t n_layers, const reg_opts_t *opts,
		   char **digest_out, cb_error_t *err);

/* Fetch the cache artifact at `ref`: its manifest and config blob only
 * (never layers). *config receives the config bytes (caller frees). The
 * layers are recorded in registry-sources.json as present in ref's
 * repository, for reg_fetch_blob and cross-repository mounts.
 * ENOENT: no such ref; EPROTO: not a cbuild cache artifact. */
int reg_cache_fetch(store_t *st, const char *ref, const reg_opts_t *opts, char **config,
		    size_t *config_len, cb_error_t *err);

/* Download one blob into the store from a repository that registry-
 * sources.json says has it (tried newest first). ENOENT when no known
 * repository has it. A store_blob_fetch_fn with reg_opts_t * as ctx
 * (NULL = defaults). */
int reg_fetch_blob(void *opts, store_t *st, const char *digest, cb_error_t *err);

/* ---- login / logout / credentials ---- */

/* Check user/pass against `registry` ("host[:port]", or a reference whose
 * domain is used; "docker.io" for Docker Hub) and save them on success.
 * Wrong credentials: EACCES, nothing saved. */
int reg_login(const char *registry, const char *user, const char *pass, const reg_opts_t *opts,
	      cb_error_t *err);

/* Remove the saved credentials of `registry`; ENOENT when there were none. */
int reg_logout(const char *registry, const reg_opts_t *opts, cb_error_t *err);

/* Look up stored credentials for a registry host ("docker.io",
 * "localhost:5000"). auth_file NULL = the default search order.
 * Returns 0 with *user and *pass set (caller frees) when found, 0 with both
 * NULL when nothing is stored, -1 on a broken file or helper failure. */
int reg_auth_lookup(const char *registry, const char *auth_file, char **user, char **pass,
		    cb_error_t *err);

/* Save or remove credentials in one file (NULL = ~/.docker/config.json,
 * $DOCKER_CONFIG/config.json when set). The file is rewritten atomically
 * with mode 0600, other keys kept. reg_auth_remove: ENOENT when absent. */
int reg_auth_save(const char *auth_file, const char *registry, const char *user, const char *pass,
		  cb_error_t *err);
int reg_auth_remove(const char *auth_file, const char *registry, cb_error_t *err);

/* The file login writes by default (caller frees). */
char *reg_auth_default_file(void);

/* The registry host of a login argument: "https://index.docker.io/v1/",
 * "docker.io", "" -> "docker.io"; "http://h:5000/x" -> "h:5000"
 * (caller frees). */
char *reg_auth_normalize_host(const char *registry);

#endif
