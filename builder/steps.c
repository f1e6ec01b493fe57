/*
 * What each instruction does to a build state: metadata instructions change
 * the config; RUN, ADD, COPY and WORKDIR work on an overlay snapshot whose
 * upper directory becomes the step's layer. RUN itself is steps_run.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/sandbox.h"
#include "builder/steps.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/json.h"
#include "store/places.h"
#include "store/variant.h"

const char *bld_step_workdir(const df_step_t *step, const bld_state_t *s)
{
	if (step->workdir)
		return step->workdir;
	return s->config->working_dir && *s->config->working_dir ? s->config->working_dir : "/";
}

static void add_history(build_t *b, bld_state_t *s, const df_step_t *step, bool empty)
{
	_cleanup_free_ char *text = bld_step_history(step);
	oci_config_add_history(s->config, b->created, text, NULL, empty);
}

/* ---- inputs ---- */

static int copy_source_state(build_t *b, const df_step_t *step, bld_state_t *out, cb_error_t *err)
{
	const df_copy_t *cp = &step->u.copy;
	if (cp->from_stage >= 0) {
		if (!b->stage_done[cp->from_stage])
			CB_BUG("COPY --from stage %d not built", cp->from_stage);
		bld_state_copy(out, &b->stages[cp->from_stage]);
		return 0;
	}
	return bld_named_image_state(b, step->line, cp->from, out, err);
}

/* What a RUN's bind mounts show it: a stage's key, an image's ID, or the
 * checksum of the context files under a read-only mount's source (a
 * writable one is where the step writes to the host, not what it reads). */
static int run_inputs(build_t *b, const df_step_t *step, char **inputs, json_t *files,
		      cb_error_t *err)
{
	const df_run_t *run = &step->u.run;
	cb_buf_t in;
	cb_buf_init(&in);
	int rc = 0;
	for (size_t i = 0; i < run->n_mounts && rc == 0; i++) {
		const df_mount_t *dm = &run->mounts[i];
		if (dm->type != DF_MOUNT_BIND)
			continue;
		if (dm->from_stage >= 0) {
			cb_buf_addf(&in, "bind %s stage %s\n", dm->target, b->stages[dm->from_stage].key);
		} else if (dm->from) {
			bld_state_t img = {0};
			if ((rc = bld_named_image_state(b, 0, dm->from, &img, err)) == 0)
				cb_buf_addf(&in, "bind %s image %s\n", dm->target, img.key);
			bld_state_release(&img);
		} else if (dm->readonly) { /* an rw bind writes to the context: not an input */
			char sum[DIGEST_STR_LEN + 1];
			char *srcs[] = {dm->source ? dm->source : ".", NULL};
			bld_source_t src = {b->ctx.dirfd, b->ctx.dir, b->ctx.ignore, true, b->ctx.sums, NULL};
			if ((rc = bld_sources_checksum(&src, srcs, sum, files, err)) == 0)
				cb_buf_addf(&in, "bind %s context %s\n", dm->target, sum);
		}
	}
	if (rc == 0 && in.len)
		*inputs = cb_buf_detach(&in, NULL);
	cb_buf_release(&in);
	return rc < 0 ? cb_error_wrap(err, "%s:%d: RUN --mount", b->o->dockerfile_name, step->line)
		      : 0;
}

/* A missed step asks for its inputs twice: for its key, then with the file
 * list that explains the miss. The first walk's signatures are kept for
 * the second (walking 20,000 files again costs ~0.1 s). Per thread, as
 * stages build concurrently; freed when the thread ends. */
typedef struct inputs_memo {
	const df_step_t *step; /* NULL: nothing kept */
	char sum[DIGEST_STR_LEN + 1];
	cb_buf_t sigs;
} inputs_memo_t;

static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_free(void *p)
{
	inputs_memo_t *m = p;
	if (m)
		cb_buf_release(&m->sigs);
	free(m);
}

