/*
 * registry/pull.c - pull an image into the store: manifest (choosing the
 * platform from an index), then config and layers in parallel, each
 * streamed through a store blob writer that checks size and digest before
 * the blob enters blobs/. An interrupted blob is resumed with Range when
 * the server answers 206, and restarted from zero otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/util.h"
#include "registry/client.h"
#include "registry/reference.h"
#include "registry/registry.h"
#include "registry/sources.h"
#include "registry/wire.h"
#include "store/image.h"
#include "store/attest.h"
#include "store/digest.h"

#define MANIFEST_ACCEPT                                                                       \
	"Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST

/* The blobs of one pull are committed as a batch (store_blob_batch_t):
 * one file-system flush for all instead of two fsyncs each, which cost
 * more than the transfer for small layers. Blobs wait complete in this
 * process's tmp/ directory as ok-HEX (a killed pull's are moved into blobs/
 * by the next command, so a pull again resumes); a long pull still
 * publishes what it has every BATCH_MAX_AGE_MS. */
typedef struct pull_batch {
	store_blob_batch_t *b;
	size_t pending;
	int64_t first_ms; /* when the oldest pending blob was added */
} pull_batch_t;

#define BATCH_MAX_AGE_MS 20000

typedef struct blob_job {
	reg_xfer_t xf;
	pull_batch_t *batch;
	store_t *st;
	const reg_opts_t *opts;
	digest_t digest; /* checked once, as the manifest named it */
	int64_t size;    /* from the descriptor; -1 unknown */
	store_blob_writer_t *w;
	bool first_chunk; /* the next sink call starts a new response */
	uint64_t last_report;
	/* curl hands over 16 KiB at a time: gather into bigger writes */
	char *buf;
	size_t buf_len, buf_cap;
} blob_job_t;

#define SINK_BUF (256u << 10)

/* ---- manifests ---- */

typedef struct fetched {
	char *data;
	size_t len;
	char *media_type;
	char digest[DIGEST_STR_LEN + 1];
} fetched_t;

static void fetched_release(fetched_t *f)
{
	free(f->data);
	free(f->media_type);
	memset(f, 0, sizeof(*f));
}

static const char *json_mt(json_t *j)
{
	return json_string_value(json_object_get(j, "mediaType"));
}

/* GET a manifest by tag or digest; checks the digest when it is known
 * (`want`), and the size when the referring descriptor gave one. */
