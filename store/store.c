#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <dirent.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/image.h"
#include "store/json.h"
#include "store/keep.h"
#include "store/mediatype.h"
#include "store/lease.h"
#include "store/store_internal.h"

#define INDEX_MAX (64u << 20)
#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"

char *store_default_root(void)
{
	const char *env = getenv("CBUILD_ROOT");
	if (env && *env)
		return cb_xstrdup(env);
	if (geteuid() == 0)
		return cb_xstrdup("/var/lib/cbuild");
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg)
		return cb_asprintf("%s/cbuild", xdg);
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : "/tmp";
	}
	return cb_asprintf("%s/.local/share/cbuild", home);
}

const char *store_root(const store_t *st)
{
	return st->root;
}

char *store_path(const store_t *st, const char *sub)
{
	return cb_path_join(st->root, sub);
}

/* The layout's first files. Their content is durable before the rename,
 * but the root is not fsynced for their names: if a crash loses one, the
 * next store_open writes it again, and the store's first durable update
 * (a blob batch's syncfs, index.json rewritten with its directory
 * fsynced) carries them. A fresh root costs two fsyncs, not four. */
static int ensure_file(const store_t *st, const char *name, const char *content, cb_error_t *err)
{
	_cleanup_free_ char *p = store_path(st, name);
	if (cb_path_exists(p))
		return 0;
	_cleanup_free_ char *tmp = store_path(st, "tmp/.tmp-XXXXXX");
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "create temporary file for '%s'", p);
	if (cb_write_all(fd, content, strlen(content), err) < 0 || fchmod(fd, 0644) < 0 ||
	    fsync(fd) < 0 || rename(tmp, p) < 0) {
		if (!cb_error_is_set(err))
			cb_error_errno(err, "write '%s'", p);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int store_open(const char *root, store_t **out, cb_error_t *err)
{
	static const char *const dirs[] = {"blobs/sha256", "layers/sha256", "cache",
					   "containers", "volumes", "tmp", "leases"};
	if (cb_mkdir_p(root, 0711, err) < 0)
		return cb_error_wrap(err, "open store '%s'", root);
	char *abs = realpath(root, NULL);
	if (!abs)
		return cb_error_errno(err, "open store '%s'", root);
	store_t *st = cb_xcalloc(1, sizeof(*st));
	st->root = abs;
	st->lock_fd = -1;
	st->lease_fd = -1;
	st->leases_lock_fd = -1;
	/* recursive, as store_lock promises: a caller holding the lock may call
	 * a function that takes it again */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->lock_mu, &ma);
	/* the leases lock too: gc holds it while a stale lease's salvage adds
	 * to our own lease */
	pthread_mutex_init(&st->leases_lock_mu, &ma);
	pthread_mutex_init(&st->lease_mu, &ma);
	pthread_mutexattr_destroy(&ma);
	for (size_t i = 0; i < CB_ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = store_path(st, dirs[i]);
		if (cb_mkdir_p(p, 0700, err) < 0)
			goto fail;
	}
	char *lock = store_path(st, "lock");
	st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		cb_error_errno(err, "open '%s'", lock);
	free(lock);
	if (st->lock_fd < 0)
		goto fail;
	if (ensure_file(st, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", err) < 0)
		goto fail;
	if (ensure_file(st, "index.json", OCI_INDEX_EMPTY(MT_OCI_INDEX), err) < 0)
		goto fail;
	if (store_keep_migrate(st, err) < 0)
		goto fail;
	/* what dead writers left: their leases' tmp/ directories */
	store_tmp_clean(st, NULL);
	*out = st;
	return 0;
fail:
	store_free(st);
	return cb_error_wrap(err, "open store '%s'", root);
}

void store_free(store_t *st)
{
	if (!st)
		return;
	store_lease_end(st);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	if (st->leases_lock_fd >= 0)
		close(st->leases_lock_fd);
	pthread_mutex_destroy(&st->lock_mu);
	pthread_mutex_destroy(&st->lease_mu);
	pthread_mutex_destroy(&st->leases_lock_mu);
	free(st->root);
	free(st);
}

char *store_mkdtemp(store_t *st, const char *prefix, cb_error_t *err)
{
	_cleanup_free_ char *tmp = store_tmp_dir(st);
	return cb_mkdtemp_in(tmp, prefix, err);
}

int store_lock(store_t *st, cb_error_t *err)
{
	pthread_mutex_lock(&st->lock_mu);
	if (st->lock_depth++ > 0)
		return 0;
	while (flock(st->lock_fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		st->lock_depth--;
		pthread_mutex_unlock(&st->lock_mu);
		return cb_error_errno(err, "lock store '%s'", st->root);
	}
	return 0;
}

int store_reopen_lock(store_t *st, cb_error_t *err)
{
	if (st->lock_depth > 0)
		CB_BUG("store_reopen_lock with the lock held");
	_cleanup_free_ char *lock = store_path(st, "lock");
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", lock);
	close(st->lock_fd);
	st->lock_fd = fd;
	return 0;
}

void store_unlock(store_t *st)
{
	if (st->lock_depth <= 0)
		CB_BUG("store_unlock without lock");
	if (--st->lock_depth == 0)
		flock(st->lock_fd, LOCK_UN);
	pthread_mutex_unlock(&st->lock_mu);
}

/* ---- blobs ---- */

char *store_blob_path(const store_t *st, const char *digest)
{
	if (!digest_is_valid(digest))
		CB_BUG("invalid digest '%s'", digest ? digest : "(null)");
	return cb_asprintf("%s/blobs/sha256/%s", st->root, digest_hex(digest));
}

bool store_has_blob(const store_t *st, const char *digest)
{
	if (!digest_is_valid(digest))
		return false;
	/* whoever asks is about to use it (skip a download, reuse a cache
	 * entry): leased, it stays while this process lives */
	return store_lease_has_blob(st, digest);
}

int64_t store_blob_size(const store_t *st, const char *digest, cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	_cleanup_free_ char *p = store_blob_path(st, digest);
	struct stat sb;
	if (stat(p, &sb) < 0)
		return cb_error_errno(err, "blob '%s'", digest);
	return (int64_t)sb.st_size;
}

struct store_blob_writer {
	store_t *st;
	char *tmp_path;
	int fd;
	digest_ctx_t *digest;
	uint64_t size;
	uint64_t kicked; /* bytes handed to writeback */
};

#define WRITEBACK_STEP (8u << 20)

store_blob_writer_t *store_blob_writer_new(store_t *st, cb_error_t *err)
{
	_cleanup_free_ char *dir = store_tmp_dir(st);
	_cleanup_free_ char *path = cb_asprintf("%s/blob-XXXXXX", dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		cb_error_errno(err, "create temporary blob in '%s'", dir);
		return NULL;
	}
	store_blob_writer_t *w = cb_xcalloc(1, sizeof(*w));
	w->st = st;
	w->tmp_path = cb_steal_pointer(&path);
	w->fd = fd;
	w->digest = digest_new();
	return w;
}

int store_blob_writer_write(store_blob_writer_t *w, const void *data, size_t len, cb_error_t *err)
{
	if (cb_write_all(w->fd, data, len, err) < 0)
		return cb_error_wrap(err, "write blob");
	digest_update(w->digest, data, len);
	w->size += len;
	if (w->size - w->kicked >= WRITEBACK_STEP) {
		uint64_t end = w->size - w->size % WRITEBACK_STEP;
		/* a hint: a failure here shows up at the fsync */
		(void)sync_file_range(w->fd, (off64_t)w->kicked, (off64_t)(end - w->kicked),
				      SYNC_FILE_RANGE_WRITE);
		w->kicked = end;
	}
	return 0;
}

uint64_t store_blob_writer_size(const store_blob_writer_t *w)
{
	return w->size;
}

void store_blob_writer_abort(store_blob_writer_t *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_path)
		unlink(w->tmp_path);
	free(w->tmp_path);
	digest_free(w->digest);
	free(w);
}

/* The written bytes' digest into got, checked against expected, the file
 * made 0644 (and durable with do_fsync); on failure the writer is aborted. */
static int writer_finish(store_blob_writer_t *w, const char *expected,
			 char got[DIGEST_STR_LEN + 1], bool do_fsync, cb_error_t *err)
{
	digest_final(w->digest, got);
	if (expected && strcmp(expected, got) != 0) {
		cb_error_fail(err, EBADMSG, "digest mismatch: expected '%s', got '%s'", expected, got);
		store_blob_writer_abort(w);
		return -1;
	}
	if (fchmod(w->fd, 0644) < 0 || (do_fsync && fsync(w->fd) < 0)) {
		cb_error_errno(err, "write blob '%s'", got);
		store_blob_writer_abort(w);
		return -1;
	}
	return 0;
}

int store_blob_writer_commit(store_blob_writer_t *w, const char *expected,
			     char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err)
{
	char got[DIGEST_STR_LEN + 1];
	if (writer_finish(w, expected, got, true, err) < 0)
		return -1;
	/* leased before it is visible, so that no gc takes it before the
	 * manifest or tag that will name it */
	if (store_lease_add(w->st, LEASE_BLOB, got, err) < 0) {
		store_blob_writer_abort(w);
		return -1;
	}
	_cleanup_free_ char *dst = store_blob_path(w->st, got);
	if (rename(w->tmp_path, dst) < 0) {
		cb_error_errno(err, "store blob '%s'", got);
		store_blob_writer_abort(w);
		return -1;
	}
	free(w->tmp_path);
	w->tmp_path = NULL;
	_cleanup_free_ char *dir = cb_asprintf("%s/blobs/sha256", w->st->root);
	int rc = cb_fsync_dir(dir, err);
	store_blob_writer_abort(w);
	if (rc < 0)
		return -1;
	if (digest_out)
		memcpy(digest_out, got, sizeof(got));
	return 0;
}

/* ---- batched commits ---- */

struct store_blob_batch {
	store_t *st;
	char **tmp;     /* complete, checked blobs waiting in tmp/ */
	char **digest;  /* their digests, same order */
	size_t n;
	bool own_names; /* keep the writer's file name (no ok-DIGEST) */
};

store_blob_batch_t *store_blob_batch_new(store_t *st)
{
	store_blob_batch_t *b = cb_xcalloc(1, sizeof(*b));
	b->st = st;
	return b;
}

store_blob_batch_t *store_blob_batch_new_private(store_t *st)
{
	store_blob_batch_t *b = store_blob_batch_new(st);
	b->own_names = true;
	return b;
}

int store_blob_batch_add(store_blob_batch_t *b, store_blob_writer_t *w, const char *expected,
			 char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err)
{
	char got[DIGEST_STR_LEN + 1];
	if (writer_finish(w, expected, got, false, err) < 0)
		return -1;
	for (size_t i = 0; i < b->n; i++)
		if (b->tmp[i] && !strcmp(b->digest[i], got)) {
			store_blob_writer_abort(w); /* the same blob twice */
			goto done;
		}
	if (store_lease_add(b->st, LEASE_BLOB, got, err) < 0) {
		store_blob_writer_abort(w);
		return -1;
	}
	/* checked and complete: named so, an interrupted pull's next run
	 * finds it (store_tmp_clean moves it into blobs/) */
	const char *slash = b->own_names ? NULL : strrchr(w->tmp_path, '/');
	char *okp = slash ? cb_asprintf("%.*s/ok-%s", (int)(slash - w->tmp_path), w->tmp_path,
					digest_hex(got))
			  : NULL;
	if (okp && rename(w->tmp_path, okp) == 0) {
		free(w->tmp_path);
		w->tmp_path = okp;
	} else {
		free(okp);
	}
	b->tmp = cb_xreallocarray(b->tmp, b->n + 1, sizeof(*b->tmp));
	b->digest = cb_xreallocarray(b->digest, b->n + 1, sizeof(*b->digest));
	b->tmp[b->n] = cb_steal_pointer(&w->tmp_path);
	b->digest[b->n] = cb_xstrdup(got);
	b->n++;
	store_blob_writer_abort(w); /* closes the fd; the file stays */
done:
	if (digest_out)
		memcpy(digest_out, got, sizeof(got));
	return 0;
}

/* fdatasync of the batch's pending files, from up to SYNC_THREADS threads,
 * so that fsyncs waiting at the same time share the journal's commits (on
 * an idle disk as fast as one syncfs, within noise). Not syncfs: that also
 * waits for every other writer's dirty data on the file system (1 GB of
 * someone else's: a 20-layer pull took 533 ms instead of 80). */
#define SYNC_THREADS 8

typedef struct {
	store_blob_batch_t *b;
	const char *dir; /* also fsynced (as item n), or NULL */
	size_t next; /* atomic: the next index to take */
	int err;     /* atomic: the first errno */
} batch_sync_t;

static void *batch_sync_main(void *arg)
{
	batch_sync_t *bs = arg;
	for (;;) {
		size_t i = __atomic_fetch_add(&bs->next, 1, __ATOMIC_RELAXED);
		if (i > bs->b->n || (i == bs->b->n && !bs->dir))
			return NULL;
		if (i < bs->b->n && !bs->b->tmp[i])
			continue; /* published earlier */
		bool d = i == bs->b->n;
		int fd = open(d ? bs->dir : bs->b->tmp[i], O_RDONLY | O_CLOEXEC | (d ? O_DIRECTORY : 0));
		int e = fd < 0 || (d ? fsync(fd) : fdatasync(fd)) < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		if (e) {
			int zero = 0;
			__atomic_compare_exchange_n(&bs->err, &zero, e, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
		}
	}
}

static int batch_sync(store_blob_batch_t *b, size_t pending, const char *dir, cb_error_t *err)
{
	batch_sync_t bs = {.b = b, .dir = dir};
	pthread_t th[SYNC_THREADS];
	size_t nth = 0;
	size_t want = pending < SYNC_THREADS ? pending : SYNC_THREADS;
	/* this thread is one of them; a thread that cannot start is not needed */
	while (nth + 1 < want && pthread_create(&th[nth], NULL, batch_sync_main, &bs) == 0)
		nth++;
	batch_sync_main(&bs);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	if (bs.err) {
		errno = bs.err;
		return cb_error_errno(err, "sync the blobs");
	}
	return 0;
}

static int publish(store_blob_batch_t *b, bool lazy, cb_error_t *err)
{
	size_t pending = 0;
	for (size_t i = 0; i < b->n; i++)
		pending += b->tmp[i] != NULL;
	if (!pending)
		return 0;
	_cleanup_free_ char *dir = cb_asprintf("%s/blobs/sha256", b->st->root);
	if (batch_sync(b, pending + lazy, lazy ? dir : NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		if (!b->tmp[i])
			continue; /* published earlier */
		_cleanup_free_ char *dst = store_blob_path(b->st, b->digest[i]);
		if (rename(b->tmp[i], dst) < 0)
			return cb_error_errno(err, "store blob '%s'", b->digest[i]);
		free(b->tmp[i]);
		b->tmp[i] = NULL;
	}
	return lazy ? 0 : cb_fsync_dir(dir, err);
}

int store_blob_batch_publish(store_blob_batch_t *b, cb_error_t *err)
{
	return publish(b, false, err);
}

int store_blob_batch_publish_lazy(store_blob_batch_t *b, cb_error_t *err)
{
	return publish(b, true, err);
}

static bool batch_has(const store_blob_batch_t *b, const char *digest)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->tmp[i] && !strcmp(b->digest[i], digest))
			return true;
	return false;
}

void store_blob_batch_move(store_blob_batch_t *dst, store_blob_batch_t *src)
{
	for (size_t i = 0; i < src->n; i++) {
		if (!src->tmp[i] || batch_has(dst, src->digest[i])) {
			if (src->tmp[i])
				unlink(src->tmp[i]);
			free(src->tmp[i]);
			free(src->digest[i]);
			continue;
		}
		dst->tmp = cb_xreallocarray(dst->tmp, dst->n + 1, sizeof(*dst->tmp));
		dst->digest = cb_xreallocarray(dst->digest, dst->n + 1, sizeof(*dst->digest));
		dst->tmp[dst->n] = src->tmp[i];
		dst->digest[dst->n++] = src->digest[i];
	}
	src->n = 0;
}

int store_blobs_sync(store_t *st, cb_error_t *err)
{
	_cleanup_free_ char *dir = cb_asprintf("%s/blobs/sha256", st->root);
	return cb_fsync_dir(dir, err);
}

void store_blob_batch_free(store_blob_batch_t *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		if (b->tmp[i])
			unlink(b->tmp[i]);
		free(b->tmp[i]);
		free(b->digest[i]);
	}
	free(b->tmp);
	free(b->digest);
	free(b);
}

int store_put_blob(store_t *st, const void *data, size_t len, const char *expected,
		   char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err)
{
	return store_put_blob_in(st, NULL, data, len, expected, digest_out, err);
}

int store_put_blob_in(store_t *st, store_blob_batch_t *b, const void *data, size_t len,
		      const char *expected, char digest_out[DIGEST_STR_LEN + 1], cb_error_t *err)
{
	char d[DIGEST_STR_LEN + 1];
	digest_buffer(data, len, d);
	if (expected && strcmp(expected, d) != 0)
		return cb_error_fail(err, EBADMSG, "digest mismatch: expected '%s', got '%s'",
				    expected, d);
	if (!store_has_blob(st, d)) {
		store_blob_writer_t *w = store_blob_writer_new(st, err);
		if (!w)
			return -1;
		if (store_blob_writer_write(w, data, len, err) < 0) {
			store_blob_writer_abort(w);
			return -1;
		}
		if ((b ? store_blob_batch_add(b, w, d, NULL, err)
		       : store_blob_writer_commit(w, d, NULL, err)) < 0)
			return -1;
	}
	if (digest_out)
		memcpy(digest_out, d, sizeof(d));
	return 0;
}

int store_read_blob(const store_t *st, const char *digest, size_t max, char **data, size_t *len,
		    cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	_cleanup_free_ char *p = store_blob_path(st, digest);
	char *buf = NULL;
	size_t n = 0;
	if (cb_read_file(p, max, &buf, &n, err) < 0)
		return cb_error_wrap(err, "blob '%s'", digest);
	char got[DIGEST_STR_LEN + 1];
	digest_buffer(buf, n, got);
	if (strcmp(got, digest) != 0) {
		free(buf);
		return cb_error_fail(err, EBADMSG, "blob '%s' is corrupt (content hashes to '%s')",
				    digest, got);
	}
	*data = buf;
	if (len)
		*len = n;
	return 0;
}

int store_open_blob(const store_t *st, const char *digest, cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	_cleanup_free_ char *p = store_blob_path(st, digest);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open blob '%s'", digest);
	return fd;
}

void store_set_blob_fetcher(store_t *st, store_blob_fetch_fn fn, void *ctx)
{
	st->fetch = fn;
	st->fetch_ctx = ctx;
}

int store_blob_ensure(store_t *st, const char *digest, cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	if (store_has_blob(st, digest))
		return 0;
	if (!st->fetch)
		return cb_error_fail(err, ENOENT, "blob '%s' is not in the store", digest);
	if (st->fetch(st->fetch_ctx, st, digest, err) < 0)
		return cb_error_wrap(err, "fetch missing blob '%s'", digest);
	return 0;
}

int store_verify_blob(const store_t *st, const char *digest, cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	_cleanup_free_ char *p = store_blob_path(st, digest);
	char got[DIGEST_STR_LEN + 1];
	if (digest_file(p, got, err) < 0)
		return cb_error_wrap(err, "verify blob");
	if (strcmp(got, digest) != 0)
		return cb_error_fail(err, EBADMSG, "blob '%s' is corrupt (content hashes to '%s')",
				    digest, got);
	return 0;
}

/* ---- index.json ---- */

void store_ref_release(store_ref_t *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->digest);
	free(r->media_type);
	memset(r, 0, sizeof(*r));
}

