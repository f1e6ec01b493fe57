/*
 * The copy snapshotter: build steps without overlay mounts, for a store on
 * overlayfs (overlayfs takes no upper dir there) and for --isolation none
 * (no mount at all, Docker's default profile), as buildah's vfs driver and
 * kaniko work.
 *
 * A step gets its parent's tree twice, each made by applying the parent's
 * layer blobs in order with OCI whiteout semantics (layer_apply: no overlay
 * whiteout devices, no trusted.* xattrs, which a CI container may not
 * make): merged/, where the step runs or copies, and base/, which nothing
 * touches. The layer is the difference base -> merged (layer_write_diff:
 * the same entries, parents and whiteouts as an overlay upper gives, see
 * test_layer_overlay). A layer is never adopted as an unpacked overlay
 * lower here: a later overlay user unpacks its blob on demand.
 *
 * Byte for byte the overlay snapshotter's layers: overlayfs copies up a
 * file a step links (ln), or chmods and chowns to what it was, and its
 * layer holds that file though nothing in it changed. Here such a file is
 * found by its ctime, later than the step's start (mark_start), unless it
 * lost a link (a name removed: overlayfs copies nothing up) or it is a
 * mount destination the no-namespace sandbox moved aside and back
 * (bld_snap_copy_note_dest). The link counts compared are base/'s, which
 * keeps merged/'s hard links for that (snapshot_sync.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/internal.h"
#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"
#include "runtime/isolation.h"

static bld_snap_driver_t chosen = BLD_SNAP_AUTO;
static int use_copy = -1; /* -1: not resolved yet (overlay) */

static const char *const names[] = {"auto", "overlay", "copy"};

int bld_snap_driver_parse(const char *s, bld_snap_driver_t *out, cb_error_t *err)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (s && !strcmp(s, names[i])) {
			*out = (bld_snap_driver_t)i;
			return 0;
		}
	if (s && !strcmp(s, "vfs")) {
		*out = BLD_SNAP_COPY;
		return 0;
	}
	return cb_error_fail(err, EINVAL, "invalid storage driver '%s' (auto, overlay or copy)",
			     s ? s : "");
}

const char *bld_snap_driver_name(bld_snap_driver_t d)
{
	return (size_t)d < sizeof names / sizeof names[0] ? names[d] : "?";
}

void bld_snap_driver_set(bld_snap_driver_t d)
{
	chosen = d;
	use_copy = -1;
}

bool bld_snap_use_copy(void)
{
	return use_copy > 0;
}

int bld_snap_driver_resolve(store_t *st, bld_snap_driver_t *out, const char **why,
			    cb_error_t *err)
{
	const char *reason = NULL;
	bool none = rt_isolation_get() == RT_ISO_NONE;
	if (none)
		reason = "no namespaces: overlay cannot be mounted";
	else if (!strcmp(cb_fs_type_name(store_root(st)), "overlay"))
		reason = "the store is on overlayfs, which takes no upper dir there";
	if (chosen == BLD_SNAP_OVERLAY && none)
		return cb_error_fail(err, ENOTSUP,
				     "--storage-driver overlay needs a mount: not with --isolation "
				     "none (use copy)");
	bld_snap_driver_t d = chosen;
	if (d == BLD_SNAP_AUTO)
		d = reason ? BLD_SNAP_COPY : BLD_SNAP_OVERLAY;
	else
		reason = NULL; /* asked for */
	use_copy = d == BLD_SNAP_COPY;
	*out = d;
	if (why)
		*why = d == BLD_SNAP_COPY ? reason : NULL;
	return 0;
}

/* The state's tree in dir (an existing empty directory). */
static int apply_layers(store_t *st, const bld_state_t *s, const char *dir, cb_error_t *err)
{
	for (size_t i = 0; i < s->n_layers; i++) {
		/* a remote cache hit's blob may be in its registry only */
		if (store_blob_ensure(st, s->layers[i].digest, err) < 0)
			return cb_error_wrap(err, "layer '%s'", s->layers[i].digest);
		_cleanup_free_ char *blob = store_blob_path(st, s->layers[i].digest);
		if (layer_apply_path(blob, dir, 0, err) < 0)
			return cb_error_wrap(err, "apply layer '%s'", s->layers[i].digest);
	}
	return 0;
}

/* The time after which a ctime in merged/ is the step's: the ctime of a
 * file made once the tree is ready, with the filesystem's clock seen to
 * move past it (its ticks are coarse), so that whatever the step changes
 * has a later ctime and nothing made before does. */