static void memo_key_init(void)
{
	if (pthread_key_create(&memo_key, memo_free) != 0)
		CB_BUG("pthread_key_create");
}

static inputs_memo_t *memo_get(void)
{
	pthread_once(&memo_once, memo_key_init);
	inputs_memo_t *m = pthread_getspecific(memo_key);
	if (!m) {
		m = cb_xcalloc(1, sizeof(*m));
		cb_buf_init(&m->sigs);
		pthread_setspecific(memo_key, m);
	}
	return m;
}

static void memo_drop(inputs_memo_t *m)
{
	m->step = NULL;
	cb_buf_release(&m->sigs);
	cb_buf_init(&m->sigs);
}

static int context_inputs(const df_step_t *step, const bld_source_t *src, char **inputs,
			  json_t *files, cb_error_t *err)
{
	const df_copy_t *cp = &step->u.copy;
	inputs_memo_t *memo = memo_get();
	if (files && memo->step == step) {
		bld_sigs_to_json(&memo->sigs, files);
		*inputs = cb_xstrdup(memo->sum);
		memo_drop(memo);
		return 0;
	}
	memo_drop(memo);
	char sum[DIGEST_STR_LEN + 1];
	if (files ? bld_sources_checksum(src, cp->sources, sum, files, err)
		  : bld_sources_checksum_sigs(src, cp->sources, sum, &memo->sigs, err))
		return -1;
	if (!files) {
		memo->step = step;
		memcpy(memo->sum, sum, sizeof(sum));
	}
	*inputs = cb_xstrdup(sum);
	return 0;
}

/* COPY --from: the checksum of what the step selects in its source
 * stage's or image's tree (mounted for it); *key_out (may be NULL) gets
 * the source's key. */
