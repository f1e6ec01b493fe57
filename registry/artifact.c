/*
 * registry/artifact.c - build-cache artifacts in a registry, and lazy blob
 * downloads. See registry.h.
 *
 * The artifact is a plain OCI image manifest, because that is what every
 * registry accepts (Distribution 2.8 takes any config media type for an
 * OCI manifest, and checks that the config and every layer exist in the
 * repository): config = the cache entries (REG_MT_CACHE_CONFIG), layers =
 * the layer blobs the entries reference. Pushing it reuses reg_push, so
 * blobs already in the repository are skipped and blobs known in a sibling
 * repository are mounted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "registry/client.h"
#include "registry/reference.h"
#include "registry/registry.h"
#include "registry/sources.h"
#include "registry/wire.h"
#include "store/image.h"
#include "store/json.h"

#define CACHE_CONFIG_MAX (64u << 20)

static json_t *descriptor(const char *mt, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size",
			 (json_int_t)size);
}

int reg_cache_push(store_t *st, const char *ref, const char *config, size_t config_len,
		   const struct oci_descriptor *layers, size_t n_layers, const reg_opts_t *opts,
		   char **digest_out, cb_error_t *err)
{
	char cdigest[DIGEST_STR_LEN + 1], mdigest[DIGEST_STR_LEN + 1];
	if (store_put_blob(st, config, config_len, NULL, cdigest, err) < 0)
		return cb_error_wrap(err, "cache artifact '%s'", ref);
	json_t *ls = json_array();
	for (size_t i = 0; i < n_layers; i++)
		json_array_append_new(ls, descriptor(layers[i].media_type, layers[i].digest,
						     layers[i].size));
	json_t *m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
			      MT_OCI_MANIFEST, "config",
			      descriptor(REG_MT_CACHE_CONFIG, cdigest, (int64_t)config_len), "layers",
			      ls);
	_cleanup_free_ char *text = oci_json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (store_put_blob(st, text, strlen(text), NULL, mdigest, err) < 0)
		return cb_error_wrap(err, "cache artifact '%s'", ref);
	/* the entries name the layers' stored digests: they go as they are */
	reg_opts_t o;
	if (opts)
		o = *opts;
	else
		reg_opts_init(&o);
	o.keep_layers = true;
	if (reg_push(st, mdigest, ref, &o, digest_out, err) < 0)
		return cb_error_wrap(err, "push cache to '%s'", ref);
	return 0;
}

/* GET into memory (at most max bytes), digest checked when `want` is set. */
static int get_small(reg_client_t *c, const char *what, char *url, const char *accept,
		     size_t max, const char *want, cb_buf_t *out, cb_error_t *err)
{
	reg_xfer_t xf;
	reg_xfer_init(&xf, "GET", url);
	if (accept)
		reg_xfer_add_header(&xf, "Accept: %s", accept);
	xf.resp_max = max;
	int r = reg_client_run1(c, &xf, err);
	if (r < 0 && xf.status == 404) {
		cb_error_release(err);
		r = cb_error_fail(err, ENOENT, "%s: not found", what);
	}
	if (r == 0 && want) {
		char got[DIGEST_STR_LEN + 1];
		digest_buffer(xf.resp.data, xf.resp.len, got);
		if (strcmp(got, want))
			r = cb_error_fail(err, EBADMSG, "%s has digest '%s', not '%s'", what, got, want);
	}
	if (r == 0) {
		cb_buf_release(out);
		*out = xf.resp;
		cb_buf_init(&xf.resp);
	}
	reg_xfer_release(&xf);
	return r;
}

/* The config descriptor and layer digests of a cache artifact manifest. */
static int parse_artifact(const char *data, size_t len, const char **cdigest, json_t **mj,
			  cb_error_t *err)
{
	json_t *m = json_loadb(data, len, 0, NULL);
	json_t *cfg = json_object_get(m, "config");
	const char *cmt = json_string_value(json_object_get(cfg, "mediaType"));
	const char *d = json_string_value(json_object_get(cfg, "digest"));
	if (!m || !cb_streq(cmt, REG_MT_CACHE_CONFIG) || !d || !digest_is_valid(d)) {
		int r = cb_error_fail(err, EPROTO, "not a cbuild cache (config type '%s')",
				     cmt ? cmt : "none");
		json_decref(m);
		return r;
	}
	*cdigest = d;
	*mj = m;
	return 0;
}