void store_refs_free(store_ref_t *refs, size_t n)
{
	for (size_t i = 0; refs && i < n; i++)
		store_ref_release(&refs[i]);
	free(refs);
}

/* index.json read through the index model (store/image.h): entries whose
 * digest is not valid are left out of its entries (and kept, for the
 * writers, where they were). */
static oci_index_t *read_index(store_t *st, cb_error_t *err)
{
	_cleanup_free_ char *p = store_path(st, "index.json");
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (cb_read_file(p, INDEX_MAX, &data, &len, err) < 0)
		return NULL;
	cb_error_t e = CB_ERROR_INIT;
	oci_index_t *ix = oci_index_from_json(data, len, &e);
	if (!ix)
		cb_error_fail(err, EBADMSG, "'%s' is not a valid OCI index: %s", p, e.msg);
	cb_error_release(&e);
	return ix;
}

/* Written back through the model: what the writer did not change (other
 * tools' keys, key order, entries cbuild cannot read) stays as it was. */
static int save_index(store_t *st, const oci_index_t *ix, cb_error_t *err)
{
	_cleanup_free_ char *text = oci_index_to_json(ix);
	_cleanup_free_ char *p = store_path(st, "index.json");
	_cleanup_free_ char *tmp = store_path(st, "tmp");
	return cb_write_file_atomic(p, tmp, text, strlen(text), 0644, err);
}

