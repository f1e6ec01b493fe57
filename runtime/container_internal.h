/*
 * runtime/container_internal.h - what the container*.c files share; not a
 * public API.
 */
#ifndef CB_RUNTIME_CONTAINER_INTERNAL_H
#define CB_RUNTIME_CONTAINER_INTERNAL_H

#include "runtime/container.h"

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

/* A pause whose pauser died (kill -9 of a commit) is undone: SIGCONT to
 * every process of the container, the record removed. */
void ctr_resume_orphaned(const rt_ctr_t *c);

/* Rewrite config.json atomically from c's config fields. */
int ctr_write_config(store_t *st, const rt_ctr_t *c, cb_error_t *err);

/* Load a container by full ID (state refreshed). */
rt_ctr_t *ctr_load_id(store_t *st, const char *id, cb_error_t *err);

/* ---- networks (runtime/network.c) ---- */

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

/* Current time as seconds (for created/started/finished). */
int64_t ctr_now(void);

#endif
