/*
 * registry/push.c - push an image from the store to a registry or to an
 * OCI layout directory. See registry.h.
 *
 * Each blob upload is a small state machine run by the client's engine:
 *
 *   HEAD blobs/D --200--> done (already there)
 *        |404
 *   POST uploads/?mount=D&from=R --201--> done (mounted)      (when a source is known)
 *   POST uploads/ --202 Location--> PUT Location&digest=D (whole file) --201--> done
 *                                     |413 (too large for one request)
 *                                   POST, then PATCH chunks, then PUT &digest=D
 *
 * When the POST answer carries OCI-Chunk-Min-Length (distribution spec 1.1)
 * the upload is chunked from the start, every chunk but the last at least
 * that long.
 *
 * A transient failure of a PUT or PATCH restarts the upload from a fresh
 * POST: an upload session's state after a dropped connection is unknown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fs.h"
#include "common/util.h"
#include "registry/client.h"
#include "registry/push_stream.h"
#include "registry/reference.h"
#include "registry/registry.h"
#include "registry/sources.h"
#include "registry/wire.h"
#include "store/digest.h"
#include "store/image.h"
#include "store/json.h"
#include "store/attest.h"
#include "store/variant.h"

#define CHUNK_SIZE (64u << 20)
/* With OCI-Chunk-Min-Length announced, chunks are at least this big too:
 * a registry that says "1" should not get a million requests. */
#define CHUNK_ANNOUNCED_FLOOR (8u << 20)
#define DENIED "push denied: repository does not exist or you have no access"

typedef enum { UP_HEAD, UP_MOUNT, UP_POST, UP_PUT, UP_PATCH, UP_FINAL } up_state_t;

typedef struct up_job {
	reg_xfer_t xf;
	reg_client_t *c;
	store_t *st;
	const reg_opts_t *opts;
	char digest[DIGEST_STR_LEN + 1];
	uint64_t size;
	char *mount_from; /* repository path on the same registry, or NULL */
	up_state_t state;
	bool chunked;
	uint64_t chunk_min;
	uint64_t sent; /* chunked: bytes accepted so far */
	int restarts;  /* upload sessions restarted after a failed PUT/PATCH */
	int fd;
} up_job_t;

#define MAX_RESTARTS 5

/* ---- the image to push ---- */

typedef struct push_image {
	char *manifest; /* bytes as pushed (maybe converted) */
	size_t len;
	char *media_type;
	char digest[DIGEST_STR_LEN + 1];
	char local[DIGEST_STR_LEN + 1]; /* the stored manifest's digest, when it differs */
	char **blobs;      /* layers (in order), then config last */
	uint64_t *sizes;
	size_t nblobs;
	char *tag;         /* the source's tag, for oci: destinations */
	/* An index (multi-platform image): its image manifests, pushed before
	 * it; blobs is then empty. */
	struct push_image *children;
	size_t nchildren;
	/* Layers whose gzip variant is made while the other blobs upload
	 * (push_registry): their indexes in layers, and the manifest as a
	 * model to rewrite once they are made; blobs names their plain
	 * digests until then. */
	size_t *pending;
	size_t npending;
	json_t *model;
	char stored[DIGEST_STR_LEN + 1]; /* the stored manifest's digest */
} push_image_t;

static void image_release(push_image_t *im)
{
	for (size_t i = 0; i < im->nchildren; i++)
		image_release(&im->children[i]);
	free(im->children);
	free(im->manifest);
	free(im->media_type);
	cb_strv_free(im->blobs);
	free(im->sizes);
	free(im->tag);
	free(im->pending);
	json_decref(im->model);
	memset(im, 0, sizeof(*im));
}

static const char *map_mt(const char *mt, reg_format_t f, bool *bad)
{
	static const char *const pairs[][2] = {
		{MT_OCI_MANIFEST, MT_DOCKER_MANIFEST},
		{MT_OCI_CONFIG, MT_DOCKER_CONFIG},
		{MT_OCI_LAYER_GZ, MT_DOCKER_LAYER_GZ},
		{MT_OCI_INDEX, MT_DOCKER_LIST},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(pairs); i++) {
		if (cb_streq(mt, pairs[i][0]) || cb_streq(mt, pairs[i][1]))
			return pairs[i][f == REG_FORMAT_DOCKER ? 1 : 0];
	}
	/* Docker schema 2 has no uncompressed or zstd layer type. */
	if (f == REG_FORMAT_DOCKER && mt && strcmp(mt, MT_DOCKER_LAYER_FOREIGN))
		*bad = true;
	if (f == REG_FORMAT_OCI && cb_streq(mt, MT_DOCKER_LAYER_FOREIGN))
		return MT_OCI_LAYER_NONDIST_GZIP;
	return mt;
}

