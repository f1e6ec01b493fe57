/*
 * runtime/sandbox.c - namespaces, mounts, credentials and the exec of one
 * process: the parent side (prepare, clone, maps, relay I/O, reap); the
 * child side is sandbox_child.c.
 *
 * Shape (crun and bubblewrap were the models):
 *
 *   parent                               child (raw clone: new mnt/pid/uts/ipc
 *                                         [/net][/user] namespaces, PID 1)
 *   prepare everything that allocates
 *   clone ------------------------------> [rootless] wait for "go"
 *   [rootless] write uid/gid maps, "go" -> make / private, bind rootfs on itself
 *                                         mount proc, dev, pts, shm, sys, files,
 *                                         user mounts (targets resolved with
 *                                         openat2(RESOLVE_IN_ROOT), mounted
 *                                         through /proc/self/fd/N)
 *                                         remount root nodev[,ro], pivot_root,
 *                                         detach old root, stdio, rlimits,
 *                                         caps, user, no_new_privs, exec
 *   read the sync socket: an error <----- any failing step sends "what: errno"
 *   record, or EOF = exec'ed               (the socket is CLOEXEC)
 *
 * The child is a raw clone() (fork semantics, no atfork handlers), so it
 * only makes system calls and formats into stack buffers: everything that
 * allocates happens in the parent before the clone.
 */
#include "runtime/sandbox.h"

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
#include "runtime/sandbox_child.h"
#include "runtime/sandbox_confine.h"
#include "runtime/sandbox_handle.h"
#include "runtime/sandbox_idmap.h"
#include "common/fs.h"
#include "common/util.h"

/* ---------------------------------------------------------------------- */
/* Parent side.                                                           */


void sbx_config_init(sbx_config_t *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->umask = 022;
	cfg->caps = SBX_CAPS_DEFAULT;
	cfg->no_new_privs = true;
	cfg->network = SBX_NET_HOST;
	cfg->netns_fd = -1;
	cfg->stdin_mode = SBX_STDIN_NULL;
	cfg->stdin_fd = cfg->stdout_fd = cfg->stderr_fd = -1;
	cfg->tty_raw = true;
	cfg->forward_signals = true;
}

static void status_from_wait(int ws, sbx_status_t *st)
{
	memset(st, 0, sizeof *st);
	if (WIFSIGNALED(ws)) {
		st->signaled = true;
		st->signal = WTERMSIG(ws);
		st->core_dumped = WCOREDUMP(ws);
	} else {
		st->code = WEXITSTATUS(ws);
	}
}

static int last_cap(void)
{
	char *data = NULL;
	int v = CAP_LAST_CAP;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file("/proc/sys/kernel/cap_last_cap", 64, &data, NULL, &e) == 0)
		v = atoi(data);
	cb_error_release(&e);
	free(data);
	return v > 0 && v < 64 ? v : CAP_LAST_CAP;
}

static const char *env_path(char *const *env)
{
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], "PATH=", 5))
			return env[i] + 5;
	return DEFAULT_PATH;
}

/* Receive one message (and maybe an fd). Returns bytes, 0 at EOF, -1. */
static ssize_t recv_msg(int sock, struct sync_msg *m, int *fd)
{
	struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof u.buf};
	ssize_t n;
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n > 0 && fd) {
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof *fd);
	}
	return n;
}

static int validate(const sbx_config_t *cfg, cb_error_t *err)
{
	if (!cfg->argv || !cfg->argv[0] || !cfg->argv[0][0])
		return cb_error_set(err, EINVAL, "no command to run");
	if (cfg->cwd && cfg->cwd[0] && cfg->cwd[0] != '/')
		return cb_error_set(err, EINVAL, "working directory '%s' is not absolute", cfg->cwd);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const sbx_mount_t *m = &cfg->mounts[i];
		if (!m->dest || m->dest[0] != '/')
			return cb_error_set(err, EINVAL, "mount destination '%s' is not absolute",
					    m->dest ? m->dest : "");
		if (m->type == SBX_MOUNT_BIND && (!m->source || !*m->source))
			return cb_error_set(err, EINVAL, "bind mount on '%s' has no source", m->dest);
	}
	return 0;
}

static void handle_close_fds(sbx_handle_t *h)
{
	cb_closep(&h->pty);
	cb_closep(&h->out_r);
	cb_closep(&h->err_r);
	h->pty = h->out_r = h->err_r = -1;
}

