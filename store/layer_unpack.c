/*
 * Unpacked layers in the store: layers/sha256/DIFFID/, made by
 * layer_apply into tmp/ and renamed into place (layer_unpack), or adopted
 * from a build step's upper directory (layer_adopt_dir); leases keep them
 * from gc while a process uses them.
 */
#include "store/layer_internal.h"
#include "store/lease.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

char *layer_unpacked_path(const store_t *st, const char *diff_id)
{
	return cb_asprintf("%s/layers/sha256/%s", store_root(st), digest_hex(diff_id));
}

bool layer_is_unpacked(const store_t *st, const char *diff_id)
{
	if (!digest_is_valid(diff_id))
		return false;
	return store_lease_has_layer(st, diff_id);
}

/* trusted.* xattrs (and overlays that use them) need CAP_SYS_ADMIN in the
 * initial user namespace: root of a rootless user namespace is not enough. */
static bool host_root(void)
{
	return geteuid() == 0 && cb_in_initial_userns();
}

int layer_unpack(store_t *st, const char *blob_digest, const char *diff_id,
		 const char *media_type, char **path, cb_error_t *err)
{
	(void)media_type; /* the compression is detected from the bytes */
	if (digest_validate(blob_digest, err) < 0 || digest_validate(diff_id, err) < 0)
		return -1;
	_cleanup_free_ char *dst = layer_unpacked_path(st, diff_id);
	/* leased, then checked: a gc cannot take it from under the caller; a
	 * directory there is complete (it arrives and leaves by rename) */
	if (store_lease_has_layer(st, diff_id)) {
		*path = cb_steal_pointer(&dst);
		return 0;
	}
	if (store_blob_ensure(st, blob_digest, err) < 0)
		return cb_error_wrap(err, "unpack layer '%s'", diff_id);
	_cleanup_close_ int fd = store_open_blob(st, blob_digest, err);
	if (fd < 0)
		return cb_error_wrap(err, "unpack layer '%s'", diff_id);
	_cleanup_free_ char *tmp = store_mkdtemp(st, "unpack-", err);
	if (!tmp)
		return cb_error_wrap(err, "unpack layer '%s'", diff_id);
	unsigned flags = LAYER_APPLY_OVERLAY | (host_root() ? 0 : LAYER_APPLY_USERXATTR);
	int rc = chmod(tmp, 0755) < 0 ? cb_error_errno(err, "chmod '%s'", tmp) : 0;
	if (rc == 0)
		rc = layer_apply(fd, tmp, flags, blob_digest, diff_id, err);
	if (rc == 0) {
		/* the files must be on disk before the name says they are there */
		_cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || syncfs(dfd) < 0)
			rc = cb_error_errno(err, "sync '%s'", tmp);
	}
	if (rc == 0)
		rc = store_lease_add(st, LEASE_LAYER, diff_id, err);
	if (rc == 0 && rename(tmp, dst) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			rc = cb_error_errno(err, "rename '%s' to '%s'", tmp, dst);
		/* else a concurrent unpack of the same layer won: use its copy */
	} else if (rc == 0) {
		free(tmp);
		tmp = NULL;
		cb_error_t e = CB_ERROR_INIT;
		_cleanup_free_ char *dir = cb_asprintf("%s/layers/sha256", store_root(st));
		if (cb_fsync_dir(dir, &e) < 0)
			cb_error_release(&e);
	}
	if (tmp) {
		cb_error_t e = CB_ERROR_INIT;
		if (cb_rm_rf(tmp, &e) < 0)
			cb_warn_error(&e);
	}
	if (rc < 0)
		return cb_error_wrap(err, "unpack layer '%s'", diff_id);
	*path = cb_steal_pointer(&dst);
	return 0;
}

int layer_adopt_dir(store_t *st, const char *dir, const char *diff_id, char **path,
		    cb_error_t *err)
{
	if (digest_validate(diff_id, err) < 0)
		return -1;
	_cleanup_free_ char *dst = layer_unpacked_path(st, diff_id);
	if (store_lease_add(st, LEASE_LAYER, diff_id, err) < 0)
		return -1;
	if (rename(dir, dst) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			return cb_error_errno(err, "keep '%s' as layer '%s'", dir, diff_id);
		cb_error_t e = CB_ERROR_INIT;
		if (cb_rm_rf(dir, &e) < 0)
			cb_warn_error(&e);
	}
	if (path)
		*path = cb_steal_pointer(&dst);
	return 0;
}
