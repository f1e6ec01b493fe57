#include "store/find.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static bool is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

bool store_image_id_like(const char *text)
{
	return is_hex(cb_str_has_prefix(text, "sha256:") ? text + 7 : text);
}

/* An image of an index whose ID or manifest digest begins with hex. */
static bool match_child(store_t *st, const store_ref_t *ref, const char *hex, char **md,
			char **id)
{
	image_child_t *kids = NULL;
	size_t n = 0;
	if (!oci_media_type_is_index(ref->media_type) ||
	    image_index_children(st, ref->digest, &kids, &n, NULL) < 0)
		return false;
	bool found = false;
	for (size_t i = 0; !found && i < n; i++) {
		image_t *k = kids[i].present ? image_load(st, kids[i].digest, NULL) : NULL;
		if (k && (cb_str_has_prefix(digest_hex(k->config_digest), hex) ||
			  cb_str_has_prefix(digest_hex(k->manifest_digest), hex))) {
			*md = cb_xstrdup(k->manifest_digest);
			*id = cb_xstrdup(k->config_digest);
			found = true;
		}
		image_free(k);
	}
	image_children_free(kids, n);
	return found;
}

/* What an ID prefix finds in one entry of index.json: the entry itself
 * (its manifest or index digest, or the ID of the image it stands for on
 * this machine), else, for an index, one of its other platforms' images. */
static bool match_ref(store_t *st, const store_ref_t *ref, const char *hex, char **md,
		      char **id)
{
	image_t *img = image_load(st, ref->digest, NULL);
	bool hit = cb_str_has_prefix(digest_hex(ref->digest), hex) ||
		   (img && cb_str_has_prefix(digest_hex(img->config_digest), hex));
	if (hit) {
		*md = cb_xstrdup(ref->digest);
		*id = img ? cb_xstrdup(img->config_digest) : cb_xstrdup(ref->digest);
	}
	image_free(img);
	return hit || match_child(st, ref, hex, md, id);
}

/* Match an ID or a prefix of one against every tagged or untagged entry.
 * Several entries of one image ID are one image, not an ambiguity. */
static int find_by_id(store_t *st, const char *text, const char *hex, char **manifest_digest,
		      cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return -1;
	char *found = NULL, *found_id = NULL;
	bool ambiguous = false;
	for (size_t i = 0; i < n && !ambiguous; i++) {
		char *md = NULL, *id = NULL;
		if (!match_ref(st, &refs[i], hex, &md, &id))
			continue;
		if (!found) {
			found = md;
			found_id = id;
			continue;
		}
		ambiguous = strcmp(found_id, id) != 0;
		free(md);
		free(id);
	}
	store_refs_free(refs, n);
	free(found_id);
	if (ambiguous) {
		free(found);
		return cb_error_fail(err, EINVAL, "image ID prefix '%s' is ambiguous", text);
	}
	if (!found)
		return cb_error_fail(err, ENOENT, "no such image: '%s'", text);
	*manifest_digest = found;
	return 0;
}

/* A name in index.json, or for "name@sha256:...", any manifest of that
 * digest the store holds. */
static int find_by_name(store_t *st, const char *full, char **manifest_digest)
{
	store_ref_t ref = {0};
	if (store_get_ref(st, full, &ref, NULL) == 0) {
		*manifest_digest = cb_steal_pointer(&ref.digest);
		store_ref_release(&ref);
		return 0;
	}
	const char *at = strchr(full, '@');
	if (!at || !digest_is_valid(at + 1) || !store_has_blob(st, at + 1))
		return -1;
	image_t *img = image_load(st, at + 1, NULL); /* a manifest, not some other blob */
	if (!img)
		return -1;
	image_free(img);
	*manifest_digest = cb_xstrdup(at + 1);
	return 0;
}

int store_image_find(store_t *st, const char *text, const char *full, char **manifest_digest,
		     char **name, cb_error_t *err)
{
	const char *hex = cb_str_has_prefix(text, "sha256:") ? text + 7 : text;
	bool id_like = is_hex(hex);
	if (name)
		*name = NULL;
	/* a full ID is never a name (docker reads 64 hex digits as an ID too) */
	if (id_like && strlen(hex) == DIGEST_HEX_LEN)
		return find_by_id(st, text, hex, manifest_digest, err);
	if (full && find_by_name(st, full, manifest_digest) == 0) {
		if (name && !strchr(full, '@'))
			*name = cb_xstrdup(full);
		return 0;
	}
	if (id_like)
		return find_by_id(st, text, hex, manifest_digest, err);
	return cb_error_fail(err, ENOENT, "no such image: '%s'", text);
}

