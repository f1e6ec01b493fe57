/*
 * builder/committer.c - a build's layer blobs, images and cache entries,
 * written behind the steps.
 *
 * What the next step needs from a RUN's snapshot is its diff_id (the name
 * of the unpacked layer, the config's rootfs) and the upper directory kept
 * as that layer: both come from one pass that walks the upper and hashes
 * its tar (bld_snap_layer). The compressed blob, which only the step's
 * manifest needs, is written by one committer thread from the same tree,
 * now read-only in layers/sha256/DIFFID, while the next steps run. The
 * walk is deterministic, so the blob is byte for byte the one a
 * synchronous snapshot writes; the tar is hashed once, by the first pass
 * (the second checks its size).
 *
 * The thread takes jobs in order (FIFO), so every layer a commit names was
 * written by an earlier job: a step's manifest, config and layer blob go
 * into one blob batch, published with parallel fdatasyncs, among them the
 * fsync of blobs/ that makes the previous step's names durable (one
 * journal commit a step, instead of two per blob); the step's cache entry
 * is written once its image's names are durable (after the next step's
 * publish, or at the build's end), without fsync (a lost entry is a
 * miss). A kill at any point leaves complete blobs in blobs/ and entries
 * naming only those; the rest is garbage in tmp/.
 *
 * A plain layer (kept uncompressed until push: builder/plain_layer.c) is
 * written by its step in that one pass; only its publish comes here
 * (bld_committer_add_blob), so its fdatasync shares the step's commit too.
 *
 * Until the end of the build a pending layer is a descriptor whose digest
 * is its diff_id and whose size is -1, and a pending state's
 * manifest_digest is "pending:SEQ"; bld_committer_resolve fills in the
 * real ones after bld_committer_drain.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "builder/steps.h"
#include "common/fs.h"
#include "common/util.h"

#define PENDING_PREFIX "pending:"
/* Layers waiting for compression at most: the next steps run ahead of the
 * compressor by this much, no more (each waits on disk, not in memory). */
#define MAX_QUEUED_LAYERS 3

typedef enum { JOB_LAYER, JOB_BLOB, JOB_COMMIT, JOB_CACHE, JOB_TRAIL } job_kind_t;

typedef struct job {
	struct job *next;
	job_kind_t kind;
	char *path;    /* LAYER: the unpacked layer */
	char **lowers; /* LAYER: below it, top-most first */
	char diff_id[DIGEST_STR_LEN + 1];
	int64_t tar_size;
	layer_opts_t lo;      /* LAYER: how its blob is written */
	oci_config_t *config; /* COMMIT */
	oci_descriptor_t *layers;
	size_t n_layers;
	uint64_t seq;
	char key[DIGEST_STR_LEN + 1];     /* CACHE, TRAIL */
	char md[DIGEST_STR_LEN + 1];      /* CACHE, TRAIL: maybe pending */
	char *text;                       /* CACHE: description; TRAIL: step */
	int stage;                        /* TRAIL */
	store_blob_batch_t *blob;         /* BLOB: the step's blob, written */
	char digest[DIGEST_STR_LEN + 1];  /* BLOB: its digest */
	int64_t size;                     /* BLOB: its size */
} job_t;

typedef struct done_layer {
	char diff_id[DIGEST_STR_LEN + 1];
	char digest[DIGEST_STR_LEN + 1];
	int64_t size;
} done_layer_t;

struct bld_committer {
	build_t *root;
	pthread_t thread;
	bool started; /* the thread runs from the first job on (mu) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job_t *head, *tail;
	/* cache and trail entries that wait until the images they name have
	 * durable names (the thread's own, no lock) */
	job_t *held, **held_tail;
	bool unsynced; /* renames into blobs/ since its last fsync */
	size_t queued_layers;
	bool busy, stop, failed;
	bool draining; /* someone waits for everything: flush the held entries */
	cb_error_t error; /* the first failure; later jobs are dropped */
	uint64_t next_seq;
	/* written by the thread, read under mu */
	char (*manifests)[DIGEST_STR_LEN + 1]; /* by seq - 1 */
	size_t n_manifests;
	done_layer_t *layers;
	size_t n_layers;
};

static void job_free(job_t *j)
{
	free(j->path);
	cb_strv_free(j->lowers);
	oci_config_free(j->config);
	for (size_t i = 0; i < j->n_layers; i++)
		oci_descriptor_release(&j->layers[i]);
	free(j->layers);
	free(j->text);
	store_blob_batch_free(j->blob); /* not handed on: its file goes */
	free(j);
}

