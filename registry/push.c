/*
 * registry/push.c - push an image from the store. See registry.h.
 */
#include <errno.h>

#include "registry/registry.h"

int reg_push(store_t *st, const char *src, const char *dest, const reg_opts_t *opts,
	     char **digest_out, cb_error_t *err)
{
	return cb_error_set(err, ENOSYS, "push '%s': not implemented yet", src);
}
