/* Docker's copy-up: a volume mounted empty on a path where the image has
 * content starts with a copy of it (the image's VOLUME /data with its
 * files, `-v vol:/etc`), with the owner and mode of the image's directory.
 * The tree travels as a tar as in `cp` (runtime/tartree.c reads the
 * container's root through O_NOFOLLOW fds, the store's extractor writes
 * the volume), so a symlink in the image never leads outside either. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

typedef struct producer {
	int src;
	int out;
	cb_error_t err;
	int rc;
} producer_t;

static void *produce(void *arg)
{
	producer_t *p = arg;
	rt_tartree_opts_t o = {false, false};
	p->rc = rt_tartree_write(p->src, ".", "", &o, p->out, &p->err);
	close(p->out);
	return NULL;
}

/* src's children -> tar -> the volume's directory. */
static int copy_tree(int src, const char *voldir, cb_error_t *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	/* the extractor may stop early: the producer gets EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	producer_t p = {.src = src, .out = fds[1], .err = CB_ERROR_INIT};
	pthread_t th;
	if (pthread_create(&th, NULL, produce, &p) != 0) {
		close(fds[0]), close(fds[1]);
		return cb_error_fail(err, EAGAIN, "start the copy's reader thread");
	}
	int rc = layer_apply(fds[0], voldir, LAYER_APPLY_NO_WHITEOUTS, NULL, NULL, err);
	close(fds[0]);
	pthread_join(th, NULL);
	if (p.rc < 0 && rc == 0) {
		cb_error_move(err, &p.err);
		rc = -1;
	}
	cb_error_release(&p.err);
	return rc;
}

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
	if (copy_tree(src, voldir, err) < 0)
		return cb_error_wrap(err, "copy '/%s' of the image into its volume", dest);
	/* the volume's root takes the image directory's owner and mode; a
	 * rootless store may not chown, and then keeps its own */
	if (chown(voldir, sb.st_uid, sb.st_gid) < 0 && errno != EPERM && errno != EINVAL)
		return cb_error_errno(err, "chown '%s'", voldir);
	if (chmod(voldir, sb.st_mode & 07777) < 0)
		return cb_error_errno(err, "chmod '%s'", voldir);
	return 0;
}
