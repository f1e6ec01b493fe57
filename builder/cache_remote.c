/*
 * The remote build cache: what an artifact's config holds, and how its
 * entries become local cache hits.
 *
 * The config blob (REG_MT_CACHE_CONFIG in a registry; plain JSON here):
 *
 *   {"cbuild.cache": 1,
 *    "entries": [{"key": "sha256:...",            the step's cache key
 *                 "step": "RUN make",             for people and explain
 *                 "manifest": "{...}",            the intermediate image's
 *                 "config": "{...}"}, ...]}         manifest and config, as
 *                                                   the exact bytes
 *
 * Carrying the (small) manifest and config bytes inline means a remote hit
 * costs no round trip at all: the hit is written into the store as those
 * two blobs (digests checked) plus a local cache entry. The layers the
 * manifests name are not fetched: they stay in the registry until some
 * step needs them unpacked, or a push or save needs their bytes (the
 * store's blob fetcher, installed by cmd/, gets them then).
 *
 * Keys are the local keys (builder/cache.c): they hold nothing specific to
 * a machine, so they match across runners.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "builder/steps.h"
#include "common/util.h"
#include "store/json.h"

#define CACHE_FORMAT 1

typedef struct remote_entry {
	char *ref; /* the cache it came from (borrowed from refs) */
	char *step;
	char *manifest;
	size_t manifest_len;
	char *config;
	size_t config_len;
	char config_digest[DIGEST_STR_LEN + 1];
} remote_entry_t;

struct bld_remote_cache {
	json_t *by_key; /* key -> index into entries (json integer) */
	remote_entry_t *entries;
	size_t n;
	char **refs;
};

bld_remote_cache_t *bld_remote_cache_new(void)
{
	bld_remote_cache_t *rc = cb_xcalloc(1, sizeof(*rc));
	rc->by_key = json_object();
	return rc;
}

void bld_remote_cache_free(bld_remote_cache_t *rc)
{
	if (!rc)
		return;
	for (size_t i = 0; i < rc->n; i++) {
		free(rc->entries[i].step);
		free(rc->entries[i].manifest);
		free(rc->entries[i].config);
	}
	free(rc->entries);
	json_decref(rc->by_key);
	cb_strv_free(rc->refs);
	free(rc);
}

size_t bld_remote_cache_count(const bld_remote_cache_t *rc)
{
	return rc ? rc->n : 0;
}

/* An entry is usable when its manifest is an image manifest (every
 * descriptor's digest checked here, once, as it enters from a registry)
 * naming its config by digest. */
static int check_entry(json_t *e, size_t i, char config_digest[DIGEST_STR_LEN + 1],
		       cb_error_t *err)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *m = json_string_value(json_object_get(e, "manifest"));
	const char *c = json_string_value(json_object_get(e, "config"));
	if (!key || !digest_is_valid(key) || !m || !c)
		return cb_error_set(err, EBADMSG, "entry %zu: key, manifest or config missing", i);
	cb_error_t me = CB_ERROR_INIT;
	oci_manifest_t *mf = oci_manifest_from_json(m, strlen(m), &me);
	int r = 0;
	digest_buffer(c, strlen(c), config_digest);
	if (!mf)
		r = cb_error_set(err, EBADMSG, "entry %zu: its manifest is not an image manifest (%s)",
				 i, me.msg);
	else if (strcmp(mf->config.digest, config_digest))
		r = cb_error_set(err, EBADMSG, "entry %zu: config digest '%s', manifest says '%s'", i,
				 config_digest, mf->config.digest);
	cb_error_release(&me);
	oci_manifest_free(mf);
	return r;
}

