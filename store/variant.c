/*
 * store/variant.c - gzip variants of uncompressed layers. See variant.h.
 */
#include "store/variant.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/layer.h"

#define RECORD_MAX 256

static char *record_path(const store_t *st, const char *diff_id)
{
	_cleanup_free_ char *sub = cb_asprintf("variants/sha256/%s", digest_hex(diff_id));
	return store_path(st, sub);
}

/* "gzip" or "gzip sha256:HEX SIZE"; anything else is no record. */
static bool parse_record(const char *text, store_variant_t *out)
{
	memset(out, 0, sizeof(*out));
	char dg[DIGEST_STR_LEN + 2] = "";
	long long size = -1;
	int n = sscanf(text, "gzip %72s %lld", dg, &size);
	if (n == 2 && digest_is_valid(dg) && size >= 0) {
		/* valid: exactly DIGEST_STR_LEN bytes (%.*s tells the compiler) */
		snprintf(out->digest, sizeof(out->digest), "%.*s", DIGEST_STR_LEN, dg);
		out->size = size;
		return true;
	}
	return !strcmp(text, "gzip\n") || !strcmp(text, "gzip");
}

/* A hint: no fsync (see variant.h), but never a torn file. */
static int write_record(store_t *st, const char *diff_id, const char *text, cb_error_t *err)
{
	_cleanup_free_ char *dir = store_path(st, "variants/sha256");
	if (cb_mkdir_p(dir, 0755, err) < 0)
		return -1;
	_cleanup_free_ char *p = record_path(st, diff_id);
	return cb_write_file_replace(p, NULL, text, strlen(text), 0644, false, err);
}

int store_variant_get(store_t *st, const char *diff_id, store_variant_t *out,
		      cb_error_t *err)
{
	if (digest_validate(diff_id, err) < 0)
		return -1;
	_cleanup_free_ char *p = record_path(st, diff_id);
	_cleanup_free_ char *text = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(p, RECORD_MAX, &text, NULL, &e) < 0) {
		bool missing = e.code == ENOENT;
		if (missing) {
			cb_error_release(&e);
			return 0;
		}
		cb_error_move(err, &e);
		return cb_error_wrap(err, "layer variant of '%s'", diff_id);
	}
	store_variant_t v;
	if (!parse_record(text, &v))
		return 0;
	if (v.digest[0] && !store_has_blob(st, v.digest))
		v.digest[0] = '\0'; /* gc took it: made again when needed */
	*out = v;
	return 1;
}

