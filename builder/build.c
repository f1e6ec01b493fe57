/*
 * The build loop: plan -> stages -> steps -> cached intermediate images ->
 * the tagged image.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/internal.h"
#include "builder/sandbox.h"
#include "builder/steps.h"
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

static volatile sig_atomic_t interrupted;

bool bld_interrupted(void)
{
	return interrupted != 0;
}

static void on_interrupt(int sig)
{
	interrupted = sig;
	bld_kill_running();
}

/* While a build runs, Ctrl-C and SIGTERM cancel it cleanly: the running
 * step's processes are killed and the build fails with "interrupted". */
static void catch_interrupts(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
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

void bld_log(build_t *b, const char *fmt, ...)
{
	if (b->o->progress == BLD_PROGRESS_QUIET || !b->o->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(b->o->log, fmt, ap);
	va_end(ap);
	fflush(b->o->log);
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

static void scratch_state(build_t *b, bld_state_t *s)
{
	memset(s, 0, sizeof(*s));
	s->config = oci_config_new();
	snprintf(s->key, sizeof(s->key), "%s", "scratch");
	(void)b;
}

static int stage_base_state(build_t *b, int idx, bld_state_t *s, cb_error_t *err)
{
	df_stage_t *stage = df_plan_stage(b->plan, idx);
	switch (stage->base_kind) {
	case DF_BASE_SCRATCH:
		scratch_state(b, s);
		return 0;
	case DF_BASE_STAGE:
		if (!b->stage_done[stage->base_stage])
			CB_BUG("stage %d built before its base %d", idx, stage->base_stage);
		bld_state_copy(s, &b->stages[stage->base_stage]);
		return 0;
	case DF_BASE_IMAGE:
		break;
	}
	_cleanup_free_ char *ref = cb_xstrdup(stage->base_image);
	_cleanup_free_ char *platform = stage->platform ? cb_xstrdup(stage->platform) : NULL;
	int line = stage->line;
	if (resolve_image(b, ref, platform, s, err) < 0)
		return cb_error_wrap(err, "%s:%d: FROM %s", b->o->dockerfile_name, line, ref);
	/* the parser re-expands the stage with the image's Env and inserts
	 * its ONBUILD triggers */
	df_base_config_t bc = {s->config->env, s->config->on_build, s->config->working_dir,
			       s->config->shell, s->config->user};
	if (df_plan_set_base_config(b->plan, idx, &bc, err) < 0)
		return -1;
	cb_strv_free(s->config->on_build); /* triggers do not pass to children */
	s->config->on_build = NULL;
	return 0;
}

/* As BuildKit does, an image without PATH gets the default one, so that
 * `docker run` of it finds programs the way its RUN steps did. */
static void ensure_path(bld_state_t *s)
{
	if (!oci_config_getenv(s->config, "PATH"))
		oci_config_setenv(s->config, "PATH", BLD_DEFAULT_PATH);
}

static int stage_base(build_t *b, int idx, bld_state_t *s, cb_error_t *err)
{
	int rc = stage_base_state(b, idx, s, err);
	if (rc == 0)
		ensure_path(s);
	return rc;
}

/* ---- one step ---- */

static int commit_state(build_t *b, bld_state_t *s, const char *desc, cb_error_t *err)
{
	free(s->config->created);
	s->config->created = cb_xstrdup(b->created);
	image_t *img = image_commit(b->st, s->config, s->layers, s->n_layers, b->o->docker_format,
				    err);
	if (!img)
		return -1;
	snprintf(s->manifest_digest, sizeof(s->manifest_digest), "%s", img->manifest_digest);
	image_free(img);
	if (b->o->no_cache && !desc)
		return 0;
	return bld_cache_store(b->st, s->key, s->manifest_digest, desc, err);
}

/* The cache lookup, local first, then --cache-from; on a hit s becomes the
 * cached state and *remote names the cache it came from (NULL: local). */
static bool cache_hit(build_t *b, const char *key, bld_state_t *s, const char **remote)
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
	bld_state_release(s);
	*s = cached;
	snprintf(s->key, sizeof(s->key), "%s", key);
	return true;
}

static int run_step(build_t *b, int stage_idx, size_t step_idx, bld_state_t *s, cb_error_t *err)
{
	df_step_t *step = &df_plan_stage(b->plan, stage_idx)->steps[step_idx];
	if (step->kind == DF_ARG) { /* ARG changes only what later steps see */
		bld_log(b, "STEP %d/%d: %s\n", step->number, b->plan->total_steps, step->original);
		return 0;
	}
	double t0 = now_s();
	_cleanup_free_ char *canon = bld_step_canonical(step, s->config);
	_cleanup_free_ char *inputs = NULL;
	if (bld_step_inputs(b, step, s, &inputs, NULL, err) < 0)
		return -1;
	char key[DIGEST_STR_LEN + 1];
	bld_cache_key(s->key, canon, inputs, key);
	const char *remote = NULL;
	char parent[DIGEST_STR_LEN + 1];
	snprintf(parent, sizeof(parent), "%s", s->key); /* s->key moves on below */
	if (cache_hit(b, key, s, &remote)) {
		if (remote)
			bld_explain_record_remote(b, stage_idx, step_idx, step, parent, canon, inputs);
		bld_url_cleanup(b);
		char id[20];
		short_digest(s->manifest_digest, id);
		bld_log(b, "STEP %d/%d: %s\n--> Using cache %s%s%s%s\n", step->number,
			b->plan->total_steps, step->original, id,
			remote ? " (remote hit: " : b->o->explain_cache ? " (local hit" : "",
			remote ? remote : "", remote || b->o->explain_cache ? ")" : "");
		bld_cache_trail_add(b, stage_idx, key, s->manifest_digest, step->original);
		return 0;
	}
	/* a miss: say why (the files are listed again from the stat cache) */
	json_t *files = json_object();
	cb_error_t e = CB_ERROR_INIT;
	_cleanup_free_ char *again = NULL;
	if (bld_step_inputs(b, step, s, &again, files, &e) < 0)
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
	int rc = bld_step_execute(b, step, s, err);
	bld_url_cleanup(b);
	if (rc < 0)
		cb_error_wrap(err, "%s:%d", b->o->dockerfile_name, step->line);
	snprintf(s->key, sizeof(s->key), "%s", key);
	if (rc == 0)
		rc = commit_state(b, s, step->original, err);
	if (rc == 0) /* recorded only for a step that ran to the end */
		bld_explain_record(b, stage_idx, step_idx, &id);
	json_decref(files);
	if (rc < 0)
		return -1;
	bld_cache_trail_add(b, stage_idx, key, s->manifest_digest, step->original);
	char sid[20];
	short_digest(s->manifest_digest, sid);
	bld_log(b, "--> %s (%.2fs)\n", sid, now_s() - t0);
	return 0;
}

static int build_stage(build_t *b, size_t pos, cb_error_t *err)
{
	int idx = b->plan->stages[pos].index;
	df_stage_t *stage = &b->plan->stages[pos];
	bld_log(b, "STEP %d/%d: %s\n", stage->number, b->plan->total_steps, stage->original);
	bld_state_t s;
	if (stage_base(b, idx, &s, err) < 0)
		return -1;
	b->cmd_set = false;
	stage = df_plan_stage(b->plan, idx); /* set_base may have rebuilt it */
	for (size_t i = 0; i < stage->n_steps; i++) {
		if (bld_interrupted() || run_step(b, idx, i, &s, err) < 0) {
			if (!cb_error_is_set(err))
				cb_error_fail(err, EINTR, "build interrupted");
			bld_state_release(&s);
			return -1;
		}
		stage = df_plan_stage(b->plan, idx);
	}
	b->stages[idx] = s;
	b->stage_done[idx] = true;
	return 0;
}

/* --label and the final commit of the target stage. */
static int finish_image(build_t *b, bld_state_t *s, cb_error_t *err)
{
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
	return commit_state(b, s, NULL, err);
}

static int tag_image(build_t *b, const char *manifest_digest, cb_error_t *err)
{
	if (!b->o->tags || !b->o->tags[0])
		return 0;
	int64_t size = store_blob_size(b->st, manifest_digest, err);
	if (size < 0)
		return -1;
	const char *mt = b->o->docker_format ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(b->st, manifest_digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	if (strstr(data, MT_DOCKER_MANIFEST))
		mt = MT_DOCKER_MANIFEST;
	else
		mt = MT_OCI_MANIFEST;
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
	po.platform.target_platform = b->o->platform;
	char **warnings = NULL;
	if (df_plan_from_bytes(b->o->dockerfile_name, b->o->dockerfile, b->o->dockerfile_len, &po,
			       &b->plan, &warnings, err) < 0)
		return -1;
	for (size_t i = 0; warnings && warnings[i]; i++)
		bld_log(b, "%s\n", warnings[i]);
	cb_strv_free(warnings);
	return 0;
}

static void build_release(build_t *b)
{
	bld_url_cleanup(b);
	for (int i = 0; b->stages && i < b->plan->n_total_stages; i++)
		if (b->stage_done[i])
			bld_state_release(&b->stages[i]);
	free(b->stages);
	free(b->stage_done);
	df_plan_free(b->plan);
	df_ignore_free(b->ctx.ignore);
	bld_ctxsum_close(b->ctx.sums);
	if (b->ctx.dirfd >= 0)
		close(b->ctx.dirfd);
	free(b->created);
	json_decref(b->cache_trail);
}

void bld_result_release(bld_result_t *res)
{
	bld_cache_artifact_release(&res->cache);
}

int bld_build(store_t *st, const bld_opts_t *o, bld_result_t *res, cb_error_t *err)
{
	build_t b = {.st = st, .o = o};
	b.ctx.dirfd = -1;
	int rc = -1;
	double t0 = now_s();
	struct sigaction old_int, old_term;
	catch_interrupts(&old_int, &old_term);
	if (bld_enter_mount_ns(err) < 0 || open_context(&b, err) < 0 || plan_build(&b, err) < 0)
		goto out;
	b.created = oci_time_now(o->timestamp);
	b.stages = cb_xcalloc((size_t)b.plan->n_total_stages + 1, sizeof(bld_state_t));
	b.stage_done = cb_xcalloc((size_t)b.plan->n_total_stages + 1, sizeof(bool));
	for (size_t i = 0; i < b.plan->n_stages; i++)
		if (build_stage(&b, i, err) < 0)
			goto out;
	bld_state_t *final = &b.stages[b.plan->target];
	if (finish_image(&b, final, err) < 0 || tag_image(&b, final->manifest_digest, err) < 0)
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
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
