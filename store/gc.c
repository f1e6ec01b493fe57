#include "store/gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/image.h"
#include "store/keep.h"
#include "store/lease.h"
#include "store/variant.h"

/* A sorted set of hex strings (a plain strv kept sorted). */
typedef struct hexset {
	char **v;
} hexset_t;

static bool hexset_has(const hexset_t *s, const char *hex)
{
	return oci_strset_has(s->v, hex);
}

static void hexset_add(hexset_t *s, const char *digest)
{
	if (digest_is_valid(digest)) {
		if (!s->v)
			s->v = cb_xcalloc(1, sizeof(char *));
		s->v = oci_strset_add(s->v, digest_hex(digest));
	}
}

typedef struct marks {
	hexset_t blobs;
	hexset_t diff_ids;
} marks_t;

static void mark_manifest(store_t *st, const char *digest, marks_t *m, int depth);

static void mark_index(store_t *st, const char *data, size_t len, marks_t *m, int depth)
{
	cb_error_t e = CB_ERROR_INIT;
	oci_index_t *ix = oci_index_from_json(data, len, &e);
	cb_error_release(&e);
	for (size_t i = 0; ix && i < ix->n_manifests; i++)
		mark_manifest(st, ix->manifests[i].digest, m, depth + 1);
	oci_index_free(ix);
}

static void mark_config(store_t *st, const char *digest, marks_t *m)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &len, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	oci_config_t *c = oci_config_from_json(data, len, &e);
	if (!c) {
		cb_error_release(&e);
		return;
	}
	for (size_t i = 0; c->diff_ids[i]; i++)
		hexset_add(&m->diff_ids, c->diff_ids[i]);
	oci_config_free(c);
}

static void mark_manifest(store_t *st, const char *digest, marks_t *m, int depth)
{
	if (!digest_is_valid(digest) || depth > 4 || hexset_has(&m->blobs, digest_hex(digest)))
		return;
	hexset_add(&m->blobs, digest);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &len, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	/* an index (multi-platform image): every platform's image is kept,
	 * and its attestations with it, as long as one name holds the index */
	if (oci_media_type_is_index(oci_document_media_type(data, len))) {
		mark_index(st, data, len, m, depth);
		return;
	}
	oci_manifest_t *man = oci_manifest_from_json(data, len, &e);
	if (!man) {
		cb_error_release(&e);
		return;
	}
	hexset_add(&m->blobs, man->config.digest);
	mark_config(st, man->config.digest, m);
	for (size_t i = 0; i < man->n_layers; i++)
		hexset_add(&m->blobs, man->layers[i].digest);
	oci_manifest_free(man);
}

/* A kept reference (keep.h) is a root: its manifest or index and all
 * they reach; a lazy layer's blob alone. */
typedef struct keep_ctx {
	store_t *st;
	marks_t *m;
} keep_ctx_t;

static void mark_kept(void *ctx, store_keep_kind_t kind, const char *name,
		      const digest_t *digest)
{
	keep_ctx_t *kc = ctx;
	(void)name;
	if (!digest)
		return;
	if (kind == STORE_KEEP_LAZY)
		hexset_add(&kc->m->blobs, digest->s);
	else
		mark_manifest(kc->st, digest->s, kc->m, 0);
}

static int mark_all_kept(store_t *st, marks_t *m, cb_error_t *err)
{
	keep_ctx_t kc = {st, m};
	for (int k = 0; k < STORE_KEEP_KINDS; k++)
		if (store_keep_each(st, (store_keep_kind_t)k, mark_kept, &kc, err) < 0)
			return -1;
	return 0;
}

static bool recent(const struct stat *sb, int grace)
{
	return time(NULL) - sb->st_mtime < grace;
}

/* A lease's objects are roots too: a blob that is a manifest or an index
 * (small, parses as one) keeps what it reaches. */
typedef struct lease_ctx {
	store_t *st;
	marks_t *m;
} lease_ctx_t;

static void mark_leased(void *ctx, int kind, const char *digest)
{
	lease_ctx_t *lc = ctx;
	if (kind == LEASE_LAYER) {
		hexset_add(&lc->m->diff_ids, digest);
		return;
	}
	cb_error_t e = CB_ERROR_INIT;
	int64_t size = store_blob_size(lc->st, digest, &e);
	cb_error_release(&e);
	if (size >= 0 && size <= (int64_t)IMAGE_JSON_MAX)
		mark_manifest(lc->st, digest, lc->m, 0);
	hexset_add(&lc->m->blobs, digest);
}

/* A kept uncompressed layer keeps its gzip variant (variant.h): a second
 * push then sends the same bytes without compressing again. */
