/*
 * What each instruction does to a build state: metadata instructions change
 * the config; RUN, ADD, COPY and WORKDIR work on an overlay snapshot whose
 * upper directory becomes the step's layer.
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

#define TAIL_LINES 12

static const char *step_workdir(const df_step_t *step, const bld_state_t *s)
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
	bld_state_t from;
	if (copy_source_state(b, step, &from, err) < 0)
		return -1;
	if (!files) {
		*inputs = cb_xstrdup(from.key);
		bld_state_release(&from);
		return 0;
	}
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
	if (rc == 0)
		*inputs = cb_xstrdup(from.key);
	bld_state_release(&from);
	(void)s;
	return rc < 0 ? cb_error_wrap(err, "%s:%d: COPY --from=%s", b->o->dockerfile_name,
				      step->line, cp->from)
		      : 0;
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

/* ---- RUN ---- */

typedef struct run_output {
	build_t *b;
	cb_buf_t line;              /* the line being assembled */
	cb_buf_t pending;           /* concurrent stages: output not yet a whole line */
	char *tail[TAIL_LINES];     /* the last complete lines, for the error */
	size_t n;
	size_t shown;               /* lines of the live window on screen */
} run_output_t;

static void tail_push(run_output_t *ro)
{
	free(ro->tail[ro->n % TAIL_LINES]);
	ro->tail[ro->n % TAIL_LINES] = cb_xstrdup(ro->line.data);
	ro->n++;
	cb_buf_reset(&ro->line);
}

/* The live display (a terminal): the step's last WINDOW lines, dimmed,
 * redrawn in place and wiped when the step ends; plain mode prints all. */
#define WINDOW 6

static void window_clear(run_output_t *ro)
{
	FILE *f = ro->b->o->log;
	for (size_t i = 0; i < ro->shown; i++)
		fputs("\033[1A\033[2K", f);
	ro->shown = 0;
}

static void window_draw(run_output_t *ro)
{
	FILE *f = ro->b->o->log;
	window_clear(ro);
	size_t first = ro->n > WINDOW ? ro->n - WINDOW : 0;
	for (size_t i = first; i < ro->n; i++) {
		fprintf(f, "\033[2m  %.*s\033[0m\n", 150, ro->tail[i % TAIL_LINES]);
		ro->shown++;
	}
	fflush(f);
}

static int on_output(void *opaque, int stream, const char *data, size_t len, cb_error_t *err)
{
	run_output_t *ro = opaque;
	(void)stream;
	(void)err;
	build_t *b = ro->b;
	/* concurrent stages: whole lines only, each with its stage's prefix
	 * (and no live window, which cannot show two stages) */
	bool tty = b->o->progress == BLD_PROGRESS_TTY && !b->prefix;
	if (b->prefix && b->o->progress != BLD_PROGRESS_QUIET) {
		cb_buf_add(&ro->pending, data, len);
		char *nl = memrchr(ro->pending.data, '\n', ro->pending.len);
		if (nl) {
			size_t n = (size_t)(nl - ro->pending.data);
			bld_log(b, "%.*s\n", (int)n, ro->pending.data);
			memmove(ro->pending.data, nl + 1, ro->pending.len - n - 1);
			ro->pending.len -= n + 1;
			ro->pending.data[ro->pending.len] = '\0';
		}
	} else if (b->o->progress == BLD_PROGRESS_PLAIN && b->o->log) {
		fwrite(data, 1, len, b->o->log);
		fflush(b->o->log);
	}
	size_t before = ro->n;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n')
			tail_push(ro);
		else if (ro->line.len < 4096)
			cb_buf_addch(&ro->line, data[i]);
	}
	if (tty && ro->b->o->log && ro->n != before)
		window_draw(ro);
	return 0;
}

static char *output_tail(run_output_t *ro)
{
	if (ro->line.len)
		tail_push(ro);
	cb_buf_t b;
	cb_buf_init(&b);
	size_t first = ro->n > TAIL_LINES ? ro->n - TAIL_LINES : 0;
	for (size_t i = first; i < ro->n; i++)
		cb_buf_addf(&b, "\n  %s", ro->tail[i % TAIL_LINES]);
	return cb_buf_detach(&b, NULL);
}