/* Rewrite the manifest's media types for --format. */
static int convert(json_t *m, reg_format_t f, cb_error_t *err)
{
	bool bad = false;
	const char *mt = map_mt(json_string_value(json_object_get(m, "mediaType")), f, &bad);
	json_object_set_new(m, "mediaType", oci_json_str(mt ? mt : MT_OCI_MANIFEST));
	json_t *cfg = json_object_get(m, "config");
	const char *cmt = map_mt(json_string_value(json_object_get(cfg, "mediaType")), f, &bad);
	json_object_set_new(cfg, "mediaType", oci_json_str(cmt));
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(m, "layers"), i, l)
	{
		const char *lmt = json_string_value(json_object_get(l, "mediaType"));
		const char *n = map_mt(lmt, f, &bad);
		if (bad)
			return cb_error_fail(err, EINVAL,
					    "layer type '%s' has no Docker schema 2 equivalent", lmt);
		json_object_set_new(l, "mediaType", oci_json_str(n));
	}
	if (bad)
		return cb_error_fail(err, EINVAL, "cannot convert the manifest to the asked format");
	/* Docker schema 2 has no annotations on the manifest's descriptors;
	 * keeping them is harmless (registries ignore them), so we do. */
	return 0;
}

static int load_image(store_t *st, const char *src, const reg_opts_t *o, push_image_t *im,
		      bool defer, cb_error_t *err);

/* The descriptor l of a plain layer gets the gzip type (a pending one
 * then converts as a gzip layer does), then names the variant v. */
static void gzip_type(json_t *l)
{
	const char *mt = json_string_value(json_object_get(l, "mediaType"));
	bool docker = cb_streq(mt, MT_DOCKER_LAYER) || cb_streq(mt, MT_DOCKER_LAYER_GZIP);
	json_object_set_new(l, "mediaType",
			    oci_json_str(docker ? MT_DOCKER_LAYER_GZIP : MT_OCI_LAYER_GZIP));
}

static void use_variant(json_t *l, const store_variant_t *v)
{
	gzip_type(l);
	json_object_set_new(l, "digest", oci_json_str(v->digest));
	json_object_set_new(l, "size", json_integer((json_int_t)v->size));
}

/* A layer kept uncompressed only until it leaves (commit's: store/variant.h)
 * is pushed as its gzip variant, made now or reused: the manifest's
 * descriptor is rewritten (the config, hence the image ID, stays; the
 * pushed manifest's digest differs from the local one, as docker's repo
 * digest does). *changed tells whether any was. */
static int gzip_marked_layers(store_t *st, json_t *m, push_image_t *defer, bool *changed,
			      cb_error_t *err)
{
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(m, "layers"), i, l)
	{
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		const char *dg = json_string_value(json_object_get(l, "digest"));
		bool docker = cb_streq(mt, MT_DOCKER_LAYER);
		if (!dg || !digest_is_valid(dg) || (!docker && !cb_streq(mt, MT_OCI_LAYER)))
			continue;
		store_variant_t v;
		int r = store_variant_get(st, dg, &v, err);
		if (r == 0)
			continue;
		if (r > 0 && !v.digest[0] && defer) { /* made while the others upload */
			defer->pending = cb_xrealloc(defer->pending,
						     (defer->npending + 1) * sizeof(size_t));
			defer->pending[defer->npending++] = i;
			gzip_type(l);
			*changed = true;
			continue;
		}
		if (r < 0 || store_variant_gzip(st, dg, &v, err) < 0)
			return -1;
		use_variant(l, &v);
		*changed = true;
	}
	return 0;
}

/* An index: every image manifest it lists must be in the store (a plain
 * pull keeps only the index and one platform: pull --all-platforms). */
static int load_index(store_t *st, const char *src, const reg_opts_t *o, const char *data,
		      size_t len, push_image_t *im, cb_error_t *err)
{
	if (o->format != REG_FORMAT_KEEP)
		return cb_error_fail(err, ENOTSUP,
				    "'%s' is an index: --format would change its manifests' digests",
				    src);
	oci_index_t *ix = oci_index_from_json(data, len, err);
	if (!ix)
		return cb_error_wrap(err, "'%s'", src);
	int r = ix->n_invalid
			? cb_error_fail(err, EPROTO, "'%s': bad descriptor in the index", src)
			: 0;
	im->children = cb_xcalloc(ix->n_manifests ? ix->n_manifests : 1, sizeof(*im->children));
	/* An index with attestations names its images' digests inside them
	 * too: its manifests leave as stored, a plain layer too (a build keeps
	 * gzip for such an index's images, but a cache hit can bring a plain
	 * last layer). A list `manifest create` made of single-platform builds
	 * has none: its images leave with gzip layers, as they would alone, and
	 * the list names the digests they left with (as podman's manifest push
	 * does when it converts). */
	json_t *j = json_loadb(data, len, 0, NULL);
	bool attested = false;
	size_t k;
	json_t *d;
	json_array_foreach(json_object_get(j, "manifests"), k, d)
		attested |= json_object_get(json_object_get(d, "annotations"), ATTEST_REF_TYPE) != NULL;
	reg_opts_t co = *o;
	co.keep_layers = attested;
	for (size_t i = 0; r == 0 && i < ix->n_manifests; i++) {
		const oci_descriptor_t *m = &ix->manifests[i];
		if (!store_has_blob(st, m->digest))
			r = cb_error_fail(err, ENOENT,
					  "'%s': manifest '%s' of the index is not in the store "
					  "(pull it with --all-platforms)",
					  src, m->digest);
		else if (!reg_mt_is_manifest(m->media_type))
			r = cb_error_fail(err, ENOTSUP, "'%s': nested index '%s' not supported", src,
					  m->digest);
		else if ((r = load_image(st, m->digest, &co, &im->children[im->nchildren], false,
					 err)) == 0)
			im->nchildren++;
	}
	bool renamed = false;
	for (size_t i = 0; r == 0 && i < im->nchildren; i++) {
		const push_image_t *c = &im->children[i];
		json_t *desc = json_array_get(json_object_get(j, "manifests"), i);
		if (!strcmp(c->digest, ix->manifests[i].digest) || !desc)
			continue;
		json_object_set_new(desc, "digest", oci_json_str(c->digest));
		json_object_set_new(desc, "size", json_integer((json_int_t)c->len));
		renamed = true;
	}
	if (r == 0 && renamed) {
		im->manifest = oci_json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		im->len = strlen(im->manifest);
	}
	json_decref(j);
	oci_index_free(ix);
	return r;
}

