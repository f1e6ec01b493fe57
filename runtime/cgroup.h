/*
 * runtime/cgroup.h - a pids cgroup per sandbox (the pids limit of a RUN or
 * of `run --pids-limit`).
 *
 * Works with the pids controller of cgroup v1 (a `cgroup` mount with the
 * pids option, as on this hybrid host) or of cgroup v2 (the unified
 * hierarchy, when its cgroup.controllers lists pids). The cgroup is made
 * beside the caller's own (from /proc/self/cgroup), named
 * cbuild-PID-N, with pids.max set; the sandbox's child moves itself in
 * before it forks anything (it writes "0" to the fd it got from here:
 * v1's tasks, v2's cgroup.procs), so every process of the container counts. sbx_cgroup_free
 * removes it once the container's PID 1 is reaped (the kernel has killed
 * the rest of its PID namespace by then); cgroups that a killed cbuild
 * left behind are removed by the next sbx_cgroup_new.
 *
 *     sbx_cgroup_t *cg;
 *     if (sbx_cgroup_new(4096, &cg, err) < 0) ...   // "pids limit: ..."
 *     child: write(sbx_cgroup_procs_fd(cg), "0", 1)
 *     ... reap ...
 *     sbx_cgroup_free(cg);
 */
#ifndef CB_RUNTIME_CGROUP_H
#define CB_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

typedef struct sbx_cgroup sbx_cgroup_t;

/* A new cgroup with pids.max = max (> 0). Errors say why the limit cannot
 * be applied ("pids limit: no pids cgroup controller on this host",
 * "pids limit: create '/sys/fs/cgroup/pids/cbuild-1-1': Permission
 * denied"): a limit is never dropped silently. */
int sbx_cgroup_new(int64_t max, sbx_cgroup_t **out, cb_error_t *err);

/* The file a single-threaded child writes "0" to, to enter the cgroup:
 * tasks on v1 (no global lock, see sbx_cgroup_new), cgroup.procs on v2;
 * opened O_WRONLY|O_CLOEXEC. */
int sbx_cgroup_procs_fd(const sbx_cgroup_t *cg);

/* Its directory, e.g. /sys/fs/cgroup/pids/cbuild-123-1. */
const char *sbx_cgroup_path(const sbx_cgroup_t *cg);

/* SIGKILL what is left in it, wait for it to empty, remove it. NULL-safe. */
void sbx_cgroup_free(sbx_cgroup_t *cg);

/* Whether sbx_cgroup_new can work here, saying where or why not (a
 * build's warning, `cbuild info`): a pids controller this process may
 * write to (rootless: a cgroup delegated to the user; on v2, one its own
 * cgroup can hand to a child: pids in its subtree_control already, or the
 * root). 0 and the directory sbx_cgroup_new makes its cgroups in (caller
 * frees), or -1 with err naming the reason. */
int sbx_cgroup_pids_base(char **out, cb_error_t *err);

/* For `exec` into a running sandbox: an O_WRONLY|O_CLOEXEC fd on the
 * cgroup.procs of the cbuild pids cgroup that process `pid` is in, or -1
 * when it is in none. */
int sbx_cgroup_procs_of(pid_t pid);

#endif
