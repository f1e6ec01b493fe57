/*
 * runtime/sandbox.h - run one process in Linux namespaces (root and rootless).
 *
 * Every RUN step and every container goes through here. The sandbox knows
 * nothing of images or of the store: it gets a root directory (usually an
 * overlay mount the caller made), a process description and options, and
 * gives back how the process ended.
 *
 * What the process gets:
 *   - new mount, PID, UTS and IPC namespaces; a new network namespace with
 *     only `lo` up for SBX_NET_NONE, the host's network for SBX_NET_HOST;
 *     a user namespace when the caller is not root (mapped with
 *     newuidmap/newgidmap and the /etc/subuid, /etc/subgid ranges of the
 *     caller when they exist, else the caller's single uid/gid as root);
 *   - the root bind-mounted on itself, nodev (and read-only on request), then
 *     pivot_root'ed into with the old root detached: nothing is left mounted
 *     on the host, the mount namespace dies with the process;
 *     where pivot_root is refused (EPERM: Docker's seccomp profile; EINVAL:
 *     an initramfs root) or with --isolation chroot, the root is moved over
 *     / and chroot'ed into instead (runtime/isolation.h records it);
 *   - a fresh /proc (the outer /proc bound recursively where a fresh one
 *     is refused, as in a Docker container, or with --isolation chroot), a minimal /dev on tmpfs (null zero full random urandom
 *     tty bound from the host's, ptmx -> pts/ptmx, fd stdin stdout stderr
 *     core links), /dev/pts (newinstance), /dev/shm, /dev/mqueue, /sys
 *     read-only (a fresh sysfs, or a recursive read-only bind of the host's
 *     when the user namespace does not own the network namespace), Docker's
 *     masked paths (/proc/kcore, /proc/keys, ... /sys/firmware) and
 *     read-only ones (/proc/sys, /proc/sysrq-trigger, ...), the caller's
 *     files bound on /etc/resolv.conf, /etc/hosts, /etc/hostname, the
 *     caller's mounts; every writable mount is nodev;
 *   - PID 1 is the process itself: when it exits the kernel kills every
 *     other process of its PID namespace (a `sleep 100 &` dies with it);
 *   - argv and env exactly as given (argv[0] is searched in the PATH of the
 *     given env, else the default PATH), cwd created when missing, the user
 *     resolved from the ROOTFS's /etc/passwd and /etc/group with its
 *     supplementary groups, umask, rlimits, Docker's default capability set
 *     (CapEff 00000000a80425fb as root; empty for other users, the bounding
 *     set stays Docker's) with every other capability dropped from every set,
 *     no_new_privs;
 *   - Docker's default seccomp profile (or the caller's, or none), its
 *     capability-keyed rules read against `caps`, loaded last: after
 *     no_new_privs, just before execve (before the capabilities are
 *     dropped when no_new_privs is off, since loading then needs
 *     CAP_SYS_ADMIN);
 *   - with pids_limit, a pids cgroup the process enters before it forks
 *     anything, removed when the handle is freed.
 *
 * Lifecycle, one-shot (builds):
 *
 *     sbx_config_t cfg;
 *     sbx_config_init(&cfg);
 *     cfg.rootfs = "/var/lib/cbuild/tmp/step-3/merged";
 *     cfg.argv = (char *[]){"/bin/sh", "-c", "make", NULL};
 *     cfg.env = env;                        // NULL-terminated "K=V"
 *     cfg.output_cb = log_line; cfg.output_opaque = ctx;
 *     sbx_status_t st;
 *     if (sbx_run(&cfg, &st, err) < 0)
 *         return cb_error_wrap(err, "RUN %s", text);
 *     if (st.signaled || st.code != 0) ...   // "returned a non-zero code"
 *
 * Lifecycle, async (containers): sbx_start() returns once the process has
 * exec'ed (or with the error of the step that failed), sbx_handle_pid() is
 * the host pid of the container's PID 1 (for a monitor, `ps`, `exec`),
 * sbx_wait() relays I/O and reaps, sbx_handle_free() releases the handle.
 *
 * Missing mount points (/etc/resolv.conf, a bind's dest, the cwd) are
 * created in the rootfs and left there: a builder that diffs the rootfs
 * removes the ones it did not have before.
 *
 * The process gets PR_SET_PDEATHSIG(SIGKILL) towards the thread that
 * started it: a container outlives nothing but its starter (a detached
 * container's monitor must call sbx_start itself).
 *
 * Errors: every setup step runs in the child; its failure comes back to the
 * parent through a CLOEXEC socket and is returned as a cb_error naming the
 * step, e.g. "mount '/proc': Operation not permitted" or
 * "exec '/bin/sh' in the image: No such file or directory". Nothing is left
 * behind on failure.
 *
 * All pointers in sbx_config_t are borrowed for the duration of the call
 * (sbx_start copies what it needs after it returns: nothing).
 */