static int fetch_manifest(reg_client_t *c, const char *what, const char *ref_str,
			  const char *want, int64_t want_size, fetched_t *out, cb_error_t *err)
{
	reg_xfer_t xf;
	reg_xfer_init(&xf, "GET", reg_client_url(c, "manifests/%s", ref_str));
	reg_xfer_add_header(&xf, "%s", MANIFEST_ACCEPT);
	xf.resp_max = REG_MANIFEST_MAX;
	xf.done = NULL;
	cb_error_t e = CB_ERROR_INIT;
	int r = reg_client_run1(c, &xf, &e);
	if (r < 0) {
		/* a final HTTP status: say it as docker does */
		if (e.code == ENOENT && xf.status == 404) {
			cb_error_fail(err, ENOENT, "manifest unknown: %s", what);
			cb_error_release(&e);
		} else if (e.code == EACCES) {
			cb_error_fail(err, EACCES,
				     "pull access denied for %s: repository does not exist or may "
				     "require authorization",
				     what);
			cb_error_release(&e);
		} else {
			cb_error_move(err, &e);
		}
		reg_xfer_release(&xf);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	digest_buffer(xf.resp.data, xf.resp.len, out->digest);
	if (want && strcmp(out->digest, want)) {
		r = cb_error_fail(err, EBADMSG, "manifest '%s' has digest '%s', not '%s'", what,
				 out->digest, want);
	} else if (want_size >= 0 && (int64_t)xf.resp.len != want_size) {
		r = cb_error_fail(err, EBADMSG, "manifest '%s' is %zu bytes, its descriptor says %lld",
				 what, xf.resp.len, (long long)want_size);
	} else if (!want && xf.docker_digest && digest_is_valid(xf.docker_digest) &&
		   strcmp(xf.docker_digest, out->digest)) {
		r = cb_error_fail(err, EBADMSG,
				 "manifest '%s' has digest '%s', the registry says '%s'", what,
				 out->digest, xf.docker_digest);
	}
	if (r < 0) {
		reg_xfer_release(&xf);
		return -1;
	}
	json_t *j = json_loadb(xf.resp.data, xf.resp.len, 0, NULL);
	const char *mt = json_mt(j);
	if (!mt && xf.content_type)
		mt = xf.content_type;
	if (!mt && json_object_get(j, "manifests"))
		mt = MT_OCI_INDEX;
	else if (!mt && json_object_get(j, "layers"))
		mt = MT_OCI_MANIFEST;
	if (!j || !mt || (!reg_mt_is_index(mt) && !reg_mt_is_manifest(mt))) {
		r = cb_error_fail(err, EPROTO, "manifest '%s': unsupported media type '%s'", what,
				 mt ? mt : "(none)");
	} else {
		out->media_type = cb_xstrndup(mt, strcspn(mt, ";"));
		out->data = cb_buf_detach(&xf.resp, &out->len);
	}
	json_decref(j);
	reg_xfer_release(&xf);
	return r;
}

/* Pick the manifest for `want` from an index (entries with a valid
 * digest only: oci_index_from_json checked them once). *digest borrows
 * from ix. */
static int choose_platform(const oci_index_t *ix, const oci_platform_t *want, const char *what,
			   const char **digest, int64_t *size, cb_error_t *err)
{
	int best = 0;
	for (size_t i = 0; i < ix->n_manifests; i++) {
		const oci_descriptor_t *m = &ix->manifests[i];
		json_t *p = m->platform;
		int s = oci_platform_score(want, json_string_value(json_object_get(p, "os")),
					   json_string_value(json_object_get(p, "architecture")),
					   json_string_value(json_object_get(p, "variant")));
		if (s > best && reg_mt_is_manifest(m->media_type)) {
			best = s;
			*digest = m->digest;
			*size = m->size;
		}
	}
	if (!best)
		return cb_error_fail(err, ENOENT, "no image for platform '%s/%s%s%s' in '%s'",
				    want->os, want->arch, want->variant[0] ? "/" : "", want->variant,
				    what);
	return 0;
}

/* ---- blobs ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write the gathered bytes (the store's writer starts their writeback
 * every 8 MiB: the flush at commit finds little left to do). A writer
 * thread here, hashing and writing beside the receiving thread, made the
 * transfer of a 512 MiB blob slower, not faster (1.5-2.0 s instead of
 * 0.7-1.0 on 2 cores, where the registry needs a core to send): the
 * receive, hash and write stay on one thread. */
static int flush_buf(blob_job_t *j, cb_error_t *err)
{
	if (!j->buf_len)
		return 0;
	size_t n = j->buf_len;
	j->buf_len = 0;
	return store_blob_writer_write(j->w, j->buf, n, err);
}

/* Bytes received: those gathered plus those written. */
static uint64_t got_bytes(const blob_job_t *j)
{
	return (j->w ? store_blob_writer_size(j->w) : 0) + j->buf_len;
}

static int blob_prepare(reg_xfer_t *xf, cb_error_t *err)
{
	blob_job_t *j = xf->ud;
	/* what an earlier attempt gathered is good: keep it */
	if (j->w && flush_buf(j, err) < 0)
		return -1;
	j->first_chunk = true;
	/* Resume what an earlier attempt got, if the server allows ranges. */
	xf->range_from = j->w ? store_blob_writer_size(j->w) : 0;
	return 0;
}

/* Content-Range must start where we asked. */
static bool range_matches(const char *cr, uint64_t from)
{
	unsigned long long a;
	return cr && sscanf(cr, "bytes %llu-", &a) == 1 && a == from;
}

static int blob_sink(reg_xfer_t *xf, const char *data, size_t len, cb_error_t *err)
{
	blob_job_t *j = xf->ud;
	if (j->first_chunk) {
		j->first_chunk = false;
		bool resumed = xf->status == 206 && j->w &&
			       range_matches(xf->content_range, store_blob_writer_size(j->w));
		if (!resumed && j->w) {
			/* the server ignored Range: start over */
			store_blob_writer_abort(j->w);
			j->w = NULL;
			j->buf_len = 0;
		}
		if (!j->w && !(j->w = store_blob_writer_new(j->st, err)))
			return -1;
		if (!j->buf) {
			/* a small blob: a buffer its size (malloc's heap, not a
			 * fresh mapping to fault in) */
			j->buf_cap = j->size >= 0 && (uint64_t)j->size < SINK_BUF
					     ? (size_t)(j->size ? j->size : 1)
					     : SINK_BUF;
			j->buf = cb_xmalloc(j->buf_cap);
		}
	}
	if (j->size >= 0 && got_bytes(j) + len > (uint64_t)j->size)
		return cb_error_fail(err, EBADMSG, "blob '%s' is larger than its %lld bytes",
				     j->digest.s, (long long)j->size);
	while (len) {
		size_t n = j->buf_cap - j->buf_len < len ? j->buf_cap - j->buf_len : len;
		memcpy(j->buf + j->buf_len, data, n);
		j->buf_len += n;
		data += n;
		len -= n;
		if (j->buf_len == j->buf_cap && flush_buf(j, err) < 0)
			return -1;
	}
	uint64_t n = got_bytes(j);
	if (n - j->last_report >= (1u << 20)) {
		j->last_report = n;
		reg_progress(j->opts, j->digest.s, REG_PROGRESS_BYTES, n, j->size > 0 ? (uint64_t)j->size : 0);
	}
	return 0;
}

static int blob_done(reg_xfer_t *xf, cb_error_t *err)
{
	blob_job_t *j = xf->ud;
	if (xf->status < 200 || xf->status >= 300) {
		_cleanup_free_ char *what = cb_asprintf("fetch blob '%s'", j->digest.s);
		return reg_http_error(xf, what, err);
	}
	if (!j->w && !(j->w = store_blob_writer_new(j->st, err))) /* an empty blob */
		return -1;
	if (flush_buf(j, err) < 0)
		return -1;
	uint64_t got = store_blob_writer_size(j->w);
	if (j->size >= 0 && got != (uint64_t)j->size) {
		store_blob_writer_abort(j->w);
		j->w = NULL;
		return cb_error_fail(err, EBADMSG, "blob '%s' is %llu bytes, want %lld", j->digest.s,
				     (unsigned long long)got, (long long)j->size);
	}
	store_blob_writer_t *w = j->w;
	j->w = NULL;
	pull_batch_t *pb = j->batch;
	if (store_blob_batch_add(pb->b, w, j->digest.s, NULL, err) < 0)
		return cb_error_wrap(err, "blob '%s'", j->digest.s);
	if (!pb->pending++)
		pb->first_ms = mono_ms();
	if (mono_ms() - pb->first_ms > BATCH_MAX_AGE_MS) {
		if (store_blob_batch_publish(pb->b, err) < 0)
			return -1;
		pb->pending = 0;
	}
	reg_progress(j->opts, j->digest.s, REG_PROGRESS_DONE, got, got);
	return 0;
}

static void blob_retry(reg_xfer_t *xf, const char *why)
{
	blob_job_t *j = xf->ud;
	reg_progress(j->opts, j->digest.s, REG_PROGRESS_RETRY, got_bytes(j),
		     j->size > 0 ? (uint64_t)j->size : 0);
}

/* Collect the config and layer descriptors of a manifest. */
static int manifest_blobs(json_t *m, const char *what, blob_job_t **jobs, size_t *n,
			  cb_error_t *err)
{
	json_t *layers = json_object_get(m, "layers");
	json_t *cfg = json_object_get(m, "config");
	if (!json_is_object(cfg) || !json_is_array(layers))
		return cb_error_fail(err, EPROTO, "manifest of '%s' has no config or layers", what);
	size_t cnt = json_array_size(layers) + 1;
	blob_job_t *js = cb_xcalloc(cnt, sizeof(*js));
	for (size_t i = 0; i < cnt; i++) {
		json_t *d = i == 0 ? cfg : json_array_get(layers, i - 1);
		const char *dg = json_string_value(json_object_get(d, "digest"));
		json_t *sz = json_object_get(d, "size");
		if (!dg || digest_parse(dg, &js[i].digest, NULL) < 0 || !json_is_integer(sz) ||
		    json_integer_value(sz) < 0) {
			free(js);
			return cb_error_fail(err, EPROTO, "manifest of '%s': bad descriptor %zu", what, i);
		}
		js[i].size = (int64_t)json_integer_value(sz);
	}
	*jobs = js;
	*n = cnt;
	return 0;
}

/* Add a manifest we hold in memory to the batch. */
static int batch_doc(store_t *st, store_blob_batch_t *b, const fetched_t *f, cb_error_t *err)
{
	if (store_has_blob(st, f->digest))
		return 0;
	store_blob_writer_t *w = store_blob_writer_new(st, err);
	if (!w)
		return -1;
	if (store_blob_writer_write(w, f->data, f->len, err) < 0) {
		store_blob_writer_abort(w);
		return -1;
	}
	return store_blob_batch_add(b, w, f->digest, NULL, err);
}

/* Fetch the blobs not in the store yet; they, and the manifests in docs
 * (may be NULL), are all durable in blobs/ when this returns 0. */
static int fetch_blobs(reg_client_t *c, store_t *st, const reg_opts_t *o, blob_job_t *js,
		       size_t n, const fetched_t *docs, size_t ndocs, cb_error_t *err)
{
	pull_batch_t pb = {.b = store_blob_batch_new(st)};
	reg_xfer_t **xs = cb_xcalloc(n ? n : 1, sizeof(*xs));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t p = 0; p < i; p++)
			dup = dup || !strcmp(js[p].digest.s, js[i].digest.s);
		if (dup)
			continue;
		if (store_has_blob(st, js[i].digest.s)) {
			reg_progress(o, js[i].digest.s, REG_PROGRESS_EXISTS, 0, 0);
			continue;
		}
		blob_job_t *j = &js[i];
		j->batch = &pb;
		j->st = st;
		j->opts = o;
		reg_xfer_init(&j->xf, "GET", reg_client_url(c, "blobs/%s", j->digest.s));
		j->xf.ud = j;
		j->xf.prepare = blob_prepare;
		j->xf.sink = blob_sink;
		j->xf.done = blob_done;
		j->xf.on_retry = blob_retry;
		j->xf.small = j->size >= 0 && j->size < (1 << 20);
		reg_progress(o, j->digest.s, REG_PROGRESS_START, 0, (uint64_t)j->size);
		xs[k++] = &j->xf;
	}
	int r = reg_client_run(c, xs, k, 0, err);
	for (size_t i = 0; r == 0 && i < ndocs; i++)
		if (docs[i].data)
			r = batch_doc(st, pb.b, &docs[i], err);
	if (r == 0) {
		r = store_blob_batch_publish(pb.b, err);
	} else {
		/* failed or interrupted (Ctrl-C): the blobs that arrived whole
		 * were verified; keep them, so that a pull again resumes there
		 * (as a killed pull's are kept by the next command) */
		cb_error_t e = CB_ERROR_INIT;
		if (store_blob_batch_publish(pb.b, &e) < 0)
			cb_error_release(&e);
	}
	store_blob_batch_free(pb.b);
	for (size_t i = 0; i < k; i++) {
		blob_job_t *j = xs[i]->ud;
		store_blob_writer_abort(j->w);
		j->w = NULL;
		free(j->buf);
		j->buf = NULL;
		reg_xfer_release(&j->xf);
	}
	free(xs);
	return r;
}

