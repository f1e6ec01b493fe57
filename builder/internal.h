/*
 * builder/internal.h - what the builder's files share; not a public API.
 */
#ifndef CB_BUILDER_INTERNAL_H
#define CB_BUILDER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <jansson.h>

#include "builder/builder.h"
#include "common/util.h"
#include "parser/ignore.h"
#include "parser/plan.h"
#include "runtime/sandbox.h"
#include "store/image.h"
#include "store/layer.h"

#define BLD_DEFAULT_PATH SBX_DEFAULT_PATH

/* An image state as steps go: config + layers, the cache chain key, and the
 * intermediate image it was committed as. */
typedef struct bld_state {
	oci_config_t *config;
	oci_descriptor_t *layers; /* bottom first; parallel to config->diff_ids */
	size_t n_layers;
	char key[DIGEST_STR_LEN + 1];             /* cache key of the last step */
	char manifest_digest[DIGEST_STR_LEN + 1]; /* "" until committed */
} bld_state_t;

void bld_state_release(bld_state_t *s);
void bld_state_copy(bld_state_t *dst, const bld_state_t *src);
/* The state of an image in the store. */
int bld_state_from_image(bld_state_t *s, store_t *st, const char *manifest_digest,
			 cb_error_t *err);
void bld_state_add_layer(bld_state_t *s, const layer_result_t *res);

/* rc of a RUN on a state of config c: when it failed and c's platform is
 * not this machine's and no qemu-user emulator is registered with the F
 * flag, err gains what to install (builder/platform.c). */
int bld_run_platform_hint(const oci_config_t *c, int rc, cb_error_t *err);

/* ---- snapshots: an overlay on a state's layers ---- */

/* rt_chain_lowers() and rt_overlay_options(): runtime/mount.h. */

typedef struct bld_snap {
	char *dir;    /* tmp/step-XXXXXX: upper/ work/ merged/ empty/ */
	char *upper;
	char *merged;
	char **lowers; /* unpacked layer paths, top-most first (NULL-terminated) */
	bool mounted;
	bool copy;     /* the copy snapshotter: merged is a plain tree (upper
			* names it too), base the parent's tree it is diffed
			* against (NULL when read-only) */
	char *base;
	char *chain;   /* copy: the diff_ids merged holds ("a,b,"), to keep it */
	struct timespec since; /* copy: a ctime after it is the step's */
	layer_inode_t *skip;   /* copy: files the sandbox moved aside and back */
	size_t nskip;
	pthread_t unmounter;   /* bld_snap_unmount_begin's thread */
	bool unmounting;
	int unmount_errno;
} bld_snap_t;

/* Unpack the state's layers and mount merged = overlay(lowers, upper).
 * With readonly, no upper (a read-only view, for COPY --from). */
int bld_snap_open(store_t *st, const bld_state_t *s, bool readonly, bld_snap_t *snap,
		  cb_error_t *err);
/* Unmount, write the upper as a layer, keep it as the layer's unpacked copy.
 * *empty is set when the step changed nothing (no layer is written then). */
int bld_snap_commit(store_t *st, bld_snap_t *snap, const layer_opts_t *lo, layer_result_t *res,
		    bool *empty, cb_error_t *err);
/* Like bld_snap_commit for an upper whose layer res was already written
 * (a COPY that wrote it while copying): unmount and keep the upper as the
 * layer's unpacked copy. */
int bld_snap_adopt(store_t *st, bld_snap_t *snap, const layer_result_t *res, cb_error_t *err);
/* Unmount merged in a thread beside the walk of the upper dir that comes
 * next: freeing the overlay's dentries and inodes (0.4 s of kernel time
 * after a RUN that made 100k files) need not hold the snapshot up, since
 * nothing writes the upper once the step's processes are gone.
 * bld_snap_unmount_end waits for it (unmounting in place when the thread
 * could not start): 0, or -1 with err set when merged is still mounted. */
void bld_snap_unmount_begin(bld_snap_t *snap);
int bld_snap_unmount_end(bld_snap_t *snap, cb_error_t *err);
/* Unmount and remove everything (NULL-safe on a zeroed snap). */
void bld_snap_close(bld_snap_t *snap);
/* The mount points the sandbox makes for /etc/resolv.conf and /etc/hosts
 * when the image lacks them, noted before a RUN (bld_snap_etc_note) and
 * dropped after (bld_snap_etc_drop): they are not part of the step, nor is
 * the /etc overlayfs copied up only to make them (unchanged and empty
 * then; the copy snapshotter and BuildKit's differ see no change there). */