static int from_checksum(build_t *b, const df_step_t *step, char sum[DIGEST_STR_LEN + 1],
			 char **key_out, json_t *files, cb_error_t *err)
{
	const df_copy_t *cp = &step->u.copy;
	bld_state_t from;
	if (copy_source_state(b, step, &from, err) < 0)
		return -1;
	bld_snap_t snap;
	int rc = bld_snap_open(b->st, &from, true, &snap, err);
	if (rc == 0) {
		_cleanup_close_ int fd = open(snap.merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		_cleanup_(df_ignore_freep) df_ignore_t *ex = NULL;
		if (cp->exclude && df_ignore_from_patterns(cp->exclude, &ex, err) < 0)
			rc = -1;
		bld_source_t src = {fd, snap.merged, NULL, false, NULL, ex};
		if (rc == 0)
			rc = fd < 0 ? cb_error_errno(err, "open '%s'", snap.merged)
				    : bld_sources_checksum(&src, cp->sources, sum, files, err);
		bld_snap_close(&snap);
	}
	if (rc == 0 && key_out)
		*key_out = cb_xstrdup(from.key);
	bld_state_release(&from);
	return rc < 0 ? cb_error_wrap(err, "%s:%d: COPY --from=%s", b->o->dockerfile_name,
				      step->line, cp->from)
		      : 0;
}

int bld_step_inputs(build_t *b, const df_step_t *step, const bld_state_t *s, char **inputs,
		    json_t *files, cb_error_t *err)
{
	*inputs = NULL;
	if (step->kind == DF_RUN)
		return run_inputs(b, step, inputs, files, err);
	if (!(df_instruction(step->kind)->cache_key & DF_KEY_SOURCES))
		return 0;
	const df_copy_t *cp = &step->u.copy;
	if (!cp->sources || !cp->sources[0])
		return 0; /* only inline (heredoc) files: the text says it all */
	if (bld_remote_source(step))
		return bld_remote_inputs(b, step, inputs, err);
	char sum[DIGEST_STR_LEN + 1];
	if (!cp->from) {
		_cleanup_(df_ignore_freep) df_ignore_t *ex = NULL;
		if (cp->exclude && df_ignore_from_patterns(cp->exclude, &ex, err) < 0)
			return cb_error_wrap(err, "--exclude");
		bld_source_t src = {b->ctx.dirfd, b->ctx.dir, b->ctx.ignore, true, b->ctx.sums, ex};
		if (context_inputs(step, &src, inputs, files, err) < 0)
			return cb_error_wrap(err, "%s:%d: %s", b->o->dockerfile_name, step->line,
					     df_kind_name(step->kind));
		return 0;
	}
	/* --from: the source stage's or image's key names its content (a
	 * chain of keys, or an image ID), so it is the input; the tree is
	 * mounted only to list files for --explain-cache. Not mounting keeps
	 * a remote cache hit from downloading the source stage's layers. */
	if (!files) {
		bld_state_t from;
		if (copy_source_state(b, step, &from, err) < 0)
			return -1;
		*inputs = cb_xstrdup(from.key);
		bld_state_release(&from);
		return 0;
	}
	(void)s;
	return from_checksum(b, step, sum, inputs, files, err);
}

int bld_step_from_content(build_t *b, const df_step_t *step, char **inputs, cb_error_t *err)
{
	char sum[DIGEST_STR_LEN + 1];
	if (from_checksum(b, step, sum, NULL, NULL, err) < 0)
		return -1;
	*inputs = cb_asprintf("files:%s", sum);
	return 0;
}

/* ---- metadata ---- */

static json_t *healthcheck_json(const df_healthcheck_t *h)
{
	json_t *test = json_array();
	for (size_t i = 0; h->test && h->test[i]; i++)
		json_array_append_new(test, oci_json_str(h->test[i]));
	json_t *j = json_object();
	json_object_set_new(j, "Test", test);
	if (h->interval_ns)
		json_object_set_new(j, "Interval", json_integer(h->interval_ns));
	if (h->timeout_ns)
		json_object_set_new(j, "Timeout", json_integer(h->timeout_ns));
	if (h->start_period_ns)
		json_object_set_new(j, "StartPeriod", json_integer(h->start_period_ns));
	if (h->start_interval_ns)
		json_object_set_new(j, "StartInterval", json_integer(h->start_interval_ns));
	if (h->retries)
		json_object_set_new(j, "Retries", json_integer(h->retries));
	return j;
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? cb_xstrdup(value) : NULL;
}

static void set_strv(char ***field, char *const *value)
{
	cb_strv_free(*field);
	*field = value ? cb_strv_dup(value) : cb_xcalloc(1, sizeof(char *));
}

static void apply_metadata(build_t *b, const df_step_t *step, oci_config_t *c)
{
	switch (step->kind) {
	case DF_ENV:
		for (size_t i = 0; i < step->u.kv.n_kvs; i++)
			oci_config_setenv(c, step->u.kv.kvs[i].key,
					  step->u.kv.kvs[i].value ? step->u.kv.kvs[i].value : "");
		break;
	case DF_LABEL:
		for (size_t i = 0; i < step->u.kv.n_kvs; i++)
			oci_config_set_label(c, step->u.kv.kvs[i].key,
					     step->u.kv.kvs[i].value ? step->u.kv.kvs[i].value : "");
		break;
	case DF_MAINTAINER:
		set_str(&c->author, step->u.value);
		break;
	case DF_EXPOSE:
		if (!c->exposed_ports)
			c->exposed_ports = cb_xcalloc(1, sizeof(char *));
		for (size_t i = 0; step->u.list && step->u.list[i]; i++)
			c->exposed_ports = oci_strset_add(c->exposed_ports, step->u.list[i]);
		break;
	case DF_VOLUME:
		if (!c->volumes)
			c->volumes = cb_xcalloc(1, sizeof(char *));
		for (size_t i = 0; step->u.list && step->u.list[i]; i++)
			c->volumes = oci_strset_add(c->volumes, step->u.list[i]);
		break;
	case DF_USER:
		set_str(&c->user, step->u.value);
		break;
	case DF_WORKDIR:
		set_str(&c->working_dir, step->u.value);
		break;
	case DF_STOPSIGNAL:
		set_str(&c->stop_signal, step->u.value);
		break;
	case DF_CMD:
		set_strv(&c->cmd, step->u.cmd.argv);
		b->cmd_set = true;
		break;
	case DF_ENTRYPOINT:
		set_strv(&c->entrypoint, step->u.cmd.argv);
		if (!b->cmd_set) { /* Docker: ENTRYPOINT resets an inherited CMD */
			cb_strv_free(c->cmd);
			c->cmd = NULL;
		}
		break;
	case DF_SHELL:
		set_strv(&c->shell, step->u.cmd.argv);
		break;
	case DF_HEALTHCHECK:
		json_decref(c->healthcheck);
		c->healthcheck = healthcheck_json(&step->u.health);
		break;
	case DF_ONBUILD:
		c->on_build = cb_strv_push(c->on_build, step->u.value);
		break;
	default:
		break;
	}
}

/* ---- ADD / COPY ---- */

static int parse_chmod(const char *s, int *out, cb_error_t *err)
{
	char *end = NULL;
	long v = strtol(s, &end, 8);
	if (!*s || *end || v < 0 || v > 07777)
		return cb_error_fail(err, EINVAL, "invalid --chmod value '%s' (octal expected)", s);
	*out = (int)v;
	return 0;
}

static int resolve_chown(const char *rootfs, const char *spec, uid_t *uid, gid_t *gid,
			 cb_error_t *err)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (!spec)
		return 0;
	sbx_user_t u;
	if (sbx_resolve_user(rootfs, spec, &u, err) < 0)
		return cb_error_wrap(err, "--chown=%s", spec);
	*uid = u.uid;
	*gid = u.gid;
	/* "uid" alone means uid:uid for --chown, as Docker does */
	if (!strchr(spec, ':')) {
		char *end;
		unsigned long n = strtoul(spec, &end, 10);
		if (!*end)
			*gid = (gid_t)n;
	}
	sbx_user_release(&u);
	return 0;
}

