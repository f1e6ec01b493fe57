/*
 * store/blob_pipe.c - a blob writer on its own thread.
 *
 * Writing a blob is sha256 + write(2), and the write copies every byte into
 * the page cache: for a 512 MiB blob about 0.35 s of hashing plus as much
 * again of copying. Done on the thread that produces the bytes (a snapshot
 * reading files, a pull receiving from the socket), that work stalls the
 * producer; here the producer fills one buffer while the thread hashes and
 * writes the one before, so on two cores the two halves overlap, as
 * `curl | tee | sha256sum` overlaps its processes.
 */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/util.h"

#define PIPE_NBUF 4

struct store_blob_pipe {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	store_blob_writer_t *bw; /* borrowed: the caller commits or aborts it */
	unsigned char *buf[PIPE_NBUF];
	size_t len[PIPE_NBUF];
	size_t buf_size;
	uint64_t submitted, written; /* buffers */
	uint64_t bytes;              /* bytes submitted */
	cb_error_t error;            /* the first failed write; later buffers are dropped */
	bool failed, stop, joined;
};

static void *pipe_main(void *arg)
{
	store_blob_pipe_t *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->written == p->submitted)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->written == p->submitted)
			break;
		size_t i = p->written % PIPE_NBUF;
		bool failed = p->failed;
		pthread_mutex_unlock(&p->mu);
		cb_error_t e = CB_ERROR_INIT;
		int rc = failed ? 0 : store_blob_writer_write(p->bw, p->buf[i], p->len[i], &e);
		pthread_mutex_lock(&p->mu);
		if (rc < 0) {
			p->failed = true;
			cb_error_move(&p->error, &e);
		}
		p->written++;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

store_blob_pipe_t *store_blob_pipe_new(store_blob_writer_t *bw, size_t buf_size)
{
	store_blob_pipe_t *p = cb_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (int i = 0; i < PIPE_NBUF; i++)
		p->buf[i] = cb_xmalloc(buf_size);
	p->buf_size = buf_size;
	p->bw = bw;
	if (pthread_create(&p->thread, NULL, pipe_main, p) != 0)
		CB_BUG("pthread_create failed");
	return p;
}

unsigned char *store_blob_pipe_buf(store_blob_pipe_t *p)
{
	return p->buf[p->submitted % PIPE_NBUF];
}

size_t store_blob_pipe_buf_size(const store_blob_pipe_t *p)
{
	return p->buf_size;
}

uint64_t store_blob_pipe_bytes(const store_blob_pipe_t *p)
{
	return p->bytes;
}

/* The thread's first error, copied into err. Called with mu held. */
static int pipe_error(store_blob_pipe_t *p, cb_error_t *err)
{
	if (!p->failed)
		return 0;
	return cb_error_set(err, p->error.code, "%s", p->error.msg ? p->error.msg : "write blob");
}

int store_blob_pipe_submit(store_blob_pipe_t *p, size_t len, cb_error_t *err)
{
	if (len > p->buf_size)
		CB_BUG("blob pipe: %zu bytes in a %zu-byte buffer", len, p->buf_size);
	pthread_mutex_lock(&p->mu);
	p->len[p->submitted % PIPE_NBUF] = len;
	p->submitted++;
	p->bytes += len;
	pthread_cond_broadcast(&p->cv);
	while (p->submitted - p->written >= PIPE_NBUF)
		pthread_cond_wait(&p->cv, &p->mu);
	int rc = pipe_error(p, err);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int store_blob_pipe_drain(store_blob_pipe_t *p, cb_error_t *err)
{
	pthread_mutex_lock(&p->mu);
	while (p->written != p->submitted)
		pthread_cond_wait(&p->cv, &p->mu);
	int rc = pipe_error(p, err);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int store_blob_pipe_finish(store_blob_pipe_t *p, cb_error_t *err)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->joined = true;
	return pipe_error(p, err);
}

void store_blob_pipe_free(store_blob_pipe_t *p)
{
	if (!p)
		return;
	if (!p->joined) {
		cb_error_t e = CB_ERROR_INIT;
		store_blob_pipe_finish(p, &e);
		cb_error_release(&e);
	}
	for (int i = 0; i < PIPE_NBUF; i++)
		free(p->buf[i]);
	cb_error_release(&p->error);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
