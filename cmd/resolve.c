#include "cmd/resolve.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "registry/reference.h"
#include "registry/registry.h"
#include "store/image.h"

int cmd_resolve_image(void *ctx, store_t *st, const char *ref, bool pull, const char *platform,
		      char **manifest_digest, cb_error_t *err)
{
	(void)ctx;
	_cleanup_free_ char *full = reg_ref_normalize(ref, err);
	if (!full)
		return -1;
	store_ref_t r = {0};
	if (!pull && store_get_ref(st, full, &r, NULL) == 0) {
		/* an index tag (pull --all-platforms): the platform's image */
		int rc = image_resolve(st, r.digest, platform, manifest_digest, err);
		store_ref_release(&r);
		return rc < 0 ? cb_error_wrap(err, "image '%s'", ref) : 0;
	}
	/* missing here, or --pull: the registry has it (docker does the same) */
	reg_opts_t o;
	reg_opts_init(&o);
	o.platform = platform;
	/* reg_pull's error names the full reference already */
	return reg_pull(st, full, &o, manifest_digest, err);
}