static bool is_pending_md(const char *md)
{
	return strncmp(md, PENDING_PREFIX, strlen(PENDING_PREFIX)) == 0;
}

/* ---- the thread's side (mu not held unless said) ---- */

/* The real manifest digest of md (a pending one or not); NULL if unknown. */
static const char *resolve_md(bld_committer_t *c, const char *md)
{
	if (!is_pending_md(md))
		return md;
	uint64_t seq = strtoull(md + strlen(PENDING_PREFIX), NULL, 10);
	return seq >= 1 && seq <= c->n_manifests ? c->manifests[seq - 1] : NULL;
}

static const done_layer_t *find_layer(bld_committer_t *c, const char *diff_id)
{
	for (size_t i = c->n_layers; i-- > 0;)
		if (!strcmp(c->layers[i].diff_id, diff_id))
			return &c->layers[i];
	return NULL;
}

/* Pending descriptors of layers made real; called with mu held. */
static int resolve_layers(bld_committer_t *c, oci_descriptor_t *l, size_t n, cb_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		if (l[i].size >= 0)
			continue;
		const done_layer_t *d = find_layer(c, l[i].digest);
		if (!d)
			return cb_error_fail(err, EIO, "layer '%s' was not written", l[i].digest);
		free(l[i].digest);
		l[i].digest = cb_xstrdup(d->digest);
		l[i].size = d->size;
	}
	return 0;
}

static void add_done_layer(bld_committer_t *c, const char *diff_id, const char *digest, int64_t size)
{
	pthread_mutex_lock(&c->mu);
	c->layers = cb_xreallocarray(c->layers, c->n_layers + 1, sizeof(*c->layers));
	done_layer_t *d = &c->layers[c->n_layers++];
	snprintf(d->diff_id, sizeof(d->diff_id), "%s", diff_id);
	snprintf(d->digest, sizeof(d->digest), "%s", digest);
	d->size = size;
	pthread_mutex_unlock(&c->mu);
}

/* A plain blob the step wrote itself (bld_committer_add_blob): published
 * with the step's manifest, in the same journal commit. */
static void run_blob(bld_committer_t *c, job_t *j, store_blob_batch_t *batch)
{
	store_blob_batch_move(batch, j->blob);
	add_done_layer(c, j->diff_id, j->digest, j->size);
}

static int run_layer(bld_committer_t *c, job_t *j, store_blob_batch_t *batch, cb_error_t *err)
{
	layer_opts_t lo = j->lo;
	lo.hash_only = false;
	lo.batch = batch;
	lo.diff_id = j->diff_id; /* hashed once, by bld_snap_layer */
	layer_result_t res;
	if (layer_write_upper(c->root->st, j->path, (const char *const *)j->lowers, &lo, &res,
			      err) < 0)
		return cb_error_wrap(err, "layer '%s'", j->diff_id);
	/* the tree is read-only since: a size that moved says it was not */
	if (res.tar_size != j->tar_size)
		return cb_error_fail(err, EIO, "layer '%s' changed before it was written (%" PRId64
					       " bytes, then %" PRId64 ")",
				     j->diff_id, j->tar_size, res.tar_size);
	add_done_layer(c, res.diff_id, res.digest, res.size);
	return 0;
}

static int run_commit(bld_committer_t *c, job_t *j, store_blob_batch_t *batch, cb_error_t *err)
{
	pthread_mutex_lock(&c->mu);
	int rc = resolve_layers(c, j->layers, j->n_layers, err);
	pthread_mutex_unlock(&c->mu);
	if (rc < 0)
		return -1;
	image_t *img = image_commit_in(c->root->st, batch, j->config, j->layers, j->n_layers,
				       c->root->o->docker_format, err);
	if (!img)
		return -1;
	/* the layer, config and manifest made durable together, with the
	 * names of the step before (one journal commit) */
	rc = store_blob_batch_publish_lazy(batch, err);
	if (rc == 0) {
		pthread_mutex_lock(&c->mu);
		c->manifests = cb_xreallocarray(c->manifests, c->n_manifests + 1,
						sizeof(*c->manifests));
		snprintf(c->manifests[c->n_manifests++], DIGEST_STR_LEN + 1, "%s",
			 img->manifest_digest);
		pthread_mutex_unlock(&c->mu);
	}
	image_free(img);
	return rc;
}