static void mark_variant(void *ctx, const char *diff_id, const char *gzip_digest)
{
	marks_t *m = ctx;
	const char *hex = digest_hex(diff_id);
	if (hexset_has(&m->blobs, hex) || hexset_has(&m->diff_ids, hex))
		hexset_add(&m->blobs, gzip_digest);
}

/* Unreferenced entries of blobs/ are unlinked (atomic); unpacked layers
 * are renamed into trash (this process's tmp/ directory) first and deleted
 * after, so that a kill mid-delete never leaves a half layer under its
 * name to be trusted by the next unpack. */
static void sweep(store_t *st, const char *sub, const hexset_t *keep, int grace, bool dirs,
		  const char *trash, char ***trashed, store_gc_stats_t *stats)
{
	_cleanup_free_ char *dir = store_path(st, sub);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != DIGEST_HEX_LEN || hexset_has(keep, de->d_name))
			continue;
		struct stat sb;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || recent(&sb, grace))
			continue;
		if (dirs) {
			char *to = cb_asprintf("%s/del-%s", trash, de->d_name);
			if (renameat(dirfd(d), de->d_name, AT_FDCWD, to) < 0) {
				cb_warn("cannot remove layer '%s': %s", de->d_name, strerror(errno));
				free(to);
				continue;
			}
			*trashed = cb_strv_push_take(*trashed, to);
			stats->layers_removed++;
		} else {
			if (unlinkat(dirfd(d), de->d_name, 0) < 0)
				continue;
			stats->blobs_removed++;
			stats->bytes_freed += (uint64_t)sb.st_size;
		}
	}
	closedir(d);
}

/* The cache entries, and the builder's side records in cache/ (context
 * checksums, explanations: places.h) with them. */
static int drop_cache_entries(store_t *st, cb_error_t *err)
{
	if (store_keep_drop(st, STORE_KEEP_CACHE, err) < 0)
		return -1;
	_cleanup_free_ char *dir = store_path(st, "cache");
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return 0;
}

int store_gc(store_t *st, int grace_seconds, bool drop_cache, store_gc_stats_t *stats,
	     cb_error_t *err)
{
	store_gc_stats_t local = {0};
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	/* made before the leases lock: making it may begin our lease */
	_cleanup_free_ char *trash = store_tmp_dir(st);
	if (store_lock(st, err) < 0)
		return -1;
	/* from reading the leases to the end of the sweep: an add waits, so
	 * it lands before we read or after we are done */
	if (store_leases_lock(st, err) < 0) {
		store_unlock(st);
		return -1;
	}
	marks_t m = {0};
	store_ref_t *refs = NULL;
	size_t n = 0;
	int rc = drop_cache ? drop_cache_entries(st, err) : 0;
	if (rc == 0)
		rc = store_list_refs(st, &refs, &n, err);
	lease_ctx_t lc = {st, &m};
	if (rc == 0)
		rc = store_leases_each(st, mark_leased, &lc, err);
	char **trashed = cb_xcalloc(1, sizeof(char *));
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			mark_manifest(st, refs[i].digest, &m, 0);
		rc = mark_all_kept(st, &m, err);
	}
	if (rc == 0)
		store_variant_each(st, mark_variant, &m);
	if (rc == 0) {
		sweep(st, "blobs/sha256", &m.blobs, grace_seconds, false, trash, &trashed, stats);
		sweep(st, "layers/sha256", &m.diff_ids, grace_seconds, true, trash, &trashed,
		      stats);
		stats->records_removed = store_variant_prune(st);
	}
	store_refs_free(refs, n);
	store_leases_unlock(st);
	store_unlock(st);
	for (size_t i = 0; trashed[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		if (cb_rm_rf(trashed[i], &e) < 0)
			cb_warn_error(&e);
	}
	cb_strv_free(trashed);
	cb_strv_free(m.blobs.v);
	cb_strv_free(m.diff_ids.v);
	return rc;
}

char **store_cache_manifests(store_t *st)
{
	char **v = cb_xcalloc(1, sizeof(char *));
	_cleanup_free_ char *dir = store_path(st, "cache");
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !cb_str_has_suffix(de->d_name, ".json"))
			continue;
		_cleanup_free_ char *p = cb_path_join(dir, de->d_name);
		json_t *j = json_load_file(p, 0, NULL);
		const char *md = json_string_value(json_object_get(j, "manifest"));
		bool seen = false;
		for (size_t i = 0; md && v[i] && !seen; i++)
			seen = !strcmp(v[i], md);
		if (md && !seen)
			v = cb_strv_push(v, md);
		json_decref(j);
	}
	if (d)
		closedir(d);
	return v;
}
