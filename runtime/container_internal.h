/*
 * runtime/container_internal.h - what the container*.c files share; not a
 * public API.
 */
#ifndef CB_RUNTIME_CONTAINER_INTERNAL_H
#define CB_RUNTIME_CONTAINER_INTERNAL_H

#include "runtime/container.h"
#include "common/util.h"

/* ROOT/containers/ID/SUB (caller frees). */
char *ctr_path(const rt_ctr_t *c, const char *sub);

/* Replace state.json atomically with c's state fields. */
int ctr_write_state(store_t *st, const rt_ctr_t *c, cb_error_t *err);

/* The image's unpacked layers, top-most first, NULL-terminated (unpacked
 * on demand). *cfg (may be NULL) receives the image config. */
int ctr_image_lowers(store_t *st, const char *manifest_digest, char ***lowers,
		     oci_config_t **cfg, cb_error_t *err);

/* Not root: become root of a user namespace with the containers' mapping,
 * the running container c's own when there is one (c may be NULL), else a
 * new one (sbx_enter_userns). Then upper/ reads with the ids the container
 * sees (0, not our uid) and every file of it can be removed. Root: no-op.
 * One way: this process stays there. */
int ctr_enter_userns(const rt_ctr_t *c, cb_error_t *err);

/* True when the pid exists and has the recorded start time. */
bool ctr_pid_alive(pid_t pid, uint64_t start);
/* The /proc/PID/ns/pid link of pid ("pid:[INODE]") into buf; false when
 * the process is gone. Equal links: the same PID namespace
 * (container_pause.c). */
bool ctr_pidns_of(pid_t pid, char *buf, size_t len);

/* A pause whose pauser died (kill -9 of a commit) is undone: SIGCONT to
 * every process of the container, the record removed. */
void ctr_resume_orphaned(const rt_ctr_t *c);

/* Rewrite config.json atomically from c's config fields. */
int ctr_write_config(store_t *st, const rt_ctr_t *c, cb_error_t *err);

/* Load a container by full ID (state refreshed). */
rt_ctr_t *ctr_load_id(store_t *st, const char *id, cb_error_t *err);
/* Every container of st that loads, newest first, NULL-terminated (one
 * removed meanwhile is left out); free with ctr_free_all (NULL-safe). */
rt_ctr_t **ctr_load_all(store_t *st);
void ctr_free_all(rt_ctr_t **v);

/* ---- networks (runtime/container_net.c, runtime/network.c) ---- */

/* c's ports (-p, and -P from img's EXPOSE), networks, net_none, and its
 * endpoint on them (aliases, ip) from the spec. */
/* c->volumes and c->anon_volumes from the spec's -v list (`-v /path`
 * named at random) and the image's VOLUMEs not mounted over. EINVAL for a
 * malformed spec. */
int ctr_fill_volumes(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img,
		     cb_error_t *err);

int ctr_fill_net(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img,
		 cb_error_t *err);

/* c's /etc/hosts: the standard lines, then "127.0.0.1 NAME ID12" for every
 * container on each of c's networks. Caller frees. */
char *ctr_hosts_text(store_t *st, const rt_ctr_t *c);



/* A container that is not running: its overlay mounted on rootfs/ in a
 * private mount namespace this process enters for good (cp). */
int ctr_mount_stopped(store_t *st, const rt_ctr_t *c, cb_error_t *err);

/* A paused container is thawed (stop, rm -f, kill -9 need it: a frozen
 * process acts on no signal); a no-op when it is not. */
void ctr_thaw_if_paused(const rt_ctr_t *c);

/* A detached container started with -i: a pipe that is its stdin
 * (*read_end for the sandbox) and the socket containers/ID/attach.sock
 * whose clients feed it. ctr_stdin_serve starts the monitor's thread that
 * does, after sbx_start (no thread of ours while the sandbox forks). Both
 * live as long as the monitor (they are never freed: it exits with the
 * container). */
typedef struct ctr_stdin ctr_stdin_t;
int ctr_stdin_open(const rt_ctr_t *c, ctr_stdin_t **out, int *read_end, cb_error_t *err);
void ctr_stdin_serve(ctr_stdin_t *s);
/* attach: a socket whose bytes go to the container's stdin. */
int ctr_stdin_connect(const rt_ctr_t *c, cb_error_t *err);

/* Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at
 * least). */
bool ctr_valid_name(const char *s);
/* Whether a container has that name (call under the store lock). */
bool ctr_name_taken(store_t *st, const char *name);