static int reap(sbx_handle_t *h, cb_error_t *err)
{
	int ws;
	while (waitpid(h->pid, &ws, __WALL) < 0)
		if (errno != EINTR)
			return cb_error_errno(err, "wait for sandbox process %d", (int)h->pid);
	h->reaped = true;
	status_from_wait(ws, &h->status);
	sbx_none_finish(h); /* --isolation none: take back what was placed in the root */
	return 0;
}

static void close_ns_fds(int *fds)
{
	for (int i = 0; i < NS_COUNT; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* The namespaces of pid that differ from ours (setns into our own user
 * namespace is an error, into the others a waste). */
static int open_ns_fds(pid_t pid, int *fds, cb_error_t *err)
{
	for (int i = 0; i < NS_COUNT; i++) {
		char p[64], self[64];
		snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)pid, ns_names[i]);
		snprintf(self, sizeof self, "/proc/self/ns/%s", ns_names[i]);
		struct stat a, b;
		if (stat(p, &a) < 0) {
			int e = errno;
			close_ns_fds(fds);
			return cb_error_set(err, e, "open namespace '%s' of container process %d",
					    ns_names[i], (int)pid);
		}
		if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			int e = errno;
			close_ns_fds(fds);
			return cb_error_set(err, e, "open namespace '%s' of container process %d",
					    ns_names[i], (int)pid);
		}
	}
	return 0;
}

/* How the child entered its root and made /proc (MSG_NOTE). */
static void record_note(struct sync_msg *m)
{
	m->text[sizeof m->text - 1] = '\0';
	switch (m->code) {
	case NOTE_PIVOT: rt_iso_set_root("pivot_root"); break;
	case NOTE_CHROOT: rt_iso_set_root("chroot (--isolation chroot)"); break;
	case NOTE_CHROOT_FALLBACK:
		rt_iso_set_root("chroot");
		rt_iso_fallback("root", m->text);
		break;
	case NOTE_PROC: rt_iso_set_proc("fresh"); break;
	case NOTE_PROC_BIND: rt_iso_set_proc("outer /proc bound (--isolation chroot)"); break;
	case NOTE_PROC_FALLBACK:
		rt_iso_set_proc("outer /proc bound");
		rt_iso_fallback("/proc", m->text);
		break;
	}
}

/* Common start path of sbx_start and sbx_exec_start. */
static int start(const sbx_config_t *cfg, pid_t join_pid, sbx_handle_t **out, cb_error_t *err);

int sbx_start(const sbx_config_t *cfg, sbx_handle_t **out, cb_error_t *err)
{
	if (!cfg->rootfs || !*cfg->rootfs)
		return cb_error_set(err, EINVAL, "no root directory to run in");
	return start(cfg, 0, out, err);
}

/* openat2 (Linux 5.6) keeps every path the child resolves inside the
 * root; without it there is no safe way, so say so up front. */
static int check_kernel(cb_error_t *err)
{
	static int ok = -1;
	if (ok < 0) {
		int fd = sys_openat2(AT_FDCWD, "/", O_PATH | O_CLOEXEC, 0);
		ok = !(fd < 0 && errno == ENOSYS);
		if (fd >= 0)
			close(fd);
	}
	if (!ok)
		return cb_error_set(err, ENOSYS, "the sandbox needs Linux 5.6 or later (openat2)");
	return 0;
}

static void bpf_freep(sbx_scmp_bpf_t **p)
{
	sbx_seccomp_bpf_free(*p);
}

