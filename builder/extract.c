/*
 * ADD of a local archive (tar, any compression libarchive reads): extracted
 * into the destination with libarchive's hardened disk writer, within an
 * expansion limit, keeping holes as holes. See internal.h.
 */
#include "store/archive_lazy.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "builder/internal.h"
#include "common/cancel.h"
#include "common/fs.h"
#include "common/util.h"

#define COPY_BUF (1 << 17)

/* How far an archive may expand: its entries' sizes together at most
 * ADD_MAX_RATIO times the archive's own size, or ADD_MIN_LIMIT, whichever
 * is more. 0.3 MB of zstd made 10 GiB of zeros, and a 10 KB sparse tar a
 * file whose layer took hours to hash and compress; a source tree's
 * tar.gz expands 5-10 times. CBUILD_ADD_MAX_RATIO overrides (0: no limit). */
#define ADD_MAX_RATIO 1000
#define ADD_MIN_LIMIT (1ull << 30)

static uint64_t expand_limit(int srcfd)
{
	uint64_t ratio = ADD_MAX_RATIO;
	const char *env = getenv("CBUILD_ADD_MAX_RATIO");
	if (env && *env)
		ratio = strtoull(env, NULL, 10);
	struct stat sb;
	if (!ratio || fstat(srcfd, &sb) < 0)
		return UINT64_MAX;
	uint64_t size = (uint64_t)sb.st_size;
	if (size > UINT64_MAX / ratio)
		return UINT64_MAX;
	return size * ratio > ADD_MIN_LIMIT ? size * ratio : ADD_MIN_LIMIT;
}

/* One entry's data, with blocks of zeros left as holes as layer_apply
 * leaves them (cb_zero_run); archive_write_disk seeks over the gaps and
 * sets the size at the end. */
static int extract_data(struct archive *a, struct archive *w)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		if (cb_cancelled())
			return ARCHIVE_FATAL;
		const char *p = buf;
		while (len) {
			bool zero;
			size_t run = cb_zero_run(p, len, (uint64_t)off, &zero);
			if (!zero && archive_write_data_block(w, p, run, off) != ARCHIVE_OK)
				return ARCHIVE_FATAL;
			p += run;
			off += (la_int64_t)run;
			len -= run;
		}
	}
	return r == ARCHIVE_EOF ? ARCHIVE_OK : r;
}

int bld_extract_archive(int srcfd, int dstfd, bool chown, uid_t uid, gid_t gid,
			cb_error_t *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	struct archive_entry *e = NULL;
	if (lseek(srcfd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, srcfd, COPY_BUF) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		archive_read_free(a);
		lseek(srcfd, 0, SEEK_SET);
		return 0;
	}
	int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
		    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
		    ARCHIVE_EXTRACT_UNLINK;
	struct archive *w = archive_write_disk_new();
	archive_write_disk_set_options(w, flags);
	_cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 1;
	/* archive_write_disk works relative to the working directory; a
	 * stage built concurrently runs on a thread with its own working
	 * directory (unshare(CLONE_FS) in build.c), so this fchdir is private */
	if (cwd < 0 || fchdir(dstfd) < 0) {
		rc = cb_error_errno(err, "enter destination directory");
		goto out;
	}
	int r = ARCHIVE_OK;
	uint64_t limit = expand_limit(srcfd), total = 0;
	do {
		int64_t esize = archive_entry_size(e);
		total += esize > 0 ? (uint64_t)esize : 0;
		if (total > limit) {
			rc = cb_error_set(err, EFBIG,
					  "archive expands to more than %llu bytes at '%s': refused "
					  "as a decompression bomb (the limit is %d times the "
					  "archive's size, at least 1 GiB; CBUILD_ADD_MAX_RATIO=0 "
					  "lifts it)",
					  (unsigned long long)limit, archive_entry_pathname(e),
					  ADD_MAX_RATIO);
			break;
		}
		if (cb_cancel_check(err) < 0) {
			rc = -1;
			break;
		}
		if (chown) {
			archive_entry_set_uid(e, uid);
			archive_entry_set_gid(e, gid);
		}
		r = archive_write_header(w, e);
		if (r == ARCHIVE_OK && archive_entry_size(e) > 0)
			r = extract_data(a, w);
		if (r < ARCHIVE_WARN && cb_cancel_check(err) < 0) {
			rc = -1;
			break;
		}
		if (r < ARCHIVE_WARN) {
			rc = cb_error_fail(err, EIO, "extract '%s': %s", archive_entry_pathname(e),
					   archive_error_string(w) ? archive_error_string(w)
								   : archive_error_string(a));
			break;
		}
		archive_write_finish_entry(w);
	} while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK);
	if (rc > 0 && r != ARCHIVE_EOF)
		rc = cb_error_fail(err, EIO, "read archive: %s", archive_error_string(a));
	if (fchdir(cwd) < 0 && rc > 0)
		rc = cb_error_errno(err, "return to working directory");
out:
	archive_write_free(w);
	archive_read_free(a);
	return rc;
}