/* child extends parent: the same history and layers, then more. */
static bool built_on(const oci_config_t *child, const oci_config_t *parent)
{
	if (child->n_history <= parent->n_history)
		return false;
	for (size_t i = 0; i < parent->n_history; i++) {
		const oci_history_t *a = &child->history[i], *b = &parent->history[i];
		if (!cb_streq(a->created, b->created) || !cb_streq(a->created_by, b->created_by) ||
		    a->empty_layer != b->empty_layer)
			return false;
	}
	size_t np = cb_strv_len(parent->diff_ids);
	if (cb_strv_len(child->diff_ids) < np)
		return false;
	for (size_t i = 0; i < np; i++)
		if (strcmp(child->diff_ids[i], parent->diff_ids[i]))
			return false;
	return true;
}

/* Call fn for each image in index.json (an index: this machine's image),
 * once per ID; stops when fn returns true. */
static bool strv_has(char *const *v, const char *s)
{
	for (; *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

typedef bool (*each_image_fn)(void *ctx, const store_ref_t *ref, const image_t *img);

static int each_image(store_t *st, each_image_fn fn, void *ctx, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return -1;
	char **seen = cb_xcalloc(1, sizeof(char *));
	bool stop = false;
	for (size_t i = 0; i < n && !stop; i++) {
		image_t *img = image_load(st, refs[i].digest, NULL);
		if (!img)
			continue;
		if (!strv_has(seen, img->config_digest)) {
			seen = cb_strv_push(seen, img->config_digest);
			stop = fn(ctx, &refs[i], img);
		}
		image_free(img);
	}
	cb_strv_free(seen);
	store_refs_free(refs, n);
	return 0;
}

typedef struct kin {
	const image_t *img;
	size_t children;
	size_t best; /* the parent's history length */
	char *parent_md;
} kin_t;

static bool count_child(void *ctx, const store_ref_t *ref, const image_t *img)
{
	(void)ref;
	kin_t *k = ctx;
	if (built_on(img->config, k->img->config))
		k->children++;
	return false;
}

int store_image_children(store_t *st, const image_t *img, size_t *n, cb_error_t *err)
{
	kin_t k = {.img = img};
	if (each_image(st, count_child, &k, err) < 0)
		return -1;
	*n = k.children;
	return 0;
}

static bool find_parent(void *ctx, const store_ref_t *ref, const image_t *img)
{
	(void)ref;
	kin_t *k = ctx;
	if (built_on(k->img->config, img->config) && img->config->n_history > k->best) {
		k->best = img->config->n_history;
		free(k->parent_md);
		k->parent_md = cb_xstrdup(img->manifest_digest);
	}
	return false;
}

char *store_image_untagged_parent(store_t *st, const image_t *img, cb_error_t *err)
{
	kin_t k = {.img = img};
	if (each_image(st, find_parent, &k, err) < 0)
		return NULL;
	if (!k.parent_md)
		return NULL;
	image_t *p = image_load(st, k.parent_md, NULL);
	char **names = p ? store_image_names(st, p->config_digest, NULL) : NULL;
	bool untagged = names && !names[0];
	cb_strv_free(names);
	image_free(p);
	if (!untagged) {
		free(k.parent_md);
		return NULL;
	}
	return k.parent_md;
}

/* Whether an index holds the image config_digest among the platforms in
 * the store. */
static bool index_holds(store_t *st, const store_ref_t *ref, const char *config_digest)
{
	image_child_t *kids = NULL;
	size_t n = 0;
	bool holds = false;
	if (!oci_media_type_is_index(ref->media_type) ||
	    image_index_children(st, ref->digest, &kids, &n, NULL) < 0)
		return false;
	for (size_t i = 0; !holds && i < n; i++) {
		image_t *k = kids[i].present ? image_load(st, kids[i].digest, NULL) : NULL;
		holds = k && !strcmp(k->config_digest, config_digest);
		image_free(k);
	}
	image_children_free(kids, n);
	return holds;
}

static bool entry_is(store_t *st, const store_ref_t *ref, const char *config_digest)
{
	image_t *img = image_load(st, ref->digest, NULL);
	bool is = img && !strcmp(img->config_digest, config_digest);
	image_free(img);
	return is || index_holds(st, ref, config_digest);
}

char **store_image_names(store_t *st, const char *config_digest, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return NULL;
	char **names = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (refs[i].name && entry_is(st, &refs[i], config_digest))
			names = cb_strv_push(names, refs[i].name);
	store_refs_free(refs, n);
	return names;
}

int store_image_forget(store_t *st, const char *config_digest, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!refs[i].name && entry_is(st, &refs[i], config_digest))
			rc = store_remove_untagged(st, refs[i].digest, err);
	store_refs_free(refs, n);
	return rc;
}
