/* cbuild info [--isolation MODE] [--storage-driver D]: where builds keep their data and what
 * isolation their RUN steps get on this machine, probed by setting up one
 * sandbox exactly as a RUN step does (runtime/isolation.h), with the reason
 * for every fallback taken, and the snapshotter builds would use. Exit 1
 * when no sandbox can be made at all. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/fs.h"
#include "common/util.h"
#include "builder/builder.h"
#include "runtime/isolation.h"
#include "runtime/cgroup.h"

/* Whether RUN steps get their pids limit here (rootless: only in a cgroup
 * delegated to the user), and why not. */
static void print_pids_limit(void)
{
	_cleanup_free_ char *base = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (sbx_cgroup_pids_base(&base, &e) == 0) {
		printf("pids limit: RUN steps get one, run --pids-limit works (cgroups under %s)\n",
		       base);
		return;
	}
	char buf[512];
	printf("pids limit: none for RUN steps, run --pids-limit fails: %s\n",
	       cb_error_format(&e, buf, sizeof buf));
	cb_error_release(&e);
}

static void print_isolation(const rt_iso_report_t *r, const cb_error_t *probe)
{
	printf("isolation: %s\n", rt_isolation_name(rt_isolation_get()));
	bool none = rt_isolation_get() == RT_ISO_NONE;
	if (none)
		printf("  namespaces: none (RUN steps share this container's processes, network "
		       "and hostname; mounts are emulated by copies)\n");
	else
		printf("  namespaces: mount, pid, uts, ipc; network: the host's (--network none: a "
		       "new one)\n");
	if (!r->idmap)
		printf("  user namespace: none (host root)\n");
	else
		printf("  user namespace: yes, id map: %s%s\n", r->idmap,
		       !strcmp(r->idmap, "single id") ? " (only root is mapped)" : "");
	if (cb_error_is_set(probe)) {
		char buf[1024];
		printf("  sandbox: cannot be set up: %s\n", cb_error_format(probe, buf, sizeof buf));
	} else {
		printf("  root: %s\n", r->root ? r->root : "?");
		printf("  /proc: %s\n", r->proc ? r->proc : "?");
	}
	int outer = rt_outer_seccomp();
	if (none)
		printf("  seccomp: Docker's default profile on RUN steps, over the filter cbuild "
		       "itself runs under (Seccomp: %d)\n", outer);
	else
		printf("  seccomp: Docker's default profile on RUN steps (none with "
		       "--security=insecure)%s\n",
		       outer == 2 ? "; cbuild itself runs under a filter (Seccomp: 2)" : "");
}

enum { OPT_ISOLATION = CMD_OPT_LONG, OPT_STORAGE_DRIVER };

const cmd_opt_t cmd_info_opts[] = {
	{"isolation", OPT_ISOLATION, CMD_ARG_REQUIRED, "auto|namespaces|chroot|none",
	 "show what this isolation mode gives here"},
	{"storage-driver", OPT_STORAGE_DRIVER, CMD_ARG_REQUIRED, "auto|overlay|copy",
	 "show what this snapshotter gives here"},
	{0}};

int cmd_info(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == OPT_ISOLATION) {
			rt_isolation_t mode;
			if (rt_isolation_parse(p.arg, &mode, err) < 0)
				return CMD_USAGE;
			rt_isolation_set(mode);
		} else {
			bld_snap_driver_t d;
			if (bld_snap_driver_parse(p.arg, &d, err) < 0)
				return CMD_USAGE;
			bld_snap_driver_set(d);
		}
	}
	if (c < 0)
		return c;
	store_t *st = NULL;
	int n_rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (n_rc != 0)
		return n_rc;
	const char *fs = cb_fs_type_name(store_root(st));
	printf("store: %s (%s)\n", store_root(st), fs);
	cb_error_t probe = CB_ERROR_INIT;
	int rc = rt_iso_probe(&probe);
	const rt_iso_report_t *r = rt_iso_report();
	print_isolation(r, &probe);
	bld_snap_driver_t d;
	const char *why = NULL;
	cb_error_t derr = CB_ERROR_INIT;
	if (bld_snap_driver_resolve(st, &d, &why, &derr) < 0) {
		char buf[512];
		printf("snapshotter: %s\n", cb_error_format(&derr, buf, sizeof buf));
		cb_error_release(&derr);
	} else {
		printf("snapshotter: %s%s%s%s\n", bld_snap_driver_name(d), why ? " (" : "",
		       why ? why : "", why ? ")" : "");
	}
	printf("cgroups: %s\n", rt_cgroup_version());
	printf("fallbacks:%s\n", r->n_fallbacks ? "" : " none");
	for (size_t i = 0; i < r->n_fallbacks; i++)
		printf("  - %s\n", r->fallbacks[i]);
	print_pids_limit();
	fflush(stdout);
	if (rc < 0) {
		cb_error_move(err, &probe);
		return cb_error_wrap(err, "RUN steps cannot run here");
	}
	return 0;
}