static int load_image(store_t *st, const char *src, const reg_opts_t *o, push_image_t *im,
		      bool defer, cb_error_t *err)
{
	memset(im, 0, sizeof(*im));
	_cleanup_free_ char *mdigest = NULL;
	if (digest_is_valid(src)) {
		mdigest = cb_xstrdup(src);
	} else {
		reg_ref_t ref;
		if (reg_ref_parse(src, 0, &ref, err) < 0)
			return -1;
		_cleanup_free_ char *full = reg_ref_full(&ref);
		im->tag = ref.tag ? cb_xstrdup(ref.tag) : NULL;
		reg_ref_release(&ref);
		store_ref_t r = {0};
		if (store_get_ref(st, full, &r, err) < 0) {
			if (err && err->code == ENOENT) {
				cb_error_release(err);
				cb_error_fail(err, ENOENT, "image not known: '%s'", src);
			}
			image_release(im); /* the tag */
			return -1;
		}
		mdigest = cb_xstrdup(r.digest);
		store_ref_release(&r);
	}
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, mdigest, REG_MANIFEST_MAX, &data, &len, err) < 0) {
		image_release(im);
		return -1;
	}
	json_t *m = json_loadb(data, len, 0, NULL);
	const char *mt = json_string_value(json_object_get(m, "mediaType"));
	if (m && (reg_mt_is_index(mt) || (!mt && json_is_array(json_object_get(m, "manifests"))))) {
		int r = load_index(st, src, o, data, len, im, err);
		if (r == 0) {
			im->media_type = cb_xstrdup(mt ? mt : MT_OCI_INDEX);
			if (!im->manifest) {
				im->manifest = cb_steal_pointer(&data);
				im->len = len;
			}
			digest_buffer(im->manifest, im->len, im->digest);
			if (strcmp(im->digest, mdigest))
				snprintf(im->local, sizeof(im->local), "%s", mdigest);
		}
		json_decref(m);
		if (r < 0)
			image_release(im);
		return r;
	}
	if (!m || (mt && !reg_mt_is_manifest(mt))) {
		/* mt lives in m: the message first */
		cb_error_fail(err, ENOTSUP, "'%s' is not an image manifest (%s)", src,
			      mt ? mt : "not JSON");
		json_decref(m);
		image_release(im);
		return -1;
	}
	bool is_docker = cb_streq(mt, MT_DOCKER_MANIFEST);
	bool want_conv = (o->format == REG_FORMAT_DOCKER && !is_docker) ||
			 (o->format == REG_FORMAT_OCI && is_docker);
	bool gz = false;
	int r = o->keep_layers ? 0 : gzip_marked_layers(st, m, defer ? im : NULL, &gz, err);
	if (r == 0 && want_conv)
		r = convert(m, o->format, err);
	if (r == 0 && (want_conv || gz)) {
		im->manifest = oci_json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
		im->len = strlen(im->manifest);
	} else if (r == 0) {
		im->manifest = cb_steal_pointer(&data);
		im->len = len;
	}
	if (r == 0) {
		mt = json_string_value(json_object_get(m, "mediaType"));
		im->media_type = cb_xstrdup(mt ? mt : MT_OCI_MANIFEST);
		digest_buffer(im->manifest, im->len, im->digest);
		if (strcmp(im->digest, mdigest))
			snprintf(im->local, sizeof(im->local), "%s", mdigest);
		snprintf(im->stored, sizeof(im->stored), "%s", mdigest);
		if (im->npending)
			im->model = json_incref(m);
		json_t *layers = json_object_get(m, "layers");
		json_t *cfg = json_object_get(m, "config");
		size_t n = json_array_size(layers) + 1;
		im->sizes = cb_xcalloc(n, sizeof(uint64_t));
		for (size_t i = 0; i < n && r == 0; i++) {
			json_t *d = i + 1 == n ? cfg : json_array_get(layers, i);
			const char *dg = json_string_value(json_object_get(d, "digest"));
			if (!dg || !digest_is_valid(dg)) {
				r = cb_error_fail(err, EPROTO, "'%s': bad descriptor in manifest", src);
				break;
			}
			/* a lazy blob (remote cache hit) keeps its descriptor's size:
			 * it is fetched only if it must be uploaded (see to_put) */
			json_t *dsz = json_object_get(d, "size");
			int64_t sz = !store_has_blob(st, dg) && json_integer_value(dsz) > 0
					     ? (int64_t)json_integer_value(dsz)
					     : store_blob_size(st, dg, err);
			if (sz < 0) {
				r = cb_error_wrap(err, "'%s': blob missing from the store", src);
				break;
			}
			im->blobs = cb_strv_push(im->blobs, dg);
			im->sizes[im->nblobs++] = (uint64_t)sz;
		}
	}
	json_decref(m);
	if (r < 0)
		image_release(im);
	return r;
}

