/*
 * runtime/container_ops.h - what Docker's everyday verbs do to a container
 * that exists already: kill, wait, rename, restart, pause/unpause, top and
 * the cgroup numbers of stats. Each works on a rt_ctr_t loaded with
 * rt_ctr_load (runtime/container.h) and follows common/error.h.
 */
#ifndef CB_RUNTIME_CONTAINER_OPS_H
#define CB_RUNTIME_CONTAINER_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/container.h"

/* Send sig to the container's PID 1 (as docker kill: no wait). EINVAL
 * "container 'x' is not running" when it is not. */
int rt_ctr_kill(store_t *st, rt_ctr_t *c, int sig, cb_error_t *err);

/* Block until the container is not running (and its monitor has recorded
 * why), then *code = its exit code. A created container answers at once
 * (docker's default "not-running" condition). */
int rt_ctr_wait(store_t *st, rt_ctr_t *c, int *code, cb_error_t *err);

/* Give the container another name. EEXIST when a container has it already,
 * EINVAL for an invalid name or the same name. */
int rt_ctr_rename(store_t *st, rt_ctr_t *c, const char *name, cb_error_t *err);

/* Stop (timeout as rt_ctr_stop) when running, then start detached. */
int rt_ctr_restart(store_t *st, rt_ctr_t *c, int timeout, cb_error_t *err);

#endif
