/*
 * store/index.c - writing image indexes: the one a multi-platform build
 * tags, and the manifest lists `cbuild manifest` edits. An index is a blob
 * like any other, named in index.json by a tag; its children are image
 * manifests already in the store (gc keeps them through the index).
 */
#include "store/index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

json_t *image_index_new(bool docker_format)
{
	json_t *j = json_object();
	json_object_set_new(j, "schemaVersion", json_integer(2));
	json_object_set_new(j, "mediaType",
			    json_string(docker_format ? MT_DOCKER_LIST : MT_OCI_INDEX));
	json_object_set_new(j, "manifests", json_array());
	return j;
}

int image_index_load(store_t *st, const char *digest, json_t **out, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	json_t *j = json_loadb(data, len, 0, NULL);
	if (!json_is_array(json_object_get(j, "manifests"))) {
		json_decref(j);
		return cb_error_fail(err, EINVAL, "'%s' is not an image index", digest);
	}
	*out = j;
	return 0;
}

json_t *image_index_platform_json(const oci_platform_t *p)
{
	json_t *pf = json_object();
	json_object_set_new(pf, "architecture", json_string(p->arch));
	json_object_set_new(pf, "os", json_string(p->os));
	if (p->variant[0])
		json_object_set_new(pf, "variant", json_string(p->variant));
	return pf;
}

int image_index_entry(store_t *st, const char *manifest_digest, json_t **out, cb_error_t *err)
{
	image_t *img = image_load(st, manifest_digest, err);
	if (!img)
		return -1;
	if (img->index_digest) {
		image_free(img);
		return cb_error_fail(err, EINVAL, "'%s' is an index, not an image", manifest_digest);
	}
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, img->manifest_digest, IMAGE_JSON_MAX, &data, &len, err) < 0) {
		image_free(img);
		return -1;
	}
	json_t *e = json_object();
	json_object_set_new(e, "mediaType", json_string(oci_document_media_type(data, len)));
	json_object_set_new(e, "digest", json_string(img->manifest_digest));
	json_object_set_new(e, "size", json_integer((json_int_t)len));
	json_t *pf = json_object();
	const oci_config_t *c = img->config;
	json_object_set_new(pf, "architecture", json_string(c->architecture ? c->architecture : "amd64"));
	json_object_set_new(pf, "os", json_string(c->os ? c->os : "linux"));
	if (c->variant && *c->variant)
		json_object_set_new(pf, "variant", json_string(c->variant));
	json_object_set_new(e, "platform", pf);
	image_free(img);
	*out = e;
	return 0;
}

void image_index_put_entry(json_t *index, json_t *entry)
{
	json_t *ms = json_object_get(index, "manifests");
	const char *d = json_string_value(json_object_get(entry, "digest"));
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m)
	{
		if (cb_streq(json_string_value(json_object_get(m, "digest")), d)) {
			json_array_set(ms, i, entry);
			return;
		}
	}
	json_array_append(ms, entry);
}

int image_index_write(store_t *st, json_t *index, char **digest_out, int64_t *size_out,
		      cb_error_t *err)
{
	/* a Docker manifest list may only hold Docker manifests: one OCI child
	 * makes it an OCI index, as buildah does */
	const char *mt = json_string_value(json_object_get(index, "mediaType"));
	if (cb_streq(mt, MT_DOCKER_LIST)) {
		size_t i;
		json_t *m;
		json_array_foreach(json_object_get(index, "manifests"), i, m)
		{
			if (!cb_streq(json_string_value(json_object_get(m, "mediaType")),
				      MT_DOCKER_MANIFEST))
				json_object_set_new(index, "mediaType", json_string(MT_OCI_INDEX));
		}
	}
	char *s = json_dumps(index, JSON_COMPACT);
	if (!s)
		CB_BUG("json_dumps failed");
	_cleanup_free_ char *data = s;
	char digest[DIGEST_STR_LEN + 1];
	digest_buffer(data, strlen(data), digest);
	if (store_put_blob(st, data, strlen(data), digest, NULL, err) < 0)
		return -1;
	*digest_out = cb_xstrdup(digest);
	if (size_out)
		*size_out = (int64_t)strlen(data);
	return 0;
}

const char *image_index_media_type(json_t *index)
{
	const char *mt = json_string_value(json_object_get(index, "mediaType"));
	return cb_streq(mt, MT_DOCKER_LIST) ? MT_DOCKER_LIST : MT_OCI_INDEX;
}
