/*
 * runtime/mount.h - the private mount namespace and the overlay options that
 * build steps (builder/snapshot.c) and containers (runtime/container_run.c)
 * share.
 *
 * Overlays are mounted only inside a private mount namespace of the process
 * that uses them (rt_enter_mount_ns), so that an overlay mount can never
 * outlive the process, even after kill -9.
 */
#ifndef CB_RUNTIME_MOUNT_H
#define CB_RUNTIME_MOUNT_H

#include "common/error.h"

/* Move this process into a private mount namespace (a no-op when already
 * done). Not root: into a new user namespace first (sbx_enter_userns), as
 * its root: layers unpacked and files created afterwards carry the
 * namespace's ids (0 = the caller), which is what layers record. Call it
 * before any thread is started. */
int rt_enter_mount_ns(cb_error_t *err);

/* The overlay mount options after lowerdir/upperdir/workdir (",..."): no
 * redirect_dir, metacopy or index (their metadata fits in no layer), and
 * userxattr in a user namespace (trusted.* xattrs are root's only). The
 * string is static. */
const char *rt_overlay_opts(void);

#endif
