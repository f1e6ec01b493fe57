/*
 * runtime/sandbox_child.h - what the two sides of the namespace sandbox
 * share: the child's instructions (struct child_ctx, prepared and allocated
 * by the parent in sandbox.c before the clone) and the messages of the sync
 * socket. sandbox_child.c is the child side. Internal to runtime/.
 */
#ifndef CB_RUNTIME_SANDBOX_CHILD_H
#define CB_RUNTIME_SANDBOX_CHILD_H

#include <errno.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "runtime/isolation.h"
#include "runtime/sandbox.h"


#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
struct mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC 4
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* ---------------------------------------------------------------------- */
/* The child's instructions, all prepared (and allocated) by the parent.  */

struct child_ctx {
	const sbx_config_t *cfg;
	bool userns;          /* wait for the maps; rootless rules */
	bool setgroups_ok;    /* setgroups is denied with a single-id map */
	bool join;            /* sbx_exec: ns fds below instead of new ones */
	int ns_fds[6];        /* user mnt pid uts ipc net of the target, -1 = skip */
	int sync;             /* the child's end of the sync socket */
	int fd_in, fd_out, fd_err; /* to become 0 1 2 (-1: tty) */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	int last_cap;
	const char *path;     /* PATH of the given env, or the default */
	char *const *env;     /* the given env with HOME (sbx_env_with_home) */
	const void *seccomp;  /* struct sock_fprog to load, NULL = none */
	int cgroup_fd;        /* sbx_cgroup_procs_fd, entered first; -1 = none */
	rt_isolation_t iso;   /* may the root and /proc fall back (isolation.h) */
};

/* Messages on the sync socket (SOCK_SEQPACKET, one per send). */
enum { MSG_ERROR = 'E', MSG_PTY = 'P', MSG_PID = 'I', MSG_GO = 'G', MSG_NOTE = 'N' };
/* MSG_NOTE codes: how the root was entered and /proc made; the upper-case
 * ones are fallbacks, their text says why. */
enum { NOTE_PIVOT = 'r', NOTE_CHROOT = 'c', NOTE_CHROOT_FALLBACK = 'R', NOTE_PROC = 'p',
       NOTE_PROC_BIND = 'b', NOTE_PROC_FALLBACK = 'P' };
struct sync_msg {
	int type;
	int code;
	int pid;
	char text[1024];
};


/* The namespaces sbx_exec joins, in /proc/PID/ns order. */
static const char *const ns_names[] = {"user", "mnt", "pid", "uts", "ipc", "net"};
enum { NS_USER, NS_MNT, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_COUNT };

/* With RESOLVE_IN_ROOT the kernel answers EAGAIN for a path through `..`
 * (an image's /etc/resolv.conf -> ../run/...) whenever a rename or mount
 * anywhere on the machine happened during the lookup: ask again (the
 * child cannot allocate, so no userspace walk here). */
#define SYS_OPENAT2_TRIES 1000
static inline int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)flags, .resolve = resolve};
	int fd = -1;
	for (int i = 0; i < SYS_OPENAT2_TRIES; i++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

/* The child's whole life after the clone: wait for the maps, build the
 * root, set up stdio and credentials, exec (or join, for sbx_exec). Reports
 * a failing step on c->sync and exits 127; never returns. */
_Noreturn void sbx_child_main(struct child_ctx *c);

/* sbx_socket_in's forked helper: join userns_fd and netns_fd (-1: skip),
 * send a new socket(domain, type) on sync as MSG_PTY, exit. */
_Noreturn void sbx_child_socket(int sync, int userns_fd, int netns_fd, int domain, int type);

#endif