/* ---- the pull ---- */

/* Remember where the blobs came from, for cross-repository mounts. */
static void note_sources(store_t *st, const blob_job_t *jobs, size_t n, const char *repo)
{
	const char **ds = cb_xcalloc(n + 1, sizeof(*ds));
	for (size_t i = 0; i < n; i++)
		ds[i] = jobs[i].digest.s;
	reg_sources_add(st, ds, n, repo);
	free(ds);
}

/* --all-platforms: every image manifest of the index, their blobs (all in
 * one parallel batch), then the child manifests; the caller stores the
 * index and tags it once everything it refers to is in the store. */
static int pull_children(reg_client_t *c, store_t *st, const reg_opts_t *o, const char *what,
			 const fetched_t *index, blob_job_t **jobs_out, size_t *njobs_out,
			 cb_error_t *err)
{
	oci_index_t *ix = oci_index_from_json(index->data, index->len, err);
	if (!ix)
		return cb_error_wrap(err, "index of '%s'", what);
	size_t nm = ix->n_manifests;
	fetched_t *kids = cb_xcalloc(nm ? nm : 1, sizeof(*kids));
	blob_job_t *all = NULL;
	size_t nall = 0, nk = 0;
	int r = ix->n_invalid ? cb_error_fail(err, EPROTO, "index of '%s': bad descriptor", what) : 0;
	for (size_t i = 0; r == 0 && i < nm; i++) {
		const oci_descriptor_t *m = &ix->manifests[i];
		const char *d = m->digest;
		if (m->size < 0)
			r = cb_error_fail(err, EPROTO, "index of '%s': bad descriptor %zu", what, i);
		else if (!reg_mt_is_manifest(m->media_type))
			continue; /* attestations in other media types, nested indexes */
		if (r == 0)
			r = fetch_manifest(c, what, d, d, m->size, &kids[nk], err);
		if (r < 0)
			break;
		json_t *kj = json_loadb(kids[nk].data, kids[nk].len, 0, NULL);
		blob_job_t *js = NULL;
		size_t n = 0;
		nk++;
		r = kj ? manifest_blobs(kj, what, &js, &n, err)
		       : cb_error_fail(err, EPROTO, "manifest '%s' of '%s' is not JSON", d, what);
		json_decref(kj);
		if (r == 0) {
			all = cb_xreallocarray(all, nall + n, sizeof(*all));
			memcpy(all + nall, js, n * sizeof(*js));
			nall += n;
		}
		free(js);
	}
	oci_index_free(ix);
	if (r == 0 && nk == 0)
		r = cb_error_fail(err, ENOENT, "index of '%s' lists no image manifest", what);
	if (r == 0)
		r = fetch_blobs(c, st, o, all, nall, kids, nk, err);
	for (size_t i = 0; i < nk; i++)
		fetched_release(&kids[i]);
	free(kids);
	if (r < 0) {
		free(all);
		return -1;
	}
	*jobs_out = all;
	*njobs_out = nall;
	return 0;
}