#ifndef CB_RUNTIME_SANDBOX_H
#define CB_RUNTIME_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/seccomp.h"
#include "common/error.h"

/* The PATH a process gets when its environment sets none (Docker's). */
#define SBX_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Docker's default capability set as a mask of (1 << CAP_x): CHOWN,
 * DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
 * NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP. */
#define SBX_CAPS_DEFAULT UINT64_C(0x00000000a80425fb)

typedef enum sbx_net {
	SBX_NET_HOST = 0, /* share the host's network namespace (build default) */
	SBX_NET_NONE,     /* new network namespace with only lo, up */
} sbx_net_t;

typedef enum sbx_mount_type {
	SBX_MOUNT_BIND = 0, /* host `source` (file or directory) on `dest`, recursive */
	SBX_MOUNT_TMPFS,    /* a fresh tmpfs on `dest`; `options` e.g. "size=64m,mode=1777" */
} sbx_mount_type_t;

/* One extra mount (-v, RUN --mount=type=bind|cache|tmpfs|secret). Mounted
 * after the standard ones, in array order, so a later dest may sit inside
 * an earlier one. `dest` is resolved inside the rootfs (symlinks cannot
 * escape it) and created when missing (a directory, or an empty file when
 * the source is not a directory). Always nosuid and nodev. */
typedef struct sbx_mount {
	sbx_mount_type_t type;
	const char *source;  /* host path (BIND); ignored for TMPFS */
	const char *dest;    /* absolute path inside the container */
	bool readonly;
	const char *options; /* TMPFS data string, NULL for defaults */
	unsigned long flags; /* TMPFS: more MS_* flags (docker's MS_NOEXEC) */
} sbx_mount_t;

typedef struct sbx_rlimit {
	int resource; /* RLIMIT_NOFILE, ... */
	uint64_t soft, hard;
} sbx_rlimit_t;

typedef enum sbx_stdin {
	SBX_STDIN_NULL = 0, /* /dev/null (builds) */
	SBX_STDIN_INHERIT,  /* the caller's fd 0 (or stdin_fd when >= 0) */
} sbx_stdin_t;

/* Streamed output: called from sbx_run/sbx_wait as bytes come, stream 1 =
 * stdout, 2 = stderr (with a pty everything is stream 1). A negative return
 * stops the relay and kills the process; sbx_run then fails with the error
 * the callback set in *err. */
typedef int (*sbx_output_fn)(void *opaque, int stream, const char *data, size_t len,
			     cb_error_t *err);

