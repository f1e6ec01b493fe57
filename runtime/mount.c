/* The private mount namespace overlays live in, and the overlay options
 * every overlay of a build step or a container is mounted with. */
#include <sched.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <unistd.h>

#include "runtime/mount.h"
#include "runtime/sandbox.h"

int rt_enter_mount_ns(cb_error_t *err)
{
	static bool done;
	if (done)
		return 0;
	/* A private mount namespace: overlays mounted for steps disappear with
	 * this process however it ends, and never show on the host. */
	if (geteuid() != 0) {
		if (sbx_enter_userns(CLONE_NEWNS, err) < 0)
			return cb_error_wrap(err, "rootless");
	} else if (unshare(CLONE_NEWNS) < 0) {
		return cb_error_errno(err, "unshare mount namespace");
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
