/*
 * runtime/container.h - containers: an image's layers + a private upper
 * directory, a process in the sandbox, and state on disk. No daemon.
 *
 * On disk, ROOT/containers/ID/ (ID = 64 hex, shown as 12):
 *
 *   config.json   what to run: "image" (manifest digest, a GC root), the
 *                 resolved argv, env, name, created, ports, mounts, ...
 *   state.json    status created|running|exited, monitor pid, PID 1's host
 *                 pid and both start times (to detect pid reuse), exit code,
 *                 started/finished; always replaced atomically
 *   log           combined output, one record per line:
 *                 "RFC3339NANO STREAM F|P TEXT" (P = no newline followed);
 *                 with a max size, rotated to log.1 ... log.N-1 (oldest
 *                 last) as docker's json-file driver does
 *   hosts hostname resolv.conf   bound over the container's /etc files
 *   init/         Docker's "init layer": the mount points the sandbox needs
 *                 (dev proc sys etc/hosts ...) so that they never show in
 *                 the upper dir, in `diff` or in a commit
 *   upper/ work/ rootfs/   the overlay: rootfs = overlay(upper, init, image)
 *
 * The overlay is mounted only inside the private mount namespace of the
 * process that keeps the container (the monitor: the attached `run` itself,
 * or a setsid'd child for -d/start). It goes away with that process however
 * it dies; the container's PID 1 dies with it too (PDEATHSIG). A state that
 * says "running" whose monitor or PID 1 is gone (or whose pid now names
 * another process) is read as exited (137).
 *
 * Lifecycle:
 *
 *     rt_ctr_spec_t spec;  ... fill (borrowed strings)
 *     rt_ctr_t *c;
 *     rt_ctr_create(st, &spec, &c, err);        // dirs + config + state
 *     rt_ctr_run(st, c, &io, &status, err);     // attached, or
 *     rt_ctr_start_detached(st, c, err);        // returns once running
 *     ...
 *     rt_ctr_stop(st, c, 10, err); rt_ctr_remove(st, c, force, err);
 *     rt_ctr_free(c);
 *
 * Every fallible function follows common/error.h. A rt_ctr_t is a snapshot
 * of config + state read at load time; rt_ctr_refresh() re-reads state.
 */
#ifndef CB_RUNTIME_CONTAINER_H
#define CB_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/sandbox.h"
#include "common/error.h"
#include "store/image.h"
#include "store/store.h"

#define CTR_ID_LEN 64

typedef enum rt_ctr_status {
	RT_CTR_CREATED = 0,
	RT_CTR_RUNNING,
	RT_CTR_EXITED,
} rt_ctr_status_t;

/* One -p mapping: host_ip:host_port -> container's 127.0.0.1:ctr_port. */
typedef struct rt_ctr_port {
	char host_ip[64]; /* "0.0.0.0" by default */
	uint16_t host_port; /* 0: a free one, picked at each start (-p CTR, -P) */
	uint16_t ctr_port;
	bool udp;         /* /udp: datagrams, one container-side socket per client */
	uint16_t bound_port; /* the host port of the last start (state.json), as
			      * docker's NetworkSettings.Ports; 0 = none */
} rt_ctr_port_t;

/* --restart: docker's policies, kept by the detached container's monitor
 * (runtime/container_keep.c). */
typedef enum rt_ctr_restart_kind {
	RT_CTR_RESTART_NO = 0,
	RT_CTR_RESTART_ALWAYS,
	RT_CTR_RESTART_ON_FAILURE,
	RT_CTR_RESTART_UNLESS_STOPPED,
} rt_ctr_restart_kind_t;

/* More of `run`'s options (runtime/container_opts.c): borrowed in a spec,
 * owned (deep copies) in an rt_ctr_t. String lists are NULL-terminated and
 * may be NULL. */
typedef struct rt_ctr_extra {
	char **tmpfs;          /* --tmpfs DEST[:OPTS], --mount type=tmpfs */
	char **extra_hosts;    /* --add-host NAME:IP */
	char **dns;            /* --dns IP: the nameservers of resolv.conf */
	char **labels;         /* --label K=V, over the image's */
	char **cap_add, **cap_drop; /* names ("NET_ADMIN", "CAP_NET_ADMIN", "ALL") */
	char **ulimits;        /* --ulimit NAME=SOFT[:HARD] */
	bool read_only;        /* --read-only: the root file system */
	bool init;             /* --init: tini (docker's docker-init) as PID 1 */
	const char *stop_signal; /* --stop-signal; NULL = the image's */
	int stop_timeout;      /* --stop-timeout seconds, when stop_timeout_set */
	bool stop_timeout_set; /* else `stop` waits docker's 10 s */
	int64_t memory;        /* --memory bytes; 0 = no limit */
	int64_t nano_cpus;     /* --cpus * 1e9; 0 = no limit */
} rt_ctr_extra_t;

