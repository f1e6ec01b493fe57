/*
 * cmd/resolve.h - how cmd/ finds images for the builder and for `run`: in
 * the store, else (or always with pull) through registry/.
 */
#ifndef CB_CMD_RESOLVE_H
#define CB_CMD_RESOLVE_H

#include <stdbool.h>

#include "cmd/cmd.h"

/* A bld_resolver_t callback; ctx is the cmd_ctx_t. */
int cmd_resolve_image(void *ctx, store_t *st, const char *ref, bool pull, const char *platform,
		      char **manifest_digest, cb_error_t *err);

/* The image `ref` names in the store, for `platform` (NULL = this machine),
 * without pulling: 1 and *manifest_digest (caller frees) when found, 0 when
 * the store has no such reference (or has it for another platform only),
 * -1 on error. */
int cmd_find_local_image(store_t *st, const char *ref, const char *platform,
			 char **manifest_digest, cb_error_t *err);

#endif