static const char *entry_name(json_t *m)
{
	json_t *ann = json_object_get(m, "annotations");
	return json_string_value(json_object_get(ann, REF_NAME_ANNOTATION));
}

static const char *entry_digest(json_t *m)
{
	return json_string_value(json_object_get(m, "digest"));
}

static const char *desc_name(const oci_descriptor_t *d)
{
	return json_string_value(json_object_get(d->annotations, REF_NAME_ANNOTATION));
}

static void ref_from_desc(const oci_descriptor_t *d, store_ref_t *r)
{
	const char *name = desc_name(d);
	r->name = name ? cb_xstrdup(name) : NULL;
	r->digest = cb_xstrdup(d->digest);
	r->media_type = cb_xstrdup(d->media_type ? d->media_type : "");
	r->size = d->size < 0 ? 0 : d->size; /* as a missing size always read */
}

int store_list_refs(store_t *st, store_ref_t **refs, size_t *n, cb_error_t *err)
{
	oci_index_t *ix = read_index(st, err);
	if (!ix)
		return -1;
	store_ref_t *out = cb_xcalloc(ix->n_manifests + 1, sizeof(*out));
	for (size_t i = 0; i < ix->n_manifests; i++)
		ref_from_desc(&ix->manifests[i], &out[i]);
	*refs = out;
	*n = ix->n_manifests;
	oci_index_free(ix);
	return 0;
}

