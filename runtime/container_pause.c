/* pause/unpause through the cgroup freezer, and the processes of a
 * container (top, stats, pause).
 *
 * A container has no cgroup of its own unless a limit asked for one, so
 * pause makes one in the freezer hierarchy: cgroup v1's freezer where the
 * host mounts it (hybrid hosts like Debian 12's CI machines), else a
 * cgroup v2 child beside our own with cgroup.freeze. The container's
 * processes (those in its PID namespace) are moved in, then frozen: the
 * kernel stops them without a signal they could see (SIGSTOP would be
 * seen by a parent's wait, and SIGCONT could be sent by anyone). The
 * cgroup's path is recorded in containers/ID/frozen before freezing, so
 * that ps, stop, kill and rm know, and a container whose processes are
 * gone is read as not paused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_path.h"
#include "runtime/container_internal.h"
#include "runtime/container_ops.h"
#include "common/fs.h"
#include "common/util.h"

bool ctr_pidns_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
	ssize_t n = readlink(path, buf, len - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int rt_ctr_pids(const rt_ctr_t *c, pid_t **out, size_t *n, cb_error_t *err)
{
	char want[128], got[128];
	if (c->status != RT_CTR_RUNNING || !ctr_pid_alive(c->pid, c->pid_start) ||
	    !ctr_pidns_of(c->pid, want, sizeof want))
		return cb_error_fail(err, EINVAL, "container '%s' is not running", c->name);
	DIR *d = opendir("/proc");
	if (!d)
		return cb_error_errno(err, "read /proc");
	size_t len = 0, cap = 16;
	pid_t *v = cb_xcalloc(cap, sizeof *v);
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long p = strtol(de->d_name, &end, 10);
		if (*end || p <= 0 || !ctr_pidns_of((pid_t)p, got, sizeof got) || strcmp(got, want))
			continue;
		if (len == cap)
			v = cb_xreallocarray(v, cap *= 2, sizeof *v);
		v[len++] = (pid_t)p;
	}
	closedir(d);
	qsort(v, len, sizeof *v, by_pid);
	*out = v;
	*n = len;
	return 0;
}

/* ---- the freezer ---- */

static bool file_has(const char *dir, const char *file, const char *needle)
{
	_cleanup_free_ char *p = cb_path_join(dir, file);
	char buf[4096];
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

/* The recorded freezer cgroup of c (caller frees), NULL when none. */
static char *frozen_dir(const rt_ctr_t *c)
{
	_cleanup_free_ char *rec = ctr_path(c, "frozen");
	char *text = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(rec, 4096, &text, NULL, &e) < 0) {
		cb_error_release(&e);
		return NULL;
	}
	text[strcspn(text, "\n")] = 0;
	return text;
}

/* Move every process of the container into dir; again until a pass finds
 * none left outside (a fork during a pass is caught by the next). */
static int move_all(const rt_ctr_t *c, const char *dir, cb_error_t *err)
{
	_cleanup_free_ char *procs = cb_path_join(dir, "cgroup.procs");
	for (int pass = 0; pass < 100; pass++) {
		pid_t *pids = NULL;
		size_t n = 0;
		if (rt_ctr_pids(c, &pids, &n, err) < 0)
			return -1;
		int moved = 0;
		for (size_t i = 0; i < n; i++) {
			char p[64], want[1024];
			snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pids[i]);
			_cleanup_free_ char *cg = NULL;
			cb_error_t e = CB_ERROR_INIT;
			if (cb_read_file(p, 1 << 16, &cg, NULL, &e) < 0) {
				cb_error_release(&e); /* gone */
				continue;
			}
			snprintf(want, sizeof want, "/%s\n", strrchr(dir, '/') + 1);
			if (strstr(cg, want))
				continue;
			char num[32];
			snprintf(num, sizeof num, "%d", (int)pids[i]);
			_cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || (write(fd, num, strlen(num)) < 0 && errno != ESRCH)) {
				free(pids);
				return cb_error_errno(err, "move pid %s into '%s'", num, dir);
			}
			moved++;
		}
		free(pids);
		if (!moved)
			return 0;
	}
	return cb_error_fail(err, EAGAIN, "container '%s' keeps forking: cannot pause it",
			     c->name);
}

