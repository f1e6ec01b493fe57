/*
 * runtime/sandbox_idmap.c - the uid/gid maps of the user namespaces the
 * sandbox makes, sbx_enter_userns, and what the host allows (moved out of
 * sandbox.c).
 */
#include "runtime/sandbox_idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "runtime/isolation.h"
#include "runtime/sandbox.h"

extern char **environ;

static const char *idmap_kind(const struct idmap_plan *pl)
{
	return pl->identity ? "identity" : pl->helpers ? "subordinate ranges" : "single id";
}

/* A "start count" range for the caller in a subid file (by name or uid). */
static bool find_subid(const char *file, const char *name, unsigned long id, unsigned long *start,
		       unsigned long *count)
{
	_cleanup_fclose_ FILE *fp = fopen(file, "re");
	if (!fp)
		return false;
	char line[512];
	char idstr[32];
	snprintf(idstr, sizeof idstr, "%lu", id);
	while (fgets(line, sizeof line, fp)) {
		char *a = strchr(line, ':');
		if (!a)
			continue;
		*a++ = '\0';
		if (strcmp(line, idstr) && (!name || strcmp(line, name)))
			continue;
		char *b = strchr(a, ':');
		if (!b)
			continue;
		*b++ = '\0';
		*start = strtoul(a, NULL, 10);
		*count = strtoul(b, NULL, 10);
		if (*count > 0)
			return true;
	}
	return false;
}

static bool have_prog(const char *p) { return access(p, X_OK) == 0; }

void sbx_idmap_plan(struct idmap_plan *pl, bool identity)
{
	memset(pl, 0, sizeof *pl);
	pl->identity = identity;
	if (identity)
		return;
	pl->uid = getuid();
	pl->gid = getgid();
	char buf[4096];
	struct passwd pw, *res = NULL;
	const char *name = NULL;
	if (getpwuid_r((uid_t)pl->uid, &pw, buf, sizeof buf, &res) == 0 && res)
		name = res->pw_name;
	pl->helpers = have_prog("/usr/bin/newuidmap") && have_prog("/usr/bin/newgidmap") &&
		      find_subid("/etc/subuid", name, pl->uid, &pl->ustart, &pl->ucount) &&
		      find_subid("/etc/subgid", name, pl->uid, &pl->gstart, &pl->gcount);
}

static int run_helper(char *const argv[], cb_error_t *err)
{
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc != 0)
		return cb_error_set(err, rc, "run '%s'", argv[0]);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return cb_error_errno(err, "wait for '%s'", argv[0]);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		return cb_error_set(err, 0, "'%s' failed (status %d)", argv[0], ws);
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *text, cb_error_t *err)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		return cb_error_errno(err, "write '%s'", path);
	return 0;
}

/* Our own map with every range turned onto itself ("in in count"). */
static int write_identity(pid_t pid, const char *file, cb_error_t *err)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/%s", file);
	_cleanup_fclose_ FILE *fp = fopen(path, "re");
	if (!fp)
		return cb_error_errno(err, "read '%s'", path);
	cb_buf_t b;
	cb_buf_init(&b);
	unsigned long in, out, count;
	while (fscanf(fp, "%lu %lu %lu", &in, &out, &count) == 3) {
		/* the host's own map (0 0 4294967295) copied whole would make
		 * the namespace look like the host's to cb_in_initial_userns()
		 * (then overlays miss userxattr and fail): leave out the last
		 * id, 4294967294, which nothing uses */
		if (in == 0 && count == 4294967295UL)
			count--;
		cb_buf_addf(&b, "%lu %lu %lu\n", in, in, count);
	}
	int rc = write_proc(pid, file, b.len ? b.data : "0 0 1\n", err);
	cb_buf_release(&b);
	return rc;
}

/* Has pid's uid_map been written (newuidmap ran, newgidmap failed)? */
static bool uid_map_written(pid_t pid)
{
	char path[64], c;
	snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 && read(fd, &c, 1) == 1;
}