/* ---- blob uploads ---- */

static void set_state(up_job_t *j, up_state_t s, const char *method, char *url)
{
	reg_xfer_t *xf = &j->xf;
	free(xf->url);
	xf->url = url;
	xf->method = method;
	curl_slist_free_all(xf->headers);
	xf->headers = NULL;
	xf->has_body = false;
	xf->body_fd = -1;
	xf->body_off = 0;
	xf->body_size = 0;
	j->state = s;
}

static void to_post(up_job_t *j)
{
	set_state(j, UP_POST, "POST", reg_client_url(j->c, "blobs/uploads/"));
	j->sent = 0;
}

static int up_prepare(reg_xfer_t *xf, cb_error_t *err)
{
	up_job_t *j = xf->ud;
	/* A retried PUT/PATCH starts a new upload session (whose own retry
	 * budget starts afresh: hence a bound of its own). */
	if (xf->attempts > 0 && (j->state == UP_PUT || j->state == UP_PATCH || j->state == UP_FINAL)) {
		if (++j->restarts > MAX_RESTARTS)
			return cb_error_fail(err, EIO, "upload of blob '%s' failed %d times", j->digest,
					    j->restarts);
		to_post(j);
	}
	return 0;
}

static int to_put(up_job_t *j, cb_error_t *err)
{
	reg_xfer_t *xf = &j->xf;
	if (j->fd < 0 && (store_blob_ensure(j->st, j->digest, err) < 0 ||
			  (j->fd = store_open_blob(j->st, j->digest, err)) < 0))
		return -1; /* a lazy blob that was neither there nor mountable */
	if (!xf->location)
		return cb_error_fail(err, EPROTO, "upload of '%s': no Location in the answer",
				    j->digest);
	char *loc = reg_url_resolve(xf->effective_url ? xf->effective_url : xf->url,
				    xf->location, err);
	if (!loc)
		return -1;
	if (xf->oci_chunk_min) {
		uint64_t m = strtoull(xf->oci_chunk_min, NULL, 10);
		if (m > 0 && m < (1ull << 40)) {
			j->chunk_min = m;
			j->chunked = true;
		}
	}
	if (!j->chunked) {
		char *u = reg_url_add_query(loc, "digest", j->digest);
		free(loc);
		set_state(j, UP_PUT, "PUT", u);
		reg_xfer_add_header(xf, "Content-Type: application/octet-stream");
		xf->has_body = true;
		xf->body_fd = j->fd;
		xf->body_size = j->size;
		return 1;
	}
	if (j->sent >= j->size) {
		char *u = reg_url_add_query(loc, "digest", j->digest);
		free(loc);
		set_state(j, UP_FINAL, "PUT", u);
		xf->has_body = true; /* empty */
		return 1;
	}
	uint64_t n = !j->chunk_min ? CHUNK_SIZE
		     : j->chunk_min > CHUNK_ANNOUNCED_FLOOR ? j->chunk_min
							    : CHUNK_ANNOUNCED_FLOOR;
	if (n > j->size - j->sent)
		n = j->size - j->sent;
	set_state(j, UP_PATCH, "PATCH", loc);
	reg_xfer_add_header(xf, "Content-Type: application/octet-stream");
	reg_xfer_add_header(xf, "Content-Range: %llu-%llu", (unsigned long long)j->sent,
			    (unsigned long long)(j->sent + n - 1));
	xf->has_body = true;
	xf->body_fd = j->fd;
	xf->body_off = j->sent;
	xf->body_size = n;
	return 1;
}

static int denied(const reg_xfer_t *xf, cb_error_t *err)
{
	return cb_error_fail(err, EACCES, DENIED);
}

