/*
 * ADD of a local archive (tar, any compression libarchive reads): extracted
 * into the destination by the store's one tar extractor (layer_extract_at:
 * names and symlinks resolved inside the destination, as Docker's chrooted
 * untar does, holes kept as holes), within an expansion limit. See
 * internal.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "builder/internal.h"
#include "common/util.h"
#include "store/layer.h"

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

int bld_extract_archive(int srcfd, int dstfd, bool chown, uid_t uid, gid_t gid,
			cb_error_t *err)
{
	bool is_tar = false;
	if (layer_probe_tar(srcfd, &is_tar, err) < 0)
		return -1;
	if (!is_tar)
		return 0;
	uint64_t limit = expand_limit(srcfd);
	/* as archive_write_disk refused them before: an image path climbing
	 * out of the destination is an error, not a file put elsewhere */
	layer_extract_opts_t o = {
		.flags = LAYER_APPLY_NO_WHITEOUTS | LAYER_APPLY_REFUSE_ESCAPES,
		.chown = chown,
		.uid = uid,
		.gid = gid,
		.max_bytes = limit == UINT64_MAX ? 0 : limit,
	};
	cb_error_t e = CB_ERROR_INIT;
	if (layer_extract_at(srcfd, dstfd, &o, &e) == 0)
		return 1;
	if (e.code != EFBIG) {
		cb_error_move(err, &e);
		return -1;
	}
	int rc = cb_error_set(err, EFBIG,
			      "%s: refused as a decompression bomb (the limit is %d times the "
			      "archive's size, at least 1 GiB; CBUILD_ADD_MAX_RATIO=0 lifts it)",
			      e.msg, ADD_MAX_RATIO);
	cb_error_release(&e);
	return rc;
}
