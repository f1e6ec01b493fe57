/*
 * runtime/container_cp.h - `cp` between the host and a container, running
 * or not, with docker's rules for SRC and DEST:
 *
 *   SRC a file:  DEST missing -> that file; DEST/ missing -> error; DEST a
 *                file -> replaced; DEST a directory -> DEST/basename(SRC)
 *   SRC a dir:   DEST missing -> made, with SRC's contents; DEST a file ->
 *                error; DEST a directory -> DEST/basename(SRC), or with
 *                SRC/. its contents into DEST
 *   "-" as SRC: a tar on stdin extracted into the directory DEST; as DEST:
 *   SRC as a tar on stdout.
 *
 * Container paths are relative to its root (a leading '/' is optional).
 * Writes into the container go through the store's hardened extractor and
 * the destination is resolved inside the container's root: a symlink in
 * the container never leads a write (or a read) onto the host. A stopped
 * container's overlay is mounted in a private mount namespace this process
 * enters for good; a running one is reached through its PID 1's root.
 */
#ifndef CB_RUNTIME_CONTAINER_CP_H
#define CB_RUNTIME_CONTAINER_CP_H

#include <stdbool.h>

#include "runtime/container.h"

typedef struct rt_cp_opts {
	bool archive; /* -a: docker's archive mode; owners are kept either way,
		       * as dockerd 20.10 keeps them (checked against it) */
	bool follow;  /* -L: follow a symlink that SRC names */
} rt_cp_opts_t;

/* Host src (or "-") -> the container's dst. */
int rt_ctr_copy_in(store_t *st, rt_ctr_t *c, const char *src, const char *dst,
		   const rt_cp_opts_t *o, cb_error_t *err);

/* The container's src -> host dst (or "-"). */
int rt_ctr_copy_out(store_t *st, rt_ctr_t *c, const char *src, const char *dst,
		    const rt_cp_opts_t *o, cb_error_t *err);

#endif