static int pull_all_platforms(reg_client_t *c, store_t *st, const reg_opts_t *o,
			      const char *what, const char *name, const char *repo,
			      const fetched_t *top, cb_error_t *err)
{
	blob_job_t *jobs = NULL;
	size_t njobs = 0;
	int r = pull_children(c, st, o, what, top, &jobs, &njobs, err);
	if (r == 0)
		r = store_put_blob(st, top->data, top->len, top->digest, NULL, err);
	if (r == 0)
		r = store_set_ref(st, name, top->digest, top->media_type, (int64_t)top->len, err);
	if (r == 0)
		note_sources(st, jobs, njobs, repo);
	free(jobs);
	return r;
}

/* What a pull of one platform from an index tags. This machine's image,
 * as docker does, unless the tag names an index already or the platform
 * is a foreign one: then the index (only that platform's image pulled),
 * so that the tag never silently turns into another platform's image for
 * the builds and runs that follow (they pull their own platform's). */
static bool tag_index(store_t *st, const char *name, const fetched_t *top,
		      const oci_platform_t *plat)
{
	if (!top->data)
		return false;
	oci_platform_t host;
	oci_platform_host(&host);
	if (!oci_platform_equal(&host, plat))
		return true;
	store_ref_t r = {0};
	if (store_get_ref(st, name, &r, NULL) < 0)
		return false;
	bool idx = oci_media_type_is_index(r.media_type);
	store_ref_release(&r);
	return idx;
}