static int start(const sbx_config_t *cfg, pid_t join_pid, sbx_handle_t **out, cb_error_t *err)
{
	if (validate(cfg, err) < 0)
		return -1;
	if (rt_isolation_get() == RT_ISO_NONE && join_pid <= 0)
		return sbx_none_start(cfg, out, err); /* runtime/isolation_none.c */
	if (check_kernel(err) < 0)
		return -1;
	int ns_fds[NS_COUNT];
	for (int i = 0; i < NS_COUNT; i++)
		ns_fds[i] = -1;
	bool root = geteuid() == 0;
	if (join_pid > 0) {
		if (open_ns_fds(join_pid, ns_fds, err) < 0)
			return -1;
		/* joining a user namespace: the rootless rules apply */
		if (ns_fds[NS_USER] >= 0)
			root = false;
	}
	struct idmap_plan pl;
	if (!root)
		sbx_idmap_plan(&pl, false);

	sbx_user_t u = {0};
	if (join_pid > 0) {
		char rp[64];
		snprintf(rp, sizeof rp, "/proc/%d/root", (int)join_pid);
		if (sbx_resolve_user(rp, cfg->user, &u, err) < 0) {
			close_ns_fds(ns_fds);
			return -1;
		}
	} else if (sbx_resolve_user(cfg->rootfs, cfg->user, &u, err) < 0) {
		return -1;
	}
	bool mapped;
	if (join_pid > 0 || root)
		/* the namespace exists: read its maps */
		mapped = sbx_in_idmap(join_pid, "uid_map", u.uid) && sbx_in_idmap(join_pid, "gid_map", u.gid);
	else
		mapped = sbx_id_mapped(u.uid, pl.ucount, pl.helpers) &&
			 sbx_id_mapped(u.gid, pl.gcount, pl.helpers);
	if (!mapped) {
		cb_error_set(err, 0, "user '%s' (%u:%u) is not mapped in the %suser namespace%s",
			     cfg->user ? cfg->user : "", (unsigned)u.uid, (unsigned)u.gid,
			     root || join_pid > 0 ? "" : "rootless ",
			     root || join_pid > 0 || pl.helpers
				     ? ""
				     : " (no /etc/subuid and /etc/subgid range for this user: "
				       "only root is mapped)");
		sbx_user_release(&u);
		close_ns_fds(ns_fds);
		return -1;
	}

	_cleanup_strv_ char **env_home = sbx_env_with_home(cfg->env, u.home);
	sbx_handle_t *h = cb_xcalloc(1, sizeof *h);
	h->pty = h->out_r = h->err_r = -1;
	h->cb = cfg->output_cb;
	h->opaque = cfg->output_opaque;
	h->tty_raw = cfg->tty_raw;
	h->tty_in = cfg->stdin_mode == SBX_STDIN_INHERIT ? (cfg->stdin_fd >= 0 ? cfg->stdin_fd : 0) : -1;
	h->tty_out = cfg->stdout_fd >= 0 ? cfg->stdout_fd : 1;

	struct child_ctx c = {
		.cfg = cfg,
		.userns = !root && join_pid <= 0,
		.join = join_pid > 0,
		.setgroups_ok = sbx_setgroups_allowed(join_pid) && (root || pl.helpers),
		.uid = u.uid,
		.gid = u.gid,
		.groups = u.groups,
		.n_groups = u.n_groups,
		.last_cap = last_cap(),
		.path = env_path(cfg->env), .env = env_home,
		.fd_in = -1, .fd_out = -1, .fd_err = -1,
		.iso = rt_isolation_get(),
	};
	_cleanup_close_ int devnull = -1, out_w = -1, err_w = -1, join_cg = -1;
	_cleanup_(bpf_freep) sbx_scmp_bpf_t *bpf = NULL;
	int sv[2] = {-1, -1};
	int rc = -1;
	if (sbx_confine_prepare(cfg, join_pid, &h->cgroup, &bpf, &c.seccomp, &join_cg, err) < 0)
		goto out;
	c.cgroup_fd = h->cgroup ? sbx_cgroup_procs_fd(h->cgroup) : join_cg;
	if (cfg->stdin_mode == SBX_STDIN_INHERIT) {
		c.fd_in = cfg->stdin_fd >= 0 ? cfg->stdin_fd : 0;
	} else {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0) {
			cb_error_errno(err, "open '/dev/null'");
			goto out;
		}
		c.fd_in = devnull;
	}
	if (cfg->output_cb && !cfg->tty) {
		int p1[2], p2[2];
		if (pipe2(p1, O_CLOEXEC) < 0) {
			cb_error_errno(err, "create output pipe");
			goto out;
		}
		if (pipe2(p2, O_CLOEXEC) < 0) {
			close(p1[0]);
			close(p1[1]);
			cb_error_errno(err, "create output pipe");
			goto out;
		}
		h->out_r = p1[0], out_w = p1[1];
		h->err_r = p2[0], err_w = p2[1];
		c.fd_out = out_w, c.fd_err = err_w;
	} else {
		c.fd_out = cfg->stdout_fd >= 0 ? cfg->stdout_fd : 1;
		c.fd_err = cfg->stderr_fd >= 0 ? cfg->stderr_fd : 2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		cb_error_errno(err, "create sync socket");
		goto out;
	}
	c.sync = sv[1];
	memcpy(c.ns_fds, ns_fds, sizeof ns_fds);

	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	if (cfg->network == SBX_NET_NONE)
		flags |= CLONE_NEWNET;
	if (!root)
		flags |= CLONE_NEWUSER;
	if (join_pid > 0)
		flags = 0;

	pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		int e = errno;
		cb_error_set(err, e, "create namespaces (clone)%s",
			     e == EPERM || e == ENOSPC || e == EINVAL
				     ? root ? "" : ": are unprivileged user namespaces disabled "
						   "(kernel.unprivileged_userns_clone, "
						   "user.max_user_namespaces)?"
				     : "");
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		sbx_child_main(&c);
	}
	h->pid = h->proc = pid;
	close_ns_fds(ns_fds);
	close(sv[1]);
	sv[1] = -1;
	cb_closep(&out_w);
	cb_closep(&err_w);
	out_w = err_w = -1;

	if (c.userns) {
		if (sbx_idmap_write(pid, &pl, err) < 0) {
			kill(pid, SIGKILL);
			reap(h, NULL);
			goto out;
		}
		/* code 1: the single-id fallback denied setgroups */
		struct sync_msg go = {.type = MSG_GO, .code = pl.fell_back};
		if (pl.fell_back)
			rt_iso_fallback("newuidmap/newgidmap failed (their message is above)",
					"mapped only the caller's id, as buildah does");
		if (send(sv[0], &go, sizeof go, MSG_NOSIGNAL) < 0) {
			cb_error_errno(err, "start sandbox process");
			kill(pid, SIGKILL);
			reap(h, NULL);
			goto out;
		}
	}
	for (;;) {
		struct sync_msg m;
		int fd = -1;
		ssize_t n = recv_msg(sv[0], &m, &fd);
		if (n == 0)
			break; /* exec'ed: the CLOEXEC end is closed */
		if (n < 0) {
			cb_error_errno(err, "read from sandbox process");
			kill(pid, SIGKILL);
			reap(h, NULL);
			goto out;
		}
		if (m.type == MSG_PTY && fd >= 0) {
			h->pty = fd;
			continue;
		}
		if (m.type == MSG_PID) {
			h->proc = m.pid;
			continue;
		}
		if (m.type == MSG_NOTE) {
			record_note(&m);
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (m.type == MSG_ERROR) {
			m.text[sizeof m.text - 1] = '\0';
			cb_error_set(err, m.code, "%s", m.text);
			kill(pid, SIGKILL);
			reap(h, NULL);
			goto out;
		}
	}
	rc = 0;
	*out = h;
	h = NULL;
out:
	close_ns_fds(ns_fds);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	sbx_user_release(&u);
	if (h) {
		handle_close_fds(h);
		sbx_cgroup_free(h->cgroup);
		free(h);
	}
	return rc;
}

