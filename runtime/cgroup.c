/*
 * runtime/cgroup.c - one pids cgroup per sandbox, on cgroup v1 or v2.
 */
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup_path.h"
#include "common/fs.h"
#include "common/util.h"

struct sbx_cgroup {
	char *path;
	int procs_fd;
};

/* cbuild-PID-N left by processes that died: empty cgroups, removable. */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid;
		unsigned n;
		if (sscanf(e->d_name, "cbuild-%d-%u", &pid, &n) != 2 || pid == getpid())
			continue;
		if (kill(pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

int sbx_cgroup_new(int64_t max, sbx_cgroup_t **out, cb_error_t *err)
{
	static unsigned counter;
	static bool cleaned;
	_cleanup_free_ char *base = NULL;
	bool v2;
	if (rt_cgroup_dir("pids", 0, &base, NULL, &v2, err) < 0)
		return cb_error_wrap(err, "pids limit");
	/* v2: a child gets the controller only through the parent's
	 * subtree_control (refused when the parent holds processes and is not
	 * the root: then say so) */
	if (v2 && rt_cgroup_write(base, "cgroup.subtree_control", "+pids", err) < 0)
		return cb_error_wrap(err, "pids limit");
	if (!__atomic_exchange_n(&cleaned, true, __ATOMIC_SEQ_CST))
		remove_stale(base);
	_cleanup_free_ char *path = cb_asprintf("%s/cbuild-%d-%u", base, (int)getpid(),
						 __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST));
	if (mkdir(path, 0755) < 0)
		return cb_error_errno(err, "pids limit: create cgroup '%s'", path);
	char val[32];
	snprintf(val, sizeof val, "%lld", (long long)max);
	/* v1: the child enters through "tasks" (its one thread, writing "0"):
	 * the kernel moves the current thread without taking the global
	 * threadgroup lock, whose write side waits for an RCU grace period
	 * (12-21 ms a RUN here); a freshly forked child has that one thread,
	 * so it is the same move. v2 has no such file outside threaded trees. */
	_cleanup_free_ char *procs = cb_asprintf("%s/%s", path, v2 ? "cgroup.procs" : "tasks");
	int fd = -1;
	if (rt_cgroup_write(path, "pids.max", val, err) < 0 ||
	    ((fd = open(procs, O_WRONLY | O_CLOEXEC)) < 0 &&
	     cb_error_errno(err, "open '%s'", procs) < 0)) {
		rmdir(path);
		return cb_error_wrap(err, "pids limit");
	}
	sbx_cgroup_t *cg = cb_xcalloc(1, sizeof *cg);
	cg->path = path;
	path = NULL;
	cg->procs_fd = fd;
	*out = cg;
	return 0;
}

int sbx_cgroup_procs_fd(const sbx_cgroup_t *cg) { return cg->procs_fd; }
const char *sbx_cgroup_path(const sbx_cgroup_t *cg) { return cg->path; }

static bool kill_members(const char *path)
{
	_cleanup_free_ char *p = cb_asprintf("%s/cgroup.procs", path);
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	bool any = false;
	int pid;
	while (fscanf(f, "%d", &pid) == 1) {
		kill(pid, SIGKILL);
		any = true;
	}
	fclose(f);
	return any;
}

void sbx_cgroup_free(sbx_cgroup_t *cg)
{
	if (!cg)
		return;
	if (cg->procs_fd >= 0)
		close(cg->procs_fd);
	/* after PID 1's death the kernel kills the rest of its namespace;
	 * exiting tasks may still be counted for a moment */
	for (int i = 0; i < 500 && rmdir(cg->path) < 0 && errno == EBUSY; i++) {
		kill_members(cg->path);
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	free(cg->path);
	free(cg);
}

/* v2: the caller's cgroup can hand pids to a child only when pids is in
 * its subtree_control already, or it is the hierarchy's root (elsewhere
 * "no internal processes" refuses it while the caller is a member). */
static bool v2_can_delegate(const char *mnt, const char *base)
{
	if (!strcmp(base, mnt))
		return true;
	char p[1100], buf[512] = "";
	snprintf(p, sizeof p, "%s/cgroup.subtree_control", base);
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
	for (char *t = strtok(buf, " \n"); ok && t; t = strtok(NULL, " \n"))
		if (!strcmp(t, "pids"))
			return true;
	return false;
}

int sbx_cgroup_pids_base(char **out, cb_error_t *err)
{
	_cleanup_free_ char *base = NULL, *mnt = NULL;
	bool v2;
	if (rt_cgroup_dir("pids", 0, &base, &mnt, &v2, err) < 0)
		return -1;
	if (access(base, W_OK) < 0)
		return cb_error_errno(err, "cgroup '%s' is not writable (none is delegated to this user)",
				      base);
	if (v2 && !v2_can_delegate(mnt, base))
		return cb_error_fail(err, EBUSY, "cgroup '%s' holds processes and has no pids in its cgroup.subtree_control",
				     base);
	*out = cb_steal_pointer(&base);
	return 0;
}

int sbx_cgroup_procs_of(pid_t pid)
{
	_cleanup_free_ char *path = NULL;
	bool v2;
	cb_error_t e = CB_ERROR_INIT;
	if (rt_cgroup_dir("pids", pid, &path, NULL, &v2, &e) < 0) {
		cb_error_release(&e); /* in no pids cgroup: nothing to join */
		return -1;
	}
	const char *last = strrchr(path, '/');
	if (!last || strncmp(last + 1, "cbuild-", 7))
		return -1;
	/* v1: the child enters through "tasks" (its one thread, writing "0"):
	 * the kernel moves the current thread without taking the global
	 * threadgroup lock, whose write side waits for an RCU grace period
	 * (12-21 ms a RUN here); a freshly forked child has that one thread,
	 * so it is the same move. v2 has no such file outside threaded trees. */
	_cleanup_free_ char *procs = cb_asprintf("%s/%s", path, v2 ? "cgroup.procs" : "tasks");
	return open(procs, O_WRONLY | O_CLOEXEC);
}
