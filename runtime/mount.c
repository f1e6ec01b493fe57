/* The private mount namespace overlays live in, and the overlay options
 * every overlay of a build step or a container is mounted with. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/isolation.h"
#include "runtime/sandbox_handle.h"
#include "runtime/mount.h"
#include "runtime/sandbox.h"
#include "store/layer.h"

/* The kernel takes at most one page of mount options. */
#define OVERLAY_OPTS_MAX 4000

static int outer_mount_ns = -1;

int rt_outer_mount_ns(void)
{
	return outer_mount_ns;
}

int rt_enter_mount_ns(cb_error_t *err)
{
	static bool done;
	if (done)
		return 0;
	/* kept to publish what other processes must see (rt_outer_mount_ns) */
	if (outer_mount_ns < 0)
		outer_mount_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (rt_isolation_get() == RT_ISO_NONE) { /* asked for: said once all the same */
		fprintf(stderr, "cbuild: running without namespaces: RUN steps are not isolated "
				"from this container\n");
		done = true;
		return 0;
	}
	/* A private mount namespace: overlays mounted for steps disappear with
	 * this process however it ends, and never show on the host. */
	if (geteuid() != 0) {
		if (sbx_enter_userns(CLONE_NEWNS, err) < 0) {
			/* no user namespace and no chroot (Docker's defaults):
			 * proot, if there is one, runs RUN steps by ptrace */
			if (err->code != EPERM)
				return cb_error_wrap(err, "rootless");
			if (rt_isolation_get() != RT_ISO_AUTO || !sbx_none_can_run())
				return cb_error_wrap(err, "rootless (no namespace can be made here; "
							  "without them a non-root user needs proot, "
							  "a root user nothing)");
			cb_error_release(err);
			rt_iso_fall_to_none("a user namespace: Operation not permitted (Docker's "
					    "default seccomp profile), and no chroot as a non-root "
					    "user: no namespaces, RUN under proot in a copy of the "
					    "step's tree");
			done = true;
			return 0;
		}
	} else if (unshare(CLONE_NEWNS) < 0) {
		/* root without CAP_SYS_ADMIN (a CI container's default): a user
		 * namespace of our own gives the capabilities over the namespaces
		 * we make, and an identity map keeps every file's owner */
		int e = errno;
		if (e != EPERM)
			return cb_error_set(err, e, "unshare mount namespace");
		if (sbx_enter_userns_identity(CLONE_NEWNS, err) < 0) {
			/* Docker's default seccomp profile refuses unshare itself
			 * without CAP_SYS_ADMIN: no namespace at all, as kaniko */
			if (rt_isolation_get() != RT_ISO_AUTO || err->code != EPERM)
				return cb_error_wrap(err, "unshare mount namespace: %s; then",
						     strerror(e));
			cb_error_release(err);
			rt_iso_fall_to_none("unshare: Operation not permitted, and a user namespace "
					    "too (Docker's default seccomp profile): no namespaces, "
					    "RUN chroot'ed into a copy of the step's tree");
			done = true;
			return 0;
		}
		rt_iso_fallback("mount namespace", "unshare: Operation not permitted (root without "
				"CAP_SYS_ADMIN): entered a user namespace with an identity map first");
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return cb_error_errno(err, "make mounts private");
	done = true;
	return 0;
}

const char *rt_overlay_opts(void)
{
	static int userns = -1;
	if (userns < 0)
		userns = sbx_in_userns();
	/* with userxattr, redirect_dir=off is refused (it asks for trusted.*
	 * access) while redirect_dir and metacopy are off anyway */
	return userns ? ",userxattr,index=off,metacopy=off" : ",redirect_dir=off,metacopy=off,index=off";
}

/*
 * A chain may hold the same diff ID more than once (two steps that wrote the
 * same bytes: `RUN true` twice, or add/remove/add/remove of one file), and
 * overlayfs refuses the same directory twice in lowerdir (ELOOP). Only the
 * top-most occurrence of each is kept, and the merged view stays exactly
 * what the layers say: overlayfs resolves a path top-down and stops at the
 * first layer holding it as a non-directory, a whiteout or an opaque
 * directory, or holding such an entry for one of its parents. A lower copy
 * of a layer L is only reached after the lookup went through its upper copy,
 * which holds exactly the same entries, whiteouts and opaque markers: so for
 * every path the upper copy either stopped the lookup before the lower copy
 * could, or (a plain directory, in both) the lower copy adds to the merged
 * directory only names the upper copy already gave, with attributes the
 * upper copy already decided (the top-most directory's win). Recursing on
 * each name, the lower copy changes nothing anywhere.
 */
int rt_chain_lowers(store_t *st, const oci_descriptor_t *layers, char *const *diff_ids,
		    size_t n, char ***lowers, cb_error_t *err)
{
	_cleanup_strv_ char **v = cb_xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = n; i-- > 0;) {
		bool seen = false;
		for (size_t j = i + 1; j < n && !seen; j++)
			seen = !strcmp(diff_ids[i], diff_ids[j]);
		if (seen)
			continue;
		if (layer_unpack(st, layers[i].digest, diff_ids[i], layers[i].media_type, &v[k],
				 err) < 0)
			return -1;
		k++;
	}
	*lowers = cb_steal_pointer(&v);
	return 0;
}

static void add_escaped(cb_buf_t *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ':' || *s == ',' || *s == '\\')
			cb_buf_addch(b, '\\');
		cb_buf_addch(b, *s);
	}
}

int rt_overlay_options(char *const *lowers, const char *upper, const char *work, cb_buf_t *b,
		       cb_error_t *err)
{
	cb_buf_addstr(b, "lowerdir=");
	for (size_t i = 0; lowers[i]; i++) {
		if (i)
			cb_buf_addch(b, ':');
		add_escaped(b, lowers[i]);
	}
	if (upper) {
		cb_buf_addstr(b, ",upperdir=");
		add_escaped(b, upper);
		cb_buf_addstr(b, ",workdir=");
		add_escaped(b, work);
	}
	/* redirect_dir and metacopy would put overlay-private metadata in the
	 * upper dir that no layer format can carry. */
	cb_buf_addstr(b, rt_overlay_opts());
	/* room left for ",volatile" */
	if (b->len + 16 > OVERLAY_OPTS_MAX)
		return cb_error_fail(err, E2BIG, "too many layers (%zu) for one overlay mount",
				     cb_strv_len(lowers));
	return 0;
}