static int up_done(reg_xfer_t *xf, cb_error_t *err)
{
	up_job_t *j = xf->ud;
	long s = xf->status;
	if (s == 401 || s == 403 || (s == 404 && j->state != UP_HEAD))
		return denied(xf, err);
	switch (j->state) {
	case UP_HEAD:
		if (s == 200) {
			reg_progress(j->opts, j->digest, REG_PROGRESS_EXISTS, j->size, j->size);
			return 0;
		}
		if (s != 404)
			break;
		reg_progress(j->opts, j->digest, REG_PROGRESS_START, 0, j->size);
		if (j->mount_from) {
			char *u = reg_client_url(j->c, "blobs/uploads/");
			char *u2 = reg_url_add_query(u, "mount", j->digest);
			free(u);
			u = reg_url_add_query(u2, "from", j->mount_from);
			free(u2);
			set_state(j, UP_MOUNT, "POST", u);
			return 1;
		}
		to_post(j);
		return 1;
	case UP_MOUNT:
		if (s == 201) {
			reg_progress(j->opts, j->digest, REG_PROGRESS_MOUNTED, j->size, j->size);
			return 0;
		}
		if (s == 202) /* not mounted, but an upload session was opened */
			return to_put(j, err);
		break;
	case UP_POST:
		if (s == 202)
			return to_put(j, err);
		break;
	case UP_PUT:
		if (s == 201 || s == 204) {
			reg_progress(j->opts, j->digest, REG_PROGRESS_DONE, j->size, j->size);
			return 0;
		}
		if (s == 413) { /* too big for one request: the server wants chunks */
			j->chunked = true;
			to_post(j);
			return 1;
		}
		break;
	case UP_PATCH:
		if (s == 202) {
			j->sent += xf->body_size;
			reg_progress(j->opts, j->digest, REG_PROGRESS_BYTES, j->sent, j->size);
			return to_put(j, err);
		}
		break;
	case UP_FINAL:
		if (s == 201 || s == 204) {
			reg_progress(j->opts, j->digest, REG_PROGRESS_DONE, j->size, j->size);
			return 0;
		}
		break;
	}
	_cleanup_free_ char *what = cb_asprintf("upload blob '%s'", j->digest);
	return reg_http_error(xf, what, err);
}

static void up_retry(reg_xfer_t *xf, const char *why)
{
	up_job_t *j = xf->ud;
	reg_progress(j->opts, j->digest, REG_PROGRESS_RETRY, 0, j->size);
}

static void job_init(up_job_t *j, reg_client_t *c, store_t *st, const reg_opts_t *o,
		     const char *digest, uint64_t size, const char *mount_from)
{
	memset(j, 0, sizeof(*j));
	j->c = c;
	j->st = st;
	j->opts = o;
	j->fd = -1;
	memcpy(j->digest, digest, DIGEST_STR_LEN + 1);
	j->size = size;
	j->mount_from = mount_from ? cb_xstrdup(mount_from) : NULL;
	reg_xfer_init(&j->xf, "HEAD", reg_client_url(c, "blobs/%s", digest));
	j->state = UP_HEAD;
	j->xf.ud = j;
	j->xf.prepare = up_prepare;
	j->xf.done = up_done;
	j->xf.on_retry = up_retry;
}

static void job_release(up_job_t *j)
{
	reg_xfer_release(&j->xf);
	free(j->mount_from);
	if (j->fd >= 0)
		close(j->fd);
}

/* A repository on the same registry that has the blob, other than ours. */
static char *mount_source(store_t *st, const char *digest, const char *domain, const char *repo)
{
	_cleanup_strv_ char **srcs = reg_sources_get(st, digest);
	size_t dl = strlen(domain);
	for (size_t i = 0; srcs && srcs[i]; i++)
		if (!strncmp(srcs[i], domain, dl) && srcs[i][dl] == '/' && strcmp(srcs[i] + dl + 1, repo))
			return cb_xstrdup(srcs[i] + dl + 1);
	return NULL;
}

/* Uploads im's blobs but those in sent (NULL-terminated, or NULL). */
static int upload_blobs(reg_client_t *c, store_t *st, const reg_opts_t *o, push_image_t *im,
			const reg_ref_t *dst, char **sent, cb_error_t *err)
{
	size_t n = im->nblobs;
	up_job_t *jobs = cb_xcalloc(n, sizeof(*jobs));
	int r = 0;
	size_t made = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *from = mount_source(st, im->blobs[i], dst->domain, dst->path);
		job_init(&jobs[i], c, st, o, im->blobs[i], im->sizes[i], from);
		made++;
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup = dup || !strcmp(im->blobs[k], im->blobs[i]);
		for (size_t k = 0; sent && sent[k]; k++)
			dup = dup || !strcmp(sent[k], im->blobs[i]);
		jobs[i].xf.finished = dup;
		if (!dup && store_has_blob(st, im->blobs[i]) &&
		    (jobs[i].fd = store_open_blob(st, im->blobs[i], err)) < 0) {
			r = -1;
			break;
		}
	}
	/* Layers in parallel, then the config (last in blobs), alone. */
	reg_xfer_t **xs = cb_xcalloc(n, sizeof(*xs));
	size_t k = 0;
	for (size_t i = 0; r == 0 && i + 1 < n; i++)
		if (!jobs[i].xf.finished)
			xs[k++] = &jobs[i].xf;
	if (r == 0)
		r = reg_client_run(c, xs, k, 0, err);
	if (r == 0 && !jobs[n - 1].xf.finished)
		r = reg_client_run1(c, &jobs[n - 1].xf, err);
	free(xs);
	for (size_t i = 0; i < made; i++)
		job_release(&jobs[i]);
	free(jobs);
	return r;
}

