/*
 * runtime/cgroup_path.h - where a process's cgroup is, for the three users
 * of cgroups in runtime/: the pids limit (cgroup.c), the memory and cpu
 * limits (cgroup_limits.c) and pause's freezer (container_pause.c). They
 * find a controller's hierarchy and a process's place in it the same way,
 * on cgroup v1, v2 or a hybrid of both. Internal to runtime/.
 */
#ifndef CB_RUNTIME_CGROUP_PATH_H
#define CB_RUNTIME_CGROUP_PATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* The directory of process pid's cgroup (pid 0: this process) in the
 * hierarchy that holds controller ctl. A v1 mount of ctl wins: on a hybrid
 * host the unified hierarchy has no controllers. Else the v2 hierarchy,
 * when its cgroup.controllers lists ctl ("freezer": every v2 cgroup has
 * cgroup.freeze). On success *dir (caller frees) is the directory, *v2
 * whether it is in the unified hierarchy, and *mnt (NULL: not wanted;
 * caller frees) the hierarchy's mount point. Errors: ENOTSUP "no CTL cgroup
 * controller on this host", ENOENT "this process is in no CTL cgroup". */
int rt_cgroup_dir(const char *ctl, pid_t pid, char **dir, char **mnt, bool *v2, cb_error_t *err);

/* Write val, whole, to dir/file ("write 'VAL' to 'PATH': ..."). */
int rt_cgroup_write(const char *dir, const char *file, const char *val, cb_error_t *err);

#endif