int store_get_ref(store_t *st, const char *name, store_ref_t *out, cb_error_t *err)
{
	oci_index_t *ix = read_index(st, err);
	if (!ix)
		return -1;
	for (size_t i = 0; i < ix->n_manifests; i++) {
		if (cb_streq(desc_name(&ix->manifests[i]), name)) {
			ref_from_desc(&ix->manifests[i], out);
			oci_index_free(ix);
			return 0;
		}
	}
	oci_index_free(ix);
	return cb_error_fail(err, ENOENT, "no image '%s' in the store", name);
}

/* Remove every entry named `name` (entries of digests cbuild cannot read
 * too); returns how many went. */
static size_t drop_name(oci_index_t *ix, const char *name)
{
	size_t dropped = 0;
	for (size_t i = ix->n_manifests; i-- > 0;) {
		if (cb_streq(desc_name(&ix->manifests[i]), name)) {
			oci_index_remove(ix, i, NULL);
			dropped++;
		}
	}
	for (size_t j = ix->n_invalid; j-- > 0;) {
		if (cb_streq(entry_name(ix->invalid[j].entry), name)) {
			json_decref(oci_index_remove_kept(ix, j));
			dropped++;
		}
	}
	return dropped;
}

/* Remove untagged entries of this digest (so that one is added once);
 * returns how many went. */
