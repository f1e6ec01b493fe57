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

int image_index_load(store_t *st, const char *digest, oci_index_t **out, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	*out = oci_index_from_json(data, len, NULL);
	if (!*out)
		return cb_error_fail(err, EINVAL, "'%s' is not an image index", digest);
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

int image_index_entry(store_t *st, const char *manifest_digest, oci_descriptor_t *out,
		      cb_error_t *err)
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
	memset(out, 0, sizeof(*out));
	out->media_type = cb_xstrdup(oci_document_media_type(data, len));
	out->digest = cb_xstrdup(img->manifest_digest);
	out->size = (int64_t)len;
	json_t *pf = json_object();
	const oci_config_t *c = img->config;
	json_object_set_new(pf, "architecture", json_string(c->architecture ? c->architecture : "amd64"));
	json_object_set_new(pf, "os", json_string(c->os ? c->os : "linux"));
	if (c->variant && *c->variant)
		json_object_set_new(pf, "variant", json_string(c->variant));
	out->platform = pf;
	image_free(img);
	return 0;
}

void image_index_put_entry(oci_index_t *index, oci_descriptor_t *entry)
{
	for (size_t i = 0; i < index->n_manifests; i++) {
		if (cb_streq(index->manifests[i].digest, entry->digest)) {
			oci_descriptor_release(&index->manifests[i]);
			index->manifests[i] = *entry;
			memset(entry, 0, sizeof(*entry));
			return;
		}
	}
	oci_index_append(index, entry);
}

int image_index_write(store_t *st, oci_index_t *index, char **digest_out, int64_t *size_out,
		      cb_error_t *err)
{
	/* a Docker manifest list may only hold Docker manifests: one OCI child
	 * makes it an OCI index, as buildah does */
	bool oci = false;
	for (size_t i = 0; i < index->n_manifests; i++)
		oci = oci || !cb_streq(index->manifests[i].media_type, MT_DOCKER_MANIFEST);
	for (size_t j = 0; j < index->n_invalid; j++)
		oci = oci || !cb_streq(json_string_value(json_object_get(index->invalid[j].entry,
									 "mediaType")),
				       MT_DOCKER_MANIFEST);
	if (oci && cb_streq(index->media_type, MT_DOCKER_LIST)) {
		free(index->media_type);
		index->media_type = cb_xstrdup(MT_OCI_INDEX);
	}
	_cleanup_free_ char *data = oci_index_to_json(index);
	char digest[DIGEST_STR_LEN + 1];
	digest_buffer(data, strlen(data), digest);
	if (store_put_blob(st, data, strlen(data), digest, NULL, err) < 0)
		return -1;
	*digest_out = cb_xstrdup(digest);
	if (size_out)
		*size_out = (int64_t)strlen(data);
	return 0;
}

const char *image_index_media_type(const oci_index_t *index)
{
	return cb_streq(index->media_type, MT_DOCKER_LIST) ? MT_DOCKER_LIST : MT_OCI_INDEX;
}
