/*
 * --isolation none: a process run the way kaniko runs RUN steps, for a CI
 * container under Docker's default seccomp profile and capabilities, where
 * unshare (every namespace) and mount are refused but chroot is not
 * (CAP_SYS_CHROOT is in Docker's default set).
 *
 * The process is forked, chroot'ed into cfg->rootfs and exec'ed as cfg's
 * user, in its own process group (killed once it is reaped, standing in for
 * the PID namespace that would have killed stragglers). It shares this
 * container's PID, network, UTS and IPC namespaces and runs under the
 * container's own seccomp filter: that is what "not isolated" means, and
 * why auto says so once.
 *
 * Mounts cannot be made, so each is emulated by placing files in the root
 * before the process starts and taking them back after it is reaped:
 *   - a writable directory bind (a cache mount, -v) is renamed into place
 *     and renamed back, so what the process wrote stays in the source;
 *   - a read-only bind (a file or a tree: resolv.conf, hosts, secrets, bind
 *     mounts from the context or a stage) is copied in and removed after;
 *   - a tmpfs is an empty directory, emptied after;
 *   - /dev gets the device nodes Docker's device cgroup lets a container
 *     make (null, zero, full, random, urandom, tty); /proc stays empty.
 * An entry of the image at a destination is renamed aside meanwhile and its
 * parent's times restored, so the step's diff sees no change there; a
 * destination that did not exist is left as an empty directory or file,
 * exactly the mount point the namespace sandbox leaves (the builder drops
 * those it must).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"
#include "runtime/isolation.h"
#include "runtime/sandbox_confine.h"
#include "runtime/sandbox_handle.h"

#define ASIDE_PREFIX ".cbuild-aside-"

typedef struct placed {
	int pfd;                  /* the destination's parent, inside the root */
	char *name;               /* the destination's name in it */
	char *back;               /* renamed in from here: rename back (else removed) */
	bool aside;               /* the image's entry waits as ASIDE_PREFIX name */
	bool dir;                 /* leave an empty directory (else a file) when new */
	bool leave_nothing;       /* a /dev node: the sandbox's /dev is a tmpfs */
	struct timespec times[2]; /* the parent's atime, mtime before */
} placed_t;

struct sbx_none {
	placed_t *v;
	size_t n;
	pid_t pgid;
};

/* ---- resolving inside the root ---- */

/* The parent directory of dest (absolute, inside the root), created when
 * missing; *name gets the last component (caller frees). */
static int parent_of(int rootfd, const char *dest, char **name, cb_error_t *err)
{
	_cleanup_free_ char *clean = cb_path_clean(dest);
	char *slash = strrchr(clean, '/');
	if (!slash || !slash[1])
		return cb_error_fail(err, EINVAL, "mount destination '%s' is the root", dest);
	*slash = '\0';
	const char *dir = clean;
	while (*dir == '/')
		dir++;
	_cleanup_close_ int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	_cleanup_free_ char *walk = cb_xstrdup(dir);
	for (char *part = strtok(walk, "/"); part && fd >= 0; part = strtok(NULL, "/")) {
		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST)
			return cb_error_errno(err, "create '%s' in the root", dest);
		int next = cb_open_in_root(fd, part, O_RDONLY | O_DIRECTORY, 0);
		close(fd);
		fd = next;
	}
	if (fd < 0)
		return cb_error_errno(err, "open the parent of '%s' in the root", dest);
	*name = cb_xstrdup(slash + 1);
	return cb_steal_fd(&fd);
}

/* ---- copying a tree in (read-only binds) ---- */

static int copy_entry(int sfd, const char *sname, int dfd, const char *dname, cb_error_t *err);

