/*
 * The output pipeline of a snapshot: tar bytes -> sha256 (diff_id) ->
 * compression -> blob writer (sha256 of the blob, temp file, rename).
 *
 * gzip is compressed in parallel the way pigz does it: the tar stream is cut
 * into fixed 128 KiB blocks, each block is deflated independently as raw
 * deflate primed with the previous 32 KiB as dictionary and ended with a
 * sync flush (the last one with Z_FINISH), and the pieces are concatenated
 * behind one gzip header, with the CRC-32 combined per block
 * (crc32_combine). Block boundaries depend only on the byte count, so the
 * output is the same whatever the number of threads or their timing.
 *
 * zstd uses libzstd's own workers; with nbWorkers >= 1 its output does not
 * depend on the number of workers either.
 */
#include "store/layer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "store/compress_lazy.h"

#define GZ_BLOCK (128u * 1024)
#define GZ_DICT (32u * 1024)
#define PLAIN_BUF (1u << 20)

typedef struct gz_slot {
	unsigned char *in;
	size_t in_len;
	unsigned char dict[GZ_DICT];
	size_t dict_len;
	unsigned char *out;
	size_t out_cap, out_len;
	uint32_t crc;
	bool last;
	int state; /* 0 free, 1 queued, 2 working, 3 done */
	int zerr;
} gz_slot_t;

typedef struct gz_pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	gz_slot_t *slots;
	size_t nslots;
	uint64_t next_submit, next_take, next_retire; /* sequence numbers */
	pthread_t *threads;
	int nthreads;
	int level;
	bool stop;
	z_stream helper; /* the producer's own, when it helps compressing */
	bool helper_ok;
	uint32_t crc;
	uint64_t isize;
} gz_pool_t;

struct lsink {
	layer_opts_t opts;
	store_blob_writer_t *bw;
	digest_ctx_t *diff; /* NULL for NONE: the blob digest is the diff_id */
	unsigned char *buf; /* staging buffer (plain/zstd); gzip uses its slots */
	store_blob_pipe_t *pipe; /* NONE: the writer thread, which owns buf */
	size_t cap, len;
	uint64_t tar_size;
	gz_pool_t *gz;
	ZSTD_CCtx *zc;
	unsigned char *zout;
	size_t zout_cap;
};

/* Compressed output. (--compress none writes the tar through a store blob
 * pipe instead: a writer thread that hashes and writes while the producer
 * walks and reads, so on two cores the copy-out overlaps the walk, the
 * reads and the hash, as `tar | tee | sha256sum` overlaps its processes.) */
static int blob_out(lsink_t *s, const void *data, size_t len, cb_error_t *err)
{
	if (store_blob_writer_write(s->bw, data, len, err) < 0)
		return -1;
	if (s->opts.tee)
		s->opts.tee(s->opts.tee_ctx, data, len);
	return 0;
}

int layer_threads(const layer_opts_t *opts)
{
	if (opts->threads > 0)
		return opts->threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		n = 2;
	if (n > 32)
		n = 32;
	return (int)n;
}

/* ---- parallel gzip ---- */

/* Random or already-compressed data (a tarball inside the layer, media,
 * `head -c 512M /dev/urandom`) does not shrink, and deflate at level 6 burns
 * most of its time searching matches in it. Such a block is stored as-is
 * (deflate level 0): same stream format, decided by the block's bytes alone
 * (so still deterministic), 5-10x faster on that data. */
#define INCOMPRESSIBLE_BITS 7.99

#define PROBE_HEAD 8192

/* log2(x) for a normal x > 0, to within 1e-9: the exponent from the bits,
 * the mantissa m (scaled into [0.707, 1.414]) from ln m = 2 atanh(z),
 * z = (m - 1) / (m + 1), |z| <= 0.172. Its one use is the entropy estimate
 * below, and libm (another library to load at every start) is not linked
 * for it. */
static double log2_of_positive(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	int e = (int)((u >> 52) & 0x7ff) - 1023;
	u = (u & ~(0x7ffULL << 52)) | (1023ULL << 52);
	double m;
	memcpy(&m, &u, sizeof m); /* in [1, 2) */
	if (m > 1.4142135623730951) {
		m /= 2;
		e++;
	}
	double z = (m - 1) / (m + 1), z2 = z * z;
	double atanh_z = z * (1 + z2 * (1.0 / 3 + z2 * (1.0 / 5 + z2 * (1.0 / 7 + z2 * (1.0 / 9)))));
	return e + 2 * atanh_z / 0.6931471805599453;
}