/* COPY <<EOF /dest: the inline files become a little source tree. */
static int inline_source(build_t *b, const df_copy_t *cp, char **dir, cb_error_t *err)
{
	*dir = store_mkdtemp(b->st, "inline-", err);
	if (!*dir)
		return -1;
	for (size_t i = 0; i < cp->n_inline_files; i++) {
		_cleanup_free_ char *p = cb_path_join(*dir, cp->inline_files[i].name);
		const char *c = cp->inline_files[i].content;
		if (cb_write_file_atomic(p, NULL, c, strlen(c), 0644, err) < 0)
			return -1;
	}
	return 0;
}

static int copy_from(build_t *b, const df_step_t *step, const bld_state_t *s, bld_snap_t *snap,
		     const bld_source_t *src, char *const *sources, bld_copy_layer_t *layer,
		     cb_error_t *err)
{
	const df_copy_t *cp = &step->u.copy;
	bld_copy_opts_t o = {.layer = layer, .is_add = step->kind == DF_ADD, .chmod = -1};
	df_copy_t local = *cp;
	local.sources = (char **)sources;
	o.copy = &local;
	o.workdir = bld_step_workdir(step, s);
	if (cp->chmod && parse_chmod(cp->chmod, &o.chmod, err) < 0)
		return -1;
	if (resolve_chown(snap->merged, cp->chown, &o.uid, &o.gid, err) < 0)
		return -1;
	o.keep_owner = cp->from && !cp->chown;
	int rc = bld_copy(src, snap->merged, &o, err);
	if (rc < 0 && err->code == EPERM && cp->chown && bld_as_uid(0) == (uid_t)-1)
		/* a non-root build without a user namespace owns what it makes */
		cb_error_wrap(err, "--chown=%s: without namespaces a non-root user cannot give "
				   "files another owner (build as root, or where a user namespace "
				   "can be made)",
			      cp->chown);
	return rc;
}