int bld_remote_cache_add(bld_remote_cache_t *rc, const char *ref, const char *config, size_t len,
			 cb_error_t *err)
{
	json_error_t je;
	json_t *j = json_loadb(config, len, 0, &je);
	json_t *es = json_object_get(j, "entries");
	int r = 0;
	if (!j)
		r = cb_error_set(err, EBADMSG, "cache '%s': not JSON: %s", ref, je.text);
	else if (json_integer_value(json_object_get(j, "cbuild.cache")) != CACHE_FORMAT ||
		 !json_is_array(es))
		r = cb_error_set(err, EBADMSG, "cache '%s': not a cbuild cache of format %d", ref,
				 CACHE_FORMAT);
	size_t i;
	json_t *e;
	char cds[DIGEST_STR_LEN + 1];
	for (i = 0; r == 0 && i < json_array_size(es); i++)
		if (check_entry(json_array_get(es, i), i, cds, err) < 0)
			r = cb_error_wrap(err, "cache '%s'", ref);
	if (r < 0) {
		json_decref(j);
		return -1;
	}
	rc->refs = cb_strv_push(rc->refs, ref);
	char *owned_ref = rc->refs[cb_strv_len(rc->refs) - 1];
	rc->entries = cb_xreallocarray(rc->entries, rc->n + json_array_size(es) + 1,
				       sizeof(remote_entry_t));
	json_array_foreach(es, i, e)
	{
		const char *key = json_string_value(json_object_get(e, "key"));
		if (json_object_get(rc->by_key, key))
			continue; /* an earlier --cache-from wins */
		remote_entry_t *re = &rc->entries[rc->n];
		memset(re, 0, sizeof(*re));
		re->ref = owned_ref;
		const char *step = json_string_value(json_object_get(e, "step"));
		re->step = cb_xstrdup(step ? step : "");
		re->manifest = cb_xstrdup(json_string_value(json_object_get(e, "manifest")));
		re->manifest_len = strlen(re->manifest);
		re->config = cb_xstrdup(json_string_value(json_object_get(e, "config")));
		re->config_len = strlen(re->config);
		digest_buffer(re->config, re->config_len, re->config_digest);
		json_object_set_new(rc->by_key, key, json_integer((json_int_t)rc->n));
		rc->n++;
	}
	json_decref(j);
	return 0;
}

int bld_remote_lookup(const bld_remote_cache_t *rc, store_t *st, const char *key,
		      char **manifest_digest, const char **ref, cb_error_t *err)
{
	json_t *idx = rc ? json_object_get(rc->by_key, key) : NULL;
	if (!idx)
		return 0;
	const remote_entry_t *re = &rc->entries[json_integer_value(idx)];
	char md[DIGEST_STR_LEN + 1];
	if (store_put_blob(st, re->config, re->config_len, re->config_digest, NULL, err) < 0 ||
	    store_put_blob(st, re->manifest, re->manifest_len, NULL, md, err) < 0)
		return cb_error_wrap(err, "remote cache entry '%s'", key);
	if (bld_cache_store(st, key, md, re->step, err) < 0)
		return -1;
	*manifest_digest = cb_xstrdup(md);
	*ref = re->ref;
	return 1;
}

/* ---- export ---- */

void bld_cache_trail_add(build_t *b, int stage, const char *key, const char *manifest_digest,
			 const char *step)
{
	if (!b->o->cache_to)
		return;
	if (!b->cache_trail)
		b->cache_trail = json_array();
	json_array_append_new(b->cache_trail, json_pack("{s:i, s:s, s:s, s:o}", "stage", stage,
							"key", key, "manifest", manifest_digest,
							"step", oci_json_str(step)));
}

static void add_layers(const oci_manifest_t *mf, json_t *seen, bld_cache_artifact_t *out)
{
	for (size_t i = 0; i < mf->n_layers; i++) {
		const oci_descriptor_t *l = &mf->layers[i];
		if (!l->media_type || json_object_get(seen, l->digest))
			continue;
		json_object_set_new(seen, l->digest, json_true());
		out->layers = cb_xreallocarray(out->layers, out->n_layers + 1, sizeof(oci_descriptor_t));
		oci_descriptor_t *od = &out->layers[out->n_layers++];
		memset(od, 0, sizeof(*od));
		od->media_type = cb_xstrdup(l->media_type);
		od->digest = cb_xstrdup(l->digest);
		od->size = l->size;
	}
}