static size_t drop_untagged(oci_index_t *ix, const char *digest)
{
	size_t dropped = 0;
	for (size_t i = ix->n_manifests; i-- > 0;) {
		const oci_descriptor_t *d = &ix->manifests[i];
		if (!desc_name(d) && cb_streq(d->digest, digest)) {
			oci_index_remove(ix, i, NULL);
			dropped++;
		}
	}
	for (size_t j = ix->n_invalid; j-- > 0;) {
		json_t *m = ix->invalid[j].entry;
		if (!entry_name(m) && cb_streq(entry_digest(m), digest)) {
			json_decref(oci_index_remove_kept(ix, j));
			dropped++;
		}
	}
	return dropped;
}

static bool digest_listed(const oci_index_t *ix, const char *digest)
{
	for (size_t i = 0; i < ix->n_manifests; i++)
		if (cb_streq(ix->manifests[i].digest, digest))
			return true;
	for (size_t j = 0; j < ix->n_invalid; j++)
		if (cb_streq(entry_digest(ix->invalid[j].entry), digest))
			return true;
	return false;
}

/* Whether an entry named `name` of digest `old` stays, untagged, when the
 * name goes to `digest`. */
static bool stays_untagged(const oci_index_t *ix, const char *old, const char *digest)
{
	return old && !cb_streq(old, digest) && !digest_listed(ix, old);
}