static int write_single(pid_t pid, const struct idmap_plan *pl, cb_error_t *err)
{
	char line[64];
	snprintf(line, sizeof line, "0 %lu 1\n", pl->uid);
	if (!uid_map_written(pid) && write_proc(pid, "uid_map", line, err) < 0)
		return -1;
	if (write_proc(pid, "setgroups", "deny", err) < 0)
		return -1;
	snprintf(line, sizeof line, "0 %lu 1\n", pl->gid);
	return write_proc(pid, "gid_map", line, err);
}

static int write_helpers(pid_t pid, const struct idmap_plan *pl, cb_error_t *err)
{
	char p[16], a[5][24];
	snprintf(p, sizeof p, "%d", (int)pid);
	{
		snprintf(a[0], sizeof a[0], "%lu", pl->uid);
		snprintf(a[1], sizeof a[1], "%lu", pl->ustart);
		snprintf(a[2], sizeof a[2], "%lu", pl->ucount);
		char *uargv[] = {"/usr/bin/newuidmap", p, "0", a[0], "1", "1", a[1], a[2], NULL};
		if (run_helper(uargv, err) < 0)
			return cb_error_wrap(err, "map user ids");
		snprintf(a[0], sizeof a[0], "%lu", pl->gid);
		snprintf(a[1], sizeof a[1], "%lu", pl->gstart);
		snprintf(a[2], sizeof a[2], "%lu", pl->gcount);
		char *gargv[] = {"/usr/bin/newgidmap", p, "0", a[0], "1", "1", a[1], a[2], NULL};
		if (run_helper(gargv, err) < 0)
			return cb_error_wrap(err, "map group ids");
	}
	return 0;
}

int sbx_idmap_write(pid_t pid, struct idmap_plan *pl, cb_error_t *err)
{
	if (pl->identity) {
		if (write_identity(pid, "uid_map", err) < 0 || write_identity(pid, "gid_map", err) < 0)
			return cb_error_wrap(err, "identity map");
		return 0;
	}
	if (!pl->helpers)
		return write_single(pid, pl, err);
	cb_error_t e = CB_ERROR_INIT;
	if (write_helpers(pid, pl, &e) == 0)
		return 0;
	/* newuidmap refused (no setuid bit in a container, a seccomp or LSM
	 * rule): only the caller's own id can still be mapped. */
	cb_error_release(&e);
	pl->helpers = false;
	pl->fell_back = true;
	return write_single(pid, pl, err);
}

/* The helper of sbx_enter_userns: waits until `target` has unshared its
 * user namespace (a byte on `go`; EOF = it failed), maps it, exits. */