bool layer_block_incompressible(const unsigned char *in, size_t len)
{
	if (len < 4096)
		return false;
	/* four tables, summed after: consecutive equal bytes (text, zeros)
	 * would otherwise make each increment wait for the previous one */
	uint32_t h4[4][256];
	memset(h4, 0, sizeof(h4));
	size_t i = 0;
	/* Text and most binaries lack some byte value within their first
	 * 8 KiB already: that settles it without counting the other 120 KiB
	 * (random data has all 256 there but with odds of 1 in 10^11). */
	size_t head = len < PROBE_HEAD ? len : PROBE_HEAD;
	for (; i + 4 <= head; i += 4) {
		h4[0][in[i]]++;
		h4[1][in[i + 1]]++;
		h4[2][in[i + 2]]++;
		h4[3][in[i + 3]]++;
	}
	for (int b = 0; b < 256; b++)
		if (!(h4[0][b] | h4[1][b] | h4[2][b] | h4[3][b]))
			return false;
	for (; i + 4 <= len; i += 4) {
		h4[0][in[i]]++;
		h4[1][in[i + 1]]++;
		h4[2][in[i + 2]]++;
		h4[3][in[i + 3]]++;
	}
	for (; i < len; i++)
		h4[0][in[i]]++;
	size_t hist[256];
	for (int b = 0; b < 256; b++)
		hist[b] = (size_t)h4[0][b] + h4[1][b] + h4[2][b] + h4[3][b];
	double bits = 0;
	for (int b = 0; b < 256; b++) {
		if (!hist[b])
			return false; /* a byte value never seen: not uniform */
		double p = (double)hist[b] / (double)len;
		bits -= p * log2_of_positive(p);
	}
	return bits > INCOMPRESSIBLE_BITS;
}

static int gz_compress(z_stream *zs, gz_slot_t *s, int level)
{
	if (deflateReset(zs) != Z_OK)
		return -1;
	int want = layer_block_incompressible(s->in, s->in_len) ? 0 : level;
	if (deflateParams(zs, want, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	/* a stored block refers to nothing before it: priming would only
	 * hash 32 KiB for nothing */
	if (want && s->dict_len && deflateSetDictionary(zs, s->dict, (uInt)s->dict_len) != Z_OK)
		return -1;
	s->crc = (uint32_t)crc32(0L, s->in, (uInt)s->in_len);
	zs->next_in = s->in;
	zs->avail_in = (uInt)s->in_len;
	s->out_len = 0;
	int flush = s->last ? Z_FINISH : Z_SYNC_FLUSH;
	for (;;) {
		if (s->out_cap - s->out_len < 64) {
			s->out_cap *= 2;
			s->out = cb_xrealloc(s->out, s->out_cap);
		}
		zs->next_out = s->out + s->out_len;
		zs->avail_out = (uInt)(s->out_cap - s->out_len);
		int rc = deflate(zs, flush);
		s->out_len = s->out_cap - zs->avail_out;
		if (rc == Z_STREAM_END)
			return 0;
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return -1;
		/* a sync flush is complete once deflate leaves output room over */
		if (flush == Z_SYNC_FLUSH && zs->avail_in == 0 && zs->avail_out > 0)
			return 0;
	}
}

static void *gz_worker(void *arg)
{
	gz_pool_t *p = arg;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	bool ok = deflateInit2(&zs, p->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next_take == p->next_submit)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		gz_slot_t *s = &p->slots[p->next_take++ % p->nslots];
		s->state = 2;
		pthread_mutex_unlock(&p->mu);
		int rc = ok ? gz_compress(&zs, s, p->level) : -1;
		pthread_mutex_lock(&p->mu);
		s->zerr = rc;
		s->state = 3;
		pthread_cond_broadcast(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (ok)
		deflateEnd(&zs);
	return NULL;
}

static gz_pool_t *gz_new(int level, int nthreads)
{
	gz_pool_t *p = cb_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->level = level;
	p->nslots = (size_t)nthreads * 4 + 4;
	p->slots = cb_xcalloc(p->nslots, sizeof(*p->slots));
	for (size_t i = 0; i < p->nslots; i++) {
		p->slots[i].in = cb_xmalloc(GZ_BLOCK);
		p->slots[i].out_cap = deflateBound(NULL, GZ_BLOCK) + 1024;
		p->slots[i].out = cb_xmalloc(p->slots[i].out_cap);
	}
	p->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	p->threads = cb_xcalloc((size_t)nthreads, sizeof(pthread_t));
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, gz_worker, p) != 0)
			CB_BUG("pthread_create failed");
		p->nthreads++;
	}
	return p;
}

