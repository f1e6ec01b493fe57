/*
 * runtime/cgroup_path.c - a controller's hierarchy from
 * /proc/self/mountinfo and a process's cgroup in it from /proc/PID/cgroup
 * (see cgroup_path.h).
 */
#include "runtime/cgroup_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

/* Whether the comma-separated list holds tok (v1 mount options, the
 * controllers of a /proc/PID/cgroup line). */
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
	/* v2's freezer is no controller: cgroup.freeze is in every cgroup */
	if (!strcmp(ctl, "freezer"))
		return true;
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

/* The mount of the hierarchy holding ctl: its mount point and the root
 * of the subtree it shows. */
static int find_mount(const char *ctl, char *mnt, char *root, size_t size, bool *v2,
		      cb_error_t *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return cb_error_errno(err, "open /proc/self/mountinfo");
	char line[4096];
	bool found = false;
	while (fgets(line, sizeof line, f)) {
		char r[512], m[512], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		bool v1 = !strcmp(fstype, "cgroup") && has_token(super, ctl);
		if (v1 || (!found && !strcmp(fstype, "cgroup2") && v2_has(m, ctl))) {
			snprintf(mnt, size, "%s", m);
			snprintf(root, size, "%s", r);
			*v2 = !v1;
			found = true;
			if (v1)
				break;
		}
	}
	fclose(f);
	if (!found)
		return cb_error_fail(err, ENOTSUP, "no %s cgroup controller on this host", ctl);
	return 0;
}

int rt_cgroup_dir(const char *ctl, pid_t pid, char **dir, char **mnt, bool *v2, cb_error_t *err)
{
	char m[512], root[512], line[4096], p[64];
	bool is_v2;
	if (find_mount(ctl, m, root, sizeof m, &is_v2, err) < 0)
		return -1;
	if (pid > 0)
		snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
	else
		snprintf(p, sizeof p, "/proc/self/cgroup");
	FILE *f = fopen(p, "re");
	if (!f)
		return cb_error_errno(err, "open %s", p);
	char *path = NULL;
	while (!path && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		if (is_v2 ? !strcmp(line, "0") && !c1[1] : has_token(c1 + 1, ctl)) {
			const char *rel = c2 + 1;
			size_t rl = strlen(root);
			if (strcmp(root, "/") && !strncmp(rel, root, rl))
				rel += rl; /* the mount shows a subtree */
			path = cb_asprintf("%s%s", m, strcmp(rel, "/") ? rel : "");
		}
	}
	fclose(f);
	if (!path) {
		if (pid > 0)
			return cb_error_fail(err, ENOENT, "process %d is in no %s cgroup", (int)pid, ctl);
		return cb_error_fail(err, ENOENT, "this process is in no %s cgroup", ctl);
	}
	*dir = path;
	*v2 = is_v2;
	if (mnt)
		*mnt = cb_xstrdup(m);
	return 0;
}

int rt_cgroup_write(const char *dir, const char *file, const char *val, cb_error_t *err)
{
	_cleanup_free_ char *p = cb_asprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		return cb_error_errno(err, "write '%s' to '%s'", val, p);
	return 0;
}