/* What `run` asks for; all borrowed. The command is resolved against the
 * image config in rt_ctr_create (entrypoint + cmd as Docker does). */
typedef struct rt_ctr_spec {
	const char *image;           /* manifest digest */
	const char *image_name;      /* as the user typed it, for `ps` */
	const char *name;            /* NULL: a generated one */
	char *const *cmd;            /* NULL: the image's Cmd */
	const char *entrypoint;      /* NULL: the image's; "": none */
	char *const *env;            /* K=V added to the image's */
	const char *cwd, *user, *hostname;
	char *const *volumes;        /* HOST:CTR[:ro]; HOST without '/' = named volume */
	char *const *ports;          /* [[IP:]HOST:]CTR[/tcp]; IP::CTR */
	bool publish_all;            /* -P: every EXPOSEd port not in ports, to a
				      * free host port */
	char *const *aliases;        /* --network-alias: more names on network */
	const char *ip;              /* --ip: its address on network */
	const char *network;         /* "host" | "none" | NULL (host, none with -p)
				      * | the name of a network (runtime/network.h) */
	bool tty, interactive, auto_remove;
	bool stdin_once;     /* docker's StdinOnce (run -i attached): without a
			      * tty, its stdin closes when the client that
			      * feeds it (start -ai, attach) goes */
	int64_t log_max_size;        /* --log-opt max-size: rotate the log at this
				      * many bytes; 0 = never */
	int log_max_file;            /* --log-opt max-file: files kept (log, log.1,
				      * ... log.N-1); <= 1 = the log is truncated */
	const char *seccomp;         /* --security-opt seccomp=: NULL = Docker's
				      * default profile, "unconfined", or the
				      * JSON text of a profile (kept in the
				      * config, as dockerd does) */
	int64_t pids_limit;          /* --pids-limit: <= 0 = none (Docker's default) */
	rt_ctr_restart_kind_t restart; /* --restart */
	int restart_max;             /* on-failure:N; 0 = no maximum */
	/* --health-*: each set one replaces that field of the image's
	 * HEALTHCHECK (docker's merge); 0 / NULL = the image's */
	const char *health_cmd;      /* run with /bin/sh -c (CMD-SHELL) */
	int64_t health_interval_ns, health_timeout_ns, health_start_period_ns;
	int health_retries;
	bool no_healthcheck;         /* --no-healthcheck: none, whatever the image says */
	rt_ctr_extra_t extra;
} rt_ctr_spec_t;

/* The healthcheck a container runs (docker's Healthcheck): test is
 * ["CMD", arg...] or ["CMD-SHELL", text]; NULL = none. Times in ns, 0 =
 * docker's defaults (30 s interval, 30 s timeout, no start period, 3
 * retries). */
typedef struct rt_ctr_health {
	char **test;
	int64_t interval_ns, timeout_ns, start_period_ns;
	int64_t start_interval_ns; /* compose's supervisor uses it; a container's monitor not yet */
	int retries;
} rt_ctr_health_t;

/* The image's HEALTHCHECK (Docker's Healthcheck object: Test, Interval,
 * Timeout, StartPeriod, StartInterval in ns, Retries) into *out, whose
 * test is NULL before (img NULL or without one: all zero). */
void rt_health_from_image(const oci_config_t *img, rt_ctr_health_t *out);

