/* `diff` and `commit` of a container: its upper directory read as a layer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/layer.h"
#include "store/variant.h"

typedef struct changes {
	rt_ctr_change_t *v;
	size_t n;
} changes_t;

static void add_change(changes_t *c, char kind, const char *path)
{
	c->v = cb_xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n].kind = kind;
	c->v[c->n].path = cb_xstrdup(path);
	c->n++;
}

static bool is_whiteout(const struct stat *sb)
{
	return S_ISCHR(sb->st_mode) && sb->st_rdev == 0;
}

static bool is_opaque(const char *path)
{
	char v[2] = {0};
	if (lgetxattr(path, "trusted.overlay.opaque", v, 1) == 1 && v[0] == 'y')
		return true;
	return lgetxattr(path, "user.overlay.opaque", v, 1) == 1 && v[0] == 'y';
}

/* Does lower `l` hide what lies below it at rel: a whiteout, a non-directory
 * or an opaque directory on the way? */
static bool hides_below(const char *l, const char *rel)
{
	_cleanup_free_ char *p = cb_xstrdup(rel);
	for (char *slash = p;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = 0;
		_cleanup_free_ char *full = cb_path_join(l, p);
		struct stat sb;
		if (lstat(full, &sb) == 0 &&
		    (is_whiteout(&sb) || !S_ISDIR(sb.st_mode) || (slash && is_opaque(full))))
			return true;
		if (!slash)
			return false;
		*slash = '/';
	}
}

/* rel exists in the image: the top-most lower that has it decides (a
 * whiteout there means deleted); an opaque directory or a whiteout of a
 * parent in a higher lower hides the ones below. */
static bool in_image(char *const *lowers, const char *rel)
{
	for (size_t i = 0; lowers && lowers[i]; i++) {
		_cleanup_free_ char *p = cb_path_join(lowers[i], rel);
		struct stat sb;
		if (lstat(p, &sb) == 0)
			return !is_whiteout(&sb);
		if (hides_below(lowers[i], rel))
			return false;
	}
	return false;
}

/* An opaque upper directory hides every image entry under it: each one
 * the upper does not have again is a deletion. */
static void opaque_deletions(const char *upper_dir, const char *rel, char *const *lowers,
			     changes_t *out)
{
	char **seen = NULL;
	for (size_t i = 0; lowers && lowers[i]; i++) {
		_cleanup_free_ char *dir = cb_path_join(lowers[i], rel);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			_cleanup_free_ char *r = cb_asprintf("%s/%s", rel, de->d_name);
			_cleanup_free_ char *up = cb_path_join(upper_dir, de->d_name);
			bool dup = false;
			for (size_t k = 0; seen && seen[k] && !dup; k++)
				dup = !strcmp(seen[k], de->d_name);
			if (dup || cb_path_exists(up) || !in_image(lowers, r))
				continue;
			seen = cb_strv_push(seen, de->d_name);
			_cleanup_free_ char *abs = cb_asprintf("/%s", r);
			add_change(out, 'D', abs);
		}
		closedir(d);
	}
	cb_strv_free(seen);
}

static int walk(const char *upper, const char *rel, char *const *lowers, changes_t *out,
		cb_error_t *err)
{
	_cleanup_free_ char *dir = *rel ? cb_path_join(upper, rel) : cb_xstrdup(upper);
	DIR *d = opendir(dir);
	if (!d)
		return cb_error_errno(err, "open '%s'", dir);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *r = *rel ? cb_asprintf("%s/%s", rel, de->d_name)
					      : cb_xstrdup(de->d_name);
		_cleanup_free_ char *abs = cb_asprintf("/%s", r);
		struct stat sb;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = cb_error_errno(err, "stat '%s'", abs);
			break;
		}
		if (is_whiteout(&sb)) {
			if (in_image(lowers, r))
				add_change(out, 'D', abs);
			continue;
		}
		bool existed = in_image(lowers, r);
		add_change(out, existed ? 'C' : 'A', abs);
		if (!S_ISDIR(sb.st_mode))
			continue;
		_cleanup_free_ char *full = cb_path_join(dir, de->d_name);
		if (existed && is_opaque(full))
			opaque_deletions(full, r, lowers, out);
		rc = walk(upper, r, lowers, out, err);
	}
	closedir(d);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	const rt_ctr_change_t *x = a, *y = b;
	return strcmp(x->path, y->path);
}

