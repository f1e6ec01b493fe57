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

/* ---- networks (runtime/container_net.c, runtime/network.c) ---- */

/* c's ports (-p, and -P from img's EXPOSE), networks, net_none, and its
 * endpoint on them (aliases, ip) from the spec. */
int ctr_fill_net(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img,
		 cb_error_t *err);

/* c's /etc/hosts: the standard lines, then "127.0.0.1 NAME ID12" for every
 * container on each of c's networks. Caller frees. */
char *ctr_hosts_text(store_t *st, const rt_ctr_t *c);



/* Current time as seconds (for created/started/finished). */
int64_t ctr_now(void);

#endif
