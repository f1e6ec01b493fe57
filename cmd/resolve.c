#include "cmd/resolve.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "registry/reference.h"

int cmd_resolve_image(void *ctx, store_t *st, const char *ref, bool pull, const char *platform,
		      char **manifest_digest, cb_error_t *err)
{
	(void)ctx;
	(void)platform;
	_cleanup_free_ char *full = reg_ref_normalize(ref, err);
	if (!full)
		return -1;
	store_ref_t r = {0};
	if (!pull && store_get_ref(st, full, &r, NULL) == 0) {
		*manifest_digest = cb_steal_pointer(&r.digest);
		store_ref_release(&r);
		return 0;
	}
	_cleanup_free_ char *shown = reg_ref_shorten(full);
	return cb_error_fail(err, ENOENT, "image '%s' not found in the store (and pulling is not "
					  "available in this build)",
			     shown);
}