static void gz_free(gz_pool_t *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	if (p->helper_ok)
		deflateEnd(&p->helper);
	for (size_t i = 0; i < p->nslots; i++) {
		free(p->slots[i].in);
		free(p->slots[i].out);
	}
	free(p->slots);
	free(p->threads);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	free(p);
}

static gz_slot_t *gz_current(gz_pool_t *p)
{
	return &p->slots[p->next_submit % p->nslots];
}

/* Wait for the oldest block in flight and write it out. */
static int gz_retire_one(lsink_t *s, cb_error_t *err)
{
	gz_pool_t *p = s->gz;
	gz_slot_t *slot = &p->slots[p->next_retire % p->nslots];
	pthread_mutex_lock(&p->mu);
	while (slot->state != 3) {
		if (p->next_take == p->next_submit) {
			pthread_cond_wait(&p->done_cv, &p->mu);
			continue;
		}
		/* rather than sleep while blocks wait in the queue, compress one
		 * here: on a busy machine the workers may not get a CPU soon */
		gz_slot_t *q = &p->slots[p->next_take++ % p->nslots];
		q->state = 2;
		pthread_mutex_unlock(&p->mu);
		if (!p->helper_ok)
			p->helper_ok = deflateInit2(&p->helper, p->level, Z_DEFLATED, -15, 8,
						    Z_DEFAULT_STRATEGY) == Z_OK;
		int rc = p->helper_ok ? gz_compress(&p->helper, q, p->level) : -1;
		pthread_mutex_lock(&p->mu);
		q->zerr = rc;
		q->state = 3;
	}
	pthread_mutex_unlock(&p->mu);
	if (slot->zerr < 0)
		return cb_error_set(err, EIO, "gzip compression failed");
	p->crc = (uint32_t)crc32_combine(p->crc, slot->crc, (z_off_t)slot->in_len);
	p->isize += slot->in_len;
	slot->state = 0;
	p->next_retire++;
	return blob_out(s, slot->out, slot->out_len, err);
}

/* Queue the current slot and prepare the next one (primed with the last
 * 32 KiB of this one). */
static int gz_submit(lsink_t *s, bool last, cb_error_t *err)
{
	gz_pool_t *p = s->gz;
	gz_slot_t *cur = gz_current(p);
	if (s->diff)
		digest_update(s->diff, cur->in, cur->in_len);
	cur->last = last;
	pthread_mutex_lock(&p->mu);
	cur->state = 1;
	p->next_submit++;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	gz_slot_t *next = gz_current(p);
	if (next->state != 0 && gz_retire_one(s, err) < 0)
		return -1;
	if (last)
		return 0;
	size_t d = cur->in_len < GZ_DICT ? cur->in_len : GZ_DICT;
	/* a short block can only be the last one, so the dictionary is always
	 * the 32 KiB just before the next block */
	memcpy(next->dict, cur->in + cur->in_len - d, d);
	next->dict_len = d;
	next->in_len = 0;
	return 0;
}

static int gz_finish(lsink_t *s, cb_error_t *err)
{
	gz_pool_t *p = s->gz;
	if (gz_submit(s, true, err) < 0)
		return -1;
	while (p->next_retire < p->next_submit)
		if (gz_retire_one(s, err) < 0)
			return -1;
	unsigned char tr[8];
	uint32_t c = p->crc, n = (uint32_t)p->isize;
	for (int i = 0; i < 4; i++) {
		tr[i] = (unsigned char)(c >> (8 * i));
		tr[4 + i] = (unsigned char)(n >> (8 * i));
	}
	return blob_out(s, tr, sizeof(tr), err);
}

/* ---- zstd ---- */

static int zstd_push(lsink_t *s, const void *data, size_t len, ZSTD_EndDirective mode,
		     cb_error_t *err)
{
	ZSTD_inBuffer in = {data, len, 0};
	for (;;) {
		ZSTD_outBuffer out = {s->zout, s->zout_cap, 0};
		size_t rem = ZSTD_compressStream2(s->zc, &out, &in, mode);
		if (ZSTD_isError(rem))
			return cb_error_set(err, EIO, "zstd compression: %s", ZSTD_getErrorName(rem));
		if (out.pos && blob_out(s, s->zout, out.pos, err) < 0)
			return -1;
		if (mode == ZSTD_e_end ? rem == 0 : in.pos == in.size)
			return 0;
	}
}

