/*
 * builder/steps_run.c - RUN: its environment, mounts (--mount bind, cache,
 * secret, ssh, tmpfs; heredoc files), the live output window and the run
 * itself in the step's snapshot through runtime/'s sandbox. steps.c
 * dispatches to it.
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
		if (chown(dir, bld_as_uid(dm->uid >= 0 ? (uid_t)dm->uid : 0),
			  bld_as_gid(dm->gid >= 0 ? (gid_t)dm->gid : 0)) < 0)
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

int bld_step_run(build_t *b, const df_step_t *step, bld_state_t *s, bld_snap_t *snap,
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
		cfg.cwd = bld_step_workdir(step, s);
		cfg.user = s->config->user;
		cfg.resolv_conf = cb_path_exists("/etc/resolv.conf") ? "/etc/resolv.conf" : NULL;
		cfg.hosts = cb_path_exists("/etc/hosts") ? "/etc/hosts" : NULL;
		bld_run_network(b, run->network, &cfg);
		cfg.mounts = m.v;
		cfg.n_mounts = m.n;
		bld_snap_copy_note_dest(snap, "/etc/resolv.conf");
		bld_snap_copy_note_dest(snap, "/etc/hosts");
		bld_snap_copy_note_dest(snap, "/etc/hostname");
		for (size_t i = 0; i < m.n; i++)
			bld_snap_copy_note_dest(snap, m.v[i].dest);
		cfg.output_cb = on_output;
		cfg.output_opaque = &ro;
		cfg.forward_signals = false; /* Ctrl-C cancels the build: bld_interrupted */
		cfg.pids_limit = b->run_pids;
		if (run->insecure) { /* BuildKit's: all caps, no seccomp, no masked paths */
			cfg.caps = sbx_caps_all();
			cfg.seccomp_unconfined = cfg.systempaths_unconfined = true;
			if (cfg.netns_fd >= 0)
				bld_runnet_taint(b->runnet);
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
