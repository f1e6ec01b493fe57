/*
 * runtime/sandbox_confine.c - the seccomp filter and the pids cgroup of a
 * sandbox, prepared by the parent (see runtime/sandbox_confine.h).
 */
#include "runtime/sandbox_confine.h"

#include <pthread.h>
#include <sys/prctl.h>

#include "common/util.h"

uint64_t sbx_caps_all(void)
{
	uint64_t caps = 0;
	/* PR_CAPBSET_READ fails (EINVAL) past the kernel's last capability */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			caps |= UINT64_C(1) << cap;
	return caps;
}

/* Docker's default profile, compiled once per capability set and kept:
 * libseccomp takes ~13 ms for it here (4 for x86_64 alone, the rest for
 * the x86 and x32 sub-architectures Docker's archMap adds), which every
 * RUN of a build would pay again. */
static const void *default_filter(uint64_t caps, cb_error_t *err)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static struct {
		uint64_t caps;
		sbx_scmp_bpf_t *bpf;
	} cache[4];
	const void *prog = NULL;
	pthread_mutex_lock(&mu);
	size_t i = 0;
	for (; i < CB_ARRAY_SIZE(cache) && cache[i].bpf && cache[i].caps != caps; i++)
		;
	if (i < CB_ARRAY_SIZE(cache) && cache[i].bpf) {
		prog = sbx_seccomp_prog(cache[i].bpf);
	} else {
		sbx_scmp_bpf_t *bpf = NULL;
		if (sbx_seccomp_compile(sbx_seccomp_default(), caps, NULL, &bpf, err) == 0) {
			prog = sbx_seccomp_prog(bpf);
			/* full (four capability sets: not in practice): replace
			 * one and leak it, another thread may be cloning with it */
			if (i == CB_ARRAY_SIZE(cache))
				i = caps % CB_ARRAY_SIZE(cache);
			cache[i].caps = caps;
			cache[i].bpf = bpf;
		}
	}
	pthread_mutex_unlock(&mu);
	return prog;
}

int sbx_confine_prepare(const sbx_config_t *cfg, pid_t join_pid, sbx_cgroup_t **cg,
			sbx_scmp_bpf_t **bpf, const void **prog, int *join_cg, cb_error_t *err)
{
	*prog = NULL;
	if (cfg->seccomp_unconfined)
		;
	else if (!cfg->seccomp && !(*prog = default_filter(cfg->caps, err)))
		return -1;
	else if (cfg->seccomp) {
		if (sbx_seccomp_compile(cfg->seccomp, cfg->caps, NULL, bpf, err) < 0)
			return -1;
		*prog = sbx_seccomp_prog(*bpf);
	}
	if (join_pid > 0)
		*join_cg = sbx_cgroup_procs_of(join_pid);
	else if (cfg->pids_limit > 0 && sbx_cgroup_new(cfg->pids_limit, cg, err) < 0)
		return -1;
	return 0;
}
