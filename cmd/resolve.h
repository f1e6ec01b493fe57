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

#endif