/* One entry: the step's manifest and config bytes from the store. */
static int export_entry(store_t *st, json_t *t, json_t *entries, json_t *seen,
			bld_cache_artifact_t *out, cb_error_t *err)
{
	const char *md = json_string_value(json_object_get(t, "manifest"));
	_cleanup_free_ char *m = NULL, *c = NULL;
	size_t mlen = 0, clen = 0;
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &m, &mlen, err) < 0)
		return -1;
	cb_error_t me = CB_ERROR_INIT;
	oci_manifest_t *mf = oci_manifest_from_json(m, mlen, &me);
	cb_error_release(&me);
	int r = mf ? store_read_blob(st, mf->config.digest, IMAGE_JSON_MAX, &c, &clen, err)
		   : cb_error_set(err, EBADMSG, "manifest '%s' has no config", md);
	if (r == 0 && (strlen(m) != mlen || strlen(c) != clen))
		r = cb_error_set(err, EBADMSG, "manifest '%s': NUL bytes in JSON", md);
	if (r == 0) {
		json_array_append_new(entries,
				      json_pack("{s:O, s:O, s:s, s:s}", "key", json_object_get(t, "key"),
						"step", json_object_get(t, "step"), "manifest", m,
						"config", c));
		add_layers(mf, seen, out);
	}
	oci_manifest_free(mf);
	return r;
}

int bld_cache_artifact_make(store_t *st, json_t *items, bld_cache_artifact_t *out,
			    cb_error_t *err)
{
	memset(out, 0, sizeof(*out));
	json_t *entries = json_array(), *seen = json_object(), *keys = json_object();
	size_t i;
	json_t *t;
	int r = 0;
	json_array_foreach(items, i, t)
	{
		const char *key = json_string_value(json_object_get(t, "key"));
		if (!key || json_object_get(keys, key))
			continue;
		json_object_set_new(keys, key, json_true());
		if ((r = export_entry(st, t, entries, seen, out, err)) < 0)
			break;
	}
	if (r == 0) {
		out->n_entries = json_array_size(entries);
		json_t *j = json_pack("{s:i, s:o}", "cbuild.cache", CACHE_FORMAT, "entries", entries);
		entries = NULL;
		out->config = oci_json_dumps(j, JSON_COMPACT);
		out->config_len = strlen(out->config);
		json_decref(j);
	} else {
		bld_cache_artifact_release(out);
	}
	json_decref(entries);
	json_decref(seen);
	json_decref(keys);
	return r;
}

/* min: the target stage's steps; max: every step of every stage.
 * Concurrent stages fill the trail in completion order; the artifact lists
 * entries stage by stage (each stage's steps keep their order) so the same
 * build exports the same bytes every time. */
int bld_cache_export(build_t *b, bld_cache_artifact_t *out, cb_error_t *err)
{
	json_t *items = json_array();
	size_t i;
	json_t *t;
	int max_stage = -1;
	json_array_foreach(b->cache_trail, i, t)
	{
		int stage = (int)json_integer_value(json_object_get(t, "stage"));
		if (stage > max_stage)
			max_stage = stage;
	}
	for (int want = 0; want <= max_stage; want++) {
		if (b->o->cache_to != BLD_CACHE_MAX && want != b->plan->target)
			continue;
		json_array_foreach(b->cache_trail, i, t)
		{
			if ((int)json_integer_value(json_object_get(t, "stage")) == want)
				json_array_append(items, t);
		}
	}
	int r = bld_cache_artifact_make(b->st, items, out, err);
	json_decref(items);
	return r;
}

void bld_cache_artifact_release(bld_cache_artifact_t *a)
{
	free(a->config);
	for (size_t i = 0; i < a->n_layers; i++)
		oci_descriptor_release(&a->layers[i]);
	free(a->layers);
	memset(a, 0, sizeof(*a));
}