typedef struct bld_etc_marks {
	bool had_resolv, had_hosts;
	bool etc_in_upper; /* the upper had etc/ before */
	bool etc_known;
	struct stat etc;   /* the merged /etc before */
} bld_etc_marks_t;
void bld_snap_etc_note(const bld_snap_t *snap, bld_etc_marks_t *m);
void bld_snap_etc_drop(const bld_snap_t *snap, const bld_etc_marks_t *m);

/* builder/snapshot_copy.c: bld_snap_open and bld_snap_commit of the copy
 * snapshotter (chosen by bld_snap_open/commit themselves). */
bool bld_snap_use_copy(void);
int bld_snap_copy_open(store_t *st, const bld_state_t *s, bool readonly, bld_snap_t *snap,
		       cb_error_t *err);
int bld_snap_copy_commit(store_t *st, bld_snap_t *snap, const layer_opts_t *lo,
			 layer_result_t *res, bool *empty, cb_error_t *err);
/* A RUN mount's destination (absolute, in the step's root): without
 * namespaces an entry of the image there is moved aside and back, which
 * changes its ctime only; the diff is told (layer_opts_t.ctime_skip). */
void bld_snap_copy_note_dest(bld_snap_t *snap, const char *dest);
/* The owner to give a file: -1 (unchanged) for root's in a non-root build
 * without a user namespace, whose own files are root's in its layers
 * (builder/copy.c). */
uid_t bld_as_uid(uid_t u);
gid_t bld_as_gid(gid_t g);
/* builder/snapshot_sync.c: a committed step's pair, base/ brought up to
 * merged/, kept for the next step on that state (a few, process-wide). */
int bld_snap_copy_sync(const char *base, const char *merged, cb_error_t *err);
char *bld_snap_chain(const bld_state_t *s, const char *next);
char *bld_snap_take_kept(const char *chain); /* its dir, or NULL */
void bld_snap_keep(char *chain, char *dir);  /* takes both */
/* Remove the kept pairs (end of a build). */
void bld_snap_copy_release(void);

/* ---- context: files selected by ADD/COPY sources ---- */

typedef struct bld_ctxsum bld_ctxsum_t;

typedef struct bld_context {
	const char *dir;        /* host directory */
	int dirfd;
	df_ignore_t *ignore;    /* may be NULL */
	bld_ctxsum_t *sums;
} bld_context_t;

/* Remembered content hashes of context files (builder/ctxsum.c). */
bld_ctxsum_t *bld_ctxsum_open(store_t *st, const char *context_dir);
/* Whether rel's stat still matches what was remembered; then hex (may be
 * NULL) gets its sha256 hex. Thread-safe, as is put. */
bool bld_ctxsum_get(bld_ctxsum_t *c, const char *rel, const struct stat *sb,
		    char hex[DIGEST_HEX_LEN + 1]);
void bld_ctxsum_put(bld_ctxsum_t *c, const char *rel, const struct stat *sb, const char *hex);
/* Save (when changed) and free. NULL-safe. */
void bld_ctxsum_close(bld_ctxsum_t *c);

static inline void df_ignore_freep(df_ignore_t **p)
{
	df_ignore_free(*p);
}

/* A source root to copy from: the context, or a stage/image mounted
 * read-only (ignore = NULL there). */
typedef struct bld_source {
	int rootfd;             /* directory fd of the root */
	const char *root;       /* its host path, for messages */
	const df_ignore_t *ignore;
	bool is_context;        /* names it "build context" in messages */
	bld_ctxsum_t *sums;     /* remembered hashes (context only), may be NULL */
	const df_ignore_t *exclude; /* COPY --exclude patterns, may be NULL */
} bld_source_t;

/* Checksum of what `sources` select under src (names, types, modes,
 * contents, link targets), for the cache key. With files (may be NULL), each
 * selected path's short signature is also added to that JSON object, for
 * --explain-cache. Errors for missing sources:
 * "COPY failed: file not found in build context: 'x'". */
int bld_sources_checksum(const bld_source_t *src, char *const *sources,
			 char out[DIGEST_STR_LEN + 1], json_t *files, cb_error_t *err);
/* The same, with the signatures appended to sigs as "rel\0sig\0" pairs:
 * compact enough to keep from a step's key to the explanation of its miss
 * (20,000 files are then walked once, not twice). */
