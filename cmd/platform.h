/*
 * cmd/platform.h - choosing a local image for a platform (cmd/platform.c):
 * never another platform's image without a word.
 */
#ifndef CB_CMD_PLATFORM_H
#define CB_CMD_PLATFORM_H

#include "common/error.h"
#include "store/store.h"

typedef enum cmd_pick {
	CMD_PICK_OK = 0,   /* *md is the image to use */
	CMD_PICK_PULL = 1, /* the store lacks it: the registry may have it */
} cmd_pick_t;

/* The image manifest that `digest` (a tag's target: an index or an image
 * manifest) stands for on `platform` (NULL: this machine's, not asked
 * for). An index gives its child for the platform (CMD_PICK_PULL when it
 * lists one that was not pulled); a single image of another platform
 * gives CMD_PICK_PULL when a platform was asked for, else itself (the
 * caller warns). -1 with err set: the index has no such platform. */
int cmd_platform_pick(store_t *st, const char *what, const char *digest, const char *platform,
		      char **md, cb_error_t *err);

/* The error for an image found whose platform is not the one asked for
 * (docker's words). */
int cmd_platform_mismatch(store_t *st, const char *what, const char *md, const char *platform,
			  cb_error_t *err);

/* docker's warning on stderr when the image md is not for this machine:
 * "WARNING: The requested image's platform (linux/arm64) does not match
 * the detected host platform (linux/amd64)[ and no specific platform was
 * requested]". */
void cmd_platform_warn(store_t *st, const char *md, const char *platform);

#endif