pid_t sbx_handle_pid(const sbx_handle_t *h) { return h->proc; }
int sbx_handle_pty(const sbx_handle_t *h) { return h->pty; }

int sbx_kill(sbx_handle_t *h, int sig, cb_error_t *err)
{
	if (h->reaped)
		return cb_error_set(err, ESRCH, "signal sandbox process: already exited");
	if (kill(h->proc, sig) < 0)
		return cb_error_errno(err, "signal sandbox process %d", (int)h->proc);
	return 0;
}

static volatile sig_atomic_t winch_seen;
static void on_winch(int sig) { winch_seen = 1; }

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* Move what is readable on fd to the callback or out_fd. Returns 1 while
 * open, 0 at EOF (EIO on a pty master means the same), -1 on error;
 * *again tells that nothing was there (non-blocking drain). */
static int pump(sbx_handle_t *h, int fd, int stream, int out_fd, bool *again, cb_error_t *err)
{
	char buf[16384];
	*again = false;
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
		*again = errno == EAGAIN;
		return 1;
	}
	if (n < 0 && errno == EIO)
		return 0;
	if (n < 0)
		return cb_error_errno(err, "read sandbox output");
	if (n == 0)
		return 0;
	if (h->cb)
		return h->cb(h->opaque, stream, buf, (size_t)n, err) < 0 ? -1 : 1;
	return cb_write_all(out_fd, buf, (size_t)n, err) < 0 ? -1 : 1;
}