int bld_sources_checksum_sigs(const bld_source_t *src, char *const *sources,
			      char out[DIGEST_STR_LEN + 1], cb_buf_t *sigs, cb_error_t *err);
/* Add the pairs of sigs to files (rel -> sig). */
void bld_sigs_to_json(const cb_buf_t *sigs, json_t *files);

/* A COPY that writes its step's layer while it copies (each source file
 * read once, compression running alongside). Given only when the copy is
 * the step's one writer of an empty upper. done says whether it could: when
 * the tree needs what only layer_write_upper does (the destination exists
 * below, several sources, archives, --parents...), the copy is made the
 * usual way and the caller snapshots the upper as always. The
 * environment variable CBUILD_COPY_NOFUSE=1 turns it off (tests compare). */
typedef struct bld_copy_layer {
	store_t *st;
	const layer_opts_t *opts;
	const char *upper; /* the writable layer of the mounted root */
	bool done;         /* out: res is the layer of the whole upper */
	layer_result_t res;
} bld_copy_layer_t;

/* Execute an ADD/COPY step into the mounted root `rootfs`. */
typedef struct bld_copy_opts {
	bld_copy_layer_t *layer; /* may be NULL */
	const df_copy_t *copy;
	const char *workdir;  /* for a relative dest */
	bool is_add;
	uid_t uid;            /* --chown resolved; -1 = 0, or see keep_owner */
	gid_t gid;
	bool keep_owner;      /* no --chown: copies keep the source's owner
				 (COPY --from, as BuildKit and buildah do);
				 directories the copy makes stay root's */
	int chmod;            /* -1 = keep */
} bld_copy_opts_t;
int bld_copy(const bld_source_t *src, const char *rootfs, const bld_copy_opts_t *o,
	     cb_error_t *err);

/* ADD of a local tar (any compression): extract it into dstfd, entries
 * owned by uid:gid when chown (else as the archive says). Returns 1 when it
 * was an archive, 0 when not (copy it as a file), -1 on error (EFBIG past
 * the expansion limit). */
int bld_extract_archive(int srcfd, int dstfd, bool chown, uid_t uid, gid_t gid,
			cb_error_t *err);

/* mkdir -p of an absolute image path inside rootfs (symlinks resolved
 * inside it); the directories it makes are owned by uid:gid ((uid_t)-1:
 * root). */
int bld_mkdir_in_root(const char *rootfs, const char *path, uid_t uid, gid_t gid, cb_error_t *err);

/* ---- the cache ---- */

/* Key of a step: sha256 over the parent key, the step's canonical text and
 * its inputs' checksum. */
void bld_cache_key(const char *parent_key, const char *step_text, const char *inputs,
		   char out[DIGEST_STR_LEN + 1]);
/* The manifest an entry names, or NULL (not found, or its blobs are gone). */
char *bld_cache_lookup(store_t *st, const char *key);
int bld_cache_store(store_t *st, const char *key, const char *manifest_digest,
		    const char *description, cb_error_t *err);
/* The same, without fsyncs unless durable. An entry is written only once
 * its manifest's blobs are durable, and a lost or cut entry reads as a
 * miss (lookup parses it and checks the manifest is there), so a build
 * step's entry needs no journal commit of its own. */
int bld_cache_store_sync(store_t *st, const char *key, const char *manifest_digest,
			 const char *description, bool durable, cb_error_t *err);

/* The remote entry for key, if any: its manifest and config are written
 * into the store and a local entry made. 1 with *manifest_digest (caller
 * frees) and *ref (borrowed from rc) set, 0 when rc has no such key, -1
 * on a store failure. */
int bld_remote_lookup(const bld_remote_cache_t *rc, store_t *st, const char *key,
		      char **manifest_digest, const char **ref, cb_error_t *err);

/* An artifact of the given items, a JSON array of {"key", "manifest"
 * (digest of an image in st), "step"}; duplicate keys count once. */
int bld_cache_artifact_make(store_t *st, json_t *items, bld_cache_artifact_t *out,
			    cb_error_t *err);

/* Canonical text of a step for its cache key (after expansion): every field
 * that changes what the step produces, none that does not. */
char *bld_step_canonical(const df_step_t *step, const oci_config_t *config);

/* "RUN /bin/sh -c echo hi # buildkit" style history text. */
char *bld_step_history(const df_step_t *step);

#endif