typedef struct rt_ctr {
	char id[CTR_ID_LEN + 1];
	char *dir;                   /* ROOT/containers/ID */
	/* config */
	char *name;
	char *image;                 /* manifest digest */
	char *image_name;
	char **argv;
	char **env;                  /* what the process gets */
	char **config_env;           /* Docker's Config.Env: the -e values, then
				      * the image's Env they leave; not the PATH
				      * default, HOSTNAME or TERM that running
				      * adds. What inspect shows and commit keeps */
	char *cwd, *user, *hostname;
	char **volumes;
	char **anon_volumes; /* names of the volumes `-v /path` made (rm -v, run --rm) */
	rt_ctr_port_t *ports;
	size_t n_ports;
	bool net_none;
	bool net_pasta;              /* rootless default: its own namespace
				      * connected by pasta (runtime/pasta.h) */
	char **networks;             /* the networks it is on (sorted, never
				      * NULL): "bridge" by default; empty for
				      * host and none */
	char **net_aliases;          /* "NET:ALIAS": more names on NET (never NULL) */
	char **net_ips;              /* "NET:IP": a fixed address on NET (never NULL) */
	char *dns_server;            /* while it starts: its nameserver (a
				      * network's aardvark-dns), NULL = host's */
	bool tty, interactive, auto_remove;
	bool stdin_once;     /* docker's StdinOnce (run -i attached): without a
			      * tty, its stdin closes when the client that
			      * feeds it (start -ai, attach) goes */
	char *stop_signal;           /* the image's StopSignal or NULL */
	int64_t log_max_size;        /* as in rt_ctr_spec_t */
	int log_max_file;
	char *seccomp;               /* as in rt_ctr_spec_t */
	int64_t pids_limit;
	rt_ctr_restart_kind_t restart;
	int restart_max;
	rt_ctr_health_t health;
	rt_ctr_extra_t extra;        /* owned; extra.stop_signal is unused (stop_signal is it) */
	int64_t created;             /* seconds since the epoch */
	int64_t created_ns;          /* the same in ns: orders containers made in one second */
	/* state */
	rt_ctr_status_t status;      /* stale "running" already read as exited */
	pid_t monitor_pid, pid;
	uint64_t monitor_start, pid_start; /* /proc/PID/stat starttime */
	int exit_code;
	int64_t started, finished;   /* -1 when never */
	int restart_count;           /* restarts by the policy since the last start */
	bool restarting;             /* exited, the policy restarts it after a back-off */
	pid_t keeper_pid;            /* the detached monitor that restarts it and
				      * runs its health checks (container_keep.c) */
	uint64_t keeper_start;
} rt_ctr_t;

void rt_ctr_free(rt_ctr_t *c);

/* Set cfg's seccomp fields from the container's (run, start, exec): a
 * profile parsed here goes to *owned, to free (sbx_seccomp_free) after
 * sbx_start/sbx_exec returned. */
int rt_ctr_seccomp(const rt_ctr_t *c, sbx_config_t *cfg, sbx_scmp_profile_t **owned,
		   cb_error_t *err);

/* Make containers/ID with config, state (created), init/ upper/ work/
 * rootfs/. Names are unique: EEXIST "the container name 'x' is already in
 * use". *out is the caller's. */
int rt_ctr_create(store_t *st, const rt_ctr_spec_t *spec, rt_ctr_t **out, cb_error_t *err);

/* Find by full ID, name, or unique ID prefix. ENOENT "no such container:
 * 'x'"; EINVAL when a prefix is ambiguous. */
int rt_ctr_find(store_t *st, const char *what, char id[CTR_ID_LEN + 1], cb_error_t *err);
/* rt_ctr_find + load. */
rt_ctr_t *rt_ctr_load(store_t *st, const char *what, cb_error_t *err);
/* Every container's ID (sorted by creation, newest first); caller frees. */
int rt_ctr_list(store_t *st, char ***ids, cb_error_t *err);
/* Re-read state.json (stale detection included). */
int rt_ctr_refresh(store_t *st, rt_ctr_t *c, cb_error_t *err);

/* I/O of an attached run. */
typedef struct rt_ctr_io {
	int out_fd, err_fd;          /* where output goes (1, 2) */
} rt_ctr_io_t;

/* Run the container attached in this process (this process becomes the
 * monitor: it enters a private mount namespace for good). Forwards SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT. Returns 0 with *status when it ran. With
 * auto_remove the container is removed at the end. */
int rt_ctr_run(store_t *st, rt_ctr_t *c, const rt_ctr_io_t *io, sbx_status_t *status,
	       cb_error_t *err);

/* Start a created or exited container under a new setsid'd monitor process;
 * returns once its process runs (and its ports listen) or with the error
 * that stopped it. */
int rt_ctr_start_detached(store_t *st, rt_ctr_t *c, cb_error_t *err);

/* STOPSIGNAL (default SIGTERM) to PID 1, SIGKILL after timeout seconds
 * (< 0: the container's --stop-timeout, else 10);
 * returns when the container has exited. No-op when not running. */
int rt_ctr_stop(store_t *st, rt_ctr_t *c, int timeout, cb_error_t *err);

/* Remove the container; a running one only with force (killed first).
 * EBUSY "container 'x' is running: stop it first or use -f". */
int rt_ctr_remove(store_t *st, rt_ctr_t *c, bool force, cb_error_t *err);

