/*
 * store/attest.c - an image and its attestations as one OCI index, in
 * BuildKit's layout (see store/attest.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "store/attest.h"
#include "store/image.h"

/* jansson's own json_decrefp (json_auto_t's cleanup) */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Compact, keys sorted: the bytes, and so the digests, depend on the
 * content only. */
static int put_json(store_t *st, json_t *j, char digest[DIGEST_STR_LEN + 1], int64_t *size,
		    cb_error_t *err)
{
	_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		CB_BUG("json_dumps failed");
	*size = (int64_t)strlen(s);
	return store_put_blob(st, s, strlen(s), NULL, digest, err);
}

static json_t *descriptor(const char *mt, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t)size);
}

/* The attestation manifest: its layers are the statements. BuildKit gives
 * it an image config of platform unknown/unknown listing them as
 * uncompressed layers. */
int store_attest_manifest(store_t *st, const char *subject, const store_attestation_t *a,
			  size_t n, json_t **desc_out, cb_error_t *err)
{
	_cleanup_json_ json_t *layers = json_array();
	_cleanup_json_ json_t *diff_ids = json_array();
	for (size_t i = 0; i < n; i++) {
		char d[DIGEST_STR_LEN + 1];
		if (store_put_blob(st, a[i].statement, a[i].len, NULL, d, err) < 0)
			return cb_error_wrap(err, "attestation '%s'", a[i].predicate_type);
		json_t *l = descriptor(MT_IN_TOTO, d, (int64_t)a[i].len);
		json_object_set_new(l, "annotations",
				    json_pack("{s:s}", ATTEST_PREDICATE_TYPE, a[i].predicate_type));
		json_array_append_new(layers, l);
		json_array_append_new(diff_ids, json_string(d));
	}
	_cleanup_json_ json_t *cfg = json_pack(
		"{s:s, s:s, s:{}, s:{s:s, s:O}}", "architecture", "unknown", "os", "unknown", "config",
		"rootfs", "type", "layers", "diff_ids", diff_ids);
	char cd[DIGEST_STR_LEN + 1], md[DIGEST_STR_LEN + 1];
	int64_t cs = 0, ms = 0;
	if (put_json(st, cfg, cd, &cs, err) < 0)
		return -1;
	_cleanup_json_ json_t *m = json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType",
					     MT_OCI_MANIFEST, "config",
					     descriptor(MT_OCI_CONFIG, cd, cs), "layers", layers);
	if (put_json(st, m, md, &ms, err) < 0)
		return -1;
	json_t *d = descriptor(MT_OCI_MANIFEST, md, ms);
	json_object_set_new(d, "annotations",
			    json_pack("{s:s, s:s}", ATTEST_REF_DIGEST, subject, ATTEST_REF_TYPE,
				      ATTEST_MANIFEST_TYPE));
	json_object_set_new(d, "platform",
			    json_pack("{s:s, s:s}", "architecture", "unknown", "os", "unknown"));
	*desc_out = d;
	return 0;
}

int store_attest_index(store_t *st, const char *manifest_digest, const store_attestation_t *a,
		       size_t n, char index_digest[DIGEST_STR_LEN + 1], int64_t *index_size,
		       cb_error_t *err)
{
	image_t *img = image_load(st, manifest_digest, err);
	if (!img)
		return -1;
	json_t *idesc = descriptor(img->manifest->media_type ? img->manifest->media_type
							     : MT_OCI_MANIFEST,
				   img->manifest_digest, img->manifest_size);
	json_t *plat = json_pack("{s:s, s:s}", "architecture", img->config->architecture,
				 "os", img->config->os);
	if (img->config->variant && *img->config->variant)
		json_object_set_new(plat, "variant", json_string(img->config->variant));
	json_object_set_new(idesc, "platform", plat);
	image_free(img);
	json_t *adesc = NULL;
	if (store_attest_manifest(st, manifest_digest, a, n, &adesc, err) < 0) {
		json_decref(idesc);
		return -1;
	}
	_cleanup_json_ json_t *idx = json_pack("{s:i, s:s, s:[o,o]}", "schemaVersion", 2,
					       "mediaType", MT_OCI_INDEX, "manifests", idesc, adesc);
	return put_json(st, idx, index_digest, index_size, err);
}

/* The attestation manifest of the index whose subject is `subject`. */
static const char *attestation_for(const oci_index_t *ix, const char *subject)
{
	for (size_t i = 0; ix && i < ix->n_manifests; i++) {
		json_t *ann = ix->manifests[i].annotations;
		if (cb_streq(json_string_value(json_object_get(ann, ATTEST_REF_TYPE)),
			     ATTEST_MANIFEST_TYPE) &&
		    cb_streq(json_string_value(json_object_get(ann, ATTEST_REF_DIGEST)), subject))
			return ix->manifests[i].digest;
	}
	return NULL;
}

int store_attest_read(store_t *st, const char *digest, const char *platform,
		      const char *predicate_type, char **out, size_t *len, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL, *subject = NULL, *mdata = NULL;
	size_t dlen = 0, mlen = 0;
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &dlen, err) < 0)
		return -1;
	if (!oci_media_type_is_index(oci_document_media_type(data, dlen)))
		return cb_error_fail(err, ENOENT, "'%s' has no attestations (not an index)", digest);
	if (image_resolve(st, digest, platform, &subject, err) < 0)
		return -1;
	cb_error_t e = CB_ERROR_INIT;
	oci_index_t *ix = oci_index_from_json(data, dlen, &e);
	cb_error_release(&e);
	const char *am = attestation_for(ix, subject);
	int rc = am ? store_read_blob(st, am, IMAGE_JSON_MAX, &mdata, &mlen, err)
		    : cb_error_fail(err, ENOENT, "no attestations for '%s'", subject);
	oci_index_free(ix);
	if (rc < 0)
		return -1;
	oci_manifest_t *m = oci_manifest_from_json(mdata, mlen, &e);
	cb_error_release(&e);
	for (size_t i = 0; m && i < m->n_layers; i++) {
		json_t *ann = m->layers[i].annotations;
		if (cb_streq(json_string_value(json_object_get(ann, ATTEST_PREDICATE_TYPE)),
			     predicate_type)) {
			rc = store_read_blob(st, m->layers[i].digest, 64u << 20, out, len, err);
			oci_manifest_free(m);
			return rc;
		}
	}
	oci_manifest_free(m);
	return cb_error_fail(err, ENOENT, "no '%s' attestation for '%s'", predicate_type, subject);
}
