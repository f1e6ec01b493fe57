/* Docker's copy-up: a volume mounted empty on a path where the image has
 * content starts with a copy of it (the image's VOLUME /data with its
 * files, `-v vol:/etc`), with the owner and mode of the image's directory.
 * The tree travels as a tar as in `cp` (runtime/tartree.c reads the
 * container's root through O_NOFOLLOW fds, the store's extractor writes
 * the volume), so a symlink in the image never leads outside either. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/tartree.h"
#include "runtime/volume.h"
#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"
#include "store/layer.h"

int rt_vol_copy_up(const char *rootfs, const char *dest, const char *voldir, cb_error_t *err)
{
	if (!cb_dir_is_empty(voldir))
		return 0; /* docker copies into an empty volume only */
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return cb_error_errno(err, "open '%s'", rootfs);
	while (*dest == '/')
		dest++;
	_cleanup_close_ int src = cb_open_in_root(root, *dest ? dest : ".",
						  O_RDONLY | O_DIRECTORY, 0);
	if (src < 0)
		return 0; /* nothing there (or not a directory): nothing to copy */
	struct stat sb;
	if (fstat(src, &sb) < 0)
		return cb_error_errno(err, "stat '/%s'", dest);
	rt_tartree_opts_t o = {false, false};
	if (rt_tartree_copy(src, ".", "", &o, voldir, LAYER_APPLY_NO_WHITEOUTS, err) < 0)
		return cb_error_wrap(err, "copy '/%s' of the image into its volume", dest);
	/* the volume's root takes the image directory's owner and mode; a
	 * rootless store may not chown, and then keeps its own */
	if (chown(voldir, sb.st_uid, sb.st_gid) < 0 && errno != EPERM && errno != EINVAL)
		return cb_error_errno(err, "chown '%s'", voldir);
	if (chmod(voldir, sb.st_mode & 07777) < 0)
		return cb_error_errno(err, "chmod '%s'", voldir);
	return 0;
}
