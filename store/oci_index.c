/* The image index model (store/image.h: oci_index_t) and how descriptors
 * are written: an index is read, edited and written back through it, and
 * what the editor did not change comes out as it went in (key order,
 * unknown keys, entries cbuild cannot use), so that index.json keeps what
 * other tools put there and an unchanged list keeps its digest. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/image.h"
#include "store/json.h"

/* ---- written as read ---- */

/* A known key of an object the model reads: `field` is what the model
 * holds for it now, `reads_as` what reading the value v (NULL: the key
 * absent) gives the model; both as new JSON references, NULL for nothing.
 * When the two agree the field is unchanged and v is written back as it
 * was (an unknown media type, a size of 7.0, a platform's key order). */
typedef struct known_key {
	const char *name;
	json_t *(*field)(const void *obj);
	json_t *(*reads_as)(json_t *v);
} known_key_t;

static bool same(json_t *a, json_t *b)
{
	return a && b ? json_equal(a, b) : a == b;
}

static const known_key_t *find_key(const known_key_t *keys, const char *name)
{
	for (; keys->name; keys++)
		if (!strcmp(keys->name, name))
			return keys;
	return NULL;
}

/* One key of as_read into out: the model's value when it changed it. */
static void put_key(json_t *out, const known_key_t *k, const void *obj, const char *name,
		    json_t *v)
{
	json_t *mine = k->field(obj);
	json_t *was = k->reads_as(v);
	if (same(mine, was)) {
		if (v) /* unchanged: as it was, or still absent */
			json_object_set(out, name, v);
	} else if (mine) {
		json_object_set(out, name, mine);
	}
	json_decref(mine);
	json_decref(was);
}

static json_t *write_as_read(const void *obj, json_t *as_read, const known_key_t *keys)
{
	json_t *out = json_object();
	const char *name;
	json_t *v;
	json_object_foreach(as_read, name, v)
	{
		const known_key_t *k = find_key(keys, name);
		if (k)
			put_key(out, k, obj, name, v);
		else
			json_object_set(out, name, v);
	}
	/* fields the document did not have: added at the end, in the
	 * order a new object gets them */
	for (; keys->name; keys++)
		if (!json_object_get(as_read, keys->name))
			put_key(out, keys, obj, keys->name, NULL);
	return out;
}

static json_t *ref_if(json_t *v, bool ok)
{
	return ok ? json_incref(v) : NULL;
}

/* ---- descriptors ---- */

#define DESC(o) ((const oci_descriptor_t *)(o))

static json_t *desc_media_type(const void *o)
{
	return oci_json_str(DESC(o)->media_type);
}

static json_t *desc_digest(const void *o)
{
	return oci_json_str(DESC(o)->digest);
}

static json_t *desc_size(const void *o)
{
	return DESC(o)->size >= 0 ? json_integer((json_int_t)DESC(o)->size) : NULL;
}

static json_t *desc_annotations(const void *o)
{
	return DESC(o)->annotations ? json_incref(DESC(o)->annotations) : NULL;
}

static json_t *desc_platform(const void *o)
{
	return DESC(o)->platform ? json_incref(DESC(o)->platform) : NULL;
}

static json_t *reads_string(json_t *v)
{
	return ref_if(v, json_is_string(v));
}

static json_t *reads_size(json_t *v)
{
	return ref_if(v, json_is_integer(v) && json_integer_value(v) >= 0);
}

static json_t *reads_object(json_t *v)
{
	return ref_if(v, json_is_object(v));
}

/* The order missing ones are added in: `manifest annotate` gives an entry
 * a platform, then annotations. */
static const known_key_t desc_keys[] = {
	{"mediaType", desc_media_type, reads_string},
	{"digest", desc_digest, reads_string},
	{"size", desc_size, reads_size},
	{"platform", desc_platform, reads_object},
	{"annotations", desc_annotations, reads_object},
	{0},
};

json_t *oci_descriptor_to_json(const oci_descriptor_t *d)
{
	if (d->as_read)
		return write_as_read(d, d->as_read, desc_keys);
	json_t *j = json_object();
	json_object_set_new(j, "mediaType", oci_json_str(d->media_type ? d->media_type : ""));
	json_object_set_new(j, "digest", oci_json_str(d->digest));
	json_object_set_new(j, "size", json_integer((json_int_t)d->size));
	if (d->annotations)
		json_object_set(j, "annotations", d->annotations);
	if (d->platform)
		json_object_set(j, "platform", d->platform);
	return j;
}

/* An entry with a valid digest, whatever else is wrong with it: what gc
 * must keep and a reader may fetch. */
bool oci_index_entry_from_json(json_t *e, oci_descriptor_t *d)
{
	cb_error_t err = CB_ERROR_INIT;
	if (oci_descriptor_from_json(e, d, &err) == 0) {
		d->as_read = json_incref(e);
		return true;
	}
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
	d->as_read = json_incref(e);
	return true;
}

/* ---- the index ---- */

#define INDEX(o) ((const oci_index_t *)(o))