/* ---- the gzip of plain layers while the other blobs upload ---- */

static bool is_pending(const push_image_t *im, size_t i)
{
	for (size_t k = 0; k < im->npending; k++)
		if (im->pending[k] == i)
			return true;
	return false;
}

/* The variants made: the manifest names them (the bytes it would have
 * had if they had been made first, so its digest is the same). */
static void use_variants(push_image_t *im, const store_variant_t *v)
{
	json_t *layers = json_object_get(im->model, "layers");
	for (size_t k = 0; k < im->npending; k++) {
		size_t i = im->pending[k];
		use_variant(json_array_get(layers, i), &v[k]);
		free(im->blobs[i]);
		im->blobs[i] = cb_xstrdup(v[k].digest);
		im->sizes[i] = (uint64_t)v[k].size;
	}
	free(im->manifest);
	im->manifest = oci_json_dumps(im->model, JSON_COMPACT | JSON_PRESERVE_ORDER);
	im->len = strlen(im->manifest);
	digest_buffer(im->manifest, im->len, im->digest);
	snprintf(im->local, sizeof(im->local), "%s", strcmp(im->digest, im->stored) ? im->stored : "");
	im->npending = 0;
}

/* A plain layer's gzip (store/variant.h) is made on a thread while the
 * other blobs (layers, config) upload, not before any upload starts, and
 * streamed into its own upload as it is made (registry/push_stream.h;
 * issue 29); *sent names what went. */
static int upload_while_gzip(reg_client_t *c, store_t *st, const reg_opts_t *o,
			     push_image_t *im, const reg_ref_t *dst, char ***sent, cb_error_t *err)
{
	size_t np = im->npending;
	char **diff_ids = NULL;
	for (size_t k = 0; k < np; k++)
		diff_ids = cb_strv_push(diff_ids, im->blobs[im->pending[k]]);
	push_image_t rest = {.sizes = cb_xcalloc(im->nblobs, sizeof(uint64_t))};
	for (size_t i = 0; i < im->nblobs; i++) {
		if (is_pending(im, i))
			continue;
		rest.blobs = cb_strv_push(rest.blobs, im->blobs[i]);
		rest.sizes[rest.nblobs++] = im->sizes[i];
	}
	push_stream_t *ps = push_stream_start(st, diff_ids, dst->domain, dst->path, o);
	int r = rest.nblobs ? upload_blobs(c, st, o, &rest, dst, NULL, err) : 0;
	store_variant_t *v = cb_xcalloc(np, sizeof(*v));
	bool *up = cb_xcalloc(np, sizeof(*up));
	cb_error_t e = CB_ERROR_INIT;
	if (push_stream_finish(ps, v, up, &e) < 0 && r == 0) {
		cb_error_move(err, &e);
		r = -1;
	}
	cb_error_release(&e);
	if (r == 0) {
		use_variants(im, v);
		for (size_t k = 0; k < np; k++) {
			if (!up[k])
				continue;
			rest.blobs = cb_strv_push(rest.blobs, v[k].digest);
			reg_progress(o, v[k].digest, REG_PROGRESS_START, 0, (uint64_t)v[k].size);
			reg_progress(o, v[k].digest, REG_PROGRESS_DONE, (uint64_t)v[k].size,
				     (uint64_t)v[k].size);
		}
		*sent = cb_steal_pointer(&rest.blobs);
	}
	cb_strv_free(diff_ids);
	free(v);
	free(up);
	image_release(&rest);
	return r;
}

/* PUT the manifest as `tag` (NULL: by its digest). */
static int put_manifest(reg_client_t *c, const push_image_t *im, const char *tag, cb_error_t *err)
{
	reg_xfer_t xf;
	reg_xfer_init(&xf, "PUT", reg_client_url(c, "manifests/%s", tag ? tag : im->digest));
	reg_xfer_add_header(&xf, "Content-Type: %s", im->media_type);
	xf.has_body = true;
	xf.body_mem = im->manifest;
	xf.body_size = im->len;
	cb_error_t e = CB_ERROR_INIT;
	int r = reg_client_run1(c, &xf, &e);
	if (r < 0 && (xf.status == 401 || xf.status == 403 || xf.status == 404)) {
		cb_error_release(&e);
		cb_error_fail(err, EACCES, DENIED);
	} else if (r < 0) {
		cb_error_move(err, &e);
		cb_error_wrap(err, "put manifest");
	} else if (xf.docker_digest && digest_is_valid(xf.docker_digest) &&
		   strcmp(xf.docker_digest, im->digest)) {
		r = cb_error_fail(err, EBADMSG, "registry stored manifest as '%s', expected '%s'",
				 xf.docker_digest, im->digest);
	}
	reg_xfer_release(&xf);
	return r;
}