static int run_job(bld_committer_t *c, job_t *j, store_blob_batch_t *batch, cb_error_t *err)
{
	const char *md = NULL;
	if (j->kind == JOB_CACHE || j->kind == JOB_TRAIL) {
		pthread_mutex_lock(&c->mu);
		md = resolve_md(c, j->md);
		pthread_mutex_unlock(&c->mu);
		if (!md)
			return cb_error_fail(err, EIO, "image '%s' was not written", j->md);
	}
	switch (j->kind) {
	case JOB_LAYER:
		return run_layer(c, j, batch, err);
	case JOB_BLOB:
		run_blob(c, j, batch);
		return 0;
	case JOB_COMMIT:
		return run_commit(c, j, batch, err);
	case JOB_CACHE:
		return bld_cache_store_sync(c->root->st, j->key, md, j->text, false, err);
	case JOB_TRAIL:
		bld_cache_trail_add(c->root, j->stage, j->key, md, j->text);
		return 0;
	}
	return 0;
}

/* The held entries: the images they name have durable names now. */
static int run_held(bld_committer_t *c, store_blob_batch_t *batch, cb_error_t *err)
{
	int rc = 0;
	while (c->held) {
		job_t *j = c->held;
		c->held = j->next;
		if (rc == 0)
			rc = run_job(c, j, batch, err);
		job_free(j);
	}
	c->held_tail = &c->held;
	return rc;
}

/* A job's work. An entry waits (held) while the images before it have
 * names that are not durable yet: a crash must not keep an entry and
 * lose its image's name. A commit makes the names before it durable. */
static int run_or_hold(bld_committer_t *c, job_t **jp, store_blob_batch_t *batch,
		       cb_error_t *err)
{
	job_t *j = *jp;
	if ((j->kind == JOB_CACHE || j->kind == JOB_TRAIL) && c->unsynced) {
		j->next = NULL;
		*c->held_tail = j;
		c->held_tail = &j->next;
		*jp = NULL;
		return 0;
	}
	if (run_job(c, j, batch, err) < 0)
		return -1;
	if (j->kind != JOB_COMMIT)
		return 0;
	c->unsynced = true;
	return run_held(c, batch, err);
}

/* At the end (a drain): make the names durable and write what waited for
 * them. Not when merely idle: the next step's publish does it within its
 * own journal commit. */
static int flush_held(bld_committer_t *c, store_blob_batch_t *batch, cb_error_t *err)
{
	if (store_blobs_sync(c->root->st, err) < 0)
		return -1;
	c->unsynced = false;
	return run_held(c, batch, err);
}

static void *committer_main(void *arg)
{
	bld_committer_t *c = arg;
	store_blob_batch_t *batch = store_blob_batch_new(c->root->st);
	c->held_tail = &c->held;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (!c->stop && !c->head && !c->failed && c->unsynced && c->draining) {
			c->busy = true;
			pthread_mutex_unlock(&c->mu);
			cb_error_t e = CB_ERROR_INIT;
			int rc = flush_held(c, batch, &e);
			pthread_mutex_lock(&c->mu);
			if (rc < 0 && !c->failed) {
				c->failed = true;
				cb_error_move(&c->error, &e);
			}
			cb_error_release(&e);
			c->busy = false;
			pthread_cond_broadcast(&c->cv);
			continue;
		}
		while (!c->stop && !c->head && !(c->draining && c->unsynced && !c->failed))
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->stop && !c->head)
			continue; /* the flush above */
		if (!c->head)
			break;
		job_t *j = c->head;
		c->head = j->next;
		if (!c->head)
			c->tail = NULL;
		bool skip = c->failed || c->stop;
		c->busy = true;
		pthread_mutex_unlock(&c->mu);
		cb_error_t e = CB_ERROR_INIT;
		job_kind_t kind = j->kind;
		int rc = skip ? 0 : run_or_hold(c, &j, batch, &e);
		if (rc < 0 || kind == JOB_COMMIT) { /* a batch per step */
			store_blob_batch_free(batch);
			batch = store_blob_batch_new(c->root->st);
		}
		pthread_mutex_lock(&c->mu);
		if (rc < 0 && !c->failed) {
			c->failed = true;
			cb_error_move(&c->error, &e);
		}
		cb_error_release(&e);
		if (kind == JOB_LAYER)
			c->queued_layers--;
		c->busy = false;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		if (j)
			job_free(j);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	while (c->held) { /* stopped: entries that waited are dropped (misses) */
		job_t *j = c->held;
		c->held = j->next;
		job_free(j);
	}
	store_blob_batch_free(batch);
	return NULL;
}