static int mark_start(bld_snap_t *snap, cb_error_t *err)
{
	_cleanup_free_ char *p = cb_asprintf("%s/stamp", snap->dir);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct stat a, b;
	if (fd < 0 || fstat(fd, &a) < 0)
		return cb_error_errno(err, "create '%s'", p);
	for (int i = 0; i < 1000; i++) { /* a tick is 1-10 ms */
		if (futimens(fd, NULL) < 0 || fstat(fd, &b) < 0)
			return cb_error_errno(err, "touch '%s'", p);
		if (b.st_ctim.tv_sec != a.st_ctim.tv_sec || b.st_ctim.tv_nsec != a.st_ctim.tv_nsec)
			break;
		usleep(500);
	}
	snap->since = a.st_ctim;
	return 0;
}

void bld_snap_copy_note_dest(bld_snap_t *snap, const char *dest)
{
	if (!snap->copy || !dest)
		return;
	_cleanup_free_ char *clean = cb_path_clean(dest);
	char *slash = strrchr(clean, '/');
	if (!slash || !slash[1])
		return;
	*slash = '\0';
	const char *dir = clean + strspn(clean, "/");
	_cleanup_close_ int root = open(snap->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int pfd =
		root < 0 ? -1 : cb_open_in_root(root, *dir ? dir : ".", O_PATH | O_DIRECTORY, 0);
	struct stat sb;
	if (pfd < 0 || fstatat(pfd, slash + 1, &sb, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(sb.st_mode))
		return; /* nothing there to move aside; directories are not touched() */
	snap->skip = cb_xreallocarray(snap->skip, snap->nskip + 1, sizeof *snap->skip);
	snap->skip[snap->nskip++] = (layer_inode_t){sb.st_dev, sb.st_ino};
}

int bld_snap_copy_open(store_t *st, const bld_state_t *s, bool readonly, bld_snap_t *snap,
		       cb_error_t *err)
{
	memset(snap, 0, sizeof(*snap));
	snap->copy = true;
	if (!readonly) {
		snap->chain = bld_snap_chain(s, NULL);
		snap->dir = bld_snap_take_kept(snap->chain);
	}
	bool kept = snap->dir != NULL;
	if (!kept && !(snap->dir = store_mkdtemp(st, "step-", err)))
		return -1;
	snap->merged = cb_asprintf("%s/merged", snap->dir);
	/* RUN's mount points and COPY's tree are looked for in "upper" */
	snap->upper = cb_xstrdup(snap->merged);
	if (!readonly)
		snap->base = cb_asprintf("%s/base", snap->dir);
	int rc = 0;
	if (kept) { /* the previous step's pair: both are this state */
		if ((rc = mark_start(snap, err)) < 0)
			bld_snap_close(snap);
		return rc;
	}
	if (mkdir(snap->merged, 0755) < 0 || (snap->base && mkdir(snap->base, 0755) < 0))
		rc = cb_error_errno(err, "create snapshot directories in '%s'", snap->dir);
	if (rc == 0)
		rc = apply_layers(st, s, snap->merged, err);
	/* a copy of the tree just made costs less than unpacking it again
	 * (no decompression; same entries, same metadata) */
	if (rc == 0 && snap->base)
		rc = bld_snap_copy_sync(snap->base, snap->merged, err);
	if (rc == 0 && snap->base)
		rc = mark_start(snap, err);
	if (rc < 0)
		bld_snap_close(snap);
	return rc;
}

int bld_snap_copy_commit(store_t *st, bld_snap_t *snap, const layer_opts_t *lo,
			 layer_result_t *res, bool *empty, cb_error_t *err)
{
	/* one pass: an unchanged tree leaves a tiny empty-tar blob, which no
	 * image refers to (gc takes it) */
	layer_opts_t o = *lo;
	o.changed_after = snap->since;
	o.ctime_skip = snap->skip;
	o.n_ctime_skip = snap->nskip;
	/* RUN under proot: the files are this user's, root's in a build as root */
	o.own_as_root = geteuid() != 0 && rt_isolation_get() == RT_ISO_NONE;
	if (layer_write_diff(st, snap->base, snap->merged, &o, res, err) < 0)
		return cb_error_wrap(err, "snapshot");
	*empty = res->entries == 0;
	if (!snap->chain)
		return 0;
	/* keep the pair for the next step (a failure only costs that) */
	cb_error_t e = CB_ERROR_INIT;
	if (bld_snap_copy_sync(snap->base, snap->merged, &e) < 0) {
		cb_warn_error(&e);
		return 0;
	}
	char *chain = snap->chain;
	if (!*empty) {
		chain = cb_asprintf("%s%s,", snap->chain, res->diff_id);
		free(snap->chain);
	}
	snap->chain = NULL;
	bld_snap_keep(chain, cb_steal_pointer(&snap->dir));
	return 0;
}
