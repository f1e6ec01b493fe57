/* cbuild inspect IMAGE...: Docker-shaped JSON, one array for all names. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"

static json_t *repo_lists(store_t *st, const image_t *img, json_t **digests)
{
	json_t *tags = json_array();
	*digests = json_array();
	store_ref_t *refs = NULL;
	size_t n = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (store_list_refs(st, &refs, &n, &e) < 0) {
		cb_error_release(&e);
		return tags;
	}
	for (size_t i = 0; i < n; i++) {
		if (!refs[i].name || strcmp(refs[i].digest, img->manifest_digest))
			continue;
		reg_ref_t r;
		if (reg_ref_parse(refs[i].name, REG_REF_NO_DEFAULT_TAG, &r, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		_cleanup_free_ char *fam = reg_ref_familiar(&r);
		_cleanup_free_ char *repo = reg_ref_familiar_repo(&r);
		_cleanup_free_ char *rd = cb_asprintf("%s@%s", repo, img->manifest_digest);
		json_array_append_new(tags, json_string(fam));
		json_array_append_new(*digests, json_string(rd));
		reg_ref_release(&r);
	}
	store_refs_free(refs, n);
	return tags;
}

static json_t *image_json(store_t *st, const image_t *img)
{
	_cleanup_free_ char *cj = oci_config_to_json(img->config);
	json_t *c = json_loads(cj, 0, NULL);
	json_t *digests = NULL;
	json_t *tags = repo_lists(st, img, &digests);
	json_t *j = json_object();
	json_object_set_new(j, "Id", json_string(img->config_digest));
	json_object_set_new(j, "RepoTags", tags);
	json_object_set_new(j, "RepoDigests", digests);
	json_object_set_new(j, "Parent", json_string(""));
	json_object_set_new(j, "Comment", json_string(""));
	json_object_set(j, "Created", json_object_get(c, "created") ?: json_string(""));
	json_object_set_new(j, "Author", json_string(img->config->author ? img->config->author : ""));
	json_object_set(j, "Config", json_object_get(c, "config"));
	json_object_set(j, "Architecture", json_object_get(c, "architecture"));
	json_object_set(j, "Os", json_object_get(c, "os"));
	json_object_set_new(j, "Size", json_integer(image_blob_size(img)));
	json_t *rootfs = json_pack("{s:s, s:O}", "Type", "layers", "Layers",
				   json_object_get(json_object_get(c, "rootfs"), "diff_ids"));
	json_object_set_new(j, "RootFS", rootfs);
	json_object_set(j, "History", json_object_get(c, "history"));
	json_object_set_new(j, "ManifestDigest", json_string(img->manifest_digest));
	json_object_set_new(j, "ManifestMediaType", json_string(img->manifest->media_type));
	json_decref(c);
	return j;
}

int cmd_inspect(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int first = 1;
	if (argc > 2 && (!strcmp(argv[1], "--type") || !strcmp(argv[1], "-t")))
		first = 3;
	if (argc <= first)
		return cmd_usage_error(err, "'inspect' needs at least 1 argument");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	json_t *out = json_array();
	for (int i = first; i < argc; i++) {
		image_t *img = cmd_load_image(st, argv[i], err);
		if (!img) {
			json_decref(out);
			return -1;
		}
		json_array_append_new(out, image_json(st, img));
		image_free(img);
	}
	char *s = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(out);
	return 0;
}
