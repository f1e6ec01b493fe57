#include "store/fsck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/image.h"
#include "store/keep.h"
#include "store/places.h"
#include "store/lease.h"

typedef struct fsck {
	store_t *st;
	const store_fsck_opts_t *o;
	store_fsck_result_t *res;
	char **bad_blobs;   /* hex of corrupt or missing blobs, sorted set */
	char **layer_map;   /* "DIFFIDHEX BLOBDIGEST", sorted set */
	char **checked;     /* manifests already walked */
} fsck_t;

static void say(fsck_t *f, bool fixed, const char *fmt, ...) CB_PRINTF(3, 4);
static void say(fsck_t *f, bool fixed, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		CB_BUG("out of memory");
	va_end(ap);
	f->res->problems++;
	if (fixed)
		f->res->repaired++;
	_cleanup_free_ char *line = cb_asprintf("%s%s", msg, fixed ? " (repaired)" : "");
	free(msg);
	if (f->o->report)
		f->o->report(f->o->report_ctx, line);
}

static bool set_has(char **set, const char *s)
{
	for (size_t i = 0; set && set[i]; i++)
		if (!strcmp(set[i], s))
			return true;
	return false;
}

static void set_add(char ***set, const char *s)
{
	if (!*set)
		*set = cb_xcalloc(1, sizeof(char *));
	*set = oci_strset_add(*set, s);
}

static bool rm_tree(const char *p)
{
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(p, &e) == 0)
		return true;
	cb_error_release(&e);
	return false;
}

/* ---- tmp/ and leases ---- */

static void check_tmp(fsck_t *f)
{
	_cleanup_free_ char *tmp = store_path(f->st, "tmp");
	DIR *d = opendir(tmp);
	if (!d)
		return;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strncmp(de->d_name, "L-", 2) &&
		    (store_lease_alive(f->st, de->d_name + 2) ||
		     cb_streq(de->d_name + 2, store_lease_id(f->st))))
			continue; /* a live writer's */
		struct stat sb;
		if (strncmp(de->d_name, "L-", 2) &&
		    (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		     now - sb.st_ctime < 60))
			continue; /* an older cbuild's, maybe still at work */
		_cleanup_free_ char *p = cb_path_join(tmp, de->d_name);
		say(f, f->o->repair && rm_tree(p), "tmp: garbage '%s' left by a dead writer",
		    de->d_name);
	}
	closedir(d);
}

static void check_leases(fsck_t *f)
{
	_cleanup_free_ char *dir = store_path(f->st, "leases");
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lock") ||
		    cb_streq(de->d_name, store_lease_id(f->st)) ||
		    store_lease_alive(f->st, de->d_name))
			continue;
		bool fixed = f->o->repair && unlinkat(dirfd(d), de->d_name, 0) == 0;
		say(f, fixed, "lease '%s' has no living owner", de->d_name);
	}
	closedir(d);
}

/* ---- blobs ---- */