typedef struct sbx_config {
	/* --- filesystem --- */
	const char *rootfs;         /* required: host path of the root directory */
	bool readonly_rootfs;       /* root mounted read-only (mounts stay as asked) */
	const sbx_mount_t *mounts;  /* n_mounts extra mounts, may be NULL */
	size_t n_mounts;
	const char *resolv_conf;    /* host files bound on /etc/resolv.conf, */
	const char *hosts;          /*   /etc/hosts, /etc/hostname; NULL = */
	const char *hostname_file;  /*   leave the image's file alone */

	/* --- process --- */
	char *const *argv;          /* required, argv[0] non-empty */
	char *const *env;           /* exactly the environment, NULL = empty */
	const char *cwd;            /* absolute; NULL = "/"; created if missing */
	const char *user;           /* "name", "uid", "uid:gid", "name:group",
				     * "uid:group", "name:gid"; NULL/"" = root */
	const char *hostname;       /* NULL = inherit the host's name */
	mode_t umask;               /* default 022 */
	const sbx_rlimit_t *rlimits;
	size_t n_rlimits;
	uint64_t caps;              /* default SBX_CAPS_DEFAULT; also the bounding
				     * set the seccomp profile's caps rules see */
	bool no_new_privs;          /* default true */

	/* --- confinement (runtime/seccomp.h, runtime/cgroup.h) --- */
	const sbx_scmp_profile_t *seccomp; /* NULL = Docker's default profile */
	bool seccomp_unconfined;    /* no filter (seccomp=unconfined, RUN
				     * --security=insecure) */
	bool systempaths_unconfined; /* no masked or read-only paths in /proc
				      * and /sys (RUN --security=insecure, as
				      * BuildKit; docker's systempaths=unconfined) */
	int64_t pids_limit;         /* > 0: a pids cgroup with this pids.max (an
				     * error when there is no usable pids
				     * controller); <= 0: no limit */

	/* --- namespaces --- */
	sbx_net_t network;          /* default SBX_NET_HOST */
	int netns_fd;               /* >= 0 with SBX_NET_HOST: join this network
				     * namespace instead (a build's RUN on its
				     * bridge); -1 (default) = the caller's */

	/* --- I/O --- */
	sbx_stdin_t stdin_mode;
	int stdin_fd;               /* with SBX_STDIN_INHERIT: this fd, -1 = fd 0 */
	int stdout_fd, stderr_fd;   /* -1 = the caller's fd 1 / fd 2 (inherit);
				     * ignored when output_cb is set */
	sbx_output_fn output_cb;    /* when set: stdout/stderr piped to it */
	void *output_opaque;
	bool tty;                   /* a pty (allocated inside the container's
				     * /dev/pts) as the process's stdio */
	unsigned short tty_rows, tty_cols; /* 0 = from the caller's terminal */
	bool tty_raw;               /* sbx_run/sbx_wait: put the caller's stdin
				     * terminal in raw mode while relaying
				     * (restored after); default true */
	bool forward_signals;       /* sbx_run: SIGINT, SIGTERM, SIGHUP, SIGQUIT
				     * sent to the caller go to the process (a
				     * second one sends SIGKILL: PID 1 ignores
				     * signals it has no handler for); default true */
} sbx_config_t;

/* Every capability this process could give (its own bounding set): what
 * "all capabilities" means here (a host may lack some, e.g. in a
 * container without CAP_SYS_RESOURCE). */
uint64_t sbx_caps_all(void);

/* Defaults: umask 022, caps SBX_CAPS_DEFAULT, no_new_privs, network host,
 * stdin /dev/null, fds -1, tty_raw and forward_signals true. */
void sbx_config_init(sbx_config_t *cfg);

/* How the process ended. Exactly one of the two cases. */
typedef struct sbx_status {
	bool signaled;    /* true: killed by `signal`; false: exited with `code` */
	int code;         /* exit code 0..255 (when !signaled) */
	int signal;       /* signal number (when signaled) */
	bool core_dumped;
} sbx_status_t;

/* The shell's view: code, or 128 + signal. */
int sbx_status_shell_code(const sbx_status_t *st);

/* When err (possibly wrapped) says the command itself could not be
 * exec'ed: the status a shell and docker give it, 127 when it was not
 * found, 126 when it could not be run (a directory, no x bit, a bad
 * format). 0 for any other failure. */
int sbx_exec_error_status(const cb_error_t *err);

/* Run cfg's process and wait for it: start, relay I/O (output_cb, tty),
 * forward signals, reap. Returns 0 with *status filled when the process ran
 * (whatever its exit code), -1 with *err when it could not be started or
 * the relay failed. */
int sbx_run(const sbx_config_t *cfg, sbx_status_t *status, cb_error_t *err);

/* --- async form (containers) --- */

typedef struct sbx_handle sbx_handle_t;

/* Start cfg's process; returns after its execve succeeded. *out is owned by
 * the caller (sbx_handle_free). Signals are not forwarded: the caller does
 * that with sbx_kill. The handle keeps the pipes/pty sbx_wait relays. */
int sbx_start(const sbx_config_t *cfg, sbx_handle_t **out, cb_error_t *err);

/* Host pid of the container's PID 1 (valid until sbx_wait reaped it). */
pid_t sbx_handle_pid(const sbx_handle_t *h);

/* The pty master (tty mode), -1 otherwise; owned by the handle. A caller
 * that relays the terminal itself (a detached container's monitor) reads
 * and writes it and passes relay = false to sbx_wait. */
int sbx_handle_pty(const sbx_handle_t *h);

/* Send sig to the container's PID 1. */
int sbx_kill(sbx_handle_t *h, int sig, cb_error_t *err);

/* Relay I/O (output_cb / tty, when relay is true) until the process exits,
 * then reap it into *status. Call at most once. With relay false and an
 * output_cb, nobody drains the pipes: a chatty process then blocks. */
