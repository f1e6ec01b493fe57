/*
 * runtime/volume.h - named volumes: a directory of the store
 * (store_volume_dir) bound into containers by `-v NAME:/path`, made on
 * first use or by `volume create`, kept after the container is removed,
 * removed by `volume rm` (never while a container, running or not, names
 * it: docker's rule) or `volume prune`.
 *
 * A container uses a volume when one of its volume specs (config.json's
 * "volumes", "SRC:DST[:ro]") has SRC = the name. The check and the removal
 * happen under the store lock, and a container's config is written under
 * it before the container starts, so a volume is never removed under a
 * container being created.
 *
 * Every fallible function follows common/error.h; returned strings and
 * vectors belong to the caller.
 */
#ifndef CB_RUNTIME_VOLUME_H
#define CB_RUNTIME_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

/* Docker's volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at
 * least). */
bool rt_vol_name_valid(const char *name);

/* The volume's directory, created when missing (*dir: caller frees;
 * *created (may be NULL): whether this call made it). EINVAL for a bad
 * name. */
int rt_vol_ensure(store_t *st, const char *name, char **dir, bool *created, cb_error_t *err);

/* Every volume's name, sorted. */
int rt_vol_list(store_t *st, char ***names, cb_error_t *err);

typedef struct rt_vol_info {
	char *name;
	char *mountpoint;
	int64_t created;   /* seconds since the epoch */
	uint64_t size;     /* bytes of its files (rt_du) */
	char **users;      /* IDs of the containers that name it (never NULL) */
} rt_vol_info_t;

/* ENOENT "no such volume: 'x'". with_size: walk it for .size (du). */
int rt_vol_inspect(store_t *st, const char *name, bool with_size, rt_vol_info_t *out,
		   cb_error_t *err);
void rt_vol_info_release(rt_vol_info_t *v);

/* Remove a volume. ENOENT when missing (force: no error), EBUSY "remove
 * volume 'x': it is in use by container ID12" when a container names it. */
int rt_vol_remove(store_t *st, const char *name, bool force, cb_error_t *err);

/* Remove every volume no container names; *removed (may be NULL) gets
 * their names, *reclaimed the bytes they used. */
int rt_vol_prune(store_t *st, char ***removed, uint64_t *reclaimed, cb_error_t *err);

/* Docker's copy-up: when the volume's directory voldir is empty, fill it
 * with what the container's root (rootfs, its mounted overlay) holds at
 * dest, and give it that directory's owner and mode. Nothing when dest is
 * missing or not a directory. */
int rt_vol_copy_up(const char *rootfs, const char *dest, const char *voldir, cb_error_t *err);

/* Bytes of the files under path (their sizes, as docker counts a volume
 * or a container's writable layer; hard links once); 0 when unreadable. */
uint64_t rt_du(const char *path);

#endif