static _Noreturn void userns_helper(pid_t target, struct idmap_plan *pl, int go)
{
	char c;
	ssize_t n;
	while ((n = read(go, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(2);
	cb_error_t e = CB_ERROR_INIT;
	if (sbx_idmap_write(target, pl, &e) < 0)
		_exit(1);
	_exit(pl->fell_back ? 3 : 0); /* 3: the parent records the fallback */
}

static int enter_userns(int flags, bool identity, cb_error_t *err)
{
	struct idmap_plan pl;
	sbx_idmap_plan(&pl, identity);
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	/* A process cannot run newuidmap on itself from inside the namespace
	 * it just made (the helper needs the parent namespace's view): a child
	 * forked before unshare() maps us, as podman's pause process does. */
	pid_t self = getpid();
	pid_t helper = fork();
	if (helper < 0) {
		close(go[0]);
		close(go[1]);
		return cb_error_errno(err, "fork the id-mapping helper");
	}
	if (helper == 0) {
		close(go[1]);
		userns_helper(self, &pl, go[0]);
	}
	close(go[0]);
	int rc = 0;
	if (unshare(CLONE_NEWUSER | flags) < 0)
		rc = cb_error_errno(err, "create a user namespace%s",
				    errno == EINVAL ? " (the process is multi-threaded)" : "");
	else if (write(go[1], "g", 1) != 1)
		rc = cb_error_errno(err, "start the id-mapping helper");
	close(go[1]);
	int ws = 0;
	while (waitpid(helper, &ws, 0) < 0 && errno == EINTR)
		;
	if (rc < 0)
		return rc;
	if (!WIFEXITED(ws) || (WEXITSTATUS(ws) != 0 && WEXITSTATUS(ws) != 3))
		return cb_error_fail(err, EPERM, "map user and group ids of the user namespace%s",
				     pl.identity  ? " (identity map)"
				     : pl.helpers ? " with newuidmap/newgidmap"
						  : "");
	if (WEXITSTATUS(ws) == 3) {
		pl.helpers = false;
		rt_iso_fallback("newuidmap/newgidmap failed (their message is above)",
				"mapped only the caller's id (root in the build; other USERs fail), as buildah does");
	}
	rt_iso_set_idmap(idmap_kind(&pl));
	/* the maps name our ids 0 now; take them for real, and drop the host's
	 * supplementary groups where setgroups is allowed */
	if ((pl.helpers || pl.identity) && setgroups(0, NULL) < 0)
		return cb_error_errno(err, "setgroups in the user namespace");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return cb_error_errno(err, "become root of the user namespace");
	return 0;
}

int sbx_enter_userns(int flags, cb_error_t *err) { return enter_userns(flags, false, err); }

int sbx_enter_userns_identity(int flags, cb_error_t *err)
{
	return enter_userns(flags, true, err);
}

bool sbx_in_userns(void) { return !cb_in_initial_userns(); }

bool sbx_in_idmap(pid_t pid, const char *file, unsigned long id)
{
	char p[64];
	if (pid > 0)
		snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, file);
	else
		snprintf(p, sizeof p, "/proc/self/%s", file);
	_cleanup_fclose_ FILE *fp = fopen(p, "re");
	if (!fp)
		return true; /* no user namespaces at all: everything maps */
	unsigned long in, out, count;
	while (fscanf(fp, "%lu %lu %lu", &in, &out, &count) == 3)
		if (id >= in && id - in < count)
			return true;
	return false;
}

/* The maps write_idmaps will make: 0 -> the caller, 1..count -> subids. */
bool sbx_id_mapped(unsigned long id, unsigned long count, bool helpers)
{
	return id == 0 || (helpers && id >= 1 && id <= count);
}


/* setgroups(2) is refused in a user namespace whose creator wrote "deny"
 * (single-id maps, `unshare --map-root-user`). */
bool sbx_setgroups_allowed(pid_t pid)
{
	char p[64], buf[16] = {0};
	if (pid > 0)
		snprintf(p, sizeof p, "/proc/%d/setgroups", (int)pid);
	else
		snprintf(p, sizeof p, "/proc/self/setgroups");
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0)
		return true;
	return strncmp(buf, "deny", 4) != 0;
}


void sbx_host_probe(sbx_host_info_t *info)
{
	memset(info, 0, sizeof *info);
	info->root = geteuid() == 0;
	struct idmap_plan pl;
	sbx_idmap_plan(&pl, false);
	info->newuidmap = have_prog("/usr/bin/newuidmap") && have_prog("/usr/bin/newgidmap");
	info->subids = pl.helpers;
	char *data = NULL;
	cb_error_t e = CB_ERROR_INIT;
	info->userns = true;
	if (cb_read_file("/proc/sys/user/max_user_namespaces", 64, &data, NULL, &e) == 0 &&
	    atoi(data) == 0)
		info->userns = false;
	free(data);
	data = NULL;
	cb_error_release(&e);
	if (cb_read_file("/proc/sys/kernel/unprivileged_userns_clone", 64, &data, NULL, &e) == 0 &&
	    atoi(data) == 0 && !info->root)
		info->userns = false;
	free(data);
	cb_error_release(&e);
}

