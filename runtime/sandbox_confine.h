/*
 * runtime/sandbox_confine.h - inside the sandbox module: what confines the
 * process besides namespaces (the seccomp filter, the pids cgroup), made by
 * the parent before the clone, since the child cannot allocate.
 */
#ifndef CB_RUNTIME_SANDBOX_CONFINE_H
#define CB_RUNTIME_SANDBOX_CONFINE_H

#include "runtime/cgroup.h"
#include "runtime/sandbox.h"
#include "runtime/seccomp.h"

/* For cfg: *prog = the struct sock_fprog the child loads (NULL with
 * seccomp_unconfined; Docker's default profile comes from a per-process
 * cache, a caller's profile is compiled into *bpf, the caller's to free);
 * with join_pid > 0 (exec) *join_cg = the container's cgroup.procs or -1
 * (the caller closes it); else with pids_limit a new cgroup in *cg. */
int sbx_confine_prepare(const sbx_config_t *cfg, pid_t join_pid, sbx_cgroup_t **cg,
			sbx_scmp_bpf_t **bpf, const void **prog, int *join_cg, cb_error_t *err);

#endif
