/*
 * runtime/sandbox_child.c - the child side of the namespace sandbox (see
 * sandbox.c for the shape): root, mounts, /dev and /proc, stdio, creds,
 * seccomp and the exec, or joining a running container for sbx_exec.
 *
 * The child is a raw clone() (fork semantics, no atfork handlers), so it
 * only makes system calls and formats into stack buffers: everything that
 * allocates happens in the parent before the clone.
 */
#include "runtime/sandbox_child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/isolation.h"
#include "runtime/sandbox_confine.h"
#include "runtime/sandbox_handle.h"
#include "runtime/sandbox_idmap.h"
#include "common/fs.h"
#include "common/util.h"

static _Noreturn void child_fail(struct child_ctx *c, int code, const char *fmt, ...)
	CB_PRINTF(3, 4);
static _Noreturn void child_fail(struct child_ctx *c, int code, const char *fmt, ...)
{
	struct sync_msg m = {.type = MSG_ERROR, .code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof m.text, fmt, ap);
	va_end(ap);
	while (send(c->sync, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* strerror() may allocate (gettext), which the child must not: the errors
 * its notes name. */
static const char *errname(int e)
{
	return e == EPERM ? "Operation not permitted" : e == EINVAL ? "Invalid argument"
			  : e == EACCES ? "Permission denied" : "an error";
}

static void child_note(struct child_ctx *c, int code, const char *fmt, ...) CB_PRINTF(3, 4);
static void child_note(struct child_ctx *c, int code, const char *fmt, ...)
{
	struct sync_msg m = {.type = MSG_NOTE, .code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof m.text, fmt, ap);
	va_end(ap);
	while (send(c->sync, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

#define CHILD_CHECK(c, expr, ...)                              \
	do {                                                   \
		if ((expr) < 0)                                \
			child_fail((c), errno, __VA_ARGS__);   \
	} while (0)

/* "/proc/self/fd/N" of fd into buf. */
static const char *fdpath(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

enum { KIND_DIR, KIND_FILE };

/* Open (O_PATH) path inside the root, creating it and its missing parents
 * (directories; the last one a file for KIND_FILE). Every prefix is
 * resolved from the root with RESOLVE_IN_ROOT, so symlinks (an image's
 * /etc/resolv.conf -> ../run/x) are followed but stay in the image; new
 * entries are made by name in an already resolved directory. */
static int child_ensure(int rootfd, const char *path, int kind)
{
	while (*path == '/')
		path++;
	if (!*path)
		return fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	int fd = sys_openat2(rootfd, path, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int dirfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (dirfd < 0)
		return -1;
	char *comp = buf;
	for (;;) {
		while (*comp == '/')
			comp++;
		char *end = comp + strcspn(comp, "/");
		bool last = !end[strspn(end, "/")];
		char saved = *end;
		*end = '\0';
		/* buf is now the prefix up to and including comp */
		int nfd = sys_openat2(rootfd, buf, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
		if (nfd < 0 && errno == ENOENT) {
			if (!last || kind == KIND_DIR) {
				if (mkdirat(dirfd, comp, 0755) < 0 && errno != EEXIST)
					goto fail;
			} else {
				int f = openat(dirfd, comp, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
					       0644);
				if (f < 0)
					goto fail;
				close(f);
			}
			nfd = sys_openat2(rootfd, buf, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
		}
		if (nfd < 0)
			goto fail;
		close(dirfd);
		dirfd = nfd;
		if (last)
			return dirfd;
		*end = saved;
		comp = end;
	}
fail:;
	int e = errno;
	close(dirfd);
	errno = e;
	return -1;
}

/* Mount flags a bind remount must keep: in a user namespace the kernel
 * locks nosuid/nodev/noexec/rdonly/atime flags that came from outside and
 * refuses a remount that would clear them (EPERM). */
static unsigned long locked_flags(int fd)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	unsigned long f = 0;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Remount the bind at fd with extra flags, recursively when the kernel has
 * mount_setattr (so submounts of a recursive bind become read-only too). */
static int remount_bind(int fd, unsigned long extra, bool recursive)
{
	char p[64];
	if (recursive) {
		struct mount_attr a = {0};
		if (extra & MS_RDONLY)
			a.attr_set |= MOUNT_ATTR_RDONLY;
		if (extra & MS_NOSUID)
			a.attr_set |= MOUNT_ATTR_NOSUID;
		if (extra & MS_NODEV)
			a.attr_set |= MOUNT_ATTR_NODEV;
		if (extra & MS_NOEXEC)
			a.attr_set |= MOUNT_ATTR_NOEXEC;
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) == 0)
			return 0;
		if (errno != ENOSYS)
			return -1;
	}
	return mount(NULL, fdpath(p, sizeof p, fd), NULL,
		     MS_BIND | MS_REMOUNT | extra | locked_flags(fd), NULL);
}

static void child_bind(struct child_ctx *c, int rootfd, const char *src, const char *dest,
		       bool readonly, unsigned long extra)
{
	struct stat st;
	CHILD_CHECK(c, stat(src, &st), "bind mount '%s': stat source '%s'", dest, src);
	int t = child_ensure(rootfd, dest, S_ISDIR(st.st_mode) ? KIND_DIR : KIND_FILE);
	CHILD_CHECK(c, t, "create mount point '%s'", dest);
	char p[64];
	CHILD_CHECK(c, mount(src, fdpath(p, sizeof p, t), NULL, MS_BIND | MS_REC, NULL),
		    "bind mount '%s' on '%s'", src, dest);
	close(t);
	/* reopen: the fd above points below the new mount */
	t = sys_openat2(rootfd, dest, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
	CHILD_CHECK(c, t, "open mount '%s'", dest);
	CHILD_CHECK(c, remount_bind(t, MS_NOSUID | MS_NODEV | extra | (readonly ? MS_RDONLY : 0), true),
		    "remount '%s'%s", dest, readonly ? " read-only" : "");
	close(t);
}

static void child_mount_dev(struct child_ctx *c, int rootfd)
{
	char p[64], tgt[PATH_MAX];
	int t = child_ensure(rootfd, "dev", KIND_DIR);
	CHILD_CHECK(c, t, "create mount point '/dev'");
	/* nodev is safe: the device nodes below are binds of the host's, whose
	 * mounts have their own flags */
	CHILD_CHECK(c, mount("tmpfs", fdpath(p, sizeof p, t), "tmpfs",
			     MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=755,size=65536k"),
		    "mount '/dev'");
	close(t);
	int dev = sys_openat2(rootfd, "dev", O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT);
	CHILD_CHECK(c, dev, "open '/dev'");
	static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(nodes); i++) {
		char host[64];
		snprintf(host, sizeof host, "/dev/%s", nodes[i]);
		snprintf(tgt, sizeof tgt, "/proc/self/fd/%d/%s", dev, nodes[i]);
		int f = open(tgt, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		CHILD_CHECK(c, f, "create '/dev/%s'", nodes[i]);
		close(f);
		CHILD_CHECK(c, mount(host, tgt, NULL, MS_BIND, NULL), "bind mount '/dev/%s'", nodes[i]);
	}
	static const char *links[][2] = {
		{"/proc/self/fd", "fd"},         {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},   {"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},            {"/proc/kcore", "core"},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(links); i++) {
		snprintf(tgt, sizeof tgt, "/proc/self/fd/%d/%s", dev, links[i][1]);
		CHILD_CHECK(c, symlink(links[i][0], tgt), "create '/dev/%s'", links[i][1]);
	}
	snprintf(tgt, sizeof tgt, "/proc/self/fd/%d/pts", dev);
	CHILD_CHECK(c, mkdir(tgt, 0755), "create '/dev/pts'");
	/* gid=5 (tty) only exists when the namespace maps it */
	if (mount("devpts", tgt, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
		CHILD_CHECK(c, mount("devpts", tgt, "devpts", MS_NOSUID | MS_NOEXEC,
				     "newinstance,ptmxmode=0666,mode=0620"),
			    "mount '/dev/pts'");
	snprintf(tgt, sizeof tgt, "/proc/self/fd/%d/shm", dev);
	CHILD_CHECK(c, mkdir(tgt, 01777), "create '/dev/shm'");
	CHILD_CHECK(c, mount("shm", tgt, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     "mode=1777,size=65536k"),
		    "mount '/dev/shm'");
	snprintf(tgt, sizeof tgt, "/proc/self/fd/%d/mqueue", dev);
	CHILD_CHECK(c, mkdir(tgt, 0755), "create '/dev/mqueue'");
	/* mqueue needs an IPC namespace the user namespace owns: not fatal */
	mount("mqueue", tgt, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	close(dev);
}

/* Docker's defaults: kernel information and knobs a container has no
 * business with are hidden, the rest of /proc/sys & co. read-only (root in
 * the container could otherwise write /proc/sysrq-trigger). */
static const char *const masked_paths[] = {
	"proc/asound", "proc/acpi", "proc/kcore", "proc/keys", "proc/latency_stats",
	"proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
	"sys/firmware", "sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

static void child_mask_paths(struct child_ctx *c, int rootfd)
{
	char p[64];
	for (size_t i = 0; i < CB_ARRAY_SIZE(masked_paths); i++) {
		int t = sys_openat2(rootfd, masked_paths[i], O_PATH | O_NOFOLLOW | O_CLOEXEC,
				    RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (t < 0 && errno == ENOENT)
			continue;
		CHILD_CHECK(c, t, "open '/%s' to mask it", masked_paths[i]);
		struct stat st;
		CHILD_CHECK(c, fstat(t, &st), "stat '/%s'", masked_paths[i]);
		fdpath(p, sizeof p, t);
		if (S_ISDIR(st.st_mode))
			CHILD_CHECK(c, mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
					     "size=0k,mode=0555"),
				    "mask '/%s'", masked_paths[i]);
		else
			CHILD_CHECK(c, mount("/dev/null", p, NULL, MS_BIND, NULL), "mask '/%s'",
				    masked_paths[i]);
		close(t);
	}
	for (size_t i = 0; i < CB_ARRAY_SIZE(readonly_paths); i++) {
		int t = sys_openat2(rootfd, readonly_paths[i], O_PATH | O_NOFOLLOW | O_CLOEXEC,
				    RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (t < 0 && errno == ENOENT)
			continue;
		CHILD_CHECK(c, t, "open '/%s'", readonly_paths[i]);
		CHILD_CHECK(c, mount(fdpath(p, sizeof p, t), p, NULL, MS_BIND | MS_REC, NULL),
			    "bind '/%s'", readonly_paths[i]);
		close(t);
		t = sys_openat2(rootfd, readonly_paths[i], O_PATH | O_NOFOLLOW | O_CLOEXEC,
				RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
		CHILD_CHECK(c, t, "open '/%s'", readonly_paths[i]);
		CHILD_CHECK(c, remount_bind(t, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true),
			    "remount '/%s' read-only", readonly_paths[i]);
		close(t);
	}
}

/* A fresh proc, or (chroot isolation, or a fresh one refused: Docker masks
 * parts of its /proc, and the kernel then refuses a new proc in a user
 * namespace) the outer /proc bound recursively, as buildah's chroot
 * isolation does; the masked paths go on top either way. */
static void child_mount_proc(struct child_ctx *c, int rootfd, int t)
{
	char p[64];
	const unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int e = -1;
	if (c->iso != RT_ISO_CHROOT)
		e = mount("proc", fdpath(p, sizeof p, t), "proc", fl, NULL) < 0 ? errno : 0;
	if (e == 0) {
		child_note(c, NOTE_PROC, "fresh");
		close(t);
		return;
	}
	if (e > 0 && (e != EPERM || c->iso != RT_ISO_AUTO))
		child_fail(c, e, "mount '/proc'%s",
			   e == EPERM ? " (--isolation namespaces: no fallback to the outer /proc)" : "");
	CHILD_CHECK(c, mount("/proc", fdpath(p, sizeof p, t), NULL, MS_BIND | MS_REC, NULL),
		    "bind mount the outer '/proc'");
	close(t);
	t = sys_openat2(rootfd, "proc", O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
	CHILD_CHECK(c, t, "open '/proc'");
	CHILD_CHECK(c, remount_bind(t, fl, true), "remount '/proc' nosuid,nodev,noexec");
	close(t);
	if (e < 0)
		child_note(c, NOTE_PROC_BIND, "--isolation chroot");
	else
		child_note(c, NOTE_PROC_FALLBACK, "mount of a fresh proc: %s (a masked /proc, as in "
			   "a Docker container): bound the outer /proc (it shows the outer PID "
			   "namespace's processes)", errname(e));
}

static void child_mount_proc_sys(struct child_ctx *c, int rootfd)
{
	char p[64];
	int t = child_ensure(rootfd, "proc", KIND_DIR);
	CHILD_CHECK(c, t, "create mount point '/proc'");
	child_mount_proc(c, rootfd, t);
	t = child_ensure(rootfd, "sys", KIND_DIR);
	CHILD_CHECK(c, t, "create mount point '/sys'");
	fdpath(p, sizeof p, t);
	/* A fresh sysfs needs to own the network namespace (root, or a new
	 * netns); rootless with the host's network binds the host's /sys. */
	if (mount("sysfs", p, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		if (errno != EPERM)
			child_fail(c, errno, "mount '/sys'");
		CHILD_CHECK(c, mount("/sys", p, NULL, MS_BIND | MS_REC, NULL), "bind mount '/sys'");
		close(t);
		t = sys_openat2(rootfd, "sys", O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
		CHILD_CHECK(c, t, "open '/sys'");
		CHILD_CHECK(c, remount_bind(t, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true),
			    "remount '/sys' read-only");
	}
	close(t);
	if (!c->cfg->systempaths_unconfined)
		child_mask_paths(c, rootfd);
}

static void child_user_mounts(struct child_ctx *c, int rootfd)
{
	const sbx_config_t *cfg = c->cfg;
	const struct {
		const char *src, *dest;
	} files[] = {
		{cfg->resolv_conf, "/etc/resolv.conf"},
		{cfg->hosts, "/etc/hosts"},
		{cfg->hostname_file, "/etc/hostname"},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(files); i++)
		if (files[i].src)
			child_bind(c, rootfd, files[i].src, files[i].dest, false, MS_NOEXEC);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const sbx_mount_t *m = &cfg->mounts[i];
		if (m->type == SBX_MOUNT_BIND) {
			child_bind(c, rootfd, m->source, m->dest, m->readonly, 0);
			continue;
		}
		char p[64];
		int t = child_ensure(rootfd, m->dest, KIND_DIR);
		CHILD_CHECK(c, t, "create mount point '%s'", m->dest);
		CHILD_CHECK(c, mount("tmpfs", fdpath(p, sizeof p, t), "tmpfs",
				     MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0) | m->flags,
				     m->options ? m->options : "mode=1777"),
			    "mount tmpfs on '%s'", m->dest);
		close(t);
	}
}

int sbx_loopback_up(cb_error_t *err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return cb_error_errno(err, "read the flags of 'lo'");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return cb_error_errno(err, "bring 'lo' up");
	return 0;
}

static void child_lo_up(struct child_ctx *c)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHILD_CHECK(c, s, "bring up 'lo': socket");
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	CHILD_CHECK(c, ioctl(s, SIOCGIFFLAGS, &ifr), "bring up 'lo'");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	CHILD_CHECK(c, ioctl(s, SIOCSIFFLAGS, &ifr), "bring up 'lo'");
	close(s);
}

/* Build the new root and enter it. */
static void child_setup_root(struct child_ctx *c)
{
	const sbx_config_t *cfg = c->cfg;
	/* No mount event may propagate back to the host. */
	CHILD_CHECK(c, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make '/' private");
	CHILD_CHECK(c, mount(cfg->rootfs, cfg->rootfs, NULL, MS_BIND | MS_REC, NULL),
		    "bind mount root '%s'", cfg->rootfs);
	int rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHILD_CHECK(c, rootfd, "open root '%s'", cfg->rootfs);

	child_mount_proc_sys(c, rootfd);
	child_mount_dev(c, rootfd);
	child_user_mounts(c, rootfd);

	/* The working directory must exist before the root turns read-only. */
	const char *cwd = cfg->cwd && *cfg->cwd ? cfg->cwd : "/";
	int w = child_ensure(rootfd, cwd, KIND_DIR);
	CHILD_CHECK(c, w, "create working directory '%s'", cwd);
	close(w);

	CHILD_CHECK(c, remount_bind(rootfd, MS_NODEV | (cfg->readonly_rootfs ? MS_RDONLY : 0), false),
		    "remount root nodev%s", cfg->readonly_rootfs ? ",ro" : "");

	if (cfg->hostname)
		CHILD_CHECK(c, sethostname(cfg->hostname, strlen(cfg->hostname)),
			    "set hostname '%s'", cfg->hostname);
	if (cfg->network == SBX_NET_NONE)
		child_lo_up(c);

	/* pivot_root(".", ".") stacks the old root on the new one; detaching
	 * it leaves only the new root (runc's trick: no directory needed). */
	int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHILD_CHECK(c, oldroot, "open old root");
	CHILD_CHECK(c, fchdir(rootfd), "enter root");
	int e = c->iso == RT_ISO_CHROOT ? -1 : syscall(SYS_pivot_root, ".", ".") == 0 ? 0 : errno;
	if (e == 0) {
		CHILD_CHECK(c, fchdir(oldroot), "enter old root");
		CHILD_CHECK(c, umount2(".", MNT_DETACH), "detach old root");
		child_note(c, NOTE_PIVOT, "pivot_root");
	} else if (e < 0 || ((e == EINVAL || e == EPERM) && c->iso == RT_ISO_AUTO)) {
		/* the host runs from an initramfs (rootfs cannot be pivoted), or
		 * a seccomp profile refuses pivot_root (Docker's does, even with
		 * CAP_SYS_ADMIN): move the new root over / and chroot, as runc
		 * --no-pivot; the old root stays under it, out of reach but for
		 * a chroot escape with CAP_SYS_CHROOT */
		CHILD_CHECK(c, mount(".", "/", NULL, MS_MOVE, NULL), "move root '%s' onto '/'",
			    cfg->rootfs);
		CHILD_CHECK(c, chroot("."), "chroot into '%s'", cfg->rootfs);
		if (e < 0)
			child_note(c, NOTE_CHROOT, "--isolation chroot");
		else
			child_note(c, NOTE_CHROOT_FALLBACK, "pivot_root: %s%s: moved the root and "
				   "chroot'ed instead", errname(e), e == EPERM ? " (a seccomp "
				   "profile, e.g. Docker's, refuses it)" : " (an initramfs root)");
	} else {
		child_fail(c, e, "pivot_root into '%s'%s", cfg->rootfs,
			   c->iso == RT_ISO_NAMESPACES ? " (--isolation namespaces: no fallback to chroot)"
						       : "");
	}
	CHILD_CHECK(c, chdir("/"), "chdir '/'");
	close(oldroot);
	close(rootfd);
	CHILD_CHECK(c, chdir(cwd), "chdir to working directory '%s'", cwd);
}

static void send_fd(struct child_ctx *c, int type, int fd)
{
	struct sync_msg m = {.type = type};
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof u.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	CHILD_CHECK(c, (int)sendmsg(c->sync, &mh, MSG_NOSIGNAL), "send the pty to the parent");
}

/* stdio: the fds become 0 1 2 (via high copies, so that any order of the
 * sources works), or a pty made in the container's /dev/pts. */
static void child_stdio(struct child_ctx *c)
{
	const sbx_config_t *cfg = c->cfg;
	if (cfg->tty) {
		int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		CHILD_CHECK(c, m, "open '/dev/ptmx'");
		int unlock = 0;
		CHILD_CHECK(c, ioctl(m, TIOCSPTLCK, &unlock), "unlock pty");
		int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_CLOEXEC);
		CHILD_CHECK(c, s, "open pty peer");
		if (cfg->tty_rows && cfg->tty_cols) {
			struct winsize ws = {.ws_row = cfg->tty_rows, .ws_col = cfg->tty_cols};
			ioctl(s, TIOCSWINSZ, &ws);
		}
		send_fd(c, MSG_PTY, m);
		close(m);
		CHILD_CHECK(c, setsid(), "setsid");
		CHILD_CHECK(c, ioctl(s, TIOCSCTTY, 0), "set controlling terminal");
		for (int i = 0; i < 3; i++)
			CHILD_CHECK(c, dup2(s, i), "dup2 pty");
		if (s > 2)
			close(s);
		return;
	}
	int src[3] = {c->fd_in, c->fd_out, c->fd_err}, hi[3];
	for (int i = 0; i < 3; i++) {
		hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
		CHILD_CHECK(c, hi[i], "dup stdio fd %d", src[i]);
	}
	for (int i = 0; i < 3; i++) {
		CHILD_CHECK(c, dup2(hi[i], i), "dup2 stdio fd %d", i);
		close(hi[i]);
	}
}

static int capset_sets(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
		{.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
		{.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32),
		 .inheritable = (uint32_t)(inh >> 32)},
	};
	return (int)syscall(SYS_capset, &h, d);
}

/* The filter binds everything after it: with no_new_privs it comes last
 * (only execve, and the error report, run under it); without, loading it
 * needs CAP_SYS_ADMIN, so it comes before the capabilities go. */
static void child_seccomp(struct child_ctx *c, bool nnp_phase)
{
	if (c->seccomp && c->cfg->no_new_privs == nnp_phase)
		CHILD_CHECK(c, (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, c->seccomp),
			    "load the seccomp filter");
}

/* Into the pids cgroup before anything forks ("0" is the writer itself). */
static void child_enter_cgroup(struct child_ctx *c)
{
	if (c->cgroup_fd < 0)
		return;
	if (write(c->cgroup_fd, "0", 1) != 1)
		child_fail(c, errno, "enter the pids cgroup");
	close(c->cgroup_fd);
}

static void child_creds(struct child_ctx *c)
{
	const sbx_config_t *cfg = c->cfg;
	child_seccomp(c, false);
	for (size_t i = 0; i < cfg->n_rlimits; i++) {
		struct rlimit r = {.rlim_cur = cfg->rlimits[i].soft, .rlim_max = cfg->rlimits[i].hard};
		CHILD_CHECK(c, setrlimit(cfg->rlimits[i].resource, &r), "set rlimit %d",
			    cfg->rlimits[i].resource);
	}
	umask(cfg->umask);
	for (int cap = 0; cap <= c->last_cap; cap++)
		if (!(cfg->caps & (UINT64_C(1) << cap)))
			CHILD_CHECK(c, prctl(PR_CAPBSET_DROP, cap, 0, 0, 0),
				    "drop capability %d from the bounding set", cap);
	/* raw system calls: glibc's wrappers signal every thread the parent had
	 * (setxid broadcast) and hang for good when the clone caught one of
	 * them being created (the builder runs stages on threads) */
	if (c->setgroups_ok)
		CHILD_CHECK(c, (int)syscall(SYS_setgroups, c->n_groups, c->groups),
			    "set supplementary groups");
	CHILD_CHECK(c, prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "keep capabilities");
	CHILD_CHECK(c, (int)syscall(SYS_setresgid, c->gid, c->gid, c->gid), "switch to group %u",
		    (unsigned)c->gid);
	CHILD_CHECK(c, (int)syscall(SYS_setresuid, c->uid, c->uid, c->uid), "switch to user %u",
		    (unsigned)c->uid);
	/* Docker's set in effective and permitted; none inheritable (the
	 * CVE-2022-24769 lesson). A non-root user loses them at execve, as in
	 * Docker, since nothing is ambient. */
	CHILD_CHECK(c, capset_sets(cfg->caps, cfg->caps, 0), "set capabilities");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	CHILD_CHECK(c, prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), "clear keep-capabilities");
	if (cfg->no_new_privs)
		CHILD_CHECK(c, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs");
}

static _Noreturn void child_exec(struct child_ctx *c)
{
	const sbx_config_t *cfg = c->cfg;
	const char *file = cfg->argv[0];
	/* every fd the caller forgot to mark CLOEXEC stops here */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3; fd < 1024; fd++)
			if (fd != c->sync)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* dies with the parent (credential changes cleared an earlier one) */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	child_seccomp(c, true);
	if (strchr(file, '/')) {
		execve(file, cfg->argv, c->env);
		child_fail(c, errno, "exec '%s' in the image", file);
	}
	int saved = ENOENT;
	const char *dir = c->path;
	while (dir) {
		const char *end = strchr(dir, ':');
		size_t n = end ? (size_t)(end - dir) : strlen(dir);
		char full[PATH_MAX];
		if (snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? dir : ".", file) <
		    (int)sizeof full) {
			execve(full, cfg->argv, c->env);
			if (errno == EACCES)
				saved = EACCES;
			else if (errno != ENOENT && errno != ENOTDIR)
				child_fail(c, errno, "exec '%s' in the image", full);
		}
		dir = end ? end + 1 : NULL;
	}
	if (saved == ENOENT)
		child_fail(c, 0, "exec '%s' in the image: executable file not found in $PATH", file);
	child_fail(c, saved, "exec '%s' in the image", file);
}

static void child_reset_signals(void)
{
	/* handlers the parent installed are useless here (and may race) */
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGPIPE};
	for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* sbx_exec: enter the target's namespaces, then fork the process that runs
 * the command (setns of a PID namespace only applies to children). This
 * intermediate reports its pid, waits and mirrors its end: exit code, or
 * death by the same signal. */

static _Noreturn void child_join(struct child_ctx *c)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	child_reset_signals();
	/* user first: it grants the rights for the others; mnt last: it moves
	 * our root */
	static const int order[] = {NS_USER, NS_IPC, NS_UTS, NS_NET, NS_PID, NS_MNT};
	child_enter_cgroup(c); /* the container's: its pids limit counts us */
	for (size_t i = 0; i < CB_ARRAY_SIZE(order); i++) {
		int k = order[i];
		if (c->ns_fds[k] >= 0)
			CHILD_CHECK(c, setns(c->ns_fds[k], 0), "join the container's %s namespace",
				    ns_names[k]);
	}
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
	CHILD_CHECK(c, pid, "fork into the container");
	if (pid == 0) {
		int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		CHILD_CHECK(c, rootfd, "open the container's root");
		const char *cwd = c->cfg->cwd && *c->cfg->cwd ? c->cfg->cwd : "/";
		int w = child_ensure(rootfd, cwd, KIND_DIR);
		CHILD_CHECK(c, w, "create working directory '%s'", cwd);
		close(w);
		close(rootfd);
		CHILD_CHECK(c, chdir(cwd), "chdir to working directory '%s'", cwd);
		child_stdio(c);
		child_creds(c);
		child_exec(c);
	}
	struct sync_msg m = {.type = MSG_PID, .pid = pid};
	if (send(c->sync, &m, sizeof m, MSG_NOSIGNAL) < 0) {
		kill(pid, SIGKILL);
		_exit(127);
	}
	/* nothing may stay open in this waiting process: the sync socket (its
	 * EOF tells the parent about the exec) and any output pipe's write end */
	if (syscall(SYS_close_range, 3U, ~0U, 0) < 0) {
		close(c->sync);
		close(c->fd_in);
		close(c->fd_out);
		close(c->fd_err);
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	if (WIFEXITED(ws))
		_exit(WEXITSTATUS(ws));
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	signal(WTERMSIG(ws), SIG_DFL);
	kill(getpid(), WTERMSIG(ws));
	_exit(128 + WTERMSIG(ws));
}

_Noreturn void sbx_child_main(struct child_ctx *c)
{
	if (c->join)
		child_join(c);
	if (c->userns) {
		struct sync_msg m;
		ssize_t n;
		while ((n = recv(c->sync, &m, sizeof m, 0)) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)sizeof m || m.type != MSG_GO)
			_exit(127);
		if (m.code == 1)
			c->setgroups_ok = false;
	}
	/* a dead parent must not leave an orphan container behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	child_reset_signals();
	child_enter_cgroup(c);
	if (c->cfg->netns_fd >= 0 && c->cfg->network == SBX_NET_HOST) /* child_join did not return */
		CHILD_CHECK(c, setns(c->cfg->netns_fd, CLONE_NEWNET), "join the network namespace");

	child_setup_root(c);
	child_stdio(c);
	child_creds(c);
	child_exec(c);
}

/* sbx_socket_in's helper, after its fork: join the namespaces (-1: skip)
 * and send the new socket back as MSG_PTY. */
_Noreturn void sbx_child_socket(int sync, int userns_fd, int netns_fd, int domain, int type)
{
	struct child_ctx c = {.sync = sync};
	if (userns_fd >= 0)
		CHILD_CHECK(&c, setns(userns_fd, CLONE_NEWUSER), "join the container's user namespace");
	if (netns_fd >= 0)
		CHILD_CHECK(&c, setns(netns_fd, CLONE_NEWNET), "join the container's net namespace");
	int s = socket(domain, type | SOCK_CLOEXEC, 0);
	CHILD_CHECK(&c, s, "create a socket in the container");
	send_fd(&c, MSG_PTY, s);
	_exit(0);
}
