/*
 * cmd/images_util.h - what several verbs share: finding an image by the
 * name or ID a user typed, and Docker-style human output.
 */
#ifndef CB_CMD_IMAGES_UTIL_H
#define CB_CMD_IMAGES_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "store/image.h"
#include "store/store.h"

/* store_image_find for what a user typed: a reference ("app", "app:1",
 * "localhost:5000/a@sha256:..") normalized as docker does, a full image ID
 * ("sha256:HEX" or HEX) or a unique prefix of one. Sets the manifest
 * digest (caller frees) and, when the user named a tag, the full reference
 * name (else NULL). ENOENT when nothing matches, EINVAL when ambiguous. */
int cmd_find_image(store_t *st, const char *what, char **manifest_digest, char **full_name,
		   cb_error_t *err);

/* Who uses img (store_image_users): how many images are built on it, and
 * a container whose image it is: a running one when any runs, else the
 * newest. */
typedef struct cmd_image_user {
	size_t children;
	char id[13]; /* the container's short ID */
	bool found, running;
} cmd_image_user_t;
int cmd_image_user(store_t *st, const image_t *img, cmd_image_user_t *u, cb_error_t *err);

/* cmd_find_image + image_load: a name of an index gives this machine's
 * image of it. */
image_t *cmd_load_image(store_t *st, const char *what, cb_error_t *err);

/* cmd_load_image for a platform ("os/arch[/variant]", NULL: this
 * machine's), which matters when `what` names an index. */
image_t *cmd_load_image_platform(store_t *st, const char *what, const char *platform,
				 cb_error_t *err);

/* Check a --platform value early, so that a typo fails even for an image
 * that is not an index. 0 for NULL. */
int cmd_check_platform(const char *platform, cb_error_t *err);

/* go-units' CustomSize, which docker prints sizes with: v in decimal (kB,
 * MB, ...) or binary (KiB, MiB, ...) units, `digits` significant digits
 * ("%.*g"): images 3, system df 4, stats 4 binary (memory), 3 decimal. */
void cmd_human_units(uint64_t v, bool binary, int digits, char *buf, size_t len);
/* "12.3MB", "980kB", "1.2GB": cmd_human_units(bytes, false, 3). */
void cmd_human_size(int64_t bytes, char *buf, size_t len);

/* "2 hours ago", "About a minute ago", "Less than a second ago". */
void cmd_human_ago(int64_t then, char *buf, size_t len);

/* "Up 3 minutes" style durations (no "ago"). */
void cmd_human_duration(int64_t seconds, char *buf, size_t len);

/* The first 12 hex characters of a digest. */
void cmd_short_id(const char *digest, char out[13]);

#endif