int sbx_wait(sbx_handle_t *h, bool relay, sbx_status_t *status, cb_error_t *err);

/* Kill (SIGKILL) and reap the process if still running, close everything. NULL-safe. */
void sbx_handle_free(sbx_handle_t *h);

/* --- exec in a running sandbox (`cbuild exec`) --- */

/* Run a process inside the namespaces (user, mnt, pid, uts, ipc, net) of the
 * running sandbox whose PID 1 is `pid` (sbx_handle_pid of its sbx_start):
 * its root and mounts are the container's; its PID is not 1 and it ends
 * when it exits, whatever it left running (sbx_wait stops relaying then). cfg->rootfs, mounts, etc-files, hostname, network and
 * readonly_rootfs are ignored (the container has them); argv, env, cwd,
 * user (resolved in the container's /etc/passwd), umask, rlimits, caps,
 * no_new_privs and I/O are applied as for sbx_run. */
int sbx_exec(pid_t pid, const sbx_config_t *cfg, sbx_status_t *status, cb_error_t *err);
int sbx_exec_start(pid_t pid, const sbx_config_t *cfg, sbx_handle_t **out, cb_error_t *err);

/* A socket (CLOEXEC) made inside the network namespace of the running
 * sandbox whose PID 1 is `pid`; it stays there after it is returned. For
 * `run -p HOST:CTR`: the monitor accepts on the host port and, per
 * connection, connects one of these to 127.0.0.1:CTR and copies bytes.
 * Works rootless (a short-lived helper joins the user namespace first). */
int sbx_socket_in(pid_t pid, int domain, int type, cb_error_t *err);

/* Bring `lo` up in the caller's network namespace (a fresh one has it
 * down): for namespaces that containers then share (compose projects,
 * user-defined networks). */
int sbx_loopback_up(cb_error_t *err);

/* --- helpers the builder may use --- */

/* Make this process root of a new user namespace (with `flags` more
 * namespaces, e.g. CLONE_NEWNS), mapped as rootless sandboxes are: uid/gid
 * 0 = the caller, 1..N = its /etc/subuid and /etc/subgid range through
 * newuidmap/newgidmap when it has one, else only 0. Everything this process
 * does afterwards (unpacking layers, mounting overlays with userxattr,
 * sbx_run) happens as that root; files it creates as uid 0 belong to the
 * caller on the host. Must be called while single-threaded (unshare(2)). */
int sbx_enter_userns(int flags, cb_error_t *err);

/* The same for root that may not make the namespaces `flags` asks for (no
 * CAP_SYS_ADMIN, as in a CI container): a user namespace whose map is the
 * identity over every id this process has, so files keep their owners and
 * layers are the same as on the host. Recorded as the "identity" id map in
 * runtime/isolation.h. */
int sbx_enter_userns_identity(int flags, cb_error_t *err);

/* True when this process runs in a user namespace other than the host's
 * (after sbx_enter_userns, or when started inside one). */
bool sbx_in_userns(void);


/* A user spec resolved against a root directory's /etc/passwd and
 * /etc/group (never the host's; symlinks cannot leave `rootfs`). */
typedef struct sbx_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups (owned; sbx_user_release) */
	size_t n_groups;
	char *home;    /* from passwd, "/" when unknown (owned) */
} sbx_user_t;

/* Docker's rules: "name" must be in passwd; a numeric uid need not be (gid
 * then 0, or passwd's); "x:group" overrides the primary group (group names
 * must be in /etc/group). Supplementary groups: the groups listing the user
 * by name. Errors: "unable to find user 'bob': no matching entries in
 * passwd file". */
int sbx_resolve_user(const char *rootfs, const char *spec, sbx_user_t *out, cb_error_t *err);
void sbx_user_release(sbx_user_t *u);

/* env with HOME=home added when env has no HOME (what runc does at exec:
 * docker's containers and BuildKit's RUN steps get the user's passwd home,
 * "/" for an unknown uid). NULL env counts as empty. Caller frees
 * (cb_strv_free). */
char **sbx_env_with_home(char *const *env, const char *home);

/* What this host allows, for messages and tests: running as root, whether
 * user namespaces can be created, whether newuidmap/newgidmap exist and the
 * caller has subordinate ranges. */
typedef struct sbx_host_info {
	bool root;
	bool userns;
	bool newuidmap;
	bool subids; /* a range for this user in /etc/subuid and /etc/subgid */
} sbx_host_info_t;
void sbx_host_probe(sbx_host_info_t *info);

#endif