static void check_blobs(fsck_t *f)
{
	_cleanup_free_ char *dir = store_path(f->st, "blobs/sha256");
	DIR *d = opendir(dir);
	if (!d) {
		say(f, false, "blobs/sha256 cannot be read: %s", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *digest = cb_asprintf("sha256:%s", de->d_name);
		if (!digest_is_valid(digest)) {
			bool fixed = f->o->repair && unlinkat(dirfd(d), de->d_name, 0) == 0;
			say(f, fixed, "blobs: stray file '%s'", de->d_name);
			continue;
		}
		f->res->blobs++;
		cb_error_t e = CB_ERROR_INIT;
		if (store_verify_blob(f->st, digest, &e) == 0)
			continue;
		set_add(&f->bad_blobs, de->d_name);
		bool fixed = f->o->repair && unlinkat(dirfd(d), de->d_name, 0) == 0;
		say(f, fixed, "corrupt blob '%s': %s", digest, e.msg ? e.msg : "unreadable");
		cb_error_release(&e);
	}
	closedir(d);
}

/* ---- references ---- */

static bool blob_ok(fsck_t *f, const char *digest)
{
	return digest_is_valid(digest) && !set_has(f->bad_blobs, digest_hex(digest)) &&
	       store_has_blob(f->st, digest);
}

/* What is wrong with the image of manifest (or index) digest, as a message
 * (caller frees), or NULL when it is whole. */
static char *image_problem(fsck_t *f, const char *digest, int depth)
{
	if (!blob_ok(f, digest))
		return cb_asprintf("manifest '%s' is missing or corrupt", digest ? digest : "");
	if (depth > 4 || set_has(f->checked, digest))
		return NULL; /* whole (only those are remembered) */
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (store_read_blob(f->st, digest, IMAGE_JSON_MAX, &data, &len, &e) < 0) {
		char *m = cb_asprintf("manifest '%s': %s", digest, e.msg ? e.msg : "unreadable");
		cb_error_release(&e);
		return m;
	}
	if (oci_media_type_is_index(oci_document_media_type(data, len))) {
		/* a platform not pulled is not a problem: only what is here */
		oci_index_t *ix = oci_index_from_json(data, len, &e);
		cb_error_release(&e);
		char *m = NULL;
		for (size_t i = 0; ix && !m && i < ix->n_manifests; i++)
			if (store_has_blob(f->st, ix->manifests[i].digest))
				m = image_problem(f, ix->manifests[i].digest, depth + 1);
		oci_index_free(ix);
		return m;
	}
	oci_manifest_t *man = oci_manifest_from_json(data, len, &e);
	if (!man) {
		char *m = cb_asprintf("manifest '%s': %s", digest, e.msg ? e.msg : "invalid");
		cb_error_release(&e);
		return m;
	}
	char *m = NULL;
	_cleanup_free_ char *cdata = NULL;
	oci_config_t *cfg = NULL;
	if (!blob_ok(f, man->config.digest) ||
	    store_read_blob(f->st, man->config.digest, IMAGE_JSON_MAX, &cdata, &len, &e) < 0 ||
	    !(cfg = oci_config_from_json(cdata, len, &e))) {
		cb_error_release(&e);
		m = cb_asprintf("config '%s' is missing or corrupt", man->config.digest);
	}
	for (size_t i = 0; i < man->n_layers; i++) {
		const char *l = man->layers[i].digest;
		if (cfg && i < cb_strv_len(cfg->diff_ids)) {
			_cleanup_free_ char *pair =
				cb_asprintf("%s %s", digest_hex(cfg->diff_ids[i]), l);
			set_add(&f->layer_map, pair);
		}
		if (m || blob_ok(f, l))
			continue; /* every layer mapped, the first problem said */
		if (!set_has(f->bad_blobs, digest_hex(l)) && f->o->remote_blob &&
		    f->o->remote_blob(f->o->remote_ctx, f->st, l))
			continue; /* a lazy layer, fetched on use */
		m = cb_asprintf("layer '%s' is missing or corrupt", l);
	}
	oci_config_free(cfg);
	oci_manifest_free(man);
	return m;
}

static char *image_problem_cached(fsck_t *f, const char *digest)
{
	char *m = image_problem(f, digest, 0);
	if (!m && digest)
		set_add(&f->checked, digest);
	return m;
}

static void check_refs(fsck_t *f)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (store_list_refs(f->st, &refs, &n, &e) < 0) {
		say(f, false, "index.json: %s", e.msg ? e.msg : "unreadable");
		cb_error_release(&e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		f->res->refs++;
		_cleanup_free_ char *m = image_problem_cached(f, refs[i].digest);
		if (!m)
			continue;
		bool fixed = f->o->repair && store_remove_refs_to(f->st, refs[i].name,
								  refs[i].digest, NULL) == 0;
		say(f, fixed, "image '%s': %s", refs[i].name ? refs[i].name : refs[i].digest, m);
	}
	store_refs_free(refs, n);
}

/* Each kept reference (keep.h) names a whole image (a lazy layer: a blob,
 * which may be remote). A broken cache entry is a miss waiting to happen:
 * repair removes it; a container's is reported (rm removes it). */
static void check_kept(void *ctx, store_keep_kind_t kind, const char *name,
		       const digest_t *digest)
{
	fsck_t *f = ctx;
	if (kind == STORE_KEEP_LAZY)
		return;
	bool cache = kind == STORE_KEEP_CACHE;
	if (cache)
		f->res->cache_entries++;
	_cleanup_free_ char *place = cache ? NULL : store_place_container(f->st, name, "config.json");
	if (place && !cb_path_exists(place)) {
		/* left by a remove killed between the directory and the record:
		 * it would keep the image forever */
		bool fixed = f->o->repair && store_keep_remove(f->st, kind, name, NULL) == 0;
		say(f, fixed, "container reference '%s': no such container", name);
		return;
	}
	_cleanup_free_ char *m = digest ? image_problem_cached(f, digest->s)
					: cb_xstrdup("not a valid record");
	if (!m)
		return;
	bool fixed = cache && f->o->repair && store_keep_remove(f->st, kind, name, NULL) == 0;
	say(f, fixed, "%s '%s': %s", cache ? "cache entry" : "container", name, m);
}

/* Under the store lock: a container being made has its reference before
 * its config.json, both written under the lock. */
static void check_keeps(fsck_t *f)
{
	cb_error_t e = CB_ERROR_INIT;
	if (store_lock(f->st, &e) < 0) {
		say(f, false, "%s", e.msg ? e.msg : "cannot lock the store");
		cb_error_release(&e);
		return;
	}
	for (int k = 0; k < STORE_KEEP_KINDS; k++) {
		if (store_keep_each(f->st, (store_keep_kind_t)k, check_kept, f, &e) < 0)
			say(f, false, "%s", e.msg ? e.msg : "unreadable references");
		cb_error_release(&e);
	}
	store_unlock(f->st);
}

/* ---- unpacked layers ---- */

static const char *blob_of_layer(fsck_t *f, const char *hex)
{
	for (size_t i = 0; f->layer_map && f->layer_map[i]; i++)
		if (!strncmp(f->layer_map[i], hex, DIGEST_HEX_LEN) &&
		    f->layer_map[i][DIGEST_HEX_LEN] == ' ')
			return f->layer_map[i] + DIGEST_HEX_LEN + 1;
	return NULL;
}

/* Broken layers leave by rename first, as gc's do: no half directory under
 * a layer's name, even if this is killed. */
static bool drop_layer(fsck_t *f, const char *dir, const char *hex)
{
	_cleanup_free_ char *tmp = store_tmp_dir(f->st);
	_cleanup_free_ char *trash = cb_asprintf("%s/fsck-%s", tmp, hex);
	_cleanup_free_ char *from = cb_path_join(dir, hex);
	return rename(from, trash) == 0 && rm_tree(trash);
}

static void check_layers(fsck_t *f)
{
	_cleanup_free_ char *dir = store_path(f->st, "layers/sha256");
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *diff_id = cb_asprintf("sha256:%s", de->d_name);
		struct stat sb;
		if (!digest_is_valid(diff_id) || fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode)) {
			say(f, f->o->repair && drop_layer(f, dir, de->d_name),
			    "layers: stray entry '%s'", de->d_name);
			continue;
		}
		f->res->layers++;
		const char *blob = blob_of_layer(f, de->d_name);
		if (!blob || !blob_ok(f, blob))
			continue; /* no blob to compare with: gc's to judge */
		_cleanup_free_ char *p = cb_path_join(dir, de->d_name);
		unsigned missing = 0, total = 0;
		cb_error_t e = CB_ERROR_INIT;
		if (store_fsck_layer(f->st, blob, p, &missing, &total, &e) < 0) {
			say(f, false, "unpacked layer '%s': %s", diff_id, e.msg ? e.msg : "unreadable");
			cb_error_release(&e);
		} else if (missing) {
			say(f, f->o->repair && drop_layer(f, dir, de->d_name),
			    "unpacked layer '%s' is incomplete: %u of %u entries missing", diff_id,
			    missing, total);
		}
	}
	closedir(d);
}

int store_fsck(store_t *st, const store_fsck_opts_t *o, store_fsck_result_t *res,
	       cb_error_t *err)
{
	(void)err;
	memset(res, 0, sizeof(*res));
	fsck_t f = {.st = st, .o = o, .res = res};
	check_tmp(&f);
	check_leases(&f);
	check_blobs(&f);
	check_refs(&f);
	check_keeps(&f);
	check_layers(&f);
	cb_strv_free(f.bad_blobs);
	cb_strv_free(f.layer_map);
	cb_strv_free(f.checked);
	return 0;
}