/* The attestation manifest an index lists for its image `subject`
 * (BuildKit's layout, store/attest.h), or NULL. */
static const oci_descriptor_t *attestation_of(const oci_index_t *ix, const char *subject)
{
	for (size_t i = 0; i < ix->n_manifests; i++) {
		json_t *a = ix->manifests[i].annotations;
		if (cb_streq(json_string_value(json_object_get(a, ATTEST_REF_TYPE)),
			     ATTEST_MANIFEST_TYPE) &&
		    cb_streq(json_string_value(json_object_get(a, ATTEST_REF_DIGEST)), subject))
			return &ix->manifests[i];
	}
	return NULL;
}

/* The chosen image's attestations come with it (SBOM, provenance: small
 * blobs): their manifest in *att, their blobs added to the jobs. */
static int pull_attestation(reg_client_t *c, const char *what, const oci_descriptor_t *d,
			    fetched_t *att, blob_job_t **jobs, size_t *njobs, cb_error_t *err)
{
	if (fetch_manifest(c, what, d->digest, d->digest, d->size, att, err) < 0)
		return -1;
	json_t *aj = json_loadb(att->data, att->len, 0, NULL);
	blob_job_t *more = NULL;
	size_t n = 0;
	int r = aj ? manifest_blobs(aj, what, &more, &n, err)
		   : cb_error_fail(err, EPROTO, "attestation manifest of '%s' is not JSON", what);
	json_decref(aj);
	if (r == 0 && n) {
		*jobs = cb_xreallocarray(*jobs, *njobs + n, sizeof(**jobs));
		memcpy(*jobs + *njobs, more, n * sizeof(*more));
		*njobs += n;
	}
	free(more);
	return r;
}

