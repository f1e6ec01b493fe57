/*
 * builder/steps.h - the running build and what each kind of step does.
 * Internal to builder/.
 */
#ifndef CB_BUILDER_STEPS_H
#define CB_BUILDER_STEPS_H

#include <pthread.h>

#include "builder/internal.h"

#define BLD_GIT_COMMIT_MAX 65 /* a SHA-1 or SHA-256 commit ID and its NUL */

typedef struct build {
	store_t *st;
	const bld_opts_t *o;
	const df_plan_t *plan; /* made once; read-only: stages share it */
	df_plan_t *owned_plan; /* the same, to free */
	df_tree_t *tree;       /* the parsed Dockerfile the plan borrows */
	bld_context_t ctx;
	bld_state_t *stages; /* by Dockerfile stage index */
	bld_state_t *bases;  /* resolved FROM images, by stage index (while planning) */
	size_t n_bases;
	char **held_onbuild; /* the last base's ONBUILD, lent to the planner */
	bool base_failed;    /* planning failed resolving a base image */
	bool *stage_done;
	char *created;       /* timestamp of this build's history entries */
	bool cmd_set;        /* CMD given in the current stage (ENTRYPOINT rule) */
	char *url_dir;       /* ADD URL: the current step's downloads (tmp/) */
	char git_commit[BLD_GIT_COMMIT_MAX]; /* ADD git: the commit of the step's key */
	/* Stages that do not depend on each other build concurrently, each on
	 * a thread with its own copy of this struct (cmd_set, url_dir and
	 * prefix are its own; everything else is shared, and stages[i] is
	 * only read once stage_done[i]). */
	const char *prefix;  /* "[stage] " before every output line, or NULL */
	_Atomic bool *failed; /* set when any stage failed: the others stop */
	pthread_mutex_t *shared_mu; /* concurrent stages: guards cache_trail; else NULL */
	json_t *cache_trail; /* --cache-to: every finished step, see below */
	int64_t run_pids;    /* every RUN's pids limit, <= 0 = none (bld_opts_t) */
	char **base_refs;    /* "REF@DIGEST" of the resolved bases (attestations) */
	int64_t started;     /* when the build began (provenance) */
	struct bld_committer *committer; /* shared by the stages; NULL: write at once */
	struct bld_runnet *runnet; /* RUN's network namespace, shared by the stages */
	/* Every layer step keeps its layer plain and marked (store/variant.h):
	 * the build gzips nothing, push makes the gzip (issue 29). Fixed for
	 * the build (not "whatever was not gzipped by the end"), so the
	 * manifest is the same from run to run; push's gzip has the bytes a
	 * gzip build would have written (LAYER_GZIP_LEVEL). False for an
	 * image that must be gzip when the build ends (bld_keep_plain). */
	bool keep_plain;
} build_t;

/* ---- the RUN steps' network (builder/runnet.c) ---- */

typedef struct bld_runnet bld_runnet_t;
/* isolate: a RUN may get the build's namespace (no --network host|none).
 * Rootless, pasta's launcher is forked now: call it in the host's
 * namespaces, on the thread that runs the build. */
bld_runnet_t *bld_runnet_new(store_t *st, bool isolate);
/* Start making the build's network namespace on the default bridge, on a
 * thread of its own, if not begun yet (a RUN that needs it will run). */
void bld_runnet_prepare(bld_runnet_t *rn);
/* That namespace (made here if nothing began it, thread-safe), or -1: the
 * host's network (rootless, no netavark, or a setup that failed: a
 * warning). The fd stays the runnet's. */
int bld_runnet_fd(bld_runnet_t *rn);
/* Whether a RUN with that --network= joins the build's namespace. */
bool bld_run_network_default(const build_t *b, int run_network);
/* Whether any RUN of the plan does. */
bool bld_plan_needs_runnet(const build_t *b);
/* Whether a RUN of stage stage_idx from its step `from` on does (after a
 * cache miss at `from`, every later step of the stage misses too). */
bool bld_stage_needs_runnet(const build_t *b, int stage_idx, size_t from);
/* Whether any RUN of the parsed Dockerfile (before planning) seems to. */
bool bld_tree_needs_runnet(const build_t *b);
/* Set cfg's network for a RUN (its --network=, the build's --network),
 * and its resolv.conf when the namespace's nameserver is pasta's. */
