/*
 * store/image_commit.c - an image's config and manifest written from a
 * config and its layers' descriptors, alone or into a blob batch.
 */
#include "store/image.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *docker_layer_type(const char *mt)
{
	if (!strcmp(mt, MT_OCI_LAYER_GZIP))
		return MT_DOCKER_LAYER_GZIP;
	if (!strcmp(mt, MT_OCI_LAYER))
		return MT_DOCKER_LAYER;
	return mt;
}

image_t *image_commit(store_t *st, const oci_config_t *config, const oci_descriptor_t *layers,
		      size_t n_layers, bool docker_format, cb_error_t *err)
{
	return image_commit_in(st, NULL, config, layers, n_layers, docker_format, err);
}

image_t *image_commit_in(store_t *st, store_blob_batch_t *b, const oci_config_t *config,
			 const oci_descriptor_t *layers, size_t n_layers, bool docker_format,
			 cb_error_t *err)
{
	_cleanup_free_ char *cjson = oci_config_to_json(config);
	char cdigest[DIGEST_STR_LEN + 1], mdigest[DIGEST_STR_LEN + 1];
	if (store_put_blob_in(st, b, cjson, strlen(cjson), NULL, cdigest, err) < 0)
		return NULL;
	oci_manifest_t *m = oci_manifest_new(docker_format ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST);
	m->config.media_type = cb_xstrdup(docker_format ? MT_DOCKER_CONFIG : MT_OCI_CONFIG);
	m->config.digest = cb_xstrdup(cdigest);
	m->config.size = (int64_t)strlen(cjson);
	for (size_t i = 0; i < n_layers; i++) {
		const char *mt = layers[i].media_type;
		oci_manifest_add_layer(m, docker_format ? docker_layer_type(mt) : mt,
				       layers[i].digest, layers[i].size);
	}
	_cleanup_free_ char *mjson = oci_manifest_to_json(m);
	if (store_put_blob_in(st, b, mjson, strlen(mjson), NULL, mdigest, err) < 0) {
		oci_manifest_free(m);
		return NULL;
	}
	image_t *img = cb_xcalloc(1, sizeof(*img));
	img->manifest_digest = cb_xstrdup(mdigest);
	img->manifest_size = (int64_t)strlen(mjson);
	img->manifest = m;
	img->config_digest = cb_xstrdup(cdigest);
	img->config = oci_config_dup(config);
	return img;
}