static void output_release(run_output_t *ro)
{
	if (ro->pending.len) /* a last line without its newline */
		bld_log(ro->b, "%.*s\n", (int)ro->pending.len, ro->pending.data);
	cb_buf_release(&ro->pending);
	for (size_t i = 0; i < TAIL_LINES; i++)
		free(ro->tail[i]);
	cb_buf_release(&ro->line);
}

static char **run_env(const df_step_t *step)
{
	char **env = cb_strv_dup(step->env);
	for (size_t i = 0; step->args_env && step->args_env[i]; i++)
		env = cb_strv_push(env, step->args_env[i]);
	bool has_path = false;
	for (size_t i = 0; env[i]; i++)
		has_path |= cb_str_has_prefix(env[i], "PATH=");
	if (!has_path)
		env = cb_strv_push(env, "PATH=" BLD_DEFAULT_PATH);
	return env;
}

/* Host paths for mount sources that live as long as the step. */
typedef struct run_mounts {
	sbx_mount_t *v;
	size_t n;
	char **owned; /* strings the mounts point to */
	char *scratch; /* a temp dir for heredoc files */
	bld_snap_t *snaps; /* read-only views for bind mounts from stages */
	size_t n_snaps;
	const char *ssh_sock; /* target of the first ssh mount: SSH_AUTH_SOCK */
	char **made;       /* mount points the sandbox creates: removed after */
} run_mounts_t;

static const char *keep(run_mounts_t *m, char *s)
{
	m->owned = cb_strv_push_take(m->owned, s);
	return s;
}

static sbx_mount_t *add_mount(run_mounts_t *m)
{
	m->v = cb_xreallocarray(m->v, m->n + 1, sizeof(sbx_mount_t));
	memset(&m->v[m->n], 0, sizeof(sbx_mount_t));
	return &m->v[m->n++];
}

static void run_mounts_release(run_mounts_t *m)
{
	for (size_t i = 0; i < m->n_snaps; i++)
		bld_snap_close(&m->snaps[i]);
	free(m->snaps);
	if (m->scratch) {
		cb_error_t e = CB_ERROR_INIT;
		if (cb_rm_rf(m->scratch, &e) < 0)
			cb_error_release(&e);
	}
	free(m->scratch);
	free(m->v);
	cb_strv_free(m->owned);
	cb_strv_free(m->made);
}

static const char *secret_source(build_t *b, const char *id)
{
	size_t idl = strlen(id);
	for (size_t i = 0; b->o->secrets && b->o->secrets[i]; i++) {
		const char *s = b->o->secrets[i];
		const char *idp = strstr(s, "id=");
		const char *src = strstr(s, "src=");
		if (!src)
			src = strstr(s, "source=");
		if (idp && src && !strncmp(idp + 3, id, idl) && (idp[3 + idl] == ',' || !idp[3 + idl]))
			return strchr(src, '=') + 1;
	}
	return NULL;
}

static bool exists_in(const char *root, const char *rel)
{
	_cleanup_free_ char *p = cb_path_join(root, rel);
	return cb_path_exists(p);
}

/* The agent socket --ssh gave for id. */
static const char *ssh_source(build_t *b, const char *id)
{
	size_t idl = strlen(id);
	for (size_t i = 0; b->o->ssh && b->o->ssh[i]; i++)
		if (!strncmp(b->o->ssh[i], id, idl) && b->o->ssh[i][idl] == '=')
			return b->o->ssh[i] + idl + 1;
	return NULL;
}

/* A file mount point that does not exist in the image (a secret's, the ssh
 * socket's) is made by the sandbox in the upper dir: remember the missing
 * part of its path, to take it out of the layer after the step. */
static void note_mountpoint(run_mounts_t *m, const char *merged, const char *target)
{
	_cleanup_free_ char *rel = cb_path_clean(target);
	char *p = rel;
	while (*p == '/')
		p++;
	for (char *slash = p; slash;) {
		slash = strchr(slash + 1, '/');
		_cleanup_free_ char *prefix = slash ? cb_xstrndup(p, (size_t)(slash - p)) : cb_xstrdup(p);
		if (!exists_in(merged, prefix)) {
			m->made = cb_strv_push(m->made, prefix);
			return;
		}
	}
}

