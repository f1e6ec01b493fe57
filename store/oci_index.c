/* The image index model (store/image.h: oci_index_t). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/image.h"

/* An entry with a valid digest, whatever else is wrong with it: what gc
 * must keep and a reader may fetch. */
static bool entry_from_json(json_t *e, oci_descriptor_t *d)
{
	cb_error_t err = CB_ERROR_INIT;
	if (oci_descriptor_from_json(e, d, &err) == 0)
		return true;
	cb_error_release(&err);
	const char *digest = json_string_value(json_object_get(e, "digest"));
	if (!digest_is_valid(digest))
		return false;
	memset(d, 0, sizeof(*d));
	const char *mt = json_string_value(json_object_get(e, "mediaType"));
	d->media_type = mt ? cb_xstrdup(mt) : NULL;
	d->digest = cb_xstrdup(digest);
	d->size = -1;
	json_t *ann = json_object_get(e, "annotations");
	d->annotations = json_is_object(ann) ? json_deep_copy(ann) : NULL;
	json_t *pf = json_object_get(e, "platform");
	d->platform = json_is_object(pf) ? json_deep_copy(pf) : NULL;
	return true;
}

oci_index_t *oci_index_from_json(const char *data, size_t len, cb_error_t *err)
{
	json_t *j = json_loadb(data, len, 0, NULL);
	json_t *arr = json_object_get(j, "manifests");
	if (!json_is_object(j) || !json_is_array(arr)) {
		json_decref(j);
		cb_error_fail(err, EBADMSG, "not an image index");
		return NULL;
	}
	oci_index_t *ix = cb_xcalloc(1, sizeof(*ix));
	ix->media_type = cb_xstrdup(oci_document_media_type(data, len));
	ix->manifests = cb_xcalloc(json_array_size(arr) + 1, sizeof(*ix->manifests));
	for (size_t i = 0; i < json_array_size(arr); i++) {
		if (entry_from_json(json_array_get(arr, i), &ix->manifests[ix->n_manifests]))
			ix->n_manifests++;
		else
			ix->n_invalid++;
	}
	json_t *ann = json_object_get(j, "annotations");
	ix->annotations = json_is_object(ann) ? json_deep_copy(ann) : NULL;
	json_decref(j);
	return ix;
}

void oci_index_free(oci_index_t *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_manifests; i++)
		oci_descriptor_release(&ix->manifests[i]);
	free(ix->manifests);
	free(ix->media_type);
	json_decref(ix->annotations);
	free(ix);
}

const oci_descriptor_t *oci_index_pick_native(const oci_index_t *ix)
{
	oci_config_t *c = oci_config_new(); /* this machine's architecture */
	const oci_descriptor_t *pick = ix->n_manifests ? &ix->manifests[0] : NULL;
	for (size_t i = 0; i < ix->n_manifests; i++) {
		json_t *pf = ix->manifests[i].platform;
		if (cb_streq(json_string_value(json_object_get(pf, "architecture")), c->architecture) &&
		    cb_streq(json_string_value(json_object_get(pf, "os")), "linux")) {
			pick = &ix->manifests[i];
			break;
		}
	}
	oci_config_free(c);
	return pick;
}
