#include "cmd/resolve.h"

#include "cmd/platform.h"
#include "cmd/reg_common.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "registry/reference.h"
#include "registry/registry.h"
#include "store/image.h"

/* After a pull for an asked platform: a single-platform image of another
 * one (the registry has no index) is an error, not a silent substitute. */
static int check_pulled(store_t *st, const char *ref, const char *platform, const char *md,
			cb_error_t *err)
{
	if (!platform)
		return 0;
	_cleanup_free_ char *again = NULL;
	int rc = cmd_platform_pick(st, ref, md, platform, &again, err);
	if (rc == CMD_PICK_PULL)
		return cmd_platform_mismatch(st, ref, md, platform, err);
	return rc;
}

/* 1: the store has `full` for the platform (an index: the platform's image;
 * a single image: of the platform asked for); 0: it has not, and *local is
 * what the store has under that name for another platform, if anything. */
static int find_local(store_t *st, const char *ref, const char *full, const char *platform,
		      char **manifest_digest, char **local, cb_error_t *err)
{
	store_ref_t r = {0};
	if (store_get_ref(st, full, &r, NULL) < 0)
		return 0;
	int rc = cmd_platform_pick(st, ref, r.digest, platform, manifest_digest, err);
	if (local)
		*local = cb_xstrdup(r.digest);
	store_ref_release(&r);
	if (rc < 0)
		return cb_error_wrap(err, "image '%s'", ref);
	return rc == CMD_PICK_OK ? 1 : 0;
}

int cmd_find_local_image(store_t *st, const char *ref, const char *platform,
			 char **manifest_digest, cb_error_t *err)
{
	_cleanup_free_ char *full = reg_ref_normalize(ref, err);
	if (!full)
		return -1;
	return find_local(st, ref, full, platform, manifest_digest, NULL, err);
}

int cmd_resolve_image(void *ctx, store_t *st, const char *ref, bool pull, const char *platform,
		      char **manifest_digest, cb_error_t *err)
{
	(void)ctx;
	_cleanup_free_ char *full = reg_ref_normalize(ref, err);
	if (!full)
		return -1;
	_cleanup_free_ char *local = NULL;
	if (!pull) {
		/* not for this platform here: the registry is asked (as buildah) */
		int found = find_local(st, ref, full, platform, manifest_digest, &local, err);
		if (found < 0)
			return -1;
		if (found) {
			cmd_platform_warn(st, *manifest_digest, platform);
			return 0;
		}
	}
	/* missing here, or --pull: the registry has it (docker does the same) */
	reg_opts_t o;
	cmd_reg_opts_init(&o);
	o.platform = platform;
	if (reg_pull(st, full, &o, manifest_digest, err) < 0) {
		if (!local || !platform)
			return -1; /* reg_pull's error names the full reference already */
		/* the store has it for another platform only: say so */
		cb_error_t pe = CB_ERROR_INIT;
		cb_error_move(&pe, err);
		_cleanup_free_ char *md = NULL;
		if (image_resolve(st, local, NULL, &md, NULL) < 0)
			md = cb_xstrdup(local);
		cb_error_t me = CB_ERROR_INIT;
		cmd_platform_mismatch(st, ref, md, platform, &me);
		cb_error_fail(err, ENOENT, "%s (and the pull for it failed: %s)", me.msg, pe.msg);
		cb_error_release(&me);
		cb_error_release(&pe);
		return -1;
	}
	if (check_pulled(st, ref, platform, *manifest_digest, err) < 0) {
		free(*manifest_digest);
		*manifest_digest = NULL;
		return -1;
	}
	cmd_platform_warn(st, *manifest_digest, platform);
	return 0;
}