/* Remove what note_mountpoint recorded: the empty file and the directories
 * made for it (only when nothing else was put there). */
static void drop_made(run_mounts_t *m, const char *upper, const df_run_t *run)
{
	for (size_t i = 0; m->made && m->made[i]; i++) {
		for (size_t k = 0; k < run->n_mounts; k++) {
			const df_mount_t *dm = &run->mounts[k];
			if (dm->type != DF_MOUNT_SECRET && dm->type != DF_MOUNT_SSH)
				continue;
			_cleanup_free_ char *rel = cb_path_clean(dm->target);
			const char *r = rel;
			while (*r == '/')
				r++;
			if (!cb_str_has_prefix(r, m->made[i]))
				continue;
			_cleanup_free_ char *path = cb_path_join(upper, r);
			struct stat sb;
			if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
				unlink(path);
			size_t stop = strlen(upper) + 1 + strlen(m->made[i]);
			for (char *sl = strrchr(path, '/'); sl && (size_t)(sl - path) >= stop;
			     sl = strrchr(path, '/')) {
				*sl = '\0';
				if (rmdir(path) < 0)
					break;
			}
		}
	}
}

static int ssh_mount(build_t *b, const df_mount_t *dm, run_mounts_t *m, const char **out,
		     cb_error_t *err)
{
	const char *id = dm->id ? dm->id : "default";
	const char *src = ssh_source(b, id);
	*out = NULL;
	if (!src) {
		if (dm->required)
			return cb_error_fail(err, ENOENT,
					     "ssh agent '%s' not provided (--ssh %s=SOCKET, or "
					     "$SSH_AUTH_SOCK with --ssh %s)",
					     id, id, id);
		return 0;
	}
	struct stat sb;
	if (stat(src, &sb) < 0)
		return cb_error_errno(err, "--ssh %s: '%s'", id, src);
	if (!S_ISSOCK(sb.st_mode))
		return cb_error_fail(err, EINVAL, "--ssh %s: '%s' is not an agent socket", id, src);
	if (!m->ssh_sock)
		m->ssh_sock = dm->target;
	*out = src;
	return 0;
}

static int cache_mount_dir(build_t *b, const df_mount_t *dm, run_mounts_t *m, const char **out,
			   cb_error_t *err)
{
	char *dir = store_place_cache_mount(b->st, dm->id ? dm->id : dm->target);
	keep(m, dir);
	if (cb_mkdir_p(dir, dm->mode > 0 ? (mode_t)dm->mode : 0755, err) < 0)
		return -1;
	if (dm->uid >= 0 || dm->gid >= 0)
		if (chown(dir, dm->uid >= 0 ? (uid_t)dm->uid : 0, dm->gid >= 0 ? (gid_t)dm->gid : 0) < 0)
			return cb_error_errno(err, "chown cache mount '%s'", dir);
	*out = dir;
	return 0;
}

static int bind_source(build_t *b, int line, const df_mount_t *dm, run_mounts_t *m,
		       const char **out, cb_error_t *err)
{
	const char *root = b->ctx.dir;
	if (dm->from_stage >= 0 || dm->from) {
		bld_state_t img = {0};
		if (dm->from_stage < 0 && bld_named_image_state(b, line, dm->from, &img, err) < 0)
			return -1;
		m->snaps = cb_xreallocarray(m->snaps, m->n_snaps + 1, sizeof(bld_snap_t));
		int rc = bld_snap_open(b->st, dm->from_stage >= 0 ? &b->stages[dm->from_stage] : &img,
				       true, &m->snaps[m->n_snaps], err);
		bld_state_release(&img);
		if (rc < 0)
			return -1;
		root = m->snaps[m->n_snaps++].merged;
	}
	_cleanup_free_ char *clean = cb_path_clean(dm->source ? dm->source : "/");
	if (!strcmp(clean, "..") || cb_str_has_prefix(clean, "../"))
		return cb_error_fail(err, EPERM, "mount source '%s' is outside its root", dm->source);
	*out = keep(m, cb_path_join(root, clean));
	return 0;
}

