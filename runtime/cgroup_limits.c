/*
 * --memory and --cpus: a cgroup per controller (v1, as on this hybrid
 * host, or the unified v2 hierarchy when it has the controller), made
 * beside the monitor's own and entered by the monitor before it starts the
 * container: the container's PID 1 and everything it forks inherit it, and
 * nothing in the sandbox has to know. The monitor is one process per run
 * of the container (the attached `run`, or the keeper's child), so what it
 * adds to the count is its own small footprint. A limit that cannot be
 * applied is an error, never dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "common/fs.h"
#include "common/util.h"

/* docker's CFS period for --cpus */
#define CPU_PERIOD_US 100000

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

static bool v2_has(const char *mnt, const char *ctl)
{
	_cleanup_free_ char *p = cb_asprintf("%s/cgroup.controllers", mnt);
	char buf[512] = "";
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, sizeof buf, f) != NULL;
	fclose(f);
	for (char *save = NULL, *t = strtok_r(buf, " \n", &save); ok && t;
	     t = strtok_r(NULL, " \n", &save))
		if (!strcmp(t, ctl))
			return true;
	return false;
}

/* The directory of this process's cgroup in the hierarchy that has ctl,
 * and whether it is v2. A v1 mount of the controller wins: on a hybrid
 * host the unified hierarchy has none. */
static int own_cgroup(const char *ctl, char **dir, bool *v2, cb_error_t *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return cb_error_errno(err, "open /proc/self/mountinfo");
	char line[4096], mnt[512] = "", root[512] = "";
	bool found = false, is_v2 = false;
	while (fgets(line, sizeof line, f)) {
		char r[512], m[512], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		bool v1 = !strcmp(fstype, "cgroup") && has_token(super, ctl);
		if (v1 || (!found && !strcmp(fstype, "cgroup2") && v2_has(m, ctl))) {
			snprintf(mnt, sizeof mnt, "%s", m);
			snprintf(root, sizeof root, "%s", r);
			is_v2 = !v1;
			found = true;
			if (v1)
				break;
		}
	}
	fclose(f);
	if (!found)
		return cb_error_fail(err, ENOTSUP, "no %s cgroup controller on this host", ctl);
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return cb_error_errno(err, "open /proc/self/cgroup");
	char *path = NULL;
	while (!path && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		if (is_v2 ? !strcmp(line, "0") && !c1[1] : has_token(c1 + 1, ctl)) {
			const char *p = c2 + 1;
			size_t rl = strlen(root);
			if (strcmp(root, "/") && !strncmp(p, root, rl))
				p += rl; /* the mount shows a subtree */
			path = cb_asprintf("%s%s", mnt, strcmp(p, "/") ? p : "");
		}
	}
	fclose(f);
	if (!path)
		return cb_error_fail(err, ENOENT, "this process is in no %s cgroup", ctl);
	*dir = path;
	*v2 = is_v2;
	return 0;
}

static int write_file(const char *dir, const char *file, const char *val, cb_error_t *err)
{
	_cleanup_free_ char *p = cb_asprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		return cb_error_errno(err, "write '%s' to '%s'", val, p);
	return 0;
}

/* One controller: a child cgroup, this process in it; *dir is it, *v2
 * whether it is in the unified hierarchy. The limit is written by the
 * caller before anything else runs in it. */
static int make_one(ctr_limits_t *l, const rt_ctr_t *c, const char *ctl, const char **dir,
		    bool *v2, cb_error_t *err)
{
	_cleanup_free_ char *base = NULL;
	if (own_cgroup(ctl, &base, v2, err) < 0)
		return -1;
	/* v2 hands a controller to children through subtree_control only */
	_cleanup_free_ char *tok = cb_asprintf("+%s", ctl);
	if (*v2 && write_file(base, "cgroup.subtree_control", tok, err) < 0)
		return -1;
	char *d = cb_asprintf("%s/cbuild-%.12s-%d", base, c->id, (int)getpid());
	if (mkdir(d, 0755) < 0 && errno != EEXIST) {
		cb_error_errno(err, "create cgroup '%s'", d);
		free(d);
		return -1;
	}
	l->dirs[l->n] = d;
	l->parents[l->n++] = cb_steal_pointer(&base);
	*dir = d;
	return 0;
}

static int join(const char *dir, cb_error_t *err)
{
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	return write_file(dir, "cgroup.procs", pid, err);
}

int ctr_limits_enter(const rt_ctr_t *c, ctr_limits_t *l, cb_error_t *err)
{
	memset(l, 0, sizeof *l);
	char val[64];
	const char *dir;
	bool v2;
	if (c->extra.memory > 0) {
		snprintf(val, sizeof val, "%lld", (long long)c->extra.memory);
		if (make_one(l, c, "memory", &dir, &v2, err) < 0 ||
		    write_file(dir, v2 ? "memory.max" : "memory.limit_in_bytes", val, err) < 0 ||
		    join(dir, err) < 0)
			return cb_error_wrap(err, "memory limit");
	}
	if (c->extra.nano_cpus > 0) {
		long long quota = (long long)(c->extra.nano_cpus * CPU_PERIOD_US / 1000000000LL);
		if (quota < 1000)
			quota = 1000; /* the kernel's least quota: 1 ms */
		if (make_one(l, c, "cpu", &dir, &v2, err) < 0)
			return cb_error_wrap(err, "cpu limit");
		int rc;
		if (v2) {
			snprintf(val, sizeof val, "%lld %d", quota, CPU_PERIOD_US);
			rc = write_file(dir, "cpu.max", val, err);
		} else {
			snprintf(val, sizeof val, "%d", CPU_PERIOD_US);
			rc = write_file(dir, "cpu.cfs_period_us", val, err);
			snprintf(val, sizeof val, "%lld", quota);
			if (rc == 0)
				rc = write_file(dir, "cpu.cfs_quota_us", val, err);
		}
		if (rc < 0 || join(dir, err) < 0)
			return cb_error_wrap(err, "cpu limit");
	}
	return 0;
}

void ctr_limits_leave(ctr_limits_t *l)
{
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	for (int i = 0; i < l->n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		if (write_file(l->parents[i], "cgroup.procs", pid, &e) < 0)
			cb_error_release(&e);
		/* the container's last processes may still be leaving it */
		for (int k = 0; k < 200 && rmdir(l->dirs[i]) < 0 && errno == EBUSY; k++)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		free(l->dirs[i]);
		free(l->parents[i]);
	}
	memset(l, 0, sizeof *l);
}