/* ---- the sink ---- */

lsink_t *lsink_new(store_t *st, const layer_opts_t *opts, cb_error_t *err)
{
	lsink_t *s = cb_xcalloc(1, sizeof(*s));
	s->opts = *opts;
	if (opts->hash_only) { /* the tar's bytes go to sha256 only */
		s->cap = PLAIN_BUF;
		s->buf = cb_xmalloc(s->cap);
		s->diff = digest_new();
		return s;
	}
	s->bw = store_blob_writer_new(st, err);
	if (!s->bw) {
		free(s);
		return NULL;
	}
	int nthreads = layer_threads(opts);
	switch (opts->compression) {
	case LAYER_COMPRESS_NONE:
		break;
	case LAYER_COMPRESS_GZIP: {
		int level = opts->level ? opts->level : LAYER_GZIP_LEVEL;
		if (level < 1 || level > 9) {
			lsink_abort(s);
			cb_error_set(err, EINVAL, "gzip level %d out of range 1-9", level);
			return NULL;
		}
		static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
		if (blob_out(s, hdr, sizeof(hdr), err) < 0) {
			lsink_abort(s);
			return NULL;
		}
		s->gz = gz_new(level, nthreads);
		break;
	}
	case LAYER_COMPRESS_ZSTD: {
		int level = opts->level ? opts->level : 3;
		/* libzstd would clamp an out-of-range level silently */
		if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
			lsink_abort(s);
			cb_error_set(err, EINVAL, "zstd level %d out of range %d-%d", level,
				     ZSTD_minCLevel(), ZSTD_maxCLevel());
			return NULL;
		}
		/* each zstd worker holds a few MB of job buffers: stay well
		 * under 64 MB whatever the machine */
		if (nthreads > 4)
			nthreads = 4;
		s->zc = ZSTD_createCCtx();
		if (!s->zc)
			CB_BUG("ZSTD_createCCtx failed");
		size_t r1 = ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, level);
		/* nbWorkers >= 1 keeps the output the same for any count */
		size_t r2 = ZSTD_CCtx_setParameter(s->zc, ZSTD_c_nbWorkers, nthreads);
		/* a fixed job size keeps memory flat (the default grows with the
		 * window: 100+ MB with two workers) and the output independent of
		 * the worker count */
		if (!ZSTD_isError(r2))
			r2 = ZSTD_CCtx_setParameter(s->zc, ZSTD_c_jobSize, 2 << 20);
		if (ZSTD_isError(r1) || ZSTD_isError(r2)) {
			lsink_abort(s);
			cb_error_set(err, EINVAL, "zstd level %d / %d threads: %s", level, nthreads,
				     ZSTD_getErrorName(ZSTD_isError(r1) ? r1 : r2));
			return NULL;
		}
		s->zout_cap = ZSTD_CStreamOutSize();
		s->zout = cb_xmalloc(s->zout_cap);
		break;
	}
	}
	if (opts->compression == LAYER_COMPRESS_NONE) {
		s->pipe = store_blob_pipe_new(s->bw, PLAIN_BUF);
		s->buf = store_blob_pipe_buf(s->pipe);
		s->cap = PLAIN_BUF;
	} else if (!s->gz) {
		s->cap = PLAIN_BUF;
		s->buf = cb_xmalloc(s->cap);
	}
	if (opts->compression != LAYER_COMPRESS_NONE && !opts->diff_id)
		s->diff = digest_new();
	return s;
}

static int flush_plain(lsink_t *s, cb_error_t *err)
{
	if (!s->len)
		return 0;
	int rc;
	if (s->pipe) {
		rc = store_blob_pipe_submit(s->pipe, s->len, err);
		s->buf = store_blob_pipe_buf(s->pipe);
	} else if (s->opts.hash_only) {
		digest_update(s->diff, s->buf, s->len);
		rc = 0;
	} else if (s->zc) {
		if (s->diff)
			digest_update(s->diff, s->buf, s->len);
		rc = zstd_push(s, s->buf, s->len, ZSTD_e_continue, err);
	} else {
		rc = blob_out(s, s->buf, s->len, err);
	}
	s->len = 0;
	return rc;
}

