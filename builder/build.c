/*
 * The build loop: plan -> stages -> steps -> cached intermediate images ->
 * the tagged image.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/attest.h"
#include "runtime/cgroup.h"
#include "builder/internal.h"
#include "runtime/isolation.h"
#include "runtime/mount.h"
#include "runtime/sandbox.h"
#include "builder/steps.h"
#include "common/cancel.h"
#include "common/fs.h"
#include "common/util.h"

void bld_opts_init(bld_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->dockerfile_name = "Dockerfile";
	layer_opts_t lo = LAYER_OPTS_INIT;
	o->layer = lo;
	o->timestamp = -1;
	o->log = stderr;
}

bool bld_interrupted(void)
{
	return cb_cancelled();
}

static void on_interrupt(int sig)
{
	cb_cancel_request(sig); /* the copy, tar and layer loops check it */
	bld_kill_running();
}

/* While a build runs, Ctrl-C and SIGTERM cancel it cleanly: the running
 * step's processes are killed and the build fails with "interrupted". */
static void catch_interrupts(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	cb_cancel_reset();
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One write per call, each line with the stage's prefix when stages build
 * concurrently, so that lines of different stages never mix. */
void bld_log(build_t *b, const char *fmt, ...)
{
	if (b->o->progress == BLD_PROGRESS_QUIET || !b->o->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	cb_buf_t text;
	cb_buf_init(&text);
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	for (const char *p = msg; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (b->prefix)
			cb_buf_addstr(&text, b->prefix);
		cb_buf_add(&text, p, n);
		p += n;
	}
	flockfile(b->o->log);
	fwrite(text.data, 1, text.len, b->o->log);
	fflush(b->o->log);
	funlockfile(b->o->log);
	cb_buf_release(&text);
}

static void short_digest(const char *d, char out[20])
{
	snprintf(out, 20, "sha256:%.12s", digest_is_valid(d) ? digest_hex(d) : "?");
}

/* ---- bases ---- */

static int resolve_image(build_t *b, const char *ref, const char *platform, bld_state_t *out,
			 cb_error_t *err)
{
	if (!b->o->resolver.resolve)
		return cb_error_fail(err, ENOENT, "no way to find image '%s'", ref);
	_cleanup_free_ char *md = NULL;
	if (b->o->resolver.resolve(b->o->resolver.ctx, b->st, ref, b->o->pull,
				   platform ? platform : b->o->platform, &md, err) < 0)
		return -1;
	return bld_state_from_image(out, b->st, md, err);
}

/* A --from naming no stage that cannot be resolved was most likely meant as
 * a stage: say so, with the closest stage name when one is near. */
int bld_named_image_state(build_t *b, int line, const char *name, bld_state_t *out,
			  cb_error_t *err)
{
	_cleanup_free_ char *md = NULL;
	int rc = b->o->resolver.resolve
			 ? b->o->resolver.resolve(b->o->resolver.ctx, b->st, name, b->o->pull,
						  b->o->platform, &md, err)
			 : cb_error_fail(err, ENOENT, "no way to find image '%s'", name);
	if (rc < 0) {
		_cleanup_free_ char *at = line > 0 ? cb_asprintf("%s:%d: ", b->o->dockerfile_name, line)
						    : cb_xstrdup("");
		const char *near = df_tree_suggest_stage(b->tree, name);
		if (!near)
			return cb_error_wrap(err, "%sno stage or image named \"%s\"", at, name);
		int code = err && err->code ? err->code : ENOENT;
		cb_error_release(err);
		return cb_error_fail(err, code,
				     "%sno stage or image named \"%s\" (did you mean stage \"%s\"?)", at,
				     name, near);
	}
	return bld_state_from_image(out, b->st, md, err);
}

/* FROM scratch is the stage's platform (FROM --platform, else the target):
 * its config says so, and its cache key differs per platform. */
static int scratch_state(build_t *b, const df_stage_t *stage, bld_state_t *s, cb_error_t *err)
{
	oci_platform_t p;
	if (oci_platform_parse(stage->platform ? stage->platform : b->o->platform, &p, err) < 0)
		return cb_error_wrap(err, "%s:%d: FROM scratch", b->o->dockerfile_name, stage->line);
	memset(s, 0, sizeof(*s));
	s->config = oci_config_new();
	oci_config_set_platform(s->config, &p);
	_cleanup_free_ char *ps = oci_platform_format(&p);
	snprintf(s->key, sizeof(s->key), "scratch %s", ps);
	return 0;
}

void bld_base_config(const oci_config_t *config, df_base_config_t *out)
{
	*out = (df_base_config_t){config->env, config->on_build, config->working_dir,
				  config->shell, config->user};
}

/* As BuildKit does, an image without PATH gets the default one, so that
 * `docker run` of it finds programs the way its RUN steps did. Before the parser
 * re-expands the stage: `ENV PATH=/x:$PATH` sees that default, as in BuildKit. */
static void ensure_path(bld_state_t *s)
{
	if (!oci_config_getenv(s->config, "PATH"))
		oci_config_setenv(s->config, "PATH", BLD_DEFAULT_PATH);
}

static int stage_base_state(build_t *b, int idx, bld_state_t *s, cb_error_t *err)
{
	const df_stage_t *stage = df_plan_stage(b->plan, idx);
	switch (stage->base_kind) {
	case DF_BASE_SCRATCH:
		return scratch_state(b, stage, s, err);
	case DF_BASE_STAGE:
		if (!b->stage_done[stage->base_stage])
			CB_BUG("stage %d built before its base %d", idx, stage->base_stage);
		bld_state_copy(s, &b->stages[stage->base_stage]);
		return 0;
	case DF_BASE_IMAGE:
		break;
	}
	/* resolved while planning (plan_base) */
	if ((size_t)idx >= b->n_bases || !b->bases[idx].config)
		CB_BUG("stage %d: base image not resolved", idx);
	*s = b->bases[idx];
	memset(&b->bases[idx], 0, sizeof(b->bases[idx]));
	return 0;
}

static int stage_base(build_t *b, int idx, bld_state_t *s, cb_error_t *err)
{
	int rc = stage_base_state(b, idx, s, err);
	if (rc == 0)
		ensure_path(s);
	return rc;
}

/* df_base_resolver_t of the build: every FROM image the target needs is
 * resolved (pulled) while the plan is made, so that its steps expand with
 * the image's Env, WorkingDir, Shell and User and its ONBUILD triggers are
 * in the plan; the plan is final before any stage runs. */
static int plan_base(void *ctx, const df_stage_t *stage, df_base_config_t *cfg, cb_error_t *err)
{
	build_t *b = ctx;
	int idx = stage->index;
	if ((size_t)idx >= b->n_bases) {
		b->bases = cb_xreallocarray(b->bases, (size_t)idx + 1, sizeof(bld_state_t));
		memset(&b->bases[b->n_bases], 0, ((size_t)idx + 1 - b->n_bases) * sizeof(bld_state_t));
		b->n_bases = (size_t)idx + 1;
	}
	bld_state_t *s = &b->bases[idx];
	if (resolve_image(b, stage->base_image, stage->platform, s, err) < 0) {
		b->base_failed = true;
		return cb_error_wrap(err, "%s:%d: FROM %s", b->o->dockerfile_name, stage->line,
				     stage->base_image);
	}
	/* BuildKit: `ENV PATH=/x:$PATH` sees the default PATH */
	ensure_path(s);
	/* the triggers run in this stage, they do not pass to its children */
	cb_strv_free(b->held_onbuild);
	b->held_onbuild = s->config->on_build;
	s->config->on_build = NULL;
	bld_base_config(s->config, cfg);
	cfg->onbuild = b->held_onbuild;
	return 1;
}

/* ---- one step ---- */

/* A cache entry: behind the steps when the build has a committer. */
static int cache_store(build_t *b, const char *key, const char *md, const char *desc,
		       cb_error_t *err)
{
	if (b->committer)
		return bld_committer_cache(b->committer, key, md, desc, err);
	return bld_cache_store(b->st, key, md, desc, err);
}

/* s's config and layers as an image (s->manifest_digest); no cache entry.
 * id gets the short image ID to show (the config's digest: known before
 * the manifest is). */
static int commit_image(build_t *b, bld_state_t *s, char id[20], cb_error_t *err)
{
	if (b->committer) {
		char cd[DIGEST_STR_LEN + 1];
		if (bld_committer_commit(b->committer, s, cd, err) < 0)
			return -1;
		short_digest(cd, id);
		return 0;
	}
	image_t *img = image_commit(b->st, s->config, s->layers, s->n_layers, b->o->docker_format,
				    err);
	if (!img)
		return -1;
	snprintf(s->manifest_digest, sizeof(s->manifest_digest), "%s", img->manifest_digest);
	short_digest(img->config_digest, id);
	image_free(img);
	return 0;
}

/* A cache entry for key naming s's image: through the committer (in order
 * with the commit it names) when there is one. */
static int store_entry(build_t *b, const char *key, const bld_state_t *s, const char *desc,
		       cb_error_t *err)
{
	return b->committer ? cache_store(b, key, s->manifest_digest, desc, err)
			    : bld_cache_store(b->st, key, s->manifest_digest, desc, err);
}

/* Commit s as an image and a cache entry (for desc). */
static int commit_state(build_t *b, bld_state_t *s, const char *desc, char id[20],
			cb_error_t *err)
{
	free(s->config->created);
	s->config->created = cb_xstrdup(b->created);
	if (commit_image(b, s, id, err) < 0)
		return -1;
	if (b->o->no_cache && !desc)
		return 0;
	return store_entry(b, s->key, s, desc, err);
}

/* The cache lookup, local first, then --cache-from; on a hit s becomes the
 * cached state, *remote names the cache it came from (NULL: local) and id
 * gets its short image ID (the config's digest, as a step that runs shows). */
static bool cache_hit(build_t *b, const char *key, bld_state_t *s, const char **remote,
		      char id[20])
{
	*remote = NULL;
	if (b->o->no_cache)
		return false;
	char *hit = bld_cache_lookup(b->st, key);
	cb_error_t e = CB_ERROR_INIT;
	if (!hit && bld_remote_lookup(b->o->cache_from, b->st, key, &hit, remote, &e) < 0) {
		bld_log(b, "warning: %s\n", e.msg ? e.msg : "remote cache entry unusable");
		cb_error_release(&e);
	}
	bld_state_t cached;
	if (!hit || bld_state_from_image(&cached, b->st, hit, &e) < 0) {
		cb_error_release(&e);
		free(hit);
		return false;
	}
	free(hit);
	short_digest(cached.key, id); /* the config digest until the next line */
	snprintf(cached.key, sizeof(cached.key), "%s", key);
	/* A build keeping every layer gzip (!bld_keep_plain) makes a hit's plain
	 * layer its gzip variant, the entry naming that image from now on (no
	 * plain layer exported); same config and image ID. Failing: a miss. */
	bool gz = false;
	char cid[20];
	if (bld_gzip_plain_layers(b, &cached, &gz, &e) < 0 ||
	    (gz && (commit_image(b, &cached, cid, &e) < 0 ||
		    cache_store(b, key, cached.manifest_digest, NULL, &e) < 0))) {
		bld_log(b, "warning: %s\n", e.msg ? e.msg : "cache hit unusable");
		cb_error_release(&e);
		bld_state_release(&cached);
		return false;
	}
	bld_state_release(s);
	*s = cached;
	return true;
}

/* ---- COPY --link: a layer that does not depend on the layers below ----
 *
 * As BuildKit: the layer of a COPY --link is reused whatever the steps
 * before it did. Its own cache entry, keyed by the step and its files
 * only (the "link key"), names the image it was first built into, whose
 * last layer it is; a hit appends that layer to the current state. The
 * step's state key still chains from the parent, so later steps depend on
 * everything below them. --chown by name reads the image's /etc/passwd:
 * those copies stay chained. */
static bool is_link_copy(const df_step_t *step)
{
	if ((step->kind != DF_COPY && step->kind != DF_ADD) || !step->u.copy.link)
		return false;
	const char *c = step->u.copy.chown;
	return !c || c[strspn(c, "0123456789:")] == '\0';
}

static bool link_hit(build_t *b, const df_step_t *step, const char *lkey, bld_state_t *s)
{
	if (b->o->no_cache)
		return false;
	_cleanup_free_ char *md = bld_cache_lookup(b->st, lkey);
	bld_state_t cached;
	cb_error_t e = CB_ERROR_INIT;
	if (!md || bld_state_from_image(&cached, b->st, md, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	size_t nh = cached.config->n_history;
	bool ok = cached.n_layers > 0 && nh > 0 && !cached.config->history[nh - 1].empty_layer;
	if (ok) {
		const oci_descriptor_t *d = &cached.layers[cached.n_layers - 1];
		layer_result_t res;
		memset(&res, 0, sizeof(res));
		snprintf(res.digest, sizeof(res.digest), "%s", d->digest);
		snprintf(res.diff_id, sizeof(res.diff_id), "%s",
			 cached.config->diff_ids[cached.n_layers - 1]);
		res.media_type = d->media_type;
		res.size = d->size;
		bld_state_add_layer(s, &res);
		_cleanup_free_ char *text = bld_step_history(step);
		oci_config_add_history(s->config, b->created, text, NULL, false);
	}
	bld_state_release(&cached);
	return ok;
}

/* --cache-to's record of finished steps: one list for all stages. */
static void trail_add(build_t *b, int stage, const char *key, const char *md, const char *step)
{
	if (b->committer) { /* in order with the commits it may name */
		cb_error_t e = CB_ERROR_INIT;
		if (b->o->cache_to && bld_committer_trail(b->committer, stage, key, md, step, &e) < 0)
			cb_error_release(&e); /* the committer failed: the build will say */
		return;
	}
	if (b->shared_mu)
		pthread_mutex_lock(b->shared_mu);
	bld_cache_trail_add(b, stage, key, md, step);
	if (b->shared_mu)
		pthread_mutex_unlock(b->shared_mu);
}

/* A step that changes the config only. */
static bool is_meta(const df_step_t *st)
{
	return !df_instruction(st->kind)->makes_layer && st->kind != DF_ARG;
}

/* The last step of the run of config-only steps that starts at i (ARGs
 * inside the run belong to it); i itself if the next one is not. */
static size_t meta_run_end(const df_stage_t *stage, size_t i)
{
	size_t last = i;
	for (size_t k = i + 1; k < stage->n_steps; k++) {
		if (stage->steps[k].kind == DF_ARG)
			continue;
		if (!is_meta(&stage->steps[k]))
			break;
		last = k;
	}
	return last;
}

/* A run of config-only steps i..j is committed (image and cache entry)
 * only at its end: committing each of them wrote a config holding every
 * ENV so far, n times over (4,000 ENV lines: 105 s, quadratic). So the
 * run is looked up by its last key, computed along the chain as the steps
 * would; a hit covers every step of the run. */
static bool meta_run_hit(build_t *b, int stage_idx, size_t i, size_t j, bld_state_t *s)
{
	const df_stage_t *stage = df_plan_stage(b->plan, stage_idx);
	char key[DIGEST_STR_LEN + 1], next[DIGEST_STR_LEN + 1];
	snprintf(key, sizeof(key), "%s", s->key);
	for (size_t m = i; m <= j; m++) {
		const df_step_t *step = &stage->steps[m];
		if (step->kind == DF_ARG)
			continue;
		_cleanup_free_ char *canon = bld_step_canonical(step, s->config);
		_cleanup_free_ char *inputs = NULL;
		cb_error_t e = CB_ERROR_INIT;
		if (bld_step_inputs(b, step, s, &inputs, NULL, &e) < 0) {
			cb_error_release(&e);
			return false;
		}
		bld_cache_key(key, canon, inputs, next);
		memcpy(key, next, sizeof(key));
	}
	const char *remote = NULL;
	char id[20];
	if (!cache_hit(b, key, s, &remote, id))
		return false;
	for (size_t m = i; m <= j; m++) {
		const df_step_t *step = &stage->steps[m];
		bld_log(b, "STEP %d/%d: %s\n", step->number, b->plan->total_steps, step->original);
		if (step->kind != DF_ARG)
			bld_log(b, "--> Using cache %s%s%s%s\n", id,
				remote ? " (remote hit: " : b->o->explain_cache ? " (local hit" : "",
				remote ? remote : "", remote || b->o->explain_cache ? ")" : "");
	}
	trail_add(b, stage_idx, key, s->manifest_digest, stage->steps[j].original);
	return true;
}

/* COPY/ADD --from a stage or image (not --link, not a URL or git source):
 * looked up by its files too when its source's key misses. */
static bool keyed_by_content(const df_step_t *step)
{
	const df_copy_t *cp = &step->u.copy;
	return (step->kind == DF_COPY || step->kind == DF_ADD) && cp->from && cp->sources &&
	       cp->sources[0] && !cp->link && !bld_remote_source(step);
}

/* The key later steps chain from after a COPY --from: the layer it added
 * (its diff ID) on the parent, whichever of its two keys hit or whether it
 * ran, so a source stage that changed but gave the same files (a hit by
 * content reuses the old layer) leaves the steps after it cached. */
static void chain_by_layer(const char *parent, const char *canon, size_t layers_before,
			   bld_state_t *s)
{
	const char *top = s->n_layers > layers_before ? s->config->diff_ids[s->n_layers - 1] : "none";
	_cleanup_free_ char *in = cb_asprintf("layer:%s", top);
	bld_cache_key(parent, canon, in, s->key);
}

/* A COPY --from that missed by its source's key: a hit by the files it
 * copies (*key2 gets that key either way, "" when not computed). */
static bool content_hit(build_t *b, int stage_idx, const df_step_t *step, const char *key,
			const char *parent, const char *canon, size_t layers_before, bld_state_t *s,
			char key2[DIGEST_STR_LEN + 1])
{
	key2[0] = 0;
	_cleanup_free_ char *inputs = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (b->o->no_cache || bld_step_from_content(b, step, &inputs, &e) < 0) {
		cb_error_release(&e); /* the step runs and says what is wrong */
		return false;
	}
	bld_cache_key(parent, canon, inputs, key2);
	const char *remote = NULL;
	char shown[20];
	if (!cache_hit(b, key2, s, &remote, shown))
		return false;
	bld_log(b, "STEP %d/%d: %s\n--> Using cache %s (the same files)\n", step->number,
		b->plan->total_steps, step->original, shown);
	/* the next build hits by the source's key, without a checksum */
	if (store_entry(b, key, s, step->original, &e) < 0)
		cb_error_release(&e);
	trail_add(b, stage_idx, key, s->manifest_digest, step->original);
	trail_add(b, stage_idx, key2, s->manifest_digest, step->original);
	chain_by_layer(parent, canon, layers_before, s);
	return true;
}

/* defer: a config-only step followed by more of them: on a miss its state
 * is not committed (meta_run_hit). */
static int run_step(build_t *b, int stage_idx, size_t step_idx, bool defer, bld_state_t *s,
		    cb_error_t *err)
{
	const df_step_t *step = &df_plan_stage(b->plan, stage_idx)->steps[step_idx];
	if (step->kind == DF_ARG) { /* ARG changes only what later steps see */
		bld_log(b, "STEP %d/%d: %s\n", step->number, b->plan->total_steps, step->original);
		return 0;
	}
	double t0 = now_s();
	_cleanup_free_ char *canon = bld_step_canonical(step, s->config);
	_cleanup_free_ char *inputs = NULL;
	if (bld_step_inputs(b, step, s, &inputs, NULL, err) < 0)
		return -1;
	char key[DIGEST_STR_LEN + 1], lkey[DIGEST_STR_LEN + 1] = "";
	bool link = is_link_copy(step);
	if (link) { /* the layer's key leaves the parent out; the state's does not */
		bld_cache_key("link", canon, inputs, lkey);
		bld_cache_key(s->key, "link", lkey, key);
	} else {
		bld_cache_key(s->key, canon, inputs, key);
	}
	const char *remote = NULL;
	char parent[DIGEST_STR_LEN + 1];
	snprintf(parent, sizeof(parent), "%s", s->key); /* s->key moves on below */
	char shown[20];
	size_t layers_before = s->n_layers;
	bool by_content = keyed_by_content(step);
	if (cache_hit(b, key, s, &remote, shown)) {
		if (remote)
			bld_explain_record_remote(b, stage_idx, step_idx, step, parent, canon, inputs);
		bld_url_cleanup(b);
		bld_log(b, "STEP %d/%d: %s\n--> Using cache %s%s%s%s\n", step->number,
			b->plan->total_steps, step->original, shown,
			remote ? " (remote hit: " : b->o->explain_cache ? " (local hit" : "",
			remote ? remote : "", remote || b->o->explain_cache ? ")" : "");
		trail_add(b, stage_idx, key, s->manifest_digest, step->original);
		if (by_content)
			chain_by_layer(parent, canon, layers_before, s);
		return 0;
	}
	char key2[DIGEST_STR_LEN + 1] = "";
	if (by_content &&
	    content_hit(b, stage_idx, step, key, parent, canon, layers_before, s, key2))
		return 0;
	if (link && link_hit(b, step, lkey, s)) {
		bld_url_cleanup(b);
		snprintf(s->key, sizeof(s->key), "%s", key);
		if (commit_state(b, s, step->original, shown, err) < 0)
			return -1;
		bld_log(b, "STEP %d/%d: %s\n--> Using cached layer (--link) %s\n", step->number,
			b->plan->total_steps, step->original, shown);
		trail_add(b, stage_idx, key, s->manifest_digest, step->original);
		return 0;
	}
	/* a miss: say why (the files are listed again from the stat cache;
	 * --no-cache explains nothing, so it needs no second walk) */
	json_t *files = json_object();
	cb_error_t e = CB_ERROR_INIT;
	_cleanup_free_ char *again = NULL;
	if (!b->o->no_cache && bld_step_inputs(b, step, s, &again, files, &e) < 0)
		cb_error_release(&e);
	bld_step_id_t id = {parent, canon, inputs, files};
	_cleanup_free_ char *why = b->o->no_cache ? NULL : bld_explain_miss(b, stage_idx, step_idx, &id);
	if (why && bld_remote_cache_count(b->o->cache_from)) { /* it was looked for there too */
		char *more = cb_asprintf("%s; not in the remote cache", why);
		free(why);
		why = more;
	}
	bld_log(b, "STEP %d/%d: %s%s%s%s\n", step->number, b->plan->total_steps, step->original,
		why ? "  (cache miss: " : "", why ? why : "", why ? ")" : "");
	/* the per-file tree is big for a large context: keep only its text
	 * while the step runs (the record is written only if it succeeds) */
	_cleanup_free_ char *record = b->o->no_cache ? NULL : bld_explain_text(&id);
	json_decref(files);
	id.files = NULL;
	/* every later step misses too: the namespace is made while this one runs */
	if (bld_stage_needs_runnet(b, stage_idx, step_idx))
		bld_runnet_prepare(b->runnet);
	int rc = bld_step_execute(b, step, s, err);
	bld_url_cleanup(b);
	if (rc < 0)
		cb_error_wrap(err, "%s:%d", b->o->dockerfile_name, step->line);
	snprintf(s->key, sizeof(s->key), "%s", key);
	if (rc == 0 && defer) {
		/* a config-only step whose commit waits for the run's last
		 * step: its record still says why the next build misses */
		bld_explain_write(b, stage_idx, step_idx, record);
		return 0;
	}
	if (rc == 0)
		rc = commit_state(b, s, step->original, shown, err);
	if (rc == 0 && link && !b->o->no_cache && s->n_layers > layers_before)
		rc = cache_store(b, lkey, s->manifest_digest, step->original, err);
	if (rc == 0) /* only a step that ran to the end, its files listed */
		bld_explain_write(b, stage_idx, step_idx, record);
	if (rc == 0 && key2[0] && !b->o->no_cache)
		rc = store_entry(b, key2, s, step->original, err);
	if (rc < 0)
		return -1;
	trail_add(b, stage_idx, key, s->manifest_digest, step->original);
	if (key2[0])
		trail_add(b, stage_idx, key2, s->manifest_digest, step->original);
	if (by_content)
		chain_by_layer(parent, canon, layers_before, s);
	bld_log(b, "--> %s (%.2fs)\n", shown, now_s() - t0);
	return 0;
}

int bld_build_stage(build_t *b, size_t pos, bld_state_t *out, cb_error_t *err)
{
	/* the plan is read-only and never changes: this pointer stays good */
	const df_stage_t *stage = &b->plan->stages[pos];
	int idx = stage->index;
	bld_log(b, "STEP %d/%d: %s\n", stage->number, b->plan->total_steps, stage->original);
	bld_state_t s;
	if (stage_base(b, idx, &s, err) < 0)
		return -1;
	b->cmd_set = false;
	size_t run_end = 0; /* steps up to here: a config-only run that missed */
	for (size_t i = 0; i < stage->n_steps; i++) {
		bool defer = false;
		if (is_meta(&stage->steps[i])) {
			size_t j = i < run_end ? run_end : meta_run_end(stage, i);
			if (j > i && i >= run_end && meta_run_hit(b, idx, i, j, &s)) {
				i = j;
				continue;
			}
			run_end = j;
			defer = i < j;
		}
		if (bld_stopping(b) || run_step(b, idx, i, defer, &s, err) < 0) {
			if (!cb_error_is_set(err))
				cb_error_fail(err, EINTR, "build interrupted");
			bld_state_release(&s);
			return -1;
		}
	}
	*out = s;
	return 0;
}

/* --label and the final commit of the target stage. */
static int finish_image(build_t *b, bld_state_t *s, cb_error_t *err)
{
	bool gz = false;
	char id[20];
	if (bld_gzip_plain_layers(b, s, &gz, err) < 0 || (gz && commit_image(b, s, id, err) < 0))
		return -1;
	bool changed = false;
	for (size_t i = 0; b->o->labels && b->o->labels[i]; i++) {
		const char *eq = strchr(b->o->labels[i], '=');
		_cleanup_free_ char *k = eq ? cb_xstrndup(b->o->labels[i], (size_t)(eq - b->o->labels[i]))
					    : cb_xstrdup(b->o->labels[i]);
		oci_config_set_label(s->config, k, eq ? eq + 1 : "");
		changed = true;
	}
	if (!changed && s->manifest_digest[0])
		return 0;
	return commit_state(b, s, NULL, id, err);
}

/* Name the result; without a tag it is kept as an untagged image (docker's
 * `<none>`), reachable by its ID until rmi or prune. */
static int tag_image(build_t *b, const char *manifest_digest, cb_error_t *err)
{
	int64_t size = store_blob_size(b->st, manifest_digest, err);
	if (size < 0)
		return -1;
	const char *mt = b->o->docker_format ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(b->st, manifest_digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	if (oci_media_type_is_index(oci_document_media_type(data, len)))
		mt = MT_OCI_INDEX;
	else if (strstr(data, MT_DOCKER_MANIFEST))
		mt = MT_DOCKER_MANIFEST;
	else
		mt = MT_OCI_MANIFEST;
	if (!b->o->tags || !b->o->tags[0])
		return store_set_ref(b->st, NULL, manifest_digest, mt, size, err);
	for (size_t i = 0; b->o->tags[i]; i++) {
		if (store_set_ref(b->st, b->o->tags[i], manifest_digest, mt, size, err) < 0)
			return -1;
	}
	return 0;
}

static int open_context(build_t *b, cb_error_t *err)
{
	b->ctx.dir = b->o->context_dir;
	b->ctx.dirfd = open(b->o->context_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->ctx.dirfd < 0)
		return cb_error_errno(err, "open build context '%s'", b->o->context_dir);
	b->ctx.sums = bld_ctxsum_open(b->st, b->o->context_dir);
	if (b->o->dockerignore &&
	    df_ignore_parse(b->o->dockerignore, b->o->dockerignore_len, &b->ctx.ignore, err) < 0)
		return cb_error_wrap(err, ".dockerignore");
	return 0;
}

static int plan_build(build_t *b, cb_error_t *err)
{
	df_plan_opts_t po = {0};
	po.build_args = b->o->build_args;
	po.target = b->o->target;
	oci_platform_t host;
	oci_platform_host(&host);
	_cleanup_free_ char *hs = oci_platform_format(&host);
	po.platform.build_platform = hs; /* BUILDPLATFORM: this machine */
	po.platform.target_platform = b->o->platform;
	po.base = (df_base_resolver_t){plan_base, b};
	char **warnings = NULL;
	if (df_parse(b->o->dockerfile_name, b->o->dockerfile, b->o->dockerfile_len, &b->tree,
		     err) < 0)
		return -1;
	/* every RUN runs: its namespace is made while the bases are pulled */
	if (b->o->no_cache && !b->o->check_only && bld_tree_needs_runnet(b))
		bld_runnet_prepare(b->runnet);
	if (df_plan_build(b->tree, &po, &b->owned_plan, &warnings, err) < 0)
		return -1;
	b->plan = b->owned_plan;
	/* every stage index has its slot (bases[] was grown while planning) */
	size_t n = (size_t)b->plan->n_total_stages + 1;
	b->bases = cb_xreallocarray(b->bases, n, sizeof(bld_state_t));
	memset(&b->bases[b->n_bases], 0, (n - b->n_bases) * sizeof(bld_state_t));
	b->n_bases = n;
	for (size_t i = 0; warnings && warnings[i]; i++)
		bld_log(b, "%s\n", warnings[i]);
	cb_strv_free(warnings);
	return 0;
}

/* BuildKit validates the entitlements of the whole graph before it runs
 * anything; so does this, for the stages the target needs. */
static int check_entitlements(build_t *b, cb_error_t *err)
{
	for (size_t s = 0; s < b->plan->n_stages; s++) {
		const df_stage_t *st = &b->plan->stages[s];
		for (size_t i = 0; i < st->n_steps; i++)
			if (st->steps[i].kind == DF_RUN && st->steps[i].u.run.insecure &&
			    !b->o->allow_insecure)
				return cb_error_fail(err, EPERM, "security.insecure is not allowed");
	}
	return 0;
}

/* The RUN pids limit: the default only where it can be applied (rootless,
 * or a host without the pids controller, runs without one, and says so);
 * a limit asked for is applied or the RUN fails. */
static void choose_run_pids(build_t *b)
{
	b->run_pids = b->o->run_pids_limit;
	if (b->run_pids != 0)
		return;
	b->run_pids = BLD_RUN_PIDS_LIMIT;
	_cleanup_free_ char *base = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (sbx_cgroup_pids_base(&base, &e) < 0) { /* rootless: no delegated cgroup, say */
		char why[512];
		bld_log(b, "[Warning] RUN steps have no pids limit: %s\n",
			cb_error_format(&e, why, sizeof why));
		cb_error_release(&e);
		b->run_pids = -1;
	}
}

/* Wait for what the committer has left (the last layers' blobs, the last
 * images) and give the states their real digests. */
static int settle(build_t *b, cb_error_t *err)
{
	if (!b->committer)
		return 0;
	if (bld_committer_drain(b->committer, err) < 0)
		return -1;
	for (int i = 0; i < b->plan->n_total_stages; i++)
		if (b->stage_done[i] && bld_committer_resolve(b->committer, &b->stages[i], err) < 0)
			return -1;
	return 0;
}

static void build_release(build_t *b)
{
	bld_committer_free(b->committer); /* first: it uses the rest */
	b->committer = NULL;
	bld_runnet_free(b->runnet);
	b->runnet = NULL;
	bld_url_cleanup(b);
	for (int i = 0; b->stages && i < b->plan->n_total_stages; i++)
		if (b->stage_done[i])
			bld_state_release(&b->stages[i]);
	for (size_t i = 0; i < b->n_bases; i++)
		bld_state_release(&b->bases[i]);
	free(b->bases);
	cb_strv_free(b->held_onbuild);
	free(b->stages);
	free(b->stage_done);
	df_plan_free(b->owned_plan);
	df_tree_free(b->tree);
	df_ignore_free(b->ctx.ignore);
	bld_ctxsum_close(b->ctx.sums);
	if (b->ctx.dirfd >= 0)
		close(b->ctx.dirfd);
	free(b->created);
	cb_strv_free(b->base_refs);
	json_decref(b->cache_trail);
}

void bld_result_release(bld_result_t *res)
{
	bld_cache_artifact_release(&res->cache);
	free(res->attestation);
	res->attestation = NULL;
}

/* After the isolation is known: no mount, no overlay (said once). */
static int choose_snapshotter(store_t *st, cb_error_t *err)
{
	bld_snap_driver_t d;
	const char *why = NULL;
	if (bld_snap_driver_resolve(st, &d, &why, err) < 0)
		return -1;
	if (why) {
		_cleanup_free_ char *text = cb_asprintf("copy (%s)", why);
		rt_iso_fallback("snapshotter", text);
	}
	return 0;
}

int bld_build(store_t *st, const bld_opts_t *o, bld_result_t *res, cb_error_t *err)
{
	build_t b = {.st = st, .o = o, .keep_plain = bld_keep_plain(o)};
	b.ctx.dirfd = -1;
	int rc = -1;
	double t0 = now_s();
	struct sigaction old_int, old_term;
	catch_interrupts(&old_int, &old_term);
	b.runnet = bld_runnet_new(st, !o->network_host && !o->network_none);
	if (rt_enter_mount_ns(err) < 0 || choose_snapshotter(st, err) < 0 ||
	    open_context(&b, err) < 0)
		goto out;
	if (plan_build(&b, err) < 0) {
		if (o->check_only && !b.base_failed)
			bld_checks_unplanned(&b);
		goto out;
	}
	if (check_entitlements(&b, err) < 0)
		goto out;
	choose_run_pids(&b);
	b.created = oci_time_now(o->timestamp);
	b.started = (int64_t)time(NULL);
	b.stages = cb_xcalloc((size_t)b.plan->n_total_stages + 1, sizeof(bld_state_t));
	b.stage_done = cb_xcalloc((size_t)b.plan->n_total_stages + 1, sizeof(bool));
	memset(res, 0, sizeof(*res));
	/* CBUILD_SYNC_COMMIT=1: every step's blobs written before the next
	 * step (as before the committer; tests compare the two) */
	const char *sync_commit = getenv("CBUILD_SYNC_COMMIT");
	if (!o->check_only && !(sync_commit && !strcmp(sync_commit, "1")))
		b.committer = bld_committer_new(&b);
	/* every RUN runs: the namespace is made while the first steps prepare */
	if (o->no_cache && !o->check_only && bld_plan_needs_runnet(&b))
		bld_runnet_prepare(b.runnet);
	if (bld_build_stages(&b, &res->check_warnings, err) < 0)
		goto out;
	/* torn down while the image is written */
	bld_runnet_release(b.runnet);
	if (o->check_only) {
		rc = 0;
		goto out;
	}
	bld_state_t *final = &b.stages[b.plan->target];
	/* a signal during the last step must not end in a tagged image */
	if (cb_cancel_check(err) < 0 || finish_image(&b, final, err) < 0 || settle(&b, err) < 0 ||
	    cb_cancel_check(err) < 0)
		goto out;
	snprintf(res->tagged_digest, sizeof(res->tagged_digest), "%s", final->manifest_digest);
	/* a platform's image in a multi-platform build is tagged, and its
	 * attestation manifest listed, only through the index
	 * bld_build_platforms makes */
	if (o->index_child ? bld_attest_entry(&b, final, &res->attestation, err) < 0
			   : (bld_attest(&b, final, res->tagged_digest, err) < 0 ||
			      cb_cancel_check(err) < 0 || tag_image(&b, res->tagged_digest, err) < 0))
		goto out;
	image_t *img = image_load(st, final->manifest_digest, err);
	if (!img)
		goto out;
	snprintf(res->image_id, sizeof(res->image_id), "%s", img->config_digest);
	snprintf(res->manifest_digest, sizeof(res->manifest_digest), "%s", img->manifest_digest);
	image_free(img);
	memset(&res->cache, 0, sizeof(res->cache));
	if (o->cache_to && bld_cache_export(&b, &res->cache, err) < 0)
		goto out;
	char id[20];
	short_digest(res->image_id, id);
	bld_log(&b, "COMMIT %s (%.2fs)\n", id, now_s() - t0);
	rc = 0;
out:
	build_release(&b);
	bld_snap_copy_release();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