/* Remove the anonymous volumes of a removed container (rm -v, run --rm);
 * one that fails is a warning. */
void rt_ctr_remove_anon_volumes(store_t *st, const rt_ctr_t *c);

/* ---- restart policies and health checks (runtime/container_keep.c) ---- */

/* "no", "always", "unless-stopped", "on-failure[:N]" (docker's words). */
int rt_ctr_parse_restart(const char *s, rt_ctr_restart_kind_t *kind, int *max, cb_error_t *err);
/* The policy as docker names it ("on-failure" without the count). */
const char *rt_ctr_restart_name(rt_ctr_restart_kind_t kind);

/* Record that the container was stopped by hand (docker's
 * HasBeenManuallyStopped): its keeper restarts nothing after the exit that
 * follows, and after a reboot an unless-stopped one stays down. `stop`
 * does this before it signals; a `kill` verb should too, as docker's does.
 * `start` clears it. */
int rt_ctr_mark_stopped(const rt_ctr_t *c, cb_error_t *err);

/* The health of a running container with a healthcheck: "starting",
 * "healthy" or "unhealthy"; NULL when it has none (or never ran one).
 * Caller frees. */
char *rt_ctr_health_status(const rt_ctr_t *c);
/* Docker's State.Health object ({Status, FailingStreak, Log}) or NULL;
 * caller decrefs. Declared as void * so this header needs no jansson. */
void *rt_ctr_health_json(const rt_ctr_t *c);

/* After a reboot (the kernel's boot id differs from the one the store last
 * saw) start the containers docker's daemon starts at its start: restart
 * always, and unless-stopped ones that were not stopped by `stop`. Called
 * by the first command that opens the store; failures are warnings. The
 * boot id comes from CBUILD_BOOT_ID when set (tests simulate a reboot). */
void rt_ctr_boot(store_t *st);

/* --ulimit NAME=SOFT[:HARD] (-1 = unlimited), docker's names. */
int rt_ctr_parse_ulimit(const char *s, sbx_rlimit_t *out, cb_error_t *err);
/* --cap-add/--cap-drop over docker's default set (ALL in either). */
int rt_ctr_caps(char *const *add, char *const *drop, uint64_t *out, cb_error_t *err);

/* ---- diff and commit ---- */

typedef struct rt_ctr_change {
	char kind;   /* 'A', 'C' or 'D' */
	char *path;  /* absolute, "/etc/group" */
} rt_ctr_change_t;

/* What the container changed, sorted by path. *out freed with
 * rt_ctr_changes_free. */
int rt_ctr_diff(store_t *st, const rt_ctr_t *c, rt_ctr_change_t **out, size_t *n,
		cb_error_t *err);
void rt_ctr_changes_free(rt_ctr_change_t *v, size_t n);

typedef struct rt_ctr_commit_opts {
	const char *message;         /* history comment (-m) */
	const char *author;          /* (-a) */
	char *const *changes;        /* -c 'CMD ["x"]' ... */
	/* Applies changes to the new config (required with changes). cmd/
	 * hands in builder's bld_apply_changes: the instructions are the
	 * builder's to parse, and the runtime knows no Dockerfile. */
	int (*apply_changes)(oci_config_t *config, char *const *changes, cb_error_t *err);
	bool pause;                  /* freeze a running container meanwhile */
	bool docker_format;
} rt_ctr_commit_opts_t;

/* The upper dir as a new layer on the container's image, with the
 * container's command and env as the config, changes applied and a history
 * entry. Returns the new image (untagged: the caller tags it). */
image_t *rt_ctr_commit(store_t *st, const rt_ctr_t *c, const rt_ctr_commit_opts_t *o,
		       cb_error_t *err);

/* ---- small helpers (also for cmd/ and tests) ---- */

/* "SIGTERM", "TERM", "15" -> 15; -1 when unknown. */
int rt_ctr_parse_signal(const char *s);
/* starttime of /proc/PID/stat, 0 when the process does not exist. */
uint64_t rt_ctr_proc_start(pid_t pid);
/* The values of v's "NET:VALUE" entries for net (net_aliases, net_ips):
 * copies, the caller's to cb_strv_free. */
char **rt_ctr_net_values(char *const *v, const char *net);
/* Parse "[[IP:]HOST:]CTR[/tcp|/udp]" and "IP::CTR" (docker's forms; no
 * HOST = host_port 0, a free port picked at start). */
int rt_ctr_parse_port(const char *s, rt_ctr_port_t *p, cb_error_t *err);

#endif