void *lsink_reserve(lsink_t *s, size_t *avail)
{
	if (s->gz) {
		gz_slot_t *cur = gz_current(s->gz);
		*avail = GZ_BLOCK - cur->in_len;
		return cur->in + cur->in_len;
	}
	*avail = s->cap - s->len;
	return s->buf + s->len;
}

int lsink_commit(lsink_t *s, size_t n, cb_error_t *err)
{
	s->tar_size += n;
	if (s->gz) {
		gz_slot_t *cur = gz_current(s->gz);
		cur->in_len += n;
		if (cur->in_len == GZ_BLOCK)
			return gz_submit(s, false, err);
		return 0;
	}
	s->len += n;
	if (s->len == s->cap)
		return flush_plain(s, err);
	return 0;
}

int lsink_write(lsink_t *s, const void *data, size_t len, cb_error_t *err)
{
	const unsigned char *p = data;
	while (len) {
		size_t avail;
		unsigned char *dst = lsink_reserve(s, &avail);
		size_t n = len < avail ? len : avail;
		memcpy(dst, p, n);
		if (lsink_commit(s, n, err) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int lsink_finish(lsink_t *s, layer_result_t *res, cb_error_t *err)
{
	int rc = 0;
	if (s->gz)
		rc = gz_finish(s, err);
	else if (flush_plain(s, err) < 0)
		rc = -1;
	else if (s->zc)
		rc = zstd_push(s, NULL, 0, ZSTD_e_end, err);
	else if (s->pipe)
		rc = store_blob_pipe_finish(s->pipe, err);
	if (rc < 0) {
		lsink_abort(s);
		return -1;
	}
	layer_result_t r;
	memset(&r, 0, sizeof(r));
	r.tar_size = (int64_t)s->tar_size;
	r.media_type = layer_media_type(s->opts.compression);
	if (s->opts.hash_only) {
		digest_final(s->diff, r.diff_id);
		memcpy(r.digest, r.diff_id, sizeof(r.digest));
		r.size = r.tar_size;
		*res = r;
		lsink_abort(s);
		return 0;
	}
	r.size = (int64_t)store_blob_writer_size(s->bw);
	store_blob_writer_t *bw = s->bw;
	s->bw = NULL;
	rc = s->opts.batch ? store_blob_batch_add(s->opts.batch, bw, NULL, r.digest, err)
			   : store_blob_writer_commit(bw, NULL, r.digest, err);
	if (rc == 0) {
		if (s->diff)
			digest_final(s->diff, r.diff_id);
		else if (s->opts.diff_id && s->opts.compression != LAYER_COMPRESS_NONE)
			snprintf(r.diff_id, sizeof(r.diff_id), "%s", s->opts.diff_id);
		else
			memcpy(r.diff_id, r.digest, sizeof(r.diff_id));
		*res = r;
	}
	lsink_abort(s);
	return rc;
}

void lsink_abort(lsink_t *s)
{
	if (!s)
		return;
	gz_free(s->gz);
	if (s->zc)
		ZSTD_freeCCtx(s->zc);
	/* the writer thread uses the blob's fd: stop it first */
	if (s->pipe)
		store_blob_pipe_free(s->pipe);
	else
		free(s->buf);
	store_blob_writer_abort(s->bw);
	digest_free(s->diff);
	free(s->zout);
	free(s);
}

/* ---- compression names ---- */

int layer_compress_parse(const char *name, layer_compress_t *out, cb_error_t *err)
{
	if (!strcmp(name, "gzip"))
		*out = LAYER_COMPRESS_GZIP;
	else if (!strcmp(name, "zstd"))
		*out = LAYER_COMPRESS_ZSTD;
	else if (!strcmp(name, "none") || !strcmp(name, "uncompressed"))
		*out = LAYER_COMPRESS_NONE;
	else
		return cb_error_set(err, EINVAL,
				    "unknown compression '%s' (use gzip, zstd or none)", name);
	return 0;
}

const char *layer_media_type(layer_compress_t c)
{
	switch (c) {
	case LAYER_COMPRESS_NONE:
		return LAYER_MT_TAR;
	case LAYER_COMPRESS_ZSTD:
		return LAYER_MT_ZSTD;
	case LAYER_COMPRESS_GZIP:
	default:
		return LAYER_MT_GZIP;
	}
}
