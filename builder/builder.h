/*
 * builder/builder.h - run a build plan into an image.
 *
 * bld_build() takes the Dockerfile's bytes, a context directory and
 * options; it plans (parser/), resolves each stage's base (through the
 * resolver cmd/ hands in, which may pull), runs every step on an overlay
 * snapshot (RUN in the sandbox, ADD/COPY by file operations), turns each
 * step's upper directory into a layer (store/layer.h), caches every step's
 * result, and writes the final image. Progress goes to opts->log.
 *
 * Mounts: the builder works in a private mount namespace of its own
 * (rt_enter_mount_ns), so that an overlay mount can never outlive the
 * process, even after kill -9.
 *
 * The cache: every step's result is an (untagged) image in the store,
 * named by a cache entry (a reference the store keeps: store/keep.h, kind
 * cache, named KEYHEX). The key is the sha256 of a
 * canonical description of the step (see builder/cache.h): the parent's
 * key (or the base image's ID), the step's expanded instruction, the
 * environment it runs with and, for ADD/COPY, a checksum of the selected
 * context files' names, modes and contents. Because the intermediate images
 * are reused whole (their history timestamps too), a build from the cache
 * gives the same image ID as the first build.
 */
#ifndef CB_BUILDER_BUILDER_H
#define CB_BUILDER_BUILDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "store/image.h"
#include "store/layer.h"
#include "store/store.h"

/* Finds a base image (FROM) in the store, pulling it when missing (or
 * always with pull). *manifest_digest: the image's manifest (caller frees). */
typedef struct bld_resolver {
	int (*resolve)(void *ctx, store_t *st, const char *ref, bool pull, const char *platform,
		       char **manifest_digest, cb_error_t *err);
	void *ctx;
} bld_resolver_t;

/* Downloads a URL for ADD into out_fd (streamed, from the start). cmd/
 * provides it (libcurl); errors name the URL and the HTTP status. */
typedef struct bld_fetcher {
	int (*fetch)(void *ctx, const char *url, int out_fd, cb_error_t *err);
	void *ctx;
} bld_fetcher_t;

typedef enum bld_progress {
	BLD_PROGRESS_PLAIN = 0, /* STEP n/m lines (CI logs) */
	BLD_PROGRESS_TTY,       /* a live display */
	BLD_PROGRESS_QUIET,     /* nothing but errors */
} bld_progress_t;

/* ---- the remote build cache (builder/cache_remote.c) ----
 *
 * cmd/ fetches cache artifacts from registries (--cache-from) and hands
 * their config bytes here; the build consults them when the local cache
 * misses. With --cache-to the build returns an artifact (config bytes +
 * the layers it references) that cmd/ pushes. See README "Build cache". */
typedef struct bld_remote_cache bld_remote_cache_t;

bld_remote_cache_t *bld_remote_cache_new(void);
/* NULL-safe. */
void bld_remote_cache_free(bld_remote_cache_t *rc);
/* Add the entries of one artifact's config, fetched from `ref` (named in
 * --explain-cache output). A corrupt or foreign config is refused whole
 * (EBADMSG) and nothing is added. A key already known (an earlier ref)
 * keeps its first entry. */
int bld_remote_cache_add(bld_remote_cache_t *rc, const char *ref, const char *config, size_t len,
			 cb_error_t *err);
/* Number of entries. NULL-safe. */
size_t bld_remote_cache_count(const bld_remote_cache_t *rc);

typedef enum bld_cache_mode {
	BLD_CACHE_NONE = 0,
	BLD_CACHE_MIN, /* the target stage's steps (BuildKit's mode=min) */
	BLD_CACHE_MAX, /* every step of every stage */
} bld_cache_mode_t;

/* A cache artifact to push: the config bytes and every layer its entries
 * reference (each once). */
typedef struct bld_cache_artifact {
	char *config;
	size_t config_len;
	size_t n_entries;
	oci_descriptor_t *layers;
	size_t n_layers;
} bld_cache_artifact_t;

void bld_cache_artifact_release(bld_cache_artifact_t *a);

/* Attestations make the tag name an index (image + attestation manifest). */
typedef enum bld_provenance {
	BLD_PROVENANCE_NONE = 0,
	BLD_PROVENANCE_MIN,
	BLD_PROVENANCE_MAX,
} bld_provenance_t;