static int pull_ref(store_t *st, const reg_ref_t *ref, const reg_opts_t *o, char **digest_out,
		    cb_error_t *err)
{
	oci_platform_t plat;
	if (oci_platform_parse(o->platform, &plat, err) < 0)
		return -1;
	_cleanup_free_ char *what = reg_ref_familiar(ref);
	_cleanup_free_ char *name = reg_ref_full(ref);
	_cleanup_free_ char *repo_full = reg_ref_repo(ref);
	reg_client_t *c = NULL;
	if (reg_client_open(ref->domain, ref->path, "pull", NULL, o, &c, err) < 0)
		return -1;
	fetched_t top = {0}, plat_m = {0}, att = {0};
	_cleanup_free_ char *att_digest = NULL; /* the chosen image's attestation manifest */
	json_t *mj = NULL;
	blob_job_t *jobs = NULL;
	size_t njobs = 0;
	int r = fetch_manifest(c, what, ref->digest ? ref->digest : ref->tag, ref->digest, -1, &top,
			       err);
	if (r == 0 && reg_mt_is_index(top.media_type) && o->all_platforms) {
		r = pull_all_platforms(c, st, o, what, name, repo_full, &top, err);
		if (r == 0 && digest_out)
			*digest_out = cb_xstrdup(top.digest);
		fetched_release(&top);
		reg_client_free(c);
		return r;
	}
	if (r == 0 && reg_mt_is_index(top.media_type)) {
		oci_index_t *ix = oci_index_from_json(top.data, top.len, err);
		const char *d = NULL;
		int64_t sz = -1;
		r = ix ? choose_platform(ix, &plat, what, &d, &sz, err)
		       : cb_error_wrap(err, "index of '%s'", what);
		if (r == 0)
			r = fetch_manifest(c, what, d, d, sz, &plat_m, err);
		const oci_descriptor_t *a = r == 0 ? attestation_of(ix, d) : NULL;
		if (a)
			att_digest = cb_xstrdup(a->digest);
		oci_index_free(ix);
		/* the index is kept too (as docker does), stored with the blobs */
	} else if (r == 0) {
		plat_m = top;
		memset(&top, 0, sizeof(top));
	}
	if (r == 0 && !reg_mt_is_manifest(plat_m.media_type))
		r = cb_error_fail(err, EPROTO, "'%s': an index inside an index is not supported", what);
	if (r == 0) {
		mj = json_loadb(plat_m.data, plat_m.len, 0, NULL);
		r = mj ? manifest_blobs(mj, what, &jobs, &njobs, err)
		       : cb_error_fail(err, EPROTO, "manifest of '%s' is not JSON", what);
	}
	if (r == 0 && att_digest) {
		oci_index_t *ix = oci_index_from_json(top.data, top.len, NULL);
		const oci_descriptor_t *a = ix ? attestation_of(ix, plat_m.digest) : NULL;
		r = a ? pull_attestation(c, what, a, &att, &jobs, &njobs, err) : 0;
		oci_index_free(ix);
	}
	if (r == 0) {
		/* top.data is NULL without an index, att.data without attestations */
		fetched_t docs[3] = {plat_m, att, top};
		r = fetch_blobs(c, st, o, jobs, njobs, docs, 3, err);
	}
	if (r == 0) {
		/* with its attestations the tag names the index (its image for
		 * this machine is the one pulled), so inspect --sbom finds them */
		bool idx = att.data || tag_index(st, name, &top, &plat);
		const fetched_t *t = idx ? &top : &plat_m;
		r = store_set_ref(st, name, t->digest, t->media_type, (int64_t)t->len, err);
	}
	if (r == 0) {
		note_sources(st, jobs, njobs, repo_full);
		if (digest_out)
			*digest_out = cb_xstrdup(plat_m.digest);
	}
	free(jobs);
	json_decref(mj);
	fetched_release(&top);
	fetched_release(&plat_m);
	fetched_release(&att);
	reg_client_free(c);
	return r;
}

int reg_pull(store_t *st, const char *ref_str, const reg_opts_t *opts, char **digest_out,
	     cb_error_t *err)
{
	reg_opts_t def;
	if (!opts) {
		reg_opts_init(&def);
		opts = &def;
	}
	reg_ref_t ref;
	if (reg_ref_parse(ref_str, 0, &ref, err) < 0)
		return -1;
	int r = pull_ref(st, &ref, opts, digest_out, err);
	reg_ref_release(&ref);
	if (r < 0)
		return cb_error_wrap(err, "pull '%s'", ref_str);
	return 0;
}