int rt_ctr_diff(store_t *st, const rt_ctr_t *c, rt_ctr_change_t **out, size_t *n,
		cb_error_t *err)
{
	_cleanup_strv_ char **lowers = NULL;
	if (ctr_enter_userns(c, err) < 0 ||
	    ctr_image_lowers(st, c->image, &lowers, NULL, err) < 0)
		return -1;
	_cleanup_free_ char *upper = ctr_path(c, "upper");
	changes_t ch = {0};
	if (walk(upper, "", lowers, &ch, err) < 0) {
		rt_ctr_changes_free(ch.v, ch.n);
		return -1;
	}
	if (ch.n)
		qsort(ch.v, ch.n, sizeof(*ch.v), by_path);
	*out = ch.v;
	*n = ch.n;
	return 0;
}

void rt_ctr_changes_free(rt_ctr_change_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* ---- freezing ---- */

/* Every process of the container's PID namespace gets sig (SIGSTOP while
 * the upper dir is read, SIGCONT after). No cgroup of our own is needed:
 * the namespace's processes are the ones whose ns/pid link matches. */
static void signal_all(const rt_ctr_t *c, int sig)
{
	char want[128], got[128];
	if (!ctr_pid_alive(c->pid, c->pid_start) || !ctr_pidns_of(c->pid, want, sizeof want))
		return;
	kill(c->pid, sig);
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long p = strtol(de->d_name, &end, 10);
		if (*end || p <= 0 || p == c->pid)
			continue;
		if (ctr_pidns_of((pid_t)p, got, sizeof got) && !strcmp(got, want))
			kill((pid_t)p, sig);
	}
	closedir(d);
}

/* A pause is recorded (containers/ID/paused: "PID START" of the process
 * that froze it) before the SIGSTOP and removed after the SIGCONT, so that
 * a pauser killed meanwhile leaves a record naming a dead owner, which the
 * next command that loads the container acts on (ctr_resume_orphaned). */
static int pause_record(const rt_ctr_t *c, cb_error_t *err)
{
	_cleanup_free_ char *p = ctr_path(c, "paused");
	_cleanup_free_ char *dir = ctr_path(c, "");
	char text[64];
	int n = snprintf(text, sizeof text, "%d %llu\n", (int)getpid(),
			 (unsigned long long)rt_ctr_proc_start(getpid()));
	return cb_write_file_atomic(p, dir, text, (size_t)n, 0644, err);
}

static void pause_forget(const rt_ctr_t *c)
{
	_cleanup_free_ char *p = ctr_path(c, "paused");
	unlink(p);
}

void ctr_resume_orphaned(const rt_ctr_t *c)
{
	_cleanup_free_ char *p = ctr_path(c, "paused");
	_cleanup_free_ char *text = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(p, 64, &text, NULL, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	int pid = 0;
	unsigned long long start = 0;
	if (sscanf(text, "%d %llu", &pid, &start) == 2 && ctr_pid_alive(pid, start))
		return; /* its pauser is at work: it resumes it itself */
	signal_all(c, SIGCONT);
	unlink(p);
}

/* ---- commit ---- */

/* The container's command becomes the image's Cmd (docker commit keeps
 * the container's config); a kept ENTRYPOINT keeps its own Cmd. The Env is
 * the container's Config.Env: not what running added (HOSTNAME, the PATH
 * default, TERM for a tty), which docker never commits either. */
static void config_from_container(oci_config_t *cfg, const rt_ctr_t *c)
{
	if (!cfg->entrypoint || !cfg->entrypoint[0]) {
		cb_strv_free(cfg->cmd);
		cfg->cmd = cb_strv_dup(c->argv);
	}
	cb_strv_free(cfg->env);
	cfg->env = cb_strv_dup(c->config_env);
}

static char *joined(char *const *argv)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; argv && argv[i]; i++)
		cb_buf_addf(&b, "%s%s", i ? " " : "", argv[i]);
	return cb_buf_detach(&b, NULL);
}

