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
#include "common/util.h"
#include "store/image.h"
#include "store/store.h"

/* Move this process into a private mount namespace (a no-op when already
 * done). Not root: into a new user namespace first (sbx_enter_userns), as
 * its root: layers unpacked and files created afterwards carry the
 * namespace's ids (0 = the caller), which is what layers record. Call it
 * before any thread is started. */
int rt_enter_mount_ns(cb_error_t *err);

/* The mount namespace this process was in before rt_enter_mount_ns (an
 * fd), or -1: where a mount that other processes must see goes (a network
 * namespace's file, which a later command tears down after a kill -9). */
int rt_outer_mount_ns(void);

/* The overlay mount options after lowerdir/upperdir/workdir (",..."): no
 * redirect_dir, metacopy or index (their metadata fits in no layer), and
 * userxattr in a user namespace (trusted.* xattrs are root's only). The
 * string is static. */
const char *rt_overlay_opts(void);

/* The unpacked directories of a chain of n layers (bottom first, diff_ids
 * parallel to layers) as overlay lower dirs, top-most first, NULL-terminated
 * (caller frees): each diff ID once, at its top-most place, which overlayfs
 * needs (it refuses a directory twice) and which gives the same merged view
 * (the proof is at the definition). Layers are unpacked on demand. */
int rt_chain_lowers(store_t *st, const oci_descriptor_t *layers, char *const *diff_ids,
		    size_t n, char ***lowers, cb_error_t *err);

/* Overlay mount options into b: lowerdir (lowers top-most first, at least
 * one), upperdir and workdir when upper is not NULL (a read-only mount
 * otherwise, which overlayfs gives only over two lowers or more), then
 * rt_overlay_opts(); ':' ',' '\\' escaped. E2BIG when it does not fit the
 * one page the kernel takes (a few bytes are left for ",volatile"). */
int rt_overlay_options(char *const *lowers, const char *upper, const char *work, cb_buf_t *b,
		       cb_error_t *err);

#endif