/* The blobs of the image, or of every manifest of an index. */
static char **all_blobs(const push_image_t *im)
{
	char **v = NULL;
	for (size_t i = 0; i < im->nblobs; i++)
		v = cb_strv_push(v, im->blobs[i]);
	for (size_t k = 0; k < im->nchildren; k++)
		for (size_t i = 0; i < im->children[k].nblobs; i++)
			v = cb_strv_push(v, im->children[k].blobs[i]);
	return v;
}

static int push_registry(store_t *st, push_image_t *im, const char *dest, const reg_opts_t *o,
			 cb_error_t *err)
{
	reg_ref_t dst;
	if (reg_ref_parse(dest, 0, &dst, err) < 0)
		return -1;
	/* Sibling repositories we may mount from need pull rights in the token. */
	char **extra = NULL;
	_cleanup_strv_ char **all = all_blobs(im);
	for (size_t i = 0; all && all[i]; i++) {
		char *m = mount_source(st, all[i], dst.domain, dst.path);
		bool have = false;
		for (size_t k = 0; m && extra && extra[k]; k++)
			have = have || !strcmp(extra[k], m);
		if (m && !have)
			extra = cb_strv_push_take(extra, m);
		else
			free(m);
	}
	reg_client_t *c = NULL;
	int r = reg_client_open(dst.domain, dst.path, "pull,push", extra, o, &c, err);
	cb_strv_free(extra);
	_cleanup_free_ char *repo = reg_ref_repo(&dst);
	/* An index's manifests go first, by digest: a registry refuses an
	 * index whose manifests it does not have. */
	for (size_t i = 0; r == 0 && i < im->nchildren; i++) {
		push_image_t *k = &im->children[i];
		r = upload_blobs(c, st, o, k, &dst, NULL, err);
		if (r == 0)
			r = put_manifest(c, k, NULL, err);
		if (r == 0)
			reg_sources_add(st, (const char *const *)k->blobs, k->nblobs, repo);
	}
	_cleanup_strv_ char **sent = NULL;
	if (r == 0 && im->npending)
		r = upload_while_gzip(c, st, o, im, &dst, &sent, err);
	if (r == 0 && im->nblobs)
		r = upload_blobs(c, st, o, im, &dst, sent, err);
	if (r == 0)
		r = put_manifest(c, im, dst.tag, err);
	if (r == 0 && im->nblobs)
		reg_sources_add(st, (const char *const *)im->blobs, im->nblobs, repo);
	reg_client_free(c);
	reg_ref_release(&dst);
	return r;
}

/* ---- oci: layout destination ---- */

static int copy_blob(store_t *st, const char *digest, const char *dir, cb_error_t *err)
{
	_cleanup_free_ char *dst = cb_asprintf("%s/blobs/sha256/%s", dir, digest_hex(digest));
	if (cb_path_exists(dst))
		return 0;
	if (store_blob_ensure(st, digest, err) < 0) /* a lazy blob */
		return -1;
	_cleanup_free_ char *src = store_blob_path(st, digest);
	_cleanup_free_ char *tmp = cb_asprintf("%s.tmp%d", dst, (int)getpid());
	if (link(src, tmp) < 0) {
		_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
		_cleanup_close_ int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (in < 0 || out < 0)
			return cb_error_errno(err, "copy blob '%s'", digest);
		char buf[1 << 16];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (cb_write_all(out, buf, (size_t)n, err) < 0) {
				unlink(tmp);
				return -1;
			}
		if (n < 0 || fsync(out) < 0) {
			int e = errno;
			unlink(tmp);
			errno = e;
			return cb_error_errno(err, "copy blob '%s'", digest);
		}
	}
	if (rename(tmp, dst) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return cb_error_errno(err, "rename '%s'", dst);
	}
	return 0;
}

#define OCI_REF_NAME "org.opencontainers.image.ref.name"

/* The tag moves: its first entry in the layout's index.json goes (one of
 * a digest cbuild cannot read too); the rest is written back as read. */
static void drop_first_named(oci_index_t *ix, const char *tag)
{
	size_t i = 0, j = 0;
	while (i < ix->n_manifests &&
	       !cb_streq(json_string_value(json_object_get(ix->manifests[i].annotations,
							   OCI_REF_NAME)),
			 tag))
		i++;
	while (j < ix->n_invalid &&
	       !cb_streq(json_string_value(json_object_get(
				 json_object_get(ix->invalid[j].entry, "annotations"), OCI_REF_NAME)),
			 tag))
		j++;
	if (j < ix->n_invalid && (i == ix->n_manifests || !oci_index_kept_after(ix, j, i)))
		json_decref(oci_index_remove_kept(ix, j));
	else if (i < ix->n_manifests)
		oci_index_remove(ix, i, NULL);
}