static int add_run_mount(build_t *b, int line, const df_mount_t *dm, run_mounts_t *m,
			 cb_error_t *err)
{
	const char *src = NULL;
	switch (dm->type) {
	case DF_MOUNT_CACHE:
		if (cache_mount_dir(b, dm, m, &src, err) < 0)
			return -1;
		break;
	case DF_MOUNT_BIND:
		if (bind_source(b, line, dm, m, &src, err) < 0)
			return -1;
		break;
	case DF_MOUNT_TMPFS: {
		sbx_mount_t *sm = add_mount(m);
		sm->type = SBX_MOUNT_TMPFS;
		sm->dest = dm->target;
		return 0;
	}
	case DF_MOUNT_SECRET:
		src = secret_source(b, dm->id);
		if (!src) {
			if (dm->required)
				return cb_error_fail(err, ENOENT, "secret '%s' not provided (--secret id=%s,src=FILE)",
						     dm->id, dm->id);
			return 0;
		}
		break;
	case DF_MOUNT_SSH:
		if (ssh_mount(b, dm, m, &src, err) < 0)
			return -1;
		if (!src)
			return 0;
		break;
	}
	sbx_mount_t *sm = add_mount(m);
	sm->type = SBX_MOUNT_BIND;
	sm->source = src;
	sm->dest = dm->target;
	sm->readonly = dm->type == DF_MOUNT_SECRET || (dm->type == DF_MOUNT_BIND && dm->readonly);
	return 0;
}

static int add_heredoc_files(build_t *b, const df_run_t *run, run_mounts_t *m, cb_error_t *err)
{
	if (!run->n_files)
		return 0;
	m->scratch = store_mkdtemp(b->st, "heredoc-", err);
	if (!m->scratch)
		return -1;
	for (size_t i = 0; i < run->n_files; i++) {
		char *host = cb_asprintf("%s/f%zu", m->scratch, i);
		keep(m, host);
		if (cb_write_file_atomic(host, NULL, run->files[i].content,
					 strlen(run->files[i].content), (mode_t)run->files[i].mode,
					 err) < 0)
			return -1;
		sbx_mount_t *sm = add_mount(m);
		sm->type = SBX_MOUNT_BIND;
		sm->source = host;
		sm->dest = run->files[i].path;
		sm->readonly = true;
	}
	return 0;
}

/* The PID 1 of every running RUN (one per stage building), for the
 * interrupt handler: slots are claimed and freed with atomics so that the
 * handler can read them at any moment. */
#define MAX_RUNNING 64
static volatile pid_t running[MAX_RUNNING];

void bld_kill_running(void)
{
	for (size_t i = 0; i < MAX_RUNNING; i++) {
		pid_t p = __atomic_load_n(&running[i], __ATOMIC_SEQ_CST);
		if (p > 0)
			kill(p, SIGKILL);
	}
}

