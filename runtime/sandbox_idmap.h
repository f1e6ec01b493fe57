/*
 * runtime/sandbox_idmap.h - inside the sandbox module: the uid/gid maps of
 * the user namespaces it makes (sbx_enter_userns, rootless sandboxes).
 *
 * Three maps, chosen in this order:
 *   - identity: root (euid 0) that may not make a mount namespace (no
 *     CAP_SYS_ADMIN, as in a CI container) maps every id it has onto itself,
 *     so files keep their owners and layers come out as on the host;
 *   - subordinate ranges: 0 = the caller, 1..N = its /etc/subuid and
 *     /etc/subgid range, through newuidmap/newgidmap;
 *   - single id: 0 = the caller, nothing else (setgroups denied). Also the
 *     fallback when newuidmap/newgidmap fail (as buildah's), with a warning.
 */
#ifndef CB_RUNTIME_SANDBOX_IDMAP_H
#define CB_RUNTIME_SANDBOX_IDMAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct idmap_plan {
	bool identity;  /* root: every id of ours onto itself */
	bool helpers;   /* newuidmap/newgidmap with subid ranges */
	bool fell_back; /* the helpers failed: a single-id map was written */
	unsigned long uid, gid;
	unsigned long ustart, ucount, gstart, gcount;
};

/* The map for the caller (identity only when asked: root entering a user
 * namespace instead of a mount namespace). */
void sbx_idmap_plan(struct idmap_plan *pl, bool identity);

/* Write pl's maps for pid's fresh user namespace; when the helpers fail,
 * write the single-id map instead and set pl->fell_back (helpers false). */
int sbx_idmap_write(pid_t pid, struct idmap_plan *pl, cb_error_t *err);

/* Is id inside one of the ranges of /proc/PID/FILE (pid 0: self)? */
bool sbx_in_idmap(pid_t pid, const char *file, unsigned long id);

/* The maps sbx_idmap_write makes: 0 -> the caller, 1..count -> subids. */
bool sbx_id_mapped(unsigned long id, unsigned long count, bool helpers);

/* setgroups(2) is refused in a user namespace whose creator wrote "deny". */
bool sbx_setgroups_allowed(pid_t pid);

#endif
