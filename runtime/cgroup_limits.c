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

#include "runtime/cgroup_path.h"
#include "runtime/container_internal.h"
#include "common/fs.h"
#include "common/util.h"

/* docker's CFS period for --cpus */
#define CPU_PERIOD_US 100000

/* One controller: a child cgroup, this process in it; *dir is it, *v2
 * whether it is in the unified hierarchy. The limit is written by the
 * caller before anything else runs in it. */
static int make_one(ctr_limits_t *l, const rt_ctr_t *c, const char *ctl, const char **dir,
		    bool *v2, cb_error_t *err)
{
	_cleanup_free_ char *base = NULL;
	if (rt_cgroup_dir(ctl, 0, &base, NULL, v2, err) < 0)
		return -1;
	/* v2 hands a controller to children through subtree_control only */
	_cleanup_free_ char *tok = cb_asprintf("+%s", ctl);
	if (*v2 && rt_cgroup_write(base, "cgroup.subtree_control", tok, err) < 0)
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
	return rt_cgroup_write(dir, "cgroup.procs", pid, err);
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
		    rt_cgroup_write(dir, v2 ? "memory.max" : "memory.limit_in_bytes", val, err) < 0 ||
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
			rc = rt_cgroup_write(dir, "cpu.max", val, err);
		} else {
			snprintf(val, sizeof val, "%d", CPU_PERIOD_US);
			rc = rt_cgroup_write(dir, "cpu.cfs_period_us", val, err);
			snprintf(val, sizeof val, "%lld", quota);
			if (rc == 0)
				rc = rt_cgroup_write(dir, "cpu.cfs_quota_us", val, err);
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
		if (rt_cgroup_write(l->parents[i], "cgroup.procs", pid, &e) < 0)
			cb_error_release(&e);
		/* the container's last processes may still be leaving it */
		for (int k = 0; k < 200 && rmdir(l->dirs[i]) < 0 && errno == EBUSY; k++)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		free(l->dirs[i]);
		free(l->parents[i]);
	}
	memset(l, 0, sizeof *l);
}