/* layer: the step's layer may be written by the copy (only when the copy
 * is the upper's one writer: not with inline files or URLs). */
static int copy_in_snapshot(build_t *b, const df_step_t *step, bld_state_t *s, bld_snap_t *snap,
			    bld_copy_layer_t *layer, cb_error_t *err)
{
	const df_copy_t *cp = &step->u.copy;
	int rc = 0;
	if (cp->n_inline_files) {
		_cleanup_free_ char *dir = NULL;
		rc = inline_source(b, cp, &dir, err);
		if (rc == 0) {
			_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			char **names = cb_xcalloc(cp->n_inline_files + 1, sizeof(char *));
			for (size_t i = 0; i < cp->n_inline_files; i++)
				names[i] = cp->inline_files[i].name;
			bld_source_t src = {fd, dir, NULL, false, NULL, NULL};
			rc = copy_from(b, step, s, snap, &src, names, NULL, err);
			free(names);
		}
		if (dir) {
			cb_error_t e = CB_ERROR_INIT;
			if (cb_rm_rf(dir, &e) < 0)
				cb_error_release(&e);
		}
		if (rc < 0 || !cp->sources || !cp->sources[0])
			return rc;
	}
	_cleanup_(df_ignore_freep) df_ignore_t *ex = NULL;
	if (cp->exclude && df_ignore_from_patterns(cp->exclude, &ex, err) < 0)
		return cb_error_wrap(err, "--exclude");
	if (bld_remote_source(step)) { /* copied as files (never unpacked) */
		_cleanup_free_ char *dir = NULL;
		_cleanup_strv_ char **names = NULL;
		if (bld_remote_fetch(b, step, &dir, &names, err) < 0)
			return -1;
		_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bld_source_t src = {fd, dir, NULL, false, NULL, NULL};
		df_step_t as_copy = *step;
		as_copy.kind = DF_COPY;
		return fd < 0 ? cb_error_errno(err, "open '%s'", dir)
			      : copy_from(b, &as_copy, s, snap, &src, names, NULL, err);
	}
	if (!cp->from) {
		bld_source_t src = {b->ctx.dirfd, b->ctx.dir, b->ctx.ignore, true, b->ctx.sums, ex};
		return copy_from(b, step, s, snap, &src, cp->sources, layer, err);
	}
	bld_state_t from;
	if (copy_source_state(b, step, &from, err) < 0)
		return -1;
	bld_snap_t fsnap;
	rc = bld_snap_open(b->st, &from, true, &fsnap, err);
	if (rc == 0) {
		_cleanup_close_ int fd = open(fsnap.merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bld_source_t src = {fd, fsnap.merged, NULL, false, NULL, ex};
		rc = fd < 0 ? cb_error_errno(err, "open '%s'", fsnap.merged)
			    : copy_from(b, step, s, snap, &src, cp->sources, layer, err);
		bld_snap_close(&fsnap);
	}
	bld_state_release(&from);
	return rc;
}

/* The directories WORKDIR makes belong to the stage's USER, as in BuildKit
 * and buildah (a later RUN as that user can write there), resolved as
 * --chown is: a bare uid means uid:uid there too. */
static int workdir_in_snapshot(const df_step_t *step, const bld_state_t *s, bld_snap_t *snap,
			       cb_error_t *err)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	const char *user = s->config->user;
	if (user && *user && resolve_chown(snap->merged, user, &uid, &gid, err) < 0)
		return cb_error_wrap(err, "WORKDIR as USER %s", user);
	/* the path is the image's: it is resolved inside the root */
	return bld_mkdir_in_root(snap->merged, step->u.value, uid, gid, err);
}

/* ---- dispatch ---- */

static bool is_filesystem_step(df_kind_t k)
{
	return df_instruction(k)->makes_layer;
}

static void blob_batch_freep(store_blob_batch_t **b)
{
	store_blob_batch_free(*b);
}