static int apply_changes(oci_config_t *cfg, const rt_ctr_commit_opts_t *o, cb_error_t *err)
{
	if (!o->changes || !o->changes[0])
		return 0;
	if (!o->apply_changes)
		CB_BUG("commit changes given without apply_changes");
	return o->apply_changes(cfg, o->changes, err);
}

image_t *rt_ctr_commit(store_t *st, const rt_ctr_t *c, const rt_ctr_commit_opts_t *o,
		       cb_error_t *err)
{
	/* before any store access: the layer must record the container's ids */
	if (ctr_enter_userns(c, err) < 0)
		return NULL;
	image_t *img = image_load(st, c->image, err);
	if (!img)
		return NULL;
	_cleanup_strv_ char **lowers = NULL;
	if (ctr_image_lowers(st, c->image, &lowers, NULL, err) < 0) {
		image_free(img);
		return NULL;
	}
	_cleanup_free_ char *upper = ctr_path(c, "upper");
	/* kept uncompressed: hashing only, so commit takes the snapshot's
	 * time; push makes and remembers the gzip variant (store/variant.h),
	 * as docker and buildah compress at push */
	layer_opts_t lo = LAYER_OPTS_INIT;
	lo.compression = LAYER_COMPRESS_NONE;
	/* the layer, config and manifest blobs made durable together: one
	 * round of fdatasyncs and one fsync of blobs/, not three of each (on
	 * a busy disk each is a journal commit behind other writers' data) */
	lo.batch = store_blob_batch_new(st);
	layer_result_t res;
	bool frozen = o->pause && c->status == RT_CTR_RUNNING;
	if (frozen && pause_record(c, err) < 0) {
		store_blob_batch_free(lo.batch);
		image_free(img);
		return NULL;
	}
	if (frozen)
		signal_all(c, SIGSTOP);
	int rc = layer_write_upper(st, upper, (const char *const *)lowers, &lo, &res, err);
	if (frozen) {
		signal_all(c, SIGCONT);
		pause_forget(c);
	}
	if (rc < 0) {
		store_blob_batch_free(lo.batch);
		image_free(img);
		cb_error_wrap(err, "commit container '%.12s'", c->id);
		return NULL;
	}
	oci_config_t *cfg = oci_config_dup(img->config);
	config_from_container(cfg, c);
	if (apply_changes(cfg, o, err) < 0) {
		store_blob_batch_free(lo.batch);
		oci_config_free(cfg);
		image_free(img);
		return NULL;
	}
	free(cfg->created);
	cfg->created = oci_time_now(-1);
	if (o->author) {
		free(cfg->author);
		cfg->author = cb_xstrdup(o->author);
	}
	_cleanup_free_ char *by = joined(c->argv);
	oci_config_add_history(cfg, cfg->created, by, o->message, false);
	if (o->author)
		cfg->history[cfg->n_history - 1].author = cb_xstrdup(o->author);
	oci_config_add_diff_id(cfg, res.diff_id);
	size_t n = img->manifest->n_layers;
	oci_descriptor_t *layers = cb_xcalloc(n + 2, sizeof(oci_descriptor_t));
	for (size_t i = 0; i < n; i++)
		oci_descriptor_copy(&layers[i], &img->manifest->layers[i]);
	layers[n].media_type = cb_xstrdup(res.media_type);
	layers[n].digest = cb_xstrdup(res.digest);
	layers[n].size = res.size;
	image_t *out = image_commit_in(st, lo.batch, cfg, layers, n + 1, o->docker_format, err);
	/* the mark after the blob is durable, before any name of the image */
	if (out && (store_blob_batch_publish(lo.batch, err) < 0 ||
		    store_variant_mark(st, res.diff_id, err) < 0)) {
		image_free(out);
		out = NULL;
	}
	store_blob_batch_free(lo.batch);
	for (size_t i = 0; i <= n; i++)
		oci_descriptor_release(&layers[i]);
	free(layers);
	oci_config_free(cfg);
	image_free(img);
	return out;
}
