/*
 * registry/push_stream.c - a plain layer's gzip streamed into its upload.
 * See push_stream.h.
 */
#include "registry/push_stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "registry/client.h"
#include "registry/wire.h"
#include "store/digest.h"

#define RING_CAP (2u << 20)
/* prepare's mark of a stream that would have to be sent again */
#define REPLAY ESPIPE

/* ---- the ring between the gzip (writer) and the upload (reader) ---- */

typedef struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf;
	size_t head, len;
	bool closed;    /* the writer is done */
	bool abandoned; /* the reader is gone: bytes are dropped */
} ring_t;

static void ring_reset(ring_t *r)
{
	pthread_mutex_lock(&r->mu);
	r->head = r->len = 0;
	r->closed = r->abandoned = false;
	pthread_mutex_unlock(&r->mu);
}

/* The gzip's tee: waits while the ring is full (the upload is slower). */
static void ring_put(void *ctx, const void *data, size_t len)
{
	ring_t *r = ctx;
	const unsigned char *p = data;
	pthread_mutex_lock(&r->mu);
	while (len && !r->abandoned) {
		if (r->len == RING_CAP) {
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		size_t tail = (r->head + r->len) % RING_CAP;
		size_t n = RING_CAP - r->len;
		if (n > RING_CAP - tail)
			n = RING_CAP - tail;
		if (n > len)
			n = len;
		memcpy(r->buf + tail, p, n);
		r->len += n;
		p += n;
		len -= n;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

/* Up to len bytes; 0 once the writer is done and all is read. */
static size_t ring_get(ring_t *r, char *buf, size_t len)
{
	pthread_mutex_lock(&r->mu);
	while (!r->len && !r->closed)
		pthread_cond_wait(&r->cv, &r->mu);
	size_t n = r->len < len ? r->len : len;
	if (n > RING_CAP - r->head)
		n = RING_CAP - r->head;
	memcpy(buf, r->buf + r->head, n);
	r->head = (r->head + n) % RING_CAP;
	r->len -= n;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void ring_end(ring_t *r, bool reader)
{
	pthread_mutex_lock(&r->mu);
	if (reader)
		r->abandoned = true;
	else
		r->closed = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* ---- one layer ---- */

struct push_stream {
	store_t *st;
	const reg_opts_t *o;
	reg_client_t *c; /* NULL: only make the variants */
	char **diff_ids;
	size_t n;
	store_variant_t *out;
	bool *uploaded;
	ring_t ring;
	digest_ctx_t *sha; /* of the bytes sent (checked against the variant's) */
	uint64_t sent;
	int arms; /* of the PATCH: a second one would replay the stream */
	size_t cur;
	int grc; /* the gzip's */
	cb_error_t gerr;
	int rc;
	cb_error_t err;
	pthread_t t;
};

static void *gz_main(void *arg)
{
	push_stream_t *ps = arg;
	ps->grc = store_variant_gzip_tee(ps->st, ps->diff_ids[ps->cur], ring_put, &ps->ring,
					 &ps->out[ps->cur], &ps->gerr);
	ring_end(&ps->ring, false);
	return NULL;
}

static ssize_t body_read(reg_xfer_t *xf, char *buf, size_t len)
{
	push_stream_t *ps = xf->ud;
	size_t n = ring_get(&ps->ring, buf, len);
	digest_update(ps->sha, buf, n);
	ps->sent += n;
	return (ssize_t)n;
}

static int patch_prepare(reg_xfer_t *xf, cb_error_t *err)
{
	push_stream_t *ps = xf->ud;
	if (ps->arms++ > 0)
		return cb_error_fail(err, REPLAY, "a streamed upload cannot be sent again");
	return 0;
}

static int accept_any(reg_xfer_t *xf, cb_error_t *err)
{
	(void)xf;
	(void)err;
	return 0;
}

/* The answer's Location, resolved (NULL with err when there is none). */
static char *location(const reg_xfer_t *xf, cb_error_t *err)
{
	if (!xf->location) {
		cb_error_fail(err, EPROTO, "upload: no Location in the answer");
		return NULL;
	}
	return reg_url_resolve(xf->effective_url ? xf->effective_url : xf->url, xf->location, err);
}

/* A registry that takes no streamed body: 405/501 (no PATCH), 411
 * (Length Required), 415/416, or 400 SIZE_INVALID (a Content-Length is
 * demanded: seen from registries that refused docker's own chunked PATCH
 * until they were fixed). */
static bool unsupported(const reg_xfer_t *xf)
{
	long s = xf->status;
	if (s == 400)
		return xf->resp.data && memmem(xf->resp.data, xf->resp.len, "SIZE_INVALID", 12);
	return s == 405 || s == 501 || s == 411 || s == 415 || s == 416;
}

/* POST, then the PATCH that carries the stream. 0 with *loc (where to PUT),
 * 1: fall back (nothing said), -1 with err. */
static int stream_body(push_stream_t *ps, char **loc, cb_error_t *err)
{
	reg_xfer_t xf;
	reg_xfer_init(&xf, "POST", reg_client_url(ps->c, "blobs/uploads/"));
	xf.small = true;
	cb_error_t e = CB_ERROR_INIT;
	char *u = reg_client_run1(ps->c, &xf, &e) == 0 ? location(&xf, &e) : NULL;
	if (!u) { /* today's path tries again, and says why it fails */
		cb_error_release(&e);
		reg_xfer_release(&xf);
		return 1;
	}
	reg_xfer_rearm(&xf, "PATCH", u);
	reg_xfer_add_header(&xf, "Content-Type: application/octet-stream");
	reg_xfer_add_header(&xf, "Transfer-Encoding: chunked");
	xf.has_body = true;
	xf.body_read = body_read;
	xf.ud = ps;
	xf.max_attempts = 1;
	xf.prepare = patch_prepare;
	xf.done = accept_any;
	ps->arms = 0;
	int r = reg_client_run1(ps->c, &xf, &e);
	if (r < 0 && e.code == REPLAY) {
		cb_error_release(&e);
		r = 1;
	} else if (r < 0) {
		cb_error_move(err, &e);
	} else if (xf.status == 202) {
		*loc = location(&xf, err);
		r = *loc ? 0 : -1;
	} else if (unsupported(&xf)) {
		r = 1;
	} else {
		r = reg_http_error(&xf, "streamed upload", err);
	}
	reg_xfer_release(&xf);
	return r;
}

/* The session's end: PUT ?digest= (the registry checks the bytes). */
static int stream_put(push_stream_t *ps, const char *loc, const char *digest, cb_error_t *err)
{
	reg_xfer_t xf;
	reg_xfer_init(&xf, "PUT", reg_url_add_query(loc, "digest", digest));
	reg_xfer_add_header(&xf, "Content-Type: application/octet-stream");
	xf.has_body = true; /* empty */
	xf.small = true;
	int r = reg_client_run1(ps->c, &xf, err);
	reg_xfer_release(&xf);
	return r;
}

/* The variant of diff_ids[cur], made and (maybe) uploaded. */
static int one_layer(push_stream_t *ps, cb_error_t *err)
{
	size_t k = ps->cur;
	ring_reset(&ps->ring);
	digest_reset(ps->sha);
	ps->sent = 0;
	pthread_t t;
	if (pthread_create(&t, NULL, gz_main, ps) != 0)
		CB_BUG("pthread_create failed");
	_cleanup_free_ char *loc = NULL;
	cb_error_t e = CB_ERROR_INIT;
	int u = ps->c ? stream_body(ps, &loc, &e) : 1;
	if (u != 0)
		ring_end(&ps->ring, true); /* the gzip goes on alone */
	pthread_join(t, NULL);
	if (ps->grc < 0) { /* the gzip's error first: the cause */
		cb_error_release(&e);
		cb_error_move(err, &ps->gerr);
		return cb_error_wrap(err, "compress layer");
	}
	const store_variant_t *v = &ps->out[k];
	if (u < 0) {
		cb_error_move(err, &e);
		return cb_error_wrap(err, "upload blob '%s' (streamed as it was compressed)", v->digest);
	}
	if (u > 0 || ps->sent == 0) /* fallback, or a variant recorded already */
		return 0;
	char got[DIGEST_STR_LEN + 1];
	digest_final(ps->sha, got);
	if (ps->sent != (uint64_t)v->size || strcmp(got, v->digest))
		return cb_error_fail(err, EBADMSG,
				     "streamed upload of '%s' sent %s (%llu bytes), not the variant",
				     v->digest, got, (unsigned long long)ps->sent);
	if (stream_put(ps, loc, v->digest, err) < 0)
		return cb_error_wrap(err, "upload blob '%s' (streamed as it was compressed)",
				     v->digest);
	ps->uploaded[k] = true;
	return 0;
}

static void *stream_main(void *arg)
{
	push_stream_t *ps = arg;
	for (ps->cur = 0; ps->rc == 0 && ps->cur < ps->n; ps->cur++)
		ps->rc = one_layer(ps, &ps->err);
	return NULL;
}

push_stream_t *push_stream_start(store_t *st, char *const *diff_ids, const char *domain,
				 const char *path, const reg_opts_t *o)
{
	push_stream_t *ps = cb_xcalloc(1, sizeof(*ps));
	ps->st = st;
	ps->o = o;
	for (size_t i = 0; diff_ids[i]; i++)
		ps->diff_ids = cb_strv_push(ps->diff_ids, diff_ids[i]);
	ps->n = cb_strv_len(ps->diff_ids);
	ps->out = cb_xcalloc(ps->n + 1, sizeof(*ps->out));
	ps->uploaded = cb_xcalloc(ps->n + 1, sizeof(*ps->uploaded));
	ps->gerr = (cb_error_t)CB_ERROR_INIT;
	ps->err = (cb_error_t)CB_ERROR_INIT;
	pthread_mutex_init(&ps->ring.mu, NULL);
	pthread_cond_init(&ps->ring.cv, NULL);
	ps->ring.buf = cb_xmalloc(RING_CAP);
	ps->sha = digest_new();
	/* a client of its own: one client is driven by one thread */
	cb_error_t e = CB_ERROR_INIT;
	if (reg_client_open(domain, path, "pull,push", NULL, o, &ps->c, &e) < 0)
		ps->c = NULL;
	cb_error_release(&e);
	if (pthread_create(&ps->t, NULL, stream_main, ps) != 0)
		CB_BUG("pthread_create failed");
	return ps;
}

int push_stream_finish(push_stream_t *ps, store_variant_t *out, bool *uploaded,
		       cb_error_t *err)
{
	pthread_join(ps->t, NULL);
	int r = ps->rc;
	if (r < 0)
		cb_error_move(err, &ps->err);
	for (size_t i = 0; r == 0 && i < ps->n; i++) {
		out[i] = ps->out[i];
		uploaded[i] = ps->uploaded[i];
	}
	reg_client_free(ps->c);
	digest_free(ps->sha);
	free(ps->ring.buf);
	pthread_mutex_destroy(&ps->ring.mu);
	pthread_cond_destroy(&ps->ring.cv);
	cb_error_release(&ps->gerr);
	cb_error_release(&ps->err);
	cb_strv_free(ps->diff_ids);
	free(ps->out);
	free(ps->uploaded);
	free(ps);
	return r;
}