int bld_step_execute(build_t *b, const df_step_t *step, bld_state_t *s, cb_error_t *err)
{
	if (!is_filesystem_step(step->kind)) {
		apply_metadata(b, step, s->config);
		add_history(b, s, step, true);
		return 0;
	}
	bld_snap_t snap;
	if (bld_snap_open(b->st, s, false, &snap, err) < 0)
		return -1;
	int rc;
	layer_opts_t lo = b->o->layer;
	/* see build_t.keep_plain; push gzips at LAYER_GZIP_LEVEL, so not
	 * with another --compression-level */
	bool plain = b->keep_plain && lo.compression == LAYER_COMPRESS_GZIP &&
		     (!lo.level || lo.level == LAYER_GZIP_LEVEL);
	if (plain) {
		lo.compression = LAYER_COMPRESS_NONE;
		lo.level = 0;
	}
	/* a plain blob is written by the step itself (one pass), and goes
	 * into the committer's publish of the step: no fdatasync here */
	_cleanup_(blob_batch_freep) store_blob_batch_t *blob =
		b->committer && lo.compression == LAYER_COMPRESS_NONE ? store_blob_batch_new_private(b->st)
								       : NULL;
	lo.batch = blob;
	bld_copy_layer_t written = {.st = b->st, .opts = &lo, .upper = snap.upper};
	if (step->kind == DF_RUN) /* failed for a foreign platform: say what to install */
		rc = bld_run_platform_hint(s->config, bld_step_run(b, step, s, &snap, err), err);
	else if (step->kind == DF_WORKDIR)
		rc = workdir_in_snapshot(step, s, &snap, err);
	else
		/* no layer written while copying into a copy snapshot's tree */
		rc = copy_in_snapshot(b, step, s, &snap, snap.copy ? NULL : &written, err);
	layer_result_t res;
	bool empty = true;
	if (rc == 0 && written.done) {
		res = written.res;
		empty = false;
		rc = bld_snap_adopt(b->st, &snap, &res, err);
	} else if (rc == 0) {
		rc = bld_snap_layer(b, &snap, &lo, &res, &empty, err);
	}
	/* before the manifest naming it: a mark whose blob a crash lost
	 * names nothing any image uses */
	if (rc == 0 && plain && !empty)
		rc = store_variant_mark(b->st, res.diff_id, err);
	if (rc == 0 && blob && !empty)
		rc = bld_committer_add_blob(b->committer, &blob, &res, err);
	bld_snap_close(&snap);
	if (rc < 0)
		return -1;
	if (step->kind == DF_WORKDIR)
		apply_metadata(b, step, s->config);
	if (!empty)
		bld_state_add_layer(s, &res);
	add_history(b, s, step, empty);
	return 0;
}

/* ---- changes given on the command line ---- */

static bool change_allowed(df_kind_t k)
{
	return k != DF_RUN && k != DF_COPY && k != DF_ADD && k != DF_ARG;
}

int bld_apply_changes(oci_config_t *config, char *const *changes, cb_error_t *err)
{
	if (!changes || !changes[0])
		return 0;
	cb_buf_t text;
	cb_buf_init(&text);
	cb_buf_addstr(&text, "FROM scratch\n");
	for (size_t i = 0; changes[i]; i++)
		cb_buf_addf(&text, "%s\n", changes[i]);
	df_plan_t *plan = NULL;
	int rc = df_plan_from_bytes("change", text.data, text.len, NULL, &plan, NULL, err);
	cb_buf_release(&text);
	if (rc < 0)
		return cb_error_wrap(err, "invalid change");
	build_t b = {0};
	df_stage_t *stage = &plan->stages[0];
	for (size_t i = 0; i < stage->n_steps && rc == 0; i++) {
		if (!change_allowed(stage->steps[i].kind))
			rc = cb_error_fail(err, EINVAL, "%s is not a valid change (only config "
							"instructions are)",
					   df_kind_name(stage->steps[i].kind));
		else
			apply_metadata(&b, &stage->steps[i], config);
	}
	df_plan_free(plan);
	return rc;
}
