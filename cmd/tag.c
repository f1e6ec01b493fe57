/* cbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG] */
#include <errno.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"

const cmd_opt_t cmd_tag_opts[] = {{0}};

int cmd_tag(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	int o = cmd_opts_next(&p, err);
	if (o != 0)
		return o;
	if (p.nargs != 2)
		return cmd_nargs(ctx, p.nargs, 2, 2, err);
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	_cleanup_free_ char *target = reg_ref_normalize(argv[2], err);
	if (!target)
		return -1;
	_cleanup_free_ char *md = NULL;
	if (cmd_find_image(st, argv[1], &md, NULL, err) < 0)
		return -1;
	int64_t size = store_blob_size(st, md, err);
	if (size < 0)
		return -1;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	/* an index is tagged as it is: the new name keeps every platform */
	const char *mt = oci_document_media_type(data, len);
	if (!mt)
		return cb_error_fail(err, EBADMSG, "image '%s': manifest '%s' is not JSON", argv[1],
				     md);
	return store_set_ref(st, target, md, mt, size, err);
}