/* ---- the steps' side ---- */

bld_committer_t *bld_committer_new(build_t *root)
{
	bld_committer_t *c = cb_xcalloc(1, sizeof(*c));
	c->root = root;
	cb_error_t e = CB_ERROR_INIT;
	c->error = e;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	return c;
}

/* Called with mu held. The thread starts with the first job: a build
 * whose every step is a hit queues none, and then pays no thread start and
 * join (at a load of 10 on 2 cores each wake-up waits for a core). */
static void start_thread(bld_committer_t *c)
{
	if (c->started)
		return;
	if (pthread_create(&c->thread, NULL, committer_main, c) != 0)
		CB_BUG("pthread_create failed");
	c->started = true;
}

/* Called with mu held. */
static int committer_error(bld_committer_t *c, cb_error_t *err)
{
	if (!c->failed)
		return 0;
	return cb_error_fail(err, c->error.code ? c->error.code : EIO, "%s",
			     c->error.msg ? c->error.msg : "writing the build's images failed");
}

/* Queue j (taken); fails, dropping j, when an earlier job failed. A
 * commit gets its number here, in queue order: the thread's n-th commit
 * is number n. */
static int enqueue(bld_committer_t *c, job_t *j, uint64_t *seq, cb_error_t *err)
{
	pthread_mutex_lock(&c->mu);
	if (j->kind == JOB_LAYER)
		while (!c->failed && c->queued_layers >= MAX_QUEUED_LAYERS)
			pthread_cond_wait(&c->cv, &c->mu);
	int rc = committer_error(c, err);
	if (rc == 0) {
		start_thread(c);
		if (j->kind == JOB_LAYER)
			c->queued_layers++;
		if (j->kind == JOB_COMMIT)
			*seq = j->seq = ++c->next_seq;
		if (c->tail)
			c->tail->next = j;
		else
			c->head = j;
		c->tail = j;
		pthread_cond_broadcast(&c->cv);
		j = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	if (j)
		job_free(j);
	return rc;
}

int bld_committer_drain(bld_committer_t *c, cb_error_t *err)
{
	pthread_mutex_lock(&c->mu);
	c->draining = true;
	pthread_cond_broadcast(&c->cv);
	while (!c->failed && (c->head || c->busy || c->unsynced))
		pthread_cond_wait(&c->cv, &c->mu);
	c->draining = false;
	int rc = committer_error(c, err);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void bld_committer_free(bld_committer_t *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true; /* queued jobs are dropped: their blobs stay garbage in tmp/ */
	pthread_cond_broadcast(&c->cv);
	bool started = c->started;
	pthread_mutex_unlock(&c->mu);
	if (started)
		pthread_join(c->thread, NULL);
	while (c->head) {
		job_t *j = c->head;
		c->head = j->next;
		job_free(j);
	}
	cb_error_release(&c->error);
	free(c->manifests);
	free(c->layers);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

int bld_committer_commit(bld_committer_t *c, bld_state_t *s, char config_digest[DIGEST_STR_LEN + 1],
			 cb_error_t *err)
{
	job_t *j = cb_xcalloc(1, sizeof(*j));
	j->kind = JOB_COMMIT;
	j->config = oci_config_dup(s->config);
	j->layers = cb_xcalloc(s->n_layers + 1, sizeof(oci_descriptor_t));
	for (size_t i = 0; i < s->n_layers; i++)
		oci_descriptor_copy(&j->layers[i], &s->layers[i]);
	j->n_layers = s->n_layers;
	_cleanup_free_ char *cjson = oci_config_to_json(s->config);
	digest_buffer(cjson, strlen(cjson), config_digest);
	uint64_t seq = 0;
	if (enqueue(c, j, &seq, err) < 0)
		return -1;
	snprintf(s->manifest_digest, sizeof(s->manifest_digest), PENDING_PREFIX "%" PRIu64, seq);
	return 0;
}

int bld_committer_cache(bld_committer_t *c, const char *key, const char *md, const char *desc,
			cb_error_t *err)
{
	job_t *j = cb_xcalloc(1, sizeof(*j));
	j->kind = JOB_CACHE;
	snprintf(j->key, sizeof(j->key), "%s", key);
	snprintf(j->md, sizeof(j->md), "%s", md);
	j->text = desc ? cb_xstrdup(desc) : NULL;
	return enqueue(c, j, NULL, err);
}

int bld_committer_trail(bld_committer_t *c, int stage, const char *key, const char *md,
			const char *step, cb_error_t *err)
{
	job_t *j = cb_xcalloc(1, sizeof(*j));
	j->kind = JOB_TRAIL;
	j->stage = stage;
	snprintf(j->key, sizeof(j->key), "%s", key);
	snprintf(j->md, sizeof(j->md), "%s", md);
	j->text = cb_xstrdup(step);
	return enqueue(c, j, NULL, err);
}

int bld_committer_resolve(bld_committer_t *c, bld_state_t *s, cb_error_t *err)
{
	pthread_mutex_lock(&c->mu);
	int rc = resolve_layers(c, s->layers, s->n_layers, err);
	const char *md = rc == 0 ? resolve_md(c, s->manifest_digest) : NULL;
	if (rc == 0 && !md)
		rc = cb_error_fail(err, EIO, "image '%s' was not written", s->manifest_digest);
	else if (rc == 0 && md != s->manifest_digest)
		snprintf(s->manifest_digest, sizeof(s->manifest_digest), "%s", md);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* ---- the snapshot ---- */

/* The lowers the layer's walk will need, without the snapshot's own empty
 * placeholder (removed with the snapshot; it hides nothing). */
static char **keep_lowers(const bld_snap_t *snap)
{
	char **v = NULL;
	size_t n = strlen(snap->dir);
	for (size_t i = 0; snap->lowers && snap->lowers[i]; i++)
		if (strncmp(snap->lowers[i], snap->dir, n) != 0 || snap->lowers[i][n] != '/')
			v = cb_strv_push(v, snap->lowers[i]);
	return v ? v : cb_xcalloc(1, sizeof(char *));
}

int bld_snap_layer(build_t *b, bld_snap_t *snap, const layer_opts_t *lo, layer_result_t *res,
		   bool *empty, cb_error_t *err)
{
	if (!b->committer || snap->copy || lo->compression == LAYER_COMPRESS_NONE)
		return bld_snap_commit(b->st, snap, lo, res, empty, err);
	bld_snap_unmount_begin(snap);
	*empty = cb_dir_is_empty(snap->upper);
	layer_opts_t hl = *lo;
	hl.hash_only = true;
	if (!*empty && layer_write_upper(b->st, snap->upper, (const char *const *)snap->lowers,
					 &hl, res, err) < 0) {
		bld_snap_unmount_end(snap, NULL);
		return cb_error_wrap(err, "snapshot");
	}
	if (bld_snap_unmount_end(snap, err) < 0)
		return -1;
	if (*empty)
		return 0;
	/* The same layer is already here (built before, or by another
	 * stage): its tree may be an unpacked blob, not this upper, so write
	 * this one's blob now, as without a committer. */
	if (layer_is_unpacked(b->st, res->diff_id))
		return bld_snap_commit(b->st, snap, lo, res, empty, err);
	job_t *j = cb_xcalloc(1, sizeof(*j));
	j->kind = JOB_LAYER;
	j->lo = *lo;
	j->lowers = keep_lowers(snap);
	snprintf(j->diff_id, sizeof(j->diff_id), "%s", res->diff_id);
	j->tar_size = res->tar_size;
	if (bld_snap_adopt(b->st, snap, res, err) < 0) {
		job_free(j);
		return -1;
	}
	j->path = layer_unpacked_path(b->st, res->diff_id);
	res->size = -1; /* pending: the digest is the diff_id until then */
	return enqueue(b->committer, j, NULL, err);
}

int bld_committer_add_blob(bld_committer_t *c, store_blob_batch_t **blob, layer_result_t *res,
			   cb_error_t *err)
{
	job_t *j = cb_xcalloc(1, sizeof(*j));
	j->kind = JOB_BLOB;
	j->blob = cb_steal_pointer(blob);
	snprintf(j->diff_id, sizeof(j->diff_id), "%s", res->diff_id);
	snprintf(j->digest, sizeof(j->digest), "%s", res->digest);
	j->size = res->size;
	/* pending: the digest is the diff_id (as a plain blob's is) until then */
	memcpy(res->digest, res->diff_id, sizeof(res->digest));
	res->size = -1; /* pending: published with the step's manifest */
	return enqueue(c, j, NULL, err);
}
