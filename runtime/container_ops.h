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
#include <signal.h>
#include <sys/types.h>

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

/* Host PIDs of every process in the container's PID namespace, sorted
 * (*pids: caller frees). EINVAL when it is not running. */
int rt_ctr_pids(const rt_ctr_t *c, pid_t **pids, size_t *n, cb_error_t *err);

/* Freeze every process of the container (cgroup freezer, v1 or v2: see
 * container_pause.c); unpause thaws them. EINVAL when not running, already
 * paused / not paused. */
int rt_ctr_pause(store_t *st, rt_ctr_t *c, cb_error_t *err);
int rt_ctr_unpause(store_t *st, rt_ctr_t *c, cb_error_t *err);
/* Whether it is paused now (ps: "Up 3 minutes (Paused)"). */
bool rt_ctr_paused(const rt_ctr_t *c);

/* `top`: ps (ps_args, default -ef) over the host, its header row first,
 * then the rows of the container's processes, split into the header's
 * columns (the last one, CMD, keeps its spaces). Free with
 * rt_ctr_top_free. EINVAL when not running or ps prints no PID column. */
int rt_ctr_top(store_t *st, rt_ctr_t *c, char *const *ps_args, char ****rows, cb_error_t *err);
void rt_ctr_top_free(char ***rows);

/* What `stats` shows of a container. */
typedef struct rt_ctr_stats {
	double cpu_percent;            /* of one CPU, over the interval */
	uint64_t mem_usage, mem_limit; /* resident bytes; the host's memory */
	uint64_t net_rx, net_tx;       /* its network namespace, lo aside */
	uint64_t blk_read, blk_write;  /* storage I/O of its processes */
	uint64_t pids;                 /* tasks (threads included, as pids.current) */
} rt_ctr_stats_t;

/* Measure n containers over interval_ms (one wait for all); out[i] for
 * cs[i]. A container that is not running reads as zeros. */
int rt_ctr_stats(rt_ctr_t *const *cs, size_t n, int interval_ms, rt_ctr_stats_t *out,
		 cb_error_t *err);

/* ---- attach (runtime/container_attach.c) ---- */

typedef struct rt_attach {
	int out_fd, err_fd;                      /* where its stdout, stderr go */
	int in_fd;                               /* -1: no stdin; else sent to a
						  * container started with -i */
	const char *detach_keys;                 /* typed on in_fd to a tty
						  * container, they detach (NULL:
						  * none); docker's are "\x10\x11"
						  * (Ctrl-P Ctrl-Q) */
	volatile sig_atomic_t *pending_signal;   /* may be NULL: a signal the
						  * caller caught, sent to PID 1
						  * and reset (docker's sig-proxy) */
	bool detached;                           /* out: the keys were typed */
	bool at_start;                           /* start -a: the caller marked
						  * the log's end (rt_ctr_attach_mark)
						  * before starting it: it may have
						  * exited already */
	long long mark;                          /* that end */
} rt_attach_t;

/* Give a running tty container's terminal the size of the terminal fd
 * (docker sizes it at attach): through its PID 1's stdin, the pty's
 * slave. Nothing when fd or that stdin is not a terminal. */
void rt_ctr_resize_from(const rt_ctr_t *c, int fd);

/* run -it --rm: hold an --rm container's removal until the returned fd is
 * closed, so that this attacher reads its exit code first (its monitor
 * records the exit, then waits for the holders). */
int rt_ctr_hold_removal(const rt_ctr_t *c, cb_error_t *err);

/* For start -a: the log's present end, before the start. */
long long rt_ctr_attach_mark(const rt_ctr_t *c);

/* Follow a running container's output from now until it exits (then
 * *exit_code = its exit code) or the detach keys are typed (a->detached,
 * the container goes on). With in_fd and a container started with -i,
 * what is typed goes to its stdin (a detached one's, through its monitor;
 * the keys themselves do not). EINVAL when it is not running. */
int rt_ctr_attach(store_t *st, rt_ctr_t *c, rt_attach_t *a, int *exit_code, cb_error_t *err);

#endif