void bld_run_network(build_t *b, int run_network, sbx_config_t *cfg);
/* A RUN with every capability (--security=insecure) joins the namespace:
 * it may change its addresses, routes or firewall, so the namespace is torn
 * down at the end, not put back in the store's pool. NULL-safe. */
void bld_runnet_taint(bld_runnet_t *rn);
/* No RUN runs any more: put the namespace back in the store's pool, or
 * begin its teardown (on a thread of its own). */
void bld_runnet_release(bld_runnet_t *rn);
/* Tear down (if bld_runnet_release did not) and wait for it. NULL-safe. */
void bld_runnet_free(bld_runnet_t *rn);

/* ---- the layers kept plain (builder/plain_layer.c) ---- */

/* Whether a build with o keeps its layers plain: not one whose image goes
 * into an index (attestations, several platforms) or whose cache is
 * exported (--cache-to). */
bool bld_keep_plain(const bld_opts_t *o);
/* For such an image: a marked plain layer (a cache hit's, a committed
 * base's) is replaced by its gzip variant; *changed when any was. */
int bld_gzip_plain_layers(build_t *b, bld_state_t *s, bool *changed, cb_error_t *err);

/* ---- writing behind the steps (builder/committer.c) ---- */

typedef struct bld_committer bld_committer_t;
/* Start the thread; root is the build (its options, store, cache trail). */
bld_committer_t *bld_committer_new(build_t *root);
/* Wait until everything queued is written; the first failure, if any. */
int bld_committer_drain(bld_committer_t *c, cb_error_t *err);
/* Stop the thread; what was not written yet is dropped. NULL-safe. */
void bld_committer_free(bld_committer_t *c);
/* A plain layer's blob, written by the step into *blob (a batch of its
 * own, not published): the thread publishes it with the step's manifest,
 * so its fdatasync shares that journal commit, behind the next steps.
 * Takes *blob (NULL after); res's descriptor is pending until then. */
int bld_committer_add_blob(bld_committer_t *c, store_blob_batch_t **blob, layer_result_t *res,
			   cb_error_t *err);
/* Unmount, hash the upper's tar, keep the upper as the layer (res: its
 * diff_id; digest = diff_id and size = -1 until written) and queue its
 * blob, written with lo. Without a committer, or for a plain blob (one
 * pass that writes as it hashes): bld_snap_commit. */
int bld_snap_layer(build_t *b, bld_snap_t *snap, const layer_opts_t *lo, layer_result_t *res,
		   bool *empty, cb_error_t *err);
/* Queue the image of state s (config + manifest, with its step's layer,
 * durable together); s->manifest_digest becomes a pending name that the
 * jobs below and bld_committer_resolve understand. config_digest gets the
 * image ID at once. */
int bld_committer_commit(bld_committer_t *c, bld_state_t *s, char config_digest[DIGEST_STR_LEN + 1],
			 cb_error_t *err);
/* Queue a cache entry / a --cache-to trail entry (md may be pending). */
int bld_committer_cache(bld_committer_t *c, const char *key, const char *md, const char *desc,
			cb_error_t *err);
int bld_committer_trail(bld_committer_t *c, int stage, const char *key, const char *md,
			const char *step, cb_error_t *err);
/* After a drain: s's pending layers and manifest made real. */
int bld_committer_resolve(bld_committer_t *c, bld_state_t *s, cb_error_t *err);

/* --cache-to: remember a finished step (hit or run) of a stage, and turn
 * what was remembered into the artifact (min or max mode). */
void bld_cache_trail_add(build_t *b, int stage, const char *key, const char *manifest_digest,
			 const char *step);
int bld_cache_export(build_t *b, bld_cache_artifact_t *out, cb_error_t *err);

void bld_log(build_t *b, const char *fmt, ...) CB_PRINTF(2, 3);

/* The build checks (builder/checks.c), once the bases are resolved: print
 * the warnings, count them in *n_warnings; fails when `# check=error=true`
 * and a rule was broken (not under opts->check_only: the caller decides). */
int bld_run_checks(build_t *b, size_t *n_warnings, cb_error_t *err);

/* One stage of the plan (at position pos) built into *out (build.c). */
int bld_build_stage(build_t *b, size_t pos, bld_state_t *out, cb_error_t *err);

/* The build's checks, then its stages, one after another or concurrently
 * (build_stages.c); b->stages holds each stage's final state. */