static int copy_dir(int sfd, int dfd, cb_error_t *err)
{
	DIR *d = fdopendir(sfd);
	if (!d) {
		close(sfd);
		return cb_error_errno(err, "read a directory to copy");
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = copy_entry(dirfd(d), de->d_name, dfd, de->d_name, err);
	closedir(d);
	return rc;
}

static int copy_file(int sfd, const char *sname, int dfd, const char *dname,
		     const struct stat *sb, cb_error_t *err)
{
	_cleanup_close_ int in = openat(sfd, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out =
		openat(dfd, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		return cb_error_errno(err, "copy '%s'", sname);
	for (off_t left = sb->st_size; left > 0;) {
		ssize_t k = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (k <= 0) {
			char buf[65536];
			k = read(in, buf, sizeof buf);
			if (k <= 0 || cb_write_all(out, buf, (size_t)k, err) < 0)
				return k < 0 ? cb_error_errno(err, "copy '%s'", sname)
					     : (k == 0 ? 0 : -1);
		}
		left -= k;
	}
	if (fchmod(out, sb->st_mode & 07777) < 0)
		return cb_error_errno(err, "copy '%s': chmod", sname);
	return 0;
}

static int copy_entry(int sfd, const char *sname, int dfd, const char *dname, cb_error_t *err)
{
	struct stat sb;
	if (fstatat(sfd, sname, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return cb_error_errno(err, "copy '%s'", sname);
	if (S_ISDIR(sb.st_mode)) {
		if (mkdirat(dfd, dname, sb.st_mode & 07777) < 0 && errno != EEXIST)
			return cb_error_errno(err, "copy '%s': mkdir", sname);
		int s = openat(sfd, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0) {
			if (s >= 0)
				close(s);
			return cb_error_errno(err, "copy '%s'", sname);
		}
		return copy_dir(s, d, err);
	}
	if (S_ISLNK(sb.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sfd, sname, target, sizeof target - 1);
		if (n < 0)
			return cb_error_errno(err, "copy '%s'", sname);
		target[n] = '\0';
		return symlinkat(target, dfd, dname) < 0 ? cb_error_errno(err, "copy '%s'", sname)
							 : 0;
	}
	if (S_ISREG(sb.st_mode))
		return copy_file(sfd, sname, dfd, dname, &sb, err);
	return 0; /* sockets, fifos, devices: nothing a bind source should hold */
}

/* ---- placing and taking back ---- */

static placed_t *place_begin(sbx_none_t *n, int rootfd, const char *dest, bool dir,
			     cb_error_t *err)
{
	char *name = NULL;
	int pfd = parent_of(rootfd, dest, &name, err);
	if (pfd < 0)
		return NULL;
	n->v = cb_xreallocarray(n->v, n->n + 1, sizeof *n->v);
	placed_t *p = &n->v[n->n++];
	memset(p, 0, sizeof *p);
	p->pfd = pfd;
	p->name = name;
	p->dir = dir;
	struct stat ps;
	if (fstat(pfd, &ps) == 0) {
		p->times[0] = ps.st_atim;
		p->times[1] = ps.st_mtim;
	}
	struct stat sb;
	if (fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		_cleanup_free_ char *aside = cb_asprintf(ASIDE_PREFIX "%s", name);
		if (renameat(pfd, name, pfd, aside) < 0) {
			cb_error_errno(err, "move '%s' aside", dest);
			return NULL;
		}
		p->aside = true;
	}
	return p;
}

static void rm_at(int pfd, const char *name)
{
	struct stat sb;
	if (fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		unlinkat(pfd, name, 0);
		return;
	}
	_cleanup_free_ char *path = cb_asprintf("/proc/self/fd/%d/%s", pfd, name);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(path, &e) < 0)
		cb_warn_error(&e);
}

static void take_back(placed_t *p)
{
	if (p->back) {
		if (renameat(p->pfd, p->name, AT_FDCWD, p->back) < 0)
			fprintf(stderr, "cbuild: warning: move '%s' back to '%s': %s\n", p->name,
				p->back, strerror(errno));
	} else {
		rm_at(p->pfd, p->name);
	}
	if (p->aside) {
		_cleanup_free_ char *aside = cb_asprintf(ASIDE_PREFIX "%s", p->name);
		rm_at(p->pfd, p->name);
		if (renameat(p->pfd, aside, p->pfd, p->name) < 0)
			fprintf(stderr, "cbuild: warning: restore '%s': %s\n", p->name,
				strerror(errno));
		futimens(p->pfd, p->times); /* the diff sees the parent unchanged */
	} else if (p->leave_nothing) {
		/* nothing */
	} else if (p->dir) {
		mkdirat(p->pfd, p->name, 0755);
	} else {
		int fd = openat(p->pfd, p->name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
	close(p->pfd);
	free(p->name);
	free(p->back);
}

static void none_free(sbx_none_t *n)
{
	if (!n)
		return;
	/* the last placed first: a later mount may sit inside an earlier one */
	for (size_t i = n->n; i-- > 0;)
		take_back(&n->v[i]);
	free(n->v);
	free(n);
}

static int place_bind(sbx_none_t *n, int rootfd, const char *src, const char *dest, bool ro,
		      cb_error_t *err)
{
	struct stat sb;
	if (stat(src, &sb) < 0)
		return cb_error_errno(err, "mount source '%s'", src);
	placed_t *p = place_begin(n, rootfd, dest, S_ISDIR(sb.st_mode), err);
	if (!p)
		return -1;
	if (!ro && S_ISDIR(sb.st_mode)) {
		if (renameat(AT_FDCWD, src, p->pfd, p->name) == 0) {
			p->back = cb_xstrdup(src);
			return 0;
		}
		if (errno != EXDEV)
			return cb_error_errno(err, "move '%s' to '%s'", src, dest);
		return cb_error_fail(err, EXDEV,
				     "writable mount of '%s' on '%s': without namespaces it is "
				     "moved into the root, which needs it on the store's file "
				     "system",
				     src, dest);
	}
	_cleanup_free_ char *parent = cb_xstrdup(src);
	char *slash = strrchr(parent, '/');
	const char *base = slash ? slash + 1 : parent;
	if (slash)
		*slash = '\0';
	_cleanup_close_ int sdir =
		open(slash ? (slash == parent ? "/" : parent) : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sdir < 0)
		return cb_error_errno(err, "open the directory of '%s'", src);
	return copy_entry(sdir, base, p->pfd, p->name, err) < 0
		       ? cb_error_wrap(err, "place '%s' on '%s'", src, dest)
		       : 0;
}

/* On a nodev mount (a volume of `cbuild run`, whose writable mounts are all
 * nodev) a device node can be made but not opened: plain empty files
 * instead, so that writes to /dev/null at least succeed. */
static bool on_nodev(int rootfd)
{
	struct statvfs sv;
	return fstatvfs(rootfd, &sv) == 0 && (sv.f_flag & ST_NODEV);
}

static int place_dev(sbx_none_t *n, int rootfd)
{
	bool nodev = on_nodev(rootfd);
	if (nodev)
		rt_iso_fallback("/dev", "the root is on a nodev mount: /dev/null, /dev/zero, ... are "
					"plain files");
	static const struct {
		const char *name;
		unsigned maj, min;
		mode_t mode;
	} devs[] = {{"null", 1, 3, 0666}, {"zero", 1, 5, 0666}, {"full", 1, 7, 0666}, {"random", 1, 8, 0666}, {"urandom", 1, 9, 0666}, {"tty", 5, 0, 0666}};
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		_cleanup_free_ char *dest = cb_asprintf("/dev/%s", devs[i].name);
		placed_t *p = place_begin(n, rootfd, dest, false, &e);
		if (!p) {
			cb_error_release(&e);
			return -1;
		}
		p->leave_nothing = true;
		if (nodev) {
			int fd = openat(p->pfd, p->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (mknodat(p->pfd, p->name, S_IFCHR | devs[i].mode, makedev(devs[i].maj, devs[i].min)) <
		    0) {
			rt_iso_fallback("/dev", "mknod refused: /dev holds no device nodes");
			return 0;
		}
		fchmodat(p->pfd, p->name, devs[i].mode, 0);
	}
	return 0;
}

static int place_all(sbx_none_t *n, const sbx_config_t *cfg, cb_error_t *err)
{
	_cleanup_close_ int rootfd = open(cfg->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cb_error_errno(err, "open root '%s'", cfg->rootfs);
	if (geteuid() == 0) /* proot binds the host's nodes (proot_argv) */
		place_dev(n, rootfd);
	const struct {
		const char *src, *dest;
	} files[] = {{cfg->resolv_conf, "/etc/resolv.conf"},
		     {cfg->hosts, "/etc/hosts"},
		     {cfg->hostname_file, "/etc/hostname"}};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (files[i].src && place_bind(n, rootfd, files[i].src, files[i].dest, true, err) < 0)
			return -1;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const sbx_mount_t *m = &cfg->mounts[i];
		if (m->type == SBX_MOUNT_TMPFS) {
			placed_t *p = place_begin(n, rootfd, m->dest, true, err);
			if (!p)
				return -1;
			if (mkdirat(p->pfd, p->name, 01777) < 0)
				return cb_error_errno(err, "tmpfs '%s'", m->dest);
		} else if (place_bind(n, rootfd, m->source, m->dest, m->readonly, err) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ---- the process ---- */

static _Noreturn void child_fail(int fd, int code, const char *what, const char *arg)
{
	char msg[PATH_MAX + 128];
	int len = snprintf(msg, sizeof msg, "%d %s '%s'", code, what, arg);
	if (len > 0 && write(fd, msg, (size_t)len) < 0)
		_exit(127);
	_exit(127);
}

typedef struct child_args {
	const sbx_config_t *cfg;
	sbx_user_t *u;
	char *const *env; /* cfg->env with HOME */
	char **candidates; /* argv[0] along the PATH, made before the fork */
	int errfd, out, errw, in;
	const void *seccomp; /* struct sock_fprog, NULL = none */
	int cgroup_fd;       /* sbx_cgroup_procs_fd of the pids limit, -1 = none */
	const char *proot;   /* not root: proot's path, and its argv */
	char **proot_argv;
} child_args_t;

/* What the namespace sandbox gives too: the caps cfg allows (Docker's set:
 * in a container that has more, e.g. privileged, RUN gets no more than on
 * a host), in the bounding set and the process's own sets. */
static int drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap < 64; cap++)
		if (!(keep & (UINT64_C(1) << cap)) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	return 0;
}

static int drop_caps(uint64_t keep)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));
		d[i].effective &= k;
		d[i].permitted &= k;
		d[i].inheritable &= k;
	}
	return (int)syscall(SYS_capset, &h, d);
}

/* Not root (no chroot, no setuid, no capability to drop): proot puts the
 * process in the root by ptrace, as the user asked for (-0: root). */
static _Noreturn void proot_child(const child_args_t *a)
{
	const sbx_config_t *cfg = a->cfg;
	umask(cfg->umask);
	for (size_t i = 0; i < cfg->n_rlimits; i++) {
		struct rlimit rl = {cfg->rlimits[i].soft, cfg->rlimits[i].hard};
		setrlimit(cfg->rlimits[i].resource, &rl);
	}
	if (cfg->no_new_privs)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (a->seccomp && cfg->no_new_privs &&
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, a->seccomp) < 0)
		child_fail(a->errfd, errno, "load the seccomp filter for", cfg->argv[0]);
	execve(a->proot, a->proot_argv, a->env);
	child_fail(a->errfd, errno, "exec", a->proot);
}

static _Noreturn void child(const child_args_t *a)
{
	const sbx_config_t *cfg = a->cfg;
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (a->cgroup_fd >= 0 && write(a->cgroup_fd, "0", 1) != 1)
		child_fail(a->errfd, errno, "enter the pids cgroup for", cfg->argv[0]);
	if (dup2(a->in, 0) < 0 || dup2(a->out, 1) < 0 || dup2(a->errw, 2) < 0)
		child_fail(a->errfd, errno, "set up stdio for", cfg->argv[0]);
	if (a->proot)
		proot_child(a);
	if (chdir(cfg->rootfs) < 0 || chroot(".") < 0)
		child_fail(a->errfd, errno, "chroot into", cfg->rootfs);
	const char *cwd = cfg->cwd && *cfg->cwd ? cfg->cwd : "/";
	if (chdir(cwd) < 0) {
		/* as the namespace sandbox: a missing working directory is made */
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s", cwd);
		for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
			if (s)
				*s = '\0';
			mkdir(p, 0755);
			if (!s)
				break;
			*s = '/';
		}
		if (chdir(cwd) < 0)
			child_fail(a->errfd, errno, "chdir to", cwd);
	}
	umask(cfg->umask);
	for (size_t i = 0; i < cfg->n_rlimits; i++) {
		struct rlimit rl = {cfg->rlimits[i].soft, cfg->rlimits[i].hard};
		setrlimit(cfg->rlimits[i].resource, &rl);
	}
	if (drop_bounding(cfg->caps) < 0) /* while CAP_SETPCAP is ours */
		child_fail(a->errfd, errno, "drop capabilities for", cfg->argv[0]);
	if (setgroups(a->u->n_groups, a->u->groups) < 0 || setgid(a->u->gid) < 0 ||
	    setuid(a->u->uid) < 0)
		child_fail(a->errfd, errno, "switch to user", cfg->user ? cfg->user : "root");
	if (drop_caps(cfg->caps) < 0)
		child_fail(a->errfd, errno, "drop capabilities for", cfg->argv[0]);
	if (cfg->no_new_privs)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* Docker's profile over the container's own filter (which stays) */
	if (a->seccomp && cfg->no_new_privs &&
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, a->seccomp) < 0)
		child_fail(a->errfd, errno, "load the seccomp filter for", cfg->argv[0]);
	char *const *env = a->env;
	int saved = ENOENT;
	for (size_t i = 0; a->candidates[i]; i++) {
		execve(a->candidates[i], cfg->argv, env);
		if (errno == EACCES)
			saved = EACCES;
		else if (errno != ENOENT && errno != ENOTDIR)
			child_fail(a->errfd, errno, "exec", a->candidates[i]);
	}
	child_fail(a->errfd, saved, "exec", cfg->argv[0]);
}

static char **candidates(const sbx_config_t *cfg)
{
	const char *file = cfg->argv[0];
	if (strchr(file, '/'))
		return cb_strv_push(NULL, file);
	const char *path = SBX_DEFAULT_PATH;
	for (size_t i = 0; cfg->env && cfg->env[i]; i++)
		if (!strncmp(cfg->env[i], "PATH=", 5))
			path = cfg->env[i] + 5;
	char **v = NULL;
	for (const char *dir = path; dir;) {
		const char *end = strchr(dir, ':');
		int n = end ? (int)(end - dir) : (int)strlen(dir);
		v = cb_strv_push_take(v, cb_asprintf("%.*s/%s", n, n ? dir : ".", file));
		dir = end ? end + 1 : NULL;
	}
	return v ? v : cb_xcalloc(1, sizeof(char *));
}

/* "CODE what 'arg'" from the child, or nothing when its exec succeeded. */
static int read_child_error(int fd, cb_error_t *err)
{
	char msg[PATH_MAX + 128];
	ssize_t k;
	while ((k = read(fd, msg, sizeof msg - 1)) < 0 && errno == EINTR)
		;
	if (k <= 0)
		return 0;
	msg[k] = '\0';
	char *rest = NULL;
	int code = (int)strtol(msg, &rest, 10);
	if (code == ENOENT && !strncmp(rest, " exec", 5))
		return cb_error_set(err, code, "exec %s in the image", rest + 6);
	return cb_error_set(err, code, "%s", rest && *rest ? rest + 1 : msg);
}

/* proot along this process's PATH, or NULL. */
static char *find_proot(void)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = cb_xstrdup(path && *path ? path : SBX_DEFAULT_PATH);
	for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = cb_asprintf("%s/proot", dir);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

bool sbx_none_can_run(void)
{
	_cleanup_free_ char *p = geteuid() == 0 ? NULL : find_proot();
	return geteuid() == 0 || p != NULL;
}

/* proot's argv for cfg as u; ENOENT when no candidate of argv[0] is in the
 * root (proot would say it only on its stderr). */
static char **proot_argv(const char *proot, const sbx_config_t *cfg, const sbx_user_t *u,
			 char *const *cand, cb_error_t *err)
{
	_cleanup_close_ int rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *found = NULL;
	for (size_t i = 0; rootfd >= 0 && cand[i] && !found; i++) {
		int fd = cb_open_in_root(rootfd, cand[i] + strspn(cand[i], "/"), O_PATH, 0);
		if (fd >= 0) {
			found = cand[i];
			close(fd);
		}
	}
	if (!found) {
		cb_error_set(err, ENOENT, "exec %s in the image", cfg->argv[0]);
		return NULL;
	}
	char **v = cb_strv_push(NULL, proot);
	if (u->uid == 0 && u->gid == 0)
		v = cb_strv_push(v, "-0");
	else
		v = cb_strv_push_take(cb_strv_push(v, "-i"),
				      cb_asprintf("%u:%u", (unsigned)u->uid, (unsigned)u->gid));
	v = cb_strv_push(cb_strv_push(v, "-r"), cfg->rootfs);
	v = cb_strv_push(cb_strv_push(v, "-w"), cfg->cwd && *cfg->cwd ? cfg->cwd : "/");
	static const char *const binds[] = {"/proc", "/dev/null", "/dev/zero", "/dev/full",
					    "/dev/random", "/dev/urandom"};
	for (size_t i = 0; i < sizeof binds / sizeof binds[0]; i++)
		v = cb_strv_push(cb_strv_push(v, "-b"), binds[i]);
	v = cb_strv_push(v, found);
	for (size_t i = 1; cfg->argv[i]; i++)
		v = cb_strv_push(v, cfg->argv[i]);
	return v;
}

static void report_once(void)
{
	if (geteuid() != 0) {
		rt_iso_set_root("proot (ptrace: no namespaces, no chroot as a non-root user; "
				"files are owned by this user, written as root's in layers; a chown "
				"to another owner is faked, the file stays root's)");
		rt_iso_set_proc("this container's, bound by proot");
		return;
	}
	rt_iso_set_root("chroot (no namespaces)");
	rt_iso_set_proc("none (an empty /proc: it cannot be mounted)");
	/* seccomp: Docker's profile is loaded over the container's (both
	 * apply), as in the namespace sandbox */
}

int sbx_none_start(const sbx_config_t *cfg, sbx_handle_t **out, cb_error_t *err)
{
	if (cfg->tty)
		return cb_error_fail(err, ENOTSUP, "a terminal (-t) needs namespaces: not with "
						   "--isolation none");
	report_once();
	if (cfg->network == SBX_NET_NONE) /* named, never dropped silently */
		rt_iso_fallback("network", "--network none asks for a namespace of its own: the "
					   "step has this container's network");
	sbx_user_t u = {0};
	if (sbx_resolve_user(cfg->rootfs, cfg->user, &u, err) < 0)
		return -1;
	sbx_none_t *n = cb_xcalloc(1, sizeof *n);
	int syncp[2] = {-1, -1}, op[2] = {-1, -1}, ep[2] = {-1, -1};
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_strv_ char **cand = candidates(cfg);
	_cleanup_strv_ char **env = sbx_env_with_home(cfg->env, u.home);
	sbx_cgroup_t *cg = NULL;
	sbx_scmp_bpf_t *bpf = NULL;
	const void *prog = NULL;
	int join_cg = -1;
	_cleanup_free_ char *proot = NULL;
	_cleanup_strv_ char **pargv = NULL;
	if (geteuid() != 0 && !(proot = find_proot())) {
		free(n);
		sbx_user_release(&u);
		return cb_error_fail(err, ENOTSUP, "RUN without namespaces as a non-root user needs "
						   "proot (no chroot without CAP_SYS_CHROOT): install it");
	}
	int rc = sbx_confine_prepare(cfg, 0, &cg, &bpf, &prog, &join_cg, err);
	if (rc == 0 && proot && !(pargv = proot_argv(proot, cfg, &u, cand, err)))
		rc = -1;
	if (rc == 0)
		rc = place_all(n, cfg, err);
	if (rc == 0 && (pipe2(syncp, O_CLOEXEC) < 0 ||
			(cfg->output_cb && (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0))))
		rc = cb_error_errno(err, "pipe");
	if (rc < 0)
		goto fail;
	int in = cfg->stdin_mode == SBX_STDIN_INHERIT ? (cfg->stdin_fd >= 0 ? cfg->stdin_fd : 0)
						      : devnull;
	child_args_t a = {.cfg = cfg, .u = &u, .env = env, .candidates = cand, .errfd = syncp[1], .in = in, .seccomp = prog, .cgroup_fd = cg ? sbx_cgroup_procs_fd(cg) : -1, .proot = proot, .proot_argv = pargv};
	a.out = op[1] >= 0 ? op[1] : cfg->stdout_fd >= 0 ? cfg->stdout_fd
							 : 1;
	a.errw = ep[1] >= 0 ? ep[1] : cfg->stderr_fd >= 0 ? cfg->stderr_fd
							  : 2;
	pid_t pid = fork();
	if (pid < 0) {
		rc = cb_error_errno(err, "fork");
		goto fail;
	}
	if (pid == 0)
		child(&a);
	setpgid(pid, pid); /* also here: no race with the kill at the end */
	n->pgid = pid;
	cb_closep(&syncp[1]);
	cb_closep(&op[1]);
	cb_closep(&ep[1]);
	if (read_child_error(syncp[0], err) < 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		rc = -1;
		goto fail;
	}
	cb_closep(&syncp[0]);
	sbx_handle_t *h = cb_xcalloc(1, sizeof *h);
	h->pid = h->proc = pid;
	h->pty = -1;
	h->out_r = op[0];
	h->err_r = ep[0];
	h->cb = cfg->output_cb;
	h->opaque = cfg->output_opaque;
	h->tty_in = h->tty_out = -1;
	h->none = n;
	h->cgroup = cg;
	sbx_seccomp_bpf_free(bpf);
	sbx_user_release(&u);
	*out = h;
	return 0;
fail:
	sbx_cgroup_free(cg);
	sbx_seccomp_bpf_free(bpf);
	for (int i = 0; i < 2; i++) {
		cb_closep(&syncp[i]);
		cb_closep(&op[i]);
		cb_closep(&ep[i]);
	}
	none_free(n);
	sbx_user_release(&u);
	return rc;
}

void sbx_none_finish(sbx_handle_t *h)
{
	if (!h->none)
		return;
	/* what the step left running in the background (a PID namespace
	 * would have killed it with the step's first process) */
	if (h->none->pgid > 0)
		kill(-h->none->pgid, SIGKILL);
	none_free(h->none);
	h->none = NULL;
}