/* The image's blobs, then its manifest, into the layout's blobs/. */
static int put_dir_manifest(store_t *st, const push_image_t *im, const char *dir, cb_error_t *err)
{
	for (size_t i = 0; i < im->nblobs; i++)
		if (copy_blob(st, im->blobs[i], dir, err) < 0)
			return -1;
	_cleanup_free_ char *mpath = cb_asprintf("%s/blobs/sha256/%s", dir, digest_hex(im->digest));
	if (!cb_path_exists(mpath) &&
	    cb_write_file_atomic(mpath, NULL, im->manifest, im->len, 0644, err) < 0)
		return -1;
	return 0;
}

static int push_oci_dir(store_t *st, push_image_t *im, const char *spec, cb_error_t *err)
{
	/* oci:DIR[:TAG] - the tag is after the last ':' unless that is part of
	 * the path (a '/' follows it). */
	_cleanup_free_ char *dir = cb_xstrdup(spec);
	char *colon = strrchr(dir, ':');
	const char *tag = im->tag;
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		tag = colon + 1;
	}
	if (!*dir) /* never a layout at "" + "/blobs", the root directory */
		return cb_error_set(err, EINVAL, "invalid destination 'oci:%s': no directory", spec);
	_cleanup_free_ char *blobs = cb_asprintf("%s/blobs/sha256", dir);
	if (cb_mkdir_p(blobs, 0755, err) < 0)
		return -1;
	_cleanup_free_ char *layout = cb_path_join(dir, "oci-layout");
	if (!cb_path_exists(layout) &&
	    cb_write_file_atomic(layout, NULL, "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0644, err) < 0)
		return -1;
	for (size_t k = 0; k < im->nchildren; k++)
		if (put_dir_manifest(st, &im->children[k], dir, err) < 0)
			return -1;
	if (put_dir_manifest(st, im, dir, err) < 0)
		return -1;
	_cleanup_free_ char *ipath = cb_path_join(dir, "index.json");
	char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	oci_index_t *ix = NULL;
	if (cb_read_file(ipath, REG_MANIFEST_MAX, &data, &len, &e) == 0)
		ix = oci_index_from_json(data, len, NULL);
	cb_error_release(&e);
	free(data);
	if (!ix)
		ix = oci_index_new(false);
	if (tag)
		drop_first_named(ix, tag);
	oci_descriptor_t d = {.media_type = cb_xstrdup(im->media_type),
			      .digest = cb_xstrdup(im->digest),
			      .size = (int64_t)im->len};
	if (tag)
		d.annotations = json_pack("{s:s}", OCI_REF_NAME, tag);
	oci_index_append(ix, &d);
	char *text = oci_index_to_json(ix);
	oci_index_free(ix);
	int r = cb_write_file_atomic(ipath, NULL, text, strlen(text), 0644, err);
	free(text);
	return r;
}

int reg_push(store_t *st, const char *src, const char *dest, const reg_opts_t *opts,
	     char **digest_out, cb_error_t *err)
{
	reg_opts_t def;
	if (!opts) {
		reg_opts_init(&def);
		opts = &def;
	}
	if (!dest && digest_is_valid(src))
		return cb_error_fail(err, EINVAL, "push '%s': a destination is needed", src);
	const char *to = dest ? dest : src;
	push_image_t im;
	/* a registry: the gzip of a plain layer overlaps the other uploads */
	bool defer = !cb_str_has_prefix(to, "oci:") && !cb_str_has_prefix(to, "oci-archive:") &&
		     !cb_str_has_prefix(to, "docker-archive:");
	if (load_image(st, src, opts, &im, defer, err) < 0)
		return cb_error_wrap(err, "push '%s'", src);
	int r;
	if (cb_str_has_prefix(to, "oci:"))
		r = push_oci_dir(st, &im, to + 4, err);
	else if (cb_str_has_prefix(to, "oci-archive:") || cb_str_has_prefix(to, "docker-archive:"))
		r = cb_error_fail(err, ENOTSUP, "archive destinations are written by cmd_save_archive");
	else
		r = push_registry(st, &im, cb_str_has_prefix(to, "docker://") ? to + 9 : to, opts,
				  err);
	if (r == 0 && digest_out)
		*digest_out = cb_xstrdup(im.digest);
	cb_error_t e = CB_ERROR_INIT;
	if (r == 0 && im.local[0] && store_variant_set_manifest(st, im.local, im.digest, &e) < 0)
		cb_error_release(&e); /* a hint: RepoDigests shows the local digest */
	image_release(&im);
	if (r < 0)
		return cb_error_wrap(err, "push '%s' to '%s'", src, to);
	return 0;
}
