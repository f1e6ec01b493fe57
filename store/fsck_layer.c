/* store/fsck_layer.c - is an unpacked layer complete? Every entry of its
 * tar must be in the directory (a whiteout as overlay's 0/0 device of the
 * same name, an opaque marker as an xattr: not checked). Only names are
 * compared: a half-deleted or half-extracted layer misses names, and that
 * is what a crash leaves. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/archive_lazy.h"
#include "store/fsck.h"

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* The name an entry has in the unpacked directory ("" for the root, NULL
 * for what is not a name of its own: an opaque marker). */
static char *unpacked_name(const char *path)
{
	_cleanup_free_ char *clean = cb_path_clean(path[0] == '/' ? path + 1 : path);
	if (!strcmp(clean, ".") || !strcmp(clean, "/"))
		return cb_xstrdup("");
	const char *slash = strrchr(clean, '/');
	const char *base = slash ? slash + 1 : clean;
	if (!strcmp(base, ".wh..wh..opq"))
		return NULL;
	if (!strncmp(base, ".wh.", 4))
		return cb_asprintf("%.*s%s", (int)(base - clean), clean, base + 4);
	return cb_steal_pointer(&clean);
}

int store_fsck_layer(store_t *st, const char *blob_digest, const char *dir, unsigned *missing,
		     unsigned *total, cb_error_t *err)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cb_error_errno(err, "open '%s'", dir);
	_cleanup_close_ int fd = store_open_blob(st, blob_digest, err);
	if (fd < 0)
		return -1;
	__attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
		return cb_error_fail(err, EBADMSG, "read layer '%s': %s", blob_digest,
				    archive_error_string(a));
	unsigned miss = 0, n = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return cb_error_fail(err, EBADMSG, "read layer '%s': %s", blob_digest,
					    archive_error_string(a));
		_cleanup_free_ char *name = unpacked_name(archive_entry_pathname(e));
		if (!name || !*name)
			continue;
		n++;
		struct stat sb;
		if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			miss++;
	}
	*missing = miss;
	*total = n;
	return 0;
}