int reg_cache_fetch(store_t *st, const char *ref_str, const reg_opts_t *opts, char **config,
		    size_t *config_len, cb_error_t *err)
{
	reg_opts_t def;
	if (!opts) {
		reg_opts_init(&def);
		opts = &def;
	}
	reg_ref_t ref;
	if (reg_ref_parse(ref_str, 0, &ref, err) < 0)
		return -1;
	reg_client_t *c = NULL;
	cb_buf_t mb, cb;
	cb_buf_init(&mb);
	cb_buf_init(&cb);
	json_t *m = NULL;
	const char *cdigest = NULL;
	int r = reg_client_open(ref.domain, ref.path, "pull", NULL, opts, &c, err);
	const char *what = ref.digest ? ref.digest : ref.tag ? ref.tag : "latest";
	if (r == 0)
		r = get_small(c, "cache manifest", reg_client_url(c, "manifests/%s", what),
			      MT_OCI_MANIFEST, REG_MANIFEST_MAX, ref.digest, &mb, err);
	if (r == 0)
		r = parse_artifact(mb.data, mb.len, &cdigest, &m, err);
	if (r == 0 && cdigest)
		r = get_small(c, "cache config", reg_client_url(c, "blobs/%s", cdigest), NULL,
			      CACHE_CONFIG_MAX, cdigest, &cb, err);
	if (r == 0) {
		json_t *layers = json_object_get(m, "layers");
		const char **ds = cb_xcalloc(json_array_size(layers) + 1, sizeof(*ds));
		size_t n = 0, i;
		json_t *l;
		json_array_foreach(layers, i, l)
		{
			const char *d = json_string_value(json_object_get(l, "digest"));
			if (d && digest_is_valid(d))
				ds[n++] = d;
		}
		_cleanup_free_ char *repo = reg_ref_repo(&ref);
		reg_sources_add(st, ds, n, repo);
		free(ds);
		*config = cb_buf_detach(&cb, config_len);
	}
	json_decref(m);
	cb_buf_release(&mb);
	cb_buf_release(&cb);
	reg_client_free(c);
	reg_ref_release(&ref);
	return r < 0 ? cb_error_wrap(err, "cache '%s'", ref_str) : 0;
}

/* ---- lazy blobs ---- */

typedef struct lazy_blob {
	store_t *st;
	store_blob_writer_t *w;
} lazy_blob_t;

static int blob_sink(reg_xfer_t *xf, const char *data, size_t len, cb_error_t *err)
{
	lazy_blob_t *lb = xf->ud;
	return store_blob_writer_write(lb->w, data, len, err);
}

static int blob_prepare(reg_xfer_t *xf, cb_error_t *err)
{
	/* a retry starts over: simple, and these are cache layers, not huge
	 * pulls (reg_pull resumes with Range) */
	lazy_blob_t *lb = xf->ud;
	store_blob_writer_abort(lb->w);
	lb->w = store_blob_writer_new(lb->st, err);
	return lb->w ? 0 : -1;
}

static int fetch_from(store_t *st, const char *repo_full, const char *digest,
		      const reg_opts_t *opts, cb_error_t *err)
{
	const char *slash = strchr(repo_full, '/');
	if (!slash)
		return cb_error_fail(err, EINVAL, "bad repository '%s'", repo_full);
	_cleanup_free_ char *domain = cb_xstrndup(repo_full, (size_t)(slash - repo_full));
	reg_client_t *c = NULL;
	if (reg_client_open(domain, slash + 1, "pull", NULL, opts, &c, err) < 0)
		return -1;
	lazy_blob_t lb = {st, NULL};
	reg_xfer_t xf;
	reg_xfer_init(&xf, "GET", reg_client_url(c, "blobs/%s", digest));
	xf.ud = &lb;
	xf.sink = blob_sink;
	xf.prepare = blob_prepare;
	reg_progress(opts, digest, REG_PROGRESS_START, 0, 0);
	int r = reg_client_run1(c, &xf, err);
	if (r == 0 && !lb.w && !(lb.w = store_blob_writer_new(st, err)))
		r = -1;
	if (r == 0) {
		r = store_blob_writer_commit(lb.w, digest, NULL, err);
		lb.w = NULL;
	}
	if (r == 0)
		reg_progress(opts, digest, REG_PROGRESS_DONE, 0, 0);
	store_blob_writer_abort(lb.w);
	reg_xfer_release(&xf);
	reg_client_free(c);
	return r;
}

int reg_fetch_blob(void *ctx, store_t *st, const char *digest, cb_error_t *err)
{
	reg_opts_t def;
	const reg_opts_t *opts = ctx;
	if (!opts) {
		reg_opts_init(&def);
		def.quiet = true;
		opts = &def;
	}
	_cleanup_strv_ char **srcs = reg_sources_get(st, digest);
	if (!srcs || !srcs[0])
		return cb_error_fail(err, ENOENT, "blob '%s' is in no known repository", digest);
	for (size_t i = 0; srcs[i]; i++) {
		cb_error_release(err);
		if (fetch_from(st, srcs[i], digest, opts, err) == 0)
			return 0;
	}
	return -1;
}
