/* `cbuild info`'s probe: make the namespaces a build makes and run the
 * sandbox's whole setup once, so the report says what RUN steps get here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "runtime/isolation.h"
#include "runtime/mount.h"
#include "runtime/sandbox.h"

#define PROBE_EXE "/.cbuild-isolation-probe"

int rt_iso_probe(cb_error_t *err)
{
	if (rt_enter_mount_ns(err) < 0)
		return -1;
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *dir = cb_mkdtemp_in(tmp && *tmp ? tmp : "/tmp", "cbuild-probe-", err);
	if (!dir)
		return -1;
	sbx_config_t cfg;
	sbx_config_init(&cfg);
	cfg.rootfs = dir;
	cfg.argv = (char *[]){PROBE_EXE, NULL};
	cfg.forward_signals = false;
	sbx_status_t st;
	cb_error_t e = CB_ERROR_INIT;
	/* an empty root: every setup step runs, and only the exec fails */
	int rc = sbx_run(&cfg, &st, &e);
	int ok = rc < 0 && e.code == ENOENT && e.msg && strstr(e.msg, PROBE_EXE);
	if (rc < 0 && !ok)
		cb_error_move(err, &e);
	cb_error_release(&e);
	cb_error_t ignored = CB_ERROR_INIT;
	cb_rm_rf(dir, &ignored);
	cb_error_release(&ignored);
	if (rc == 0)
		return cb_error_fail(err, EEXIST, "the probe's empty root ran '%s'", PROBE_EXE);
	return ok ? 0 : cb_error_wrap(err, "run a sandbox");
}

const char *rt_cgroup_version(void)
{
	struct statfs s;
	if (statfs("/sys/fs/cgroup", &s) < 0)
		return "none (no /sys/fs/cgroup)";
	if (s.f_type == 0x63677270) /* CGROUP2_SUPER_MAGIC */
		return "v2 (unified)";
	if (statfs("/sys/fs/cgroup/unified", &s) == 0 && s.f_type == 0x63677270)
		return "v1 (hybrid: v2 at /sys/fs/cgroup/unified)";
	return "v1";
}

int rt_outer_seccomp(void)
{
	_cleanup_fclose_ FILE *fp = fopen("/proc/self/status", "re");
	char line[256];
	int mode = -1;
	while (fp && fgets(line, sizeof line, fp))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	return mode;
}