static volatile pid_t *running_add(pid_t pid)
{
	for (size_t i = 0; i < MAX_RUNNING; i++) {
		pid_t zero = 0;
		if (__atomic_compare_exchange_n(&running[i], &zero, pid, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return &running[i];
	}
	return NULL; /* more than MAX_RUNNING: build.c caps --jobs below it */
}

bool bld_stopping(const build_t *b)
{
	return bld_interrupted() || (b->failed && *b->failed);
}

static int run_sandboxed(build_t *b, const sbx_config_t *cfg, sbx_status_t *status,
			 cb_error_t *err)
{
	sbx_handle_t *h = NULL;
	if (sbx_start(cfg, &h, err) < 0)
		return -1;
	volatile pid_t *slot = running_add(sbx_handle_pid(h));
	if (bld_stopping(b))
		kill(sbx_handle_pid(h), SIGKILL);
	int rc = sbx_wait(h, true, status, err);
	if (slot)
		__atomic_store_n(slot, 0, __ATOMIC_SEQ_CST);
	sbx_handle_free(h);
	return rc;
}

static int run_in_snapshot(build_t *b, const df_step_t *step, bld_state_t *s, bld_snap_t *snap,
			   cb_error_t *err)
{
	const df_run_t *run = &step->u.run;
	run_mounts_t m = {0};
	run_output_t ro = {.b = b};
	cb_buf_init(&ro.line);
	cb_buf_init(&ro.pending);
	_cleanup_strv_ char **env = run_env(step);
	bld_etc_marks_t etc;
	bld_snap_etc_note(snap, &etc);
	int rc = 0;
	for (size_t i = 0; i < run->n_mounts && rc == 0; i++) {
		const df_mount_t *dm = &run->mounts[i];
		if (dm->type == DF_MOUNT_SECRET || dm->type == DF_MOUNT_SSH)
			note_mountpoint(&m, snap->merged, dm->target);
		rc = add_run_mount(b, step->line, dm, &m, err);
	}
	if (rc == 0)
		rc = add_heredoc_files(b, run, &m, err);
	if (rc == 0 && m.ssh_sock) { /* as BuildKit: ssh finds the agent */
		_cleanup_free_ char *kv = cb_asprintf("SSH_AUTH_SOCK=%s", m.ssh_sock);
		env = cb_strv_push(env, kv);
	}
	sbx_status_t status;
	if (rc == 0) {
		sbx_config_t cfg;
		sbx_config_init(&cfg);
		cfg.rootfs = snap->merged;
		cfg.argv = run->argv;
		cfg.env = env;
		cfg.cwd = step_workdir(step, s);
		cfg.user = s->config->user;
		bld_run_network(b, run->network, &cfg);
		cfg.resolv_conf = cb_path_exists("/etc/resolv.conf") ? "/etc/resolv.conf" : NULL;
		cfg.hosts = cb_path_exists("/etc/hosts") ? "/etc/hosts" : NULL;
		cfg.mounts = m.v;
		cfg.n_mounts = m.n;
		cfg.output_cb = on_output;
		cfg.output_opaque = &ro;
		cfg.forward_signals = false; /* Ctrl-C cancels the build: bld_interrupted */
		cfg.pids_limit = b->run_pids;
		if (run->insecure) { /* BuildKit's: all caps, no seccomp, no masked paths */
			cfg.caps = sbx_caps_all();
			cfg.seccomp_unconfined = cfg.systempaths_unconfined = true;
		}
		rc = run_sandboxed(b, &cfg, &status, err);
		if (rc < 0)
			cb_error_wrap(err, "RUN %s", run->cmd ? run->cmd : step->original);
	}
	if (rc == 0 && bld_stopping(b))
		rc = cb_error_fail(err, EINTR, "%s: interrupted", step->original);
	if (rc == 0 && (status.signaled || status.code != 0)) {
		_cleanup_free_ char *tail = output_tail(&ro);
		if (status.signaled)
			rc = cb_error_fail(err, EINTR, "%s: killed by signal %d%s", step->original,
					   status.signal, tail);
		else
			rc = cb_error_fail(err, ECHILD, "%s: exit status %d%s", step->original,
					   status.code, tail);
	}
	if (b->o->progress == BLD_PROGRESS_TTY && !b->prefix && b->o->log)
		window_clear(&ro);
	drop_made(&m, snap->upper, run);
	bld_snap_etc_drop(snap, &etc);
	output_release(&ro);
	run_mounts_release(&m);
	return rc;
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
	o.workdir = step_workdir(step, s);
	if (cp->chmod && parse_chmod(cp->chmod, &o.chmod, err) < 0)
		return -1;
	if (resolve_chown(snap->merged, cp->chown, &o.uid, &o.gid, err) < 0)
		return -1;
	o.keep_owner = cp->from && !cp->chown;
	return bld_copy(src, snap->merged, &o, err);
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
	bld_copy_layer_t written = {.st = b->st, .opts = &b->o->layer, .upper = snap.upper};
	if (step->kind == DF_RUN) /* failed for a foreign platform: say what to install */
		rc = bld_run_platform_hint(s->config, run_in_snapshot(b, step, s, &snap, err), err);
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
		rc = bld_snap_layer(b, &snap, &res, &empty, err);
	}
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
