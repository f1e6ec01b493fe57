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

#include "common/fs.h"
#include "common/util.h"

struct sbx_cgroup {
	char *path;
	int procs_fd;
};

/* Where the pids controller is: its mount point, the mount's root inside
 * the hierarchy, and whether it is the unified (v2) hierarchy. */
struct pids_mount {
	char mnt[512];
	char root[512];
	bool v2;
};

static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncmp(p, tok, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static bool v2_has_pids(const char *mnt)
{
	char p[600], buf[512] = "";
	snprintf(p, sizeof p, "%s/cgroup.controllers", mnt);
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

/* v1's pids mount wins over v2: on a hybrid host the unified hierarchy
 * has no controllers (pids cannot be in both). */
static bool find_pids_mount(struct pids_mount *pm)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char line[4096];
	bool found = false, v2 = false;
	struct pids_mount cand = {0};
	while (!found && fgets(line, sizeof line, f)) {
		char root[512], mnt[512], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		if (!strcmp(fstype, "cgroup") && has_token(super, "pids")) {
			snprintf(pm->mnt, sizeof pm->mnt, "%s", mnt);
			snprintf(pm->root, sizeof pm->root, "%s", root);
			pm->v2 = false;
			found = true;
		} else if (!strcmp(fstype, "cgroup2") && !v2 && v2_has_pids(mnt)) {
			snprintf(cand.mnt, sizeof cand.mnt, "%s", mnt);
			snprintf(cand.root, sizeof cand.root, "%s", root);
			cand.v2 = v2 = true;
		}
	}
	fclose(f);
	if (!found && v2)
		*pm = cand;
	return found || v2;
}

/* The cgroup `pid` is in, in the pids hierarchy (path inside it). */
static bool cgroup_of(pid_t pid, const struct pids_mount *pm, char *out, size_t size)
{
	char p[64], line[4096];
	snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		bool match = pm->v2 ? !strcmp(line, "0") && c1[1] == '\0' : has_token(c1 + 1, "pids");
		if (match) {
			const char *path = c2 + 1;
			size_t rl = strlen(pm->root);
			/* the mount shows a subtree: paths are relative to its root */
			if (strcmp(pm->root, "/") && !strncmp(path, pm->root, rl))
				path += rl;
			snprintf(out, size, "%s%s", pm->mnt, strcmp(path, "/") ? path : "");
			found = true;
		}
	}
	fclose(f);
	return found;
}

static int write_str(const char *dir, const char *file, const char *val, cb_error_t *err)
{
	_cleanup_free_ char *p = cb_asprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		return cb_error_errno(err, "write '%s' to '%s'", val, p);
	return 0;
}

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

static int base_dir(struct pids_mount *pm, char *base, size_t size, cb_error_t *err)
{
	if (!find_pids_mount(pm))
		return cb_error_fail(err, ENOTSUP, "no pids cgroup controller on this host");
	if (!cgroup_of(getpid(), pm, base, size))
		return cb_error_fail(err, ENOENT, "this process is in no pids cgroup");
	return 0;
}

int sbx_cgroup_new(int64_t max, sbx_cgroup_t **out, cb_error_t *err)
{
	static unsigned counter;
	static bool cleaned;
	struct pids_mount pm;
	char base[1024];
	if (base_dir(&pm, base, sizeof base, err) < 0)
		return cb_error_wrap(err, "pids limit");
	/* v2: a child gets the controller only through the parent's
	 * subtree_control (refused when the parent holds processes and is not
	 * the root: then say so) */
	if (pm.v2 && write_str(base, "cgroup.subtree_control", "+pids", err) < 0)
		return cb_error_wrap(err, "pids limit");
	if (!__atomic_exchange_n(&cleaned, true, __ATOMIC_SEQ_CST))
		remove_stale(base);
	_cleanup_free_ char *path = cb_asprintf("%s/cbuild-%d-%u", base, (int)getpid(),
						 __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST));
	if (mkdir(path, 0755) < 0)
		return cb_error_errno(err, "pids limit: create cgroup '%s'", path);
	char val[32];
	snprintf(val, sizeof val, "%lld", (long long)max);
	_cleanup_free_ char *procs = cb_asprintf("%s/cgroup.procs", path);
	int fd = -1;
	if (write_str(path, "pids.max", val, err) < 0 ||
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
static bool v2_can_delegate(const struct pids_mount *pm, const char *base)
{
	if (!strcmp(base, pm->mnt))
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
	struct pids_mount pm;
	char base[1024];
	if (base_dir(&pm, base, sizeof base, err) < 0)
		return -1;
	if (access(base, W_OK) < 0)
		return cb_error_errno(err, "cgroup '%s' is not writable (none is delegated to this user)",
				      base);
	if (pm.v2 && !v2_can_delegate(&pm, base))
		return cb_error_fail(err, EBUSY, "cgroup '%s' holds processes and has no pids in its cgroup.subtree_control",
				     base);
	*out = cb_xstrdup(base);
	return 0;
}

int sbx_cgroup_procs_of(pid_t pid)
{
	struct pids_mount pm;
	char path[1024];
	if (!find_pids_mount(&pm) || !cgroup_of(pid, &pm, path, sizeof path))
		return -1;
	const char *last = strrchr(path, '/');
	if (!last || strncmp(last + 1, "cbuild-", 7))
		return -1;
	_cleanup_free_ char *procs = cb_asprintf("%s/cgroup.procs", path);
	return open(procs, O_WRONLY | O_CLOEXEC);
}