typedef struct bld_opts {
	const char *dockerfile_name; /* for messages: "Dockerfile" */
	const char *dockerfile;      /* its bytes */
	size_t dockerfile_len;
	const char *dockerignore;    /* .dockerignore bytes or NULL */
	size_t dockerignore_len;
	const char *context_dir;     /* the build context (a directory) */
	char *const *tags;           /* full references to tag, may be NULL */
	char *const *build_args;     /* KEY=VAL */
	char *const *labels;         /* KEY=VAL (--label) */
	char *const *secrets;        /* "id=X,src=FILE" (--secret) */
	char *const *ssh;            /* "ID=SOCKET" (--ssh): agent sockets for RUN --mount=type=ssh */
	const char *target;          /* --target stage, NULL = last */
	const char *platform;        /* --platform, NULL = this machine */
	bool index_child;            /* one platform of several: leave the image
				      * untagged (the index names it) */
	bool no_cache;
	bool pull;
	bool network_none; /* --network none for every RUN */
	bool network_host; /* --network host for every RUN (else a namespace of
			    * the build's on the default bridge, as docker) */
	bool allow_insecure; /* --allow security.insecure: RUN --security=insecure
			      * may run (all capabilities, no seccomp) */
	int64_t run_pids_limit; /* pids.max of every RUN: 0 = BLD_RUN_PIDS_LIMIT
				 * where a pids controller is usable (else a
				 * warning and none), > 0 = this (an error
				 * without a controller), < 0 = none */
	bool docker_format;
	bool explain_cache;
	int jobs;                    /* stages built at once (--jobs); 0 = cores, at most 4 */
	layer_opts_t layer;          /* compression, level, source_date_epoch */
	int64_t timestamp;           /* created time for the image; -1 = now */
	bld_progress_t progress;
	FILE *log;                   /* progress output (stderr) */
	bld_resolver_t resolver;
	bld_fetcher_t fetcher;       /* ADD https://...; NULL fetch: refused */
	const bld_remote_cache_t *cache_from; /* consulted on local misses; may be NULL */
	bld_cache_mode_t cache_to;   /* fill bld_result_t.cache */
	bool sbom;                   /* --sbom: an SPDX attestation (builder/attest.c) */
	bld_provenance_t provenance; /* --provenance: a SLSA v1 attestation */
	bool check_only;             /* --check: resolve the bases, run the build
				      * checks, print them to log, build nothing */
} bld_opts_t;

void bld_opts_init(bld_opts_t *o);

/* The default pids limit of a RUN. BuildKit sets none, but each of its
 * builds runs in a cgroup of its own under buildkitd's, whose TasksMax
 * bounds them all; cbuild has no daemon, so a fork bomb in a RUN would
 * have the host's whole pid space. 4096 is twice podman's container
 * default (2048): builds are burstier than services (make -j with
 * compilers that fork, Go and Java tools that start a thread per core, and
 * every thread counts) yet a bomb stops at a number the host survives. */
#define BLD_RUN_PIDS_LIMIT 4096

typedef struct bld_result {
	char image_id[DIGEST_STR_LEN + 1];        /* config digest */
	char manifest_digest[DIGEST_STR_LEN + 1];
	bld_cache_artifact_t cache; /* with opts->cache_to; else empty */
	size_t check_warnings;      /* build checks that failed (warnings printed) */
	char tagged_digest[DIGEST_STR_LEN + 1]; /* what the tags name: the manifest,
						 * or the index with attestations */
	char *attestation;                      /* index_child with attestations asked for: the index
						 * entry (JSON) of its attestation manifest */
} bld_result_t;

/* The snapshotter of build steps (builder/snapshot_copy.c), process-wide
 * like the isolation: overlay mounts, or copies of the parent's tree diffed
 * after the step (no mount needed: store on overlayfs, --isolation none).
 * auto takes copy where overlay cannot work, and says why once. */
typedef enum bld_snap_driver {
	BLD_SNAP_AUTO = 0,
	BLD_SNAP_OVERLAY,
	BLD_SNAP_COPY,
} bld_snap_driver_t;

/* "auto" | "overlay" | "copy" (also "vfs", buildah's name); EINVAL else. */
int bld_snap_driver_parse(const char *s, bld_snap_driver_t *out, cb_error_t *err);
void bld_snap_driver_set(bld_snap_driver_t d);
/* Resolve auto for this store and isolation (call after the isolation is
 * known: rt_enter_mount_ns); an explicit overlay that cannot work is an
 * error. *why (may be NULL) gets why copy was chosen, or NULL. */
int bld_snap_driver_resolve(store_t *st, bld_snap_driver_t *out, const char **why,
			    cb_error_t *err);
const char *bld_snap_driver_name(bld_snap_driver_t d);

/* res is filled on success only; release it with bld_result_release. */
int bld_build(store_t *st, const bld_opts_t *opts, bld_result_t *res, cb_error_t *err);
void bld_result_release(bld_result_t *res);

/* Build once per platform (builder/platform.c) and tag one image index of
 * the results (a Docker manifest list with docker_format): res->image_id
 * and res->manifest_digest are the index's digest; with cache_to, the
 * artifact holds every platform's entries. */
int bld_build_platforms(store_t *st, const bld_opts_t *opts, const oci_platform_t *plats,
			size_t n, bld_result_t *res, cb_error_t *err);

/* What the planner needs of a base image's config (df_plan_opts_t.base):
 * the build gives it for every FROM image, `cbuild plan` for those in the
 * store, so that the two plan alike. The fields borrow from config. */
struct df_base_config;
void bld_base_config(const oci_config_t *config, struct df_base_config *out);

/* Apply Dockerfile instructions given on the command line (`import -c`,
 * `commit -c`) to a config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
 * VOLUME, WORKDIR, STOPSIGNAL, ONBUILD, HEALTHCHECK, SHELL. */
int bld_apply_changes(oci_config_t *config, char *const *changes, cb_error_t *err);

/* rt_enter_mount_ns() and rt_overlay_opts(): runtime/mount.h. */

#endif