int bld_build_stages(build_t *b, size_t *n_checks, cb_error_t *err);
/* --check of a Dockerfile that does not plan (a duplicate stage name, an
 * unknown --target): the checks that need no base, before the error. */
void bld_checks_unplanned(build_t *b);

/* What besides its text a step depends on (ADD/COPY: the files; COPY
 * --from a stage: that stage's key). *inputs may be NULL. */
int bld_step_inputs(build_t *b, const df_step_t *step, const bld_state_t *s, char **inputs,
		    json_t *files, cb_error_t *err);

/* COPY/ADD --from: "files:SUM", the checksum of the files the step selects
 * in its source (owners included, mtimes not), the second key a step that
 * missed by its source's key is looked up by (BuildKit's content key): a
 * source stage that changed but made the same files is still a hit. */
int bld_step_from_content(build_t *b, const df_step_t *step, char **inputs, cb_error_t *err);

/* --explain-cache: why the step at (stage, index) missed, compared with
 * what the last build that ran it recorded (a new string), and the record
 * of this run. The record lives in cache/explain-HASH.json, keyed by the
 * context, the Dockerfile name and the step's position. */
typedef struct bld_step_id {
	const char *parent_key;
	const char *canonical;
	const char *inputs;
	json_t *files; /* may be NULL */
} bld_step_id_t;
char *bld_explain_miss(build_t *b, int stage, size_t index, const bld_step_id_t *id);
void bld_explain_record(build_t *b, int stage, size_t index, const bld_step_id_t *id);
/* The record bld_explain_record writes, as text (caller frees; NULL when out of
 * memory), and the write of such a text; a step that runs long keeps the
 * compact text instead of the per-file JSON tree (~500 bytes a file). */
char *bld_explain_text(const bld_step_id_t *id);
void bld_explain_write(build_t *b, int stage, size_t index, const char *text);
/* A remote cache hit is recorded as if the step had run here, so that a
 * later miss is explained ("conf.txt changed"). Files are listed for
 * context ADD/COPY only: listing COPY --from would need its layers. */
void bld_explain_record_remote(build_t *b, int stage, size_t index, const df_step_t *step,
			       const char *parent, const char *canonical, const char *inputs);

/* ---- ADD of URLs and git repositories (builder/add_remote.c) ---- */

/* Whether the step's sources are URLs or a git repository. */
bool bld_remote_source(const df_step_t *step);
/* The step's inputs: URLs are downloaded now (their digests), a git ref is
 * resolved to its commit (ls-remote; nothing cloned). New string. */
int bld_remote_inputs(build_t *b, const df_step_t *step, char **inputs, cb_error_t *err);
/* Where the step copies from, after bld_remote_inputs: *dir (new string)
 * and the source names in it (new vector); a git repository is cloned at
 * the commit of the key now. Both removed by bld_url_cleanup. */
int bld_remote_fetch(build_t *b, const df_step_t *step, char **dir, char ***names,
		     cb_error_t *err);
/* Remove the current step's downloads and clone. */
void bld_url_cleanup(build_t *b);

/* The image a COPY --from or RUN --mount from= names when no stage has
 * that name, through the resolver (which pulls it when missing). When that
 * fails: "FILE:LINE: no stage or image named "x" (did you mean stage "y"?)"
 * as BuildKit says, or with the resolver's cause when no stage name is
 * near. line 0: the caller says where (no "FILE:LINE: "). */
int bld_named_image_state(build_t *b, int line, const char *name, bld_state_t *out,
			  cb_error_t *err);

/* Run the step on state s (config and layers change; history appended). */
int bld_step_execute(build_t *b, const df_step_t *step, bld_state_t *s, cb_error_t *err);
/* RUN (steps_run.c) in snap, the step's snapshot of state s. */
int bld_step_run(build_t *b, const df_step_t *step, bld_state_t *s, bld_snap_t *snap,
		 cb_error_t *err);
/* The step's working directory: its own, the image's, or "/". */
const char *bld_step_workdir(const df_step_t *step, const bld_state_t *s);

/* Ctrl-C / SIGTERM: set by the build's signal handler; the running RUNs
 * are killed and the build stops with "interrupted" at the next check. */
bool bld_interrupted(void);
/* Interrupted, or another stage of this build failed. */
bool bld_stopping(const build_t *b);
/* SIGKILL every running RUN (async-signal-safe). */
void bld_kill_running(void);

#endif