int store_variant_mark(store_t *st, const char *diff_id, cb_error_t *err)
{
	store_variant_t v;
	int r = store_variant_get(st, diff_id, &v, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	return write_record(st, diff_id, "gzip\n", err);
}

/* The plain blob through the parallel gzip into a blob of its own, its
 * tar hashed again on the way: the variant must hold diff_id's bytes. */
static int make_gzip(store_t *st, const char *diff_id, const layer_opts_t *tee,
		     store_variant_t *out, cb_error_t *err)
{
	_cleanup_close_ int fd = store_open_blob(st, diff_id, err);
	if (fd < 0)
		return -1;
	layer_opts_t lo = LAYER_OPTS_INIT;
	lo.compression = LAYER_COMPRESS_GZIP;
	lo.level = STORE_VARIANT_GZIP_LEVEL;
	lo.tee = tee->tee;
	lo.tee_ctx = tee->tee_ctx;
	layer_result_t res;
	if (layer_write_tar(st, fd, &lo, &res, err) < 0)
		return -1;
	if (strcmp(res.diff_id, diff_id))
		return cb_error_fail(err, EBADMSG, "layer blob '%s' does not hash to its digest (%s)",
				     diff_id, res.diff_id);
	snprintf(out->digest, sizeof(out->digest), "%s", res.digest);
	out->size = res.size;
	return 0;
}

int store_variant_gzip(store_t *st, const char *diff_id, store_variant_t *out,
		       cb_error_t *err)
{
	return store_variant_gzip_tee(st, diff_id, NULL, NULL, out, err);
}

int store_variant_gzip_tee(store_t *st, const char *diff_id,
			   void (*tee)(void *ctx, const void *data, size_t len), void *tee_ctx,
			   store_variant_t *out, cb_error_t *err)
{
	store_variant_t v;
	int r = store_variant_get(st, diff_id, &v, err);
	if (r < 0)
		return -1;
	if (r == 1 && v.digest[0]) {
		*out = v;
		return 0;
	}
	layer_opts_t t = LAYER_OPTS_INIT;
	t.tee = tee;
	t.tee_ctx = tee_ctx;
	if (make_gzip(st, diff_id, &t, &v, err) < 0)
		return cb_error_wrap(err, "compress layer '%s'", diff_id);
	_cleanup_free_ char *text = cb_asprintf("gzip %s %" PRId64 "\n", v.digest, v.size);
	if (write_record(st, diff_id, text, err) < 0)
		return -1;
	*out = v;
	return 0;
}

void store_variant_each(store_t *st,
			void (*fn)(void *ctx, const char *diff_id, const char *gzip_digest),
			void *ctx)
{
	_cleanup_free_ char *dir = store_path(st, "variants/sha256");
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != DIGEST_HEX_LEN)
			continue;
		char diff_id[DIGEST_STR_LEN + 1];
		snprintf(diff_id, sizeof(diff_id), "sha256:%.*s", DIGEST_HEX_LEN, de->d_name);
		store_variant_t v;
		cb_error_t e = CB_ERROR_INIT;
		int r = digest_is_valid(diff_id) ? store_variant_get(st, diff_id, &v, &e) : 0;
		cb_error_release(&e);
		if (r == 1 && v.digest[0])
			fn(ctx, diff_id, v.digest);
	}
	closedir(d);
}

static char *manifest_record_path(const store_t *st, const char *local)
{
	_cleanup_free_ char *sub = cb_asprintf("variants/manifests/sha256/%s", digest_hex(local));
	return store_path(st, sub);
}

int store_variant_set_manifest(store_t *st, const char *local, const char *pushed,
			       cb_error_t *err)
{
	if (digest_validate(local, err) < 0 || digest_validate(pushed, err) < 0)
		return -1;
	_cleanup_free_ char *dir = store_path(st, "variants/manifests/sha256");
	if (cb_mkdir_p(dir, 0755, err) < 0)
		return -1;
	_cleanup_free_ char *p = manifest_record_path(st, local);
	_cleanup_free_ char *text = cb_asprintf("%s\n", pushed);
	return cb_write_file_replace(p, NULL, text, strlen(text), 0644, false, err);
}

int store_variant_manifest(store_t *st, const char *local, char *pushed)
{
	if (!local || !digest_is_valid(local))
		return 0;
	_cleanup_free_ char *p = manifest_record_path(st, local);
	_cleanup_free_ char *text = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(p, RECORD_MAX, &text, NULL, &e) < 0) {
		cb_error_release(&e);
		return 0;
	}
	text[strcspn(text, "\n")] = '\0';
	if (!digest_is_valid(text))
		return 0;
	snprintf(pushed, DIGEST_STR_LEN + 1, "%s", text);
	return 1;
}

/* Unlinks the records of dir (one per hex name) whose subject blob is gone. */
static uint64_t prune_dir(store_t *st, const char *sub)
{
	_cleanup_free_ char *dir = store_path(st, sub);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	uint64_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != DIGEST_HEX_LEN)
			continue;
		char dg[DIGEST_STR_LEN + 1];
		snprintf(dg, sizeof(dg), "sha256:%.*s", DIGEST_HEX_LEN, de->d_name);
		if (!digest_is_valid(dg) || store_has_blob(st, dg))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

uint64_t store_variant_prune(store_t *st)
{
	return prune_dir(st, "variants/sha256") + prune_dir(st, "variants/manifests/sha256");
}