/* One output fd: relay what is there; at EOF close it. With drain, read
 * until nothing is left (the process is gone; whoever else still holds the
 * write end, e.g. a daemon an exec'ed command left behind, is not waited for). */
static int pump_fd(sbx_handle_t *h, int *fd, int stream, int out_fd, bool drain, cb_error_t *err)
{
	if (drain)
		fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		bool again;
		int r = pump(h, *fd, stream, out_fd, &again, err);
		if (r < 0)
			return -1;
		if (r == 0 || (drain && again)) {
			cb_closep(fd);
			*fd = -1;
			return 0;
		}
		if (!drain)
			return 0;
	}
}

static int relay(sbx_handle_t *h, cb_error_t *err)
{
	struct termios saved;
	bool restore = false;
	struct sigaction sa = {.sa_handler = on_winch}, old_winch;
	bool tty = h->pty >= 0;
	if (tty) {
		if (h->tty_in >= 0 && isatty(h->tty_in)) {
			copy_winsize(h->tty_in, h->pty);
			if (h->tty_raw && tcgetattr(h->tty_in, &saved) == 0) {
				struct termios raw = saved;
				cfmakeraw(&raw);
				restore = tcsetattr(h->tty_in, TCSANOW, &raw) == 0;
			}
		}
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, &old_winch);
	}
	int rc = 0;
	int in = tty ? h->tty_in : -1;
	/* the end of our child ends the relay even if a stray process keeps a
	 * write end open (kernel >= 5.3; without it we wait for EOF) */
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
	bool exited = false;
	while (h->pty >= 0 || h->out_r >= 0 || h->err_r >= 0) {
		if (winch_seen && in >= 0) {
			winch_seen = 0;
			copy_winsize(in, h->pty);
		}
		struct pollfd p[5];
		int n = 0, ipty = -1, iout = -1, ierr = -1, iin = -1, ipid = -1;
		if (h->pty >= 0)
			ipty = n, p[n++] = (struct pollfd){.fd = h->pty, .events = POLLIN};
		if (h->out_r >= 0)
			iout = n, p[n++] = (struct pollfd){.fd = h->out_r, .events = POLLIN};
		if (h->err_r >= 0)
			ierr = n, p[n++] = (struct pollfd){.fd = h->err_r, .events = POLLIN};
		if (in >= 0)
			iin = n, p[n++] = (struct pollfd){.fd = in, .events = POLLIN};
		if (pidfd >= 0 && !exited)
			ipid = n, p[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		if (!exited && poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = cb_error_errno(err, "poll sandbox output");
			break;
		}
		if (ipid >= 0 && p[ipid].revents)
			exited = true;
		if (h->pty >= 0 && (exited || p[ipty].revents) &&
		    pump_fd(h, &h->pty, 1, h->tty_out, exited, err) < 0) {
			rc = -1;
			break;
		}
		if (h->out_r >= 0 && (exited || p[iout].revents) &&
		    pump_fd(h, &h->out_r, 1, 1, exited, err) < 0) {
			rc = -1;
			break;
		}
		if (h->err_r >= 0 && (exited || p[ierr].revents) &&
		    pump_fd(h, &h->err_r, 2, 2, exited, err) < 0) {
			rc = -1;
			break;
		}
		if (!exited && iin >= 0 && p[iin].revents && h->pty >= 0) {
			char buf[4096];
			ssize_t k = read(in, buf, sizeof buf);
			if (k <= 0) {
				if (k == 0 || (errno != EINTR && errno != EAGAIN))
					in = -1; /* our stdin ended: stop reading it */
			} else {
				cb_error_t e = CB_ERROR_INIT;
				if (cb_write_all(h->pty, buf, (size_t)k, &e) < 0)
					in = -1;
				cb_error_release(&e);
			}
		}
	}
	if (tty) {
		if (restore)
			tcsetattr(h->tty_in, TCSANOW, &saved);
		sigaction(SIGWINCH, &old_winch, NULL);
	}
	return rc;
}

int sbx_wait(sbx_handle_t *h, bool relay_io, sbx_status_t *status, cb_error_t *err)
{
	if (h->reaped)
		return cb_error_set(err, ECHILD, "wait for sandbox process: already reaped");
	if (relay_io && relay(h, err) < 0) {
		kill(h->pid, SIGKILL);
		handle_close_fds(h);
		reap(h, NULL);
		return -1;
	}
	handle_close_fds(h);
	if (reap(h, err) < 0)
		return -1;
	*status = h->status;
	return 0;
}