static bool known_media_type(const char *mt)
{
	return oci_media_type_is_index(mt) || cb_streq(mt, MT_OCI_MANIFEST) ||
	       cb_streq(mt, MT_DOCKER_MANIFEST);
}

static json_t *index_media_type(const void *o)
{
	return oci_json_str(INDEX(o)->media_type);
}

/* as oci_document_media_type reads an index's: an unknown or absent one
 * is an OCI index */
static json_t *reads_index_media_type(json_t *v)
{
	const char *mt = json_string_value(v);
	return json_string(known_media_type(mt) ? mt : MT_OCI_INDEX);
}

static json_t *index_annotations(const void *o)
{
	return INDEX(o)->annotations ? json_incref(INDEX(o)->annotations) : NULL;
}

/* entries in their places: the kept ones among the valid */
static json_t *index_manifests(const void *o)
{
	const oci_index_t *ix = INDEX(o);
	json_t *arr = json_array();
	size_t j = 0;
	for (size_t i = 0; i <= ix->n_manifests; i++) {
		for (; j < ix->n_invalid && ix->invalid[j].at <= i; j++)
			json_array_append(arr, ix->invalid[j].entry);
		if (i < ix->n_manifests)
			json_array_append_new(arr, oci_descriptor_to_json(&ix->manifests[i]));
	}
	return arr;
}

static json_t *reads_nothing(json_t *v)
{
	(void)v;
	return NULL;
}

static const known_key_t index_keys[] = {
	{"mediaType", index_media_type, reads_index_media_type},
	{"manifests", index_manifests, reads_nothing},
	{"annotations", index_annotations, reads_object},
	{0},
};

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
	size_t n = json_array_size(arr);
	ix->manifests = cb_xcalloc(n + 1, sizeof(*ix->manifests));
	ix->invalid = cb_xcalloc(n + 1, sizeof(*ix->invalid));
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		if (oci_index_entry_from_json(e, &ix->manifests[ix->n_manifests]))
			ix->n_manifests++;
		else
			ix->invalid[ix->n_invalid++] =
				(oci_index_kept_t){ix->n_manifests, json_incref(e)};
	}
	json_t *ann = json_object_get(j, "annotations");
	ix->annotations = json_is_object(ann) ? json_deep_copy(ann) : NULL;
	/* the entries are the model's; the rest is kept as read */
	json_object_set_new(j, "manifests", json_null());
	ix->as_read = j;
	return ix;
}

oci_index_t *oci_index_new(bool docker_list)
{
	static const char oci[] = OCI_INDEX_EMPTY(MT_OCI_INDEX);
	static const char docker[] = OCI_INDEX_EMPTY(MT_DOCKER_LIST);
	const char *text = docker_list ? docker : oci;
	oci_index_t *ix = oci_index_from_json(text, strlen(text), NULL);
	if (!ix)
		CB_BUG("empty index");
	return ix;
}

void oci_index_free(oci_index_t *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_manifests; i++)
		oci_descriptor_release(&ix->manifests[i]);
	for (size_t j = 0; j < ix->n_invalid; j++)
		json_decref(ix->invalid[j].entry);
	free(ix->manifests);
	free(ix->invalid);
	free(ix->media_type);
	json_decref(ix->annotations);
	json_decref(ix->as_read);
	free(ix);
}

void oci_index_append(oci_index_t *ix, oci_descriptor_t *d)
{
	ix->manifests = cb_xreallocarray(ix->manifests, ix->n_manifests + 1, sizeof(*d));
	ix->manifests[ix->n_manifests++] = *d;
	memset(d, 0, sizeof(*d));
}

void oci_index_remove(oci_index_t *ix, size_t i, oci_descriptor_t *out)
{
	if (out)
		*out = ix->manifests[i];
	else
		oci_descriptor_release(&ix->manifests[i]);
	memmove(&ix->manifests[i], &ix->manifests[i + 1],
		(ix->n_manifests - i - 1) * sizeof(*ix->manifests));
	ix->n_manifests--;
	for (size_t j = 0; j < ix->n_invalid; j++)
		if (ix->invalid[j].at > i)
			ix->invalid[j].at--;
}

json_t *oci_index_remove_kept(oci_index_t *ix, size_t j)
{
	json_t *e = ix->invalid[j].entry;
	memmove(&ix->invalid[j], &ix->invalid[j + 1], (ix->n_invalid - j - 1) * sizeof(*ix->invalid));
	ix->n_invalid--;
	return e;
}

void oci_index_append_kept(oci_index_t *ix, json_t *entry)
{
	ix->invalid = cb_xreallocarray(ix->invalid, ix->n_invalid + 1, sizeof(*ix->invalid));
	ix->invalid[ix->n_invalid++] = (oci_index_kept_t){ix->n_manifests, entry};
}

json_t *oci_index_to_json_value(const oci_index_t *ix)
{
	return write_as_read(ix, ix->as_read, index_keys);
}

char *oci_index_to_json(const oci_index_t *ix)
{
	json_t *j = oci_index_to_json_value(ix);
	char *s = oci_json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
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
