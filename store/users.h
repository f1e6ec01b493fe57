/*
 * store/users.h - who uses an image: what rmi and prune ask before they
 * drop one.
 *
 * An image is used by the images built on it (find.h's parent relation,
 * which the store sees in histories and layers) and by the containers
 * whose keep records (keep.h, STORE_KEEP_CONTAINER) point at it. The store
 * knows a container only as that record: whether it runs is runtime/'s
 * business, so callers that care load the containers named here.
 */
#ifndef CB_STORE_USERS_H
#define CB_STORE_USERS_H

#include <stddef.h>

#include "common/error.h"
#include "store/image.h"
#include "store/store.h"

typedef struct store_image_users {
	size_t children;   /* images in index.json built on it */
	char **containers; /* names (IDs) of the container records whose image
			    * it is, sorted; NULL-terminated, never NULL after
			    * a success */
} store_image_users_t;

/* Fill *u for img (an image ID: a container of an index counts for the
 * image of this machine's platform, as image_load picks it). Release it
 * with store_image_users_release. */
int store_image_users(store_t *st, const image_t *img, store_image_users_t *u, cb_error_t *err);

/* Free what store_image_users filled (NULL-safe, idempotent). */
void store_image_users_release(store_image_users_t *u);

/* Drop the untagged entries of dangling images, as docker's image prune
 * does: no name, no image built on them, no container using them, so that
 * gc can reclaim them. *removed counts the images dropped. */
int store_prune_dangling(store_t *st, size_t *removed, cb_error_t *err);

#endif