static int freeze(const char *dir, bool v2, bool on, cb_error_t *err)
{
	if (rt_cgroup_write(dir, v2 ? "cgroup.freeze" : "freezer.state",
			    v2 ? (on ? "1" : "0") : (on ? "FROZEN" : "THAWED"), err) < 0)
		return -1;
	/* the kernel freezes asynchronously: docker too waits until it is */
	for (int i = 0; i < 1000; i++) {
		bool done = v2 ? file_has(dir, "cgroup.events", on ? "frozen 1" : "frozen 0")
			       : file_has(dir, "freezer.state", on ? "FROZEN" : "THAWED");
		if (done)
			return 0;
		usleep(10 * 1000);
	}
	return cb_error_fail(err, ETIMEDOUT, "the cgroup '%s' did not %s", dir,
			     on ? "freeze" : "thaw");
}

/* Move what is left in dir back to its parent (where the processes came
 * from) and remove it: no empty cgroup outlives a pause. */
static void dissolve(const char *dir)
{
	_cleanup_free_ char *procs = cb_path_join(dir, "cgroup.procs");
	_cleanup_free_ char *parent = cb_xstrdup(dir);
	*strrchr(parent, '/') = 0;
	_cleanup_free_ char *pprocs = cb_path_join(parent, "cgroup.procs");
	FILE *f = fopen(procs, "re");
	char line[64];
	while (f && fgets(line, sizeof line, f)) {
		_cleanup_close_ int fd = open(pprocs, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, line, strcspn(line, "\n")) < 0 && errno != ESRCH)
			break;
	}
	if (f)
		fclose(f);
	rmdir(dir);
}

/* The cgroups of pauses a crash never undid, now empty. */
static void sweep(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (cb_str_has_prefix(de->d_name, "cbuild-ctr-")) {
			_cleanup_free_ char *p = cb_path_join(base, de->d_name);
			rmdir(p); /* EBUSY while a container is in it */
		}
	if (d)
		closedir(d);
}

/* Thaw, forget, dissolve the cgroup. */
static int thaw(const rt_ctr_t *c, const char *dir, cb_error_t *err)
{
	_cleanup_free_ char *state = cb_path_join(dir, "freezer.state");
	bool v2 = !cb_path_exists(state);
	if (cb_is_dir(dir) && freeze(dir, v2, false, err) < 0)
		return -1;
	_cleanup_free_ char *rec = ctr_path(c, "frozen");
	unlink(rec);
	dissolve(dir);
	return 0;
}

bool rt_ctr_paused(const rt_ctr_t *c)
{
	_cleanup_free_ char *dir = frozen_dir(c);
	return dir && c->status == RT_CTR_RUNNING && ctr_pid_alive(c->pid, c->pid_start);
}

int rt_ctr_pause(store_t *st, rt_ctr_t *c, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	if (c->status != RT_CTR_RUNNING)
		return cb_error_fail(err, EINVAL, "container '%s' is not running", c->name);
	if (rt_ctr_paused(c))
		return cb_error_fail(err, EINVAL, "container '%s' is already paused", c->name);
	bool v2 = false;
	_cleanup_free_ char *base = NULL;
	cb_error_t why = CB_ERROR_INIT;
	if (rt_cgroup_dir("freezer", 0, &base, NULL, &v2, &why) < 0) {
		cb_error_release(&why);
		return cb_error_fail(err, ENOTSUP, "pause: no cgroup freezer on this host");
	}
	sweep(base);
	_cleanup_free_ char *dir = cb_asprintf("%s/cbuild-ctr-%.12s", base, c->id);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return cb_error_errno(err, "pause: create '%s'", dir);
	_cleanup_free_ char *rec = ctr_path(c, "frozen");
	_cleanup_free_ char *cdir = ctr_path(c, "");
	_cleanup_free_ char *text = cb_asprintf("%s\n", dir);
	if (cb_write_file_atomic(rec, cdir, text, strlen(text), 0644, err) < 0)
		return -1;
	if (move_all(c, dir, err) < 0 || freeze(dir, v2, true, err) < 0) {
		cb_error_t e = CB_ERROR_INIT;
		if (freeze(dir, v2, false, &e) < 0)
			cb_error_release(&e);
		unlink(rec);
		dissolve(dir);
		return cb_error_wrap(err, "pause container '%s'", c->name);
	}
	return 0;
}

int rt_ctr_unpause(store_t *st, rt_ctr_t *c, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	_cleanup_free_ char *dir = frozen_dir(c);
	if (!dir || !rt_ctr_paused(c))
		return cb_error_fail(err, EINVAL, "container '%s' is not paused", c->name);
	return thaw(c, dir, err) < 0 ? cb_error_wrap(err, "unpause container '%s'", c->name) : 0;
}

void ctr_thaw_if_paused(const rt_ctr_t *c)
{
	_cleanup_free_ char *dir = frozen_dir(c);
	if (!dir)
		return;
	cb_error_t e = CB_ERROR_INIT;
	if (thaw(c, dir, &e) < 0)
		cb_warn_error(&e);
}