/* Drop the entries named `name`; an image a retag leaves without any
 * entry stays as an untagged one (docker's dangling `<none>` image), kept
 * until rmi or prune, moved to the end. The entries are visited from the
 * last in the document to the first, kept (invalid) ones among them. */
static void keep_replaced(oci_index_t *ix, const char *name, const char *digest)
{
	size_t i = ix->n_manifests, j = ix->n_invalid;
	while (i > 0 || j > 0) {
		if (j > 0 && (i == 0 || oci_index_kept_after(ix, j - 1, i - 1))) {
			if (!cb_streq(entry_name(ix->invalid[--j].entry), name))
				continue;
			json_t *m = oci_index_remove_kept(ix, j);
			if (stays_untagged(ix, entry_digest(m), digest)) {
				json_object_del(m, "annotations");
				oci_index_append_kept(ix, m);
			} else {
				json_decref(m);
			}
			continue;
		}
		if (!cb_streq(desc_name(&ix->manifests[--i]), name))
			continue;
		oci_descriptor_t d;
		oci_index_remove(ix, i, &d);
		if (stays_untagged(ix, d.digest, digest)) {
			json_decref(d.annotations);
			d.annotations = NULL;
			oci_index_append(ix, &d);
		} else {
			oci_descriptor_release(&d);
		}
	}
}