/* ---- more options (runtime/container_opts.c) ---- */

void ctr_extra_copy(rt_ctr_extra_t *dst, const rt_ctr_extra_t *src);
void ctr_extra_release(rt_ctr_extra_t *e);
/* Checks of a new container's options ("invalid capability 'X'"). */
int ctr_extra_check(const rt_ctr_extra_t *e, cb_error_t *err);
/* config.json fields of c->extra, the restart policy and the healthcheck
 * (j is config.json's object; jansson's json_t as void). */
void ctr_opts_to_json(const rt_ctr_t *c, void *j);
void ctr_opts_from_json(rt_ctr_t *c, void *j);

/* What c's options make of its sandbox config: caps, rlimits, a read-only
 * root, tmpfs mounts after `mounts`, the init as argv[0]. cfg's argv must
 * be set. x owns what cfg then points to: release it after sbx_start. */
typedef struct ctr_sbx_extra {
	sbx_rlimit_t *rlimits;
	sbx_mount_t *mounts;
	char **argv, **dests;
} ctr_sbx_extra_t;
int ctr_sbx_extra(const rt_ctr_t *c, const sbx_mount_t *mounts, size_t n_mounts,
		  sbx_config_t *cfg, ctr_sbx_extra_t *x, cb_error_t *err);
void ctr_sbx_extra_release(ctr_sbx_extra_t *x);

/* --add-host lines for /etc/hosts, appended to b. */
void ctr_extra_hosts(const rt_ctr_t *c, cb_buf_t *b);
/* resolv.conf with --dns nameservers, or NULL when there is no --dns.
 * base is the host's resolv.conf (its search and options are kept, its
 * nameservers replaced) or, on a network with its own DNS (c->dns_server),
 * the file that names it (kept first). Caller frees. */
char *ctr_extra_resolv(const rt_ctr_t *c, const char *base);

/* ---- --memory, --cpus (runtime/cgroup_limits.c) ---- */

/* The cgroups this monitor entered for c's limits; leave them with
 * ctr_limits_leave once the container is reaped. */
typedef struct ctr_limits {
	char *dirs[2], *parents[2];
	int n;
} ctr_limits_t;
/* Into a memory and/or cpu cgroup with c's limits (none: no-op). An
 * unsupported limit is an error ("memory limit: no memory cgroup
 * controller on this host"). */
int ctr_limits_enter(const rt_ctr_t *c, ctr_limits_t *l, cb_error_t *err);
void ctr_limits_leave(ctr_limits_t *l);

/* ---- restarts and health checks (runtime/container_keep.c) ---- */

/* The healthcheck of a new container: the image's HEALTHCHECK with the
 * spec's --health-* fields over it (docker's merge). */
void ctr_health_resolve(const rt_ctr_spec_t *s, const oci_config_t *img, rt_ctr_health_t *out);

/* Record (or clear) that `stop` stopped the container: the keeper then
 * restarts nothing, and after a reboot an unless-stopped one stays down.
 * The file ID/stopped, so that no state.json write can lose it. */
int ctr_mark_stopped(const rt_ctr_t *c, bool stopped, cb_error_t *err);
bool ctr_is_marked_stopped(const rt_ctr_t *c);

/* Under the store lock, when a container with a restart policy is made:
 * the boot id rt_ctr_boot compares with, if none is recorded yet. */
void ctr_boot_record(store_t *st);

/* After a stop: wake a keeper waiting out its back-off (it sees the mark
 * and exits) and wait a bounded while for it to be gone. */
void ctr_keeper_end(const rt_ctr_t *c);

/* After an attached run ended: the container's policy may restart it, as
 * docker's daemon does; then a keeper takes it over (the caller has its
 * exit code already). Failures are warnings. */
void ctr_keep_after_attached(store_t *st, rt_ctr_t *c);

/* The detached monitor's body for one run of the container (in
 * runtime/container_run.c): launch, report an error to `ready` (or close
 * it once running), wait, record the exit. Exits 0 after a run, 1 when the
 * container could not start. Never returns. */
_Noreturn void ctr_monitor_run(store_t *st, rt_ctr_t *c, int ready);

/* An --rm container whose monitor died before removing it (kill -9) is
 * removed, as docker's daemon does at its start; true when it was. */
bool ctr_remove_orphaned(store_t *st, rt_ctr_t *c);

/* Current time as seconds (for created/started/finished). */
int64_t ctr_now(void);

#endif