void sbx_handle_free(sbx_handle_t *h)
{
	if (!h)
		return;
	handle_close_fds(h);
	if (!h->reaped && h->pid > 0) {
		kill(h->pid, SIGKILL);
		reap(h, NULL);
	}
	sbx_cgroup_free(h->cgroup);
	free(h);
}

/* --- sbx_run: start + forwarded signals + wait --- */

static volatile sig_atomic_t fwd_pid;
static volatile sig_atomic_t fwd_count;
static volatile sig_atomic_t fwd_pending; /* arrived before the process ran */
static const int fwd_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void on_forward(int sig)
{
	pid_t p = fwd_pid;
	if (p <= 0) {
		fwd_pending = sig;
		return;
	}
	/* PID 1 ignores signals it has no handler for: a second one kills */
	kill(p, fwd_count++ ? SIGKILL : sig);
}

int sbx_run(const sbx_config_t *cfg, sbx_status_t *status, cb_error_t *err)
{
	struct sigaction old[CB_ARRAY_SIZE(fwd_signals)];
	bool fwd = cfg->forward_signals;
	if (fwd) {
		struct sigaction sa = {.sa_handler = on_forward, .sa_flags = SA_RESTART};
		sigemptyset(&sa.sa_mask);
		fwd_pid = 0;
		fwd_count = 0;
		fwd_pending = 0;
		for (size_t i = 0; i < CB_ARRAY_SIZE(fwd_signals); i++)
			sigaction(fwd_signals[i], &sa, &old[i]);
	}
	sbx_handle_t *h = NULL;
	int rc = sbx_start(cfg, &h, err);
	if (rc == 0) {
		fwd_pid = h->proc;
		if (fwd && fwd_pending)
			on_forward(fwd_pending);
		rc = sbx_wait(h, true, status, err);
		fwd_pid = 0;
	}
	sbx_handle_free(h);
	if (fwd)
		for (size_t i = 0; i < CB_ARRAY_SIZE(fwd_signals); i++)
			sigaction(fwd_signals[i], &old[i], NULL);
	return rc;
}

int sbx_exec_start(pid_t pid, const sbx_config_t *cfg, sbx_handle_t **out, cb_error_t *err)
{
	if (pid <= 0)
		return cb_error_set(err, EINVAL, "exec in a container: no process given");
	return start(cfg, pid, out, err);
}

int sbx_exec(pid_t pid, const sbx_config_t *cfg, sbx_status_t *status, cb_error_t *err)
{
	sbx_handle_t *h = NULL;
	if (sbx_exec_start(pid, cfg, &h, err) < 0)
		return -1;
	int rc = sbx_wait(h, true, status, err);
	sbx_handle_free(h);
	return rc;
}

/* --- a socket in a sandbox's network namespace --- */

int sbx_socket_in(pid_t pid, int domain, int type, cb_error_t *err)
{
	int ns[NS_COUNT];
	for (int i = 0; i < NS_COUNT; i++)
		ns[i] = -1;
	if (open_ns_fds(pid, ns, err) < 0)
		return -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		close_ns_fds(ns);
		return cb_error_errno(err, "create socket pair");
	}
	/* setns(user) is refused to a threaded process: a helper does it */
	pid_t child = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
	if (child < 0) {
		int e = errno;
		close_ns_fds(ns);
		close(sv[0]);
		close(sv[1]);
		return cb_error_set(err, e, "fork");
	}
	if (child == 0) {
		close(sv[0]);
		sbx_child_socket(sv[1], ns[NS_USER], ns[NS_NET], domain, type);
	}
	close_ns_fds(ns);
	close(sv[1]);
	struct sync_msg m;
	int fd = -1;
	ssize_t n = recv_msg(sv[0], &m, &fd);
	int e = errno;
	close(sv[0]);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	if (n > 0 && m.type == MSG_PTY && fd >= 0)
		return fd;
	if (fd >= 0)
		close(fd);
	if (n > 0 && m.type == MSG_ERROR) {
		m.text[sizeof m.text - 1] = '\0';
		return cb_error_set(err, m.code, "%s", m.text);
	}
	return cb_error_set(err, n < 0 ? e : EPROTO, "create a socket in container process %d",
			    (int)pid);
}
