/*
 * runtime/sandbox_handle.h - the sandbox's handle, shared by the namespace
 * sandbox (sandbox.c) and the no-namespace one (isolation_none.c), so that
 * sbx_wait, sbx_kill and sbx_handle_free serve both. Internal to runtime/.
 */
#ifndef CB_RUNTIME_SANDBOX_HANDLE_H
#define CB_RUNTIME_SANDBOX_HANDLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/sandbox.h"

typedef struct sbx_none sbx_none_t;

struct sbx_handle {
	pid_t pid;              /* our child, reaped by sbx_wait */
	pid_t proc;             /* the process itself (!= pid for sbx_exec) */
	bool reaped;
	int pty;
	int out_r, err_r;       /* output_cb pipes */
	sbx_output_fn cb;
	void *opaque;
	bool tty_raw;
	int tty_in;             /* relay source for the pty (our stdin) */
	int tty_out;            /* relay sink when no callback */
	sbx_status_t status;
	sbx_cgroup_t *cgroup;   /* pids limit; removed after the reap */
	sbx_none_t *none;       /* --isolation none: what to take back */
};

/* --isolation none (runtime/isolation_none.c): start cfg's process chroot'ed
 * in cfg->rootfs without namespaces; its mounts are emulated by placing
 * files in the root, taken back by sbx_none_finish once it is reaped. */
int sbx_none_start(const sbx_config_t *cfg, sbx_handle_t **out, cb_error_t *err);
/* Kill what the process left in its process group, undo the placements and
 * free them (h->none = NULL). A no-op for a namespace sandbox. */
void sbx_none_finish(sbx_handle_t *h);
/* Can sbx_none_start run a process here: as root (chroot), or as another
 * user with proot on the PATH (ptrace). */
bool sbx_none_can_run(void);

#endif