/* Whether name already names just this descriptor (and no untagged entry
 * of digest waits to be dropped): then a set_ref would only move it to the
 * end of index.json, and a no-op rebuild's tag costs a rewrite and two
 * fsyncs for nothing (issue 29). */
static bool ref_unchanged(const oci_index_t *ix, const char *name, const char *digest,
			  const char *media_type, int64_t size)
{
	size_t named = 0;
	bool same = false;
	for (size_t i = 0; i < ix->n_manifests; i++) {
		const oci_descriptor_t *d = &ix->manifests[i];
		const char *n = desc_name(d);
		if (!n && cb_streq(d->digest, digest))
			return false;
		if (!cb_streq(n, name))
			continue;
		named++;
		same = cb_streq(d->digest, digest) && cb_streq(d->media_type, media_type) &&
		       d->size == size && !d->platform && json_object_size(d->annotations) == 1;
	}
	for (size_t j = 0; j < ix->n_invalid; j++)
		if (cb_streq(entry_name(ix->invalid[j].entry), name))
			return false;
	return named == 1 && same;
}

int store_set_ref(store_t *st, const char *name, const char *digest, const char *media_type,
		  int64_t size, cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	if (store_lock(st, err) < 0)
		return -1;
	int rc = -1;
	oci_index_t *ix = read_index(st, err);
	if (ix && name && ref_unchanged(ix, name, digest, media_type, size)) {
		rc = 0;
	} else if (ix) {
		/* a tag keeps the image now, so its untagged entry goes */
		drop_untagged(ix, digest);
		if (name)
			keep_replaced(ix, name, digest);
		oci_descriptor_t d = {.media_type = cb_xstrdup(media_type),
				      .digest = cb_xstrdup(digest),
				      .size = size};
		if (name)
			d.annotations = json_pack("{s:s}", REF_NAME_ANNOTATION, name);
		oci_index_append(ix, &d);
		rc = save_index(st, ix, err);
	}
	oci_index_free(ix);
	store_unlock(st);
	return rc < 0 ? cb_error_wrap(err, "tag '%s'", name ? name : digest) : 0;
}

int store_remove_untagged(store_t *st, const char *digest, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = -1;
	oci_index_t *ix = read_index(st, err);
	if (ix) {
		rc = drop_untagged(ix, digest) == 0 ? 0 : save_index(st, ix, err);
		oci_index_free(ix);
	}
	store_unlock(st);
	return rc;
}

int store_remove_ref(store_t *st, const char *name, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = -1;
	oci_index_t *ix = read_index(st, err);
	if (ix) {
		if (drop_name(ix, name) == 0)
			cb_error_fail(err, ENOENT, "no image '%s' in the store", name);
		else
			rc = save_index(st, ix, err);
		oci_index_free(ix);
	}
	store_unlock(st);
	return rc;
}

int store_remove_refs_to(store_t *st, const char *name, const char *digest, cb_error_t *err)
{
	if (name)
		return store_remove_ref(st, name, err);
	if (store_lock(st, err) < 0)
		return -1;
	int rc = -1;
	oci_index_t *ix = read_index(st, err);
	if (ix) {
		drop_untagged(ix, digest);
		rc = save_index(st, ix, err);
		oci_index_free(ix);
	}
	store_unlock(st);
	return rc;
}
