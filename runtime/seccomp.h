/*
 * runtime/seccomp.h - seccomp profiles in Docker's format, compiled to BPF.
 *
 * A profile is Docker's: a default action, the architectures it covers
 * (an explicit list, or an "archMap" from the native architecture to its
 * sub-architectures), and rules {names, action, args, includes, excludes}
 * where includes/excludes make a rule depend on the architecture, on the
 * capabilities in the process's bounding set and on the kernel version,
 * exactly as dockerd filters them before handing the result to runc:
 *
 *   - a rule is dropped when excludes.arches has the architecture, when any
 *     of excludes.caps is in the bounding set, when the kernel is at least
 *     excludes.minKernel;
 *   - and kept only when includes.arches (if any) has the architecture,
 *     every one of includes.caps is in the bounding set, the kernel is at
 *     least includes.minKernel.
 *
 * The args of one rule must all match (AND); two conditions on the same
 * argument index become two rules (OR), as runc does, since libseccomp
 * refuses two comparisons of one argument in a rule. Names libseccomp does
 * not know are skipped (runc does the same: a profile may name syscalls of
 * newer kernels).
 *
 * Docker's default profile (moby profiles/seccomp/default.json, the one with
 * riscv64, memfd_secret and set_mempolicy_home_node) is sbx_seccomp_default():
 * a table of data, not code. Default action: errno EPERM (defaultErrnoRet
 * 1); clone3 answers ENOSYS (38) without CAP_SYS_ADMIN so that glibc falls
 * back to clone, whose namespace flags the profile then checks.
 *
 * Lifecycle:
 *
 *     sbx_scmp_profile_t *p = sbx_seccomp_parse(json_text, "p.json", err); // or
 *     const sbx_scmp_profile_t *p = sbx_seccomp_default();
 *     sbx_scmp_bpf_t *bpf;
 *     sbx_seccomp_compile(p, caps, NULL, &bpf, err);   // NULL = native arch
 *     ... syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, sbx_seccomp_prog(bpf))
 *     sbx_seccomp_bpf_free(bpf);
 *     sbx_seccomp_free(p);                             // parsed ones only
 *
 * libseccomp is loaded on first use (common/lazylib.h): only the commands
 * that start a process pay for it.
 */
#ifndef CB_RUNTIME_SECCOMP_H
#define CB_RUNTIME_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum sbx_scmp_act {
	SBX_SCMP_ERRNO = 0,   /* SCMP_ACT_ERRNO, errno_ret (EPERM when unset) */
	SBX_SCMP_ALLOW,       /* SCMP_ACT_ALLOW */
	SBX_SCMP_KILL,        /* SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD */
	SBX_SCMP_KILL_PROCESS,/* SCMP_ACT_KILL_PROCESS */
	SBX_SCMP_TRAP,        /* SCMP_ACT_TRAP */
	SBX_SCMP_TRACE,       /* SCMP_ACT_TRACE, errno_ret as the tracer's message */
	SBX_SCMP_LOG,         /* SCMP_ACT_LOG */
} sbx_scmp_act_t;

/* The comparison operators, in libseccomp's order (SCMP_CMP_NE = 1 ...). */
typedef enum sbx_scmp_op {
	SBX_SCMP_NE = 1,
	SBX_SCMP_LT,
	SBX_SCMP_LE,
	SBX_SCMP_EQ,
	SBX_SCMP_GE,
	SBX_SCMP_GT,
	SBX_SCMP_MASKED_EQ, /* (arg & value) == value_two */
} sbx_scmp_op_t;

typedef struct sbx_scmp_arg {
	unsigned index; /* 0..5 */
	uint64_t value, value_two;
	sbx_scmp_op_t op;
} sbx_scmp_arg_t;

/* includes / excludes of a rule; an empty field is no condition. */
typedef struct sbx_scmp_cond {
	const char *const *arches; /* Docker's names: amd64 arm64 x86 x32 arm
				    * s390x ppc64le riscv64 ...; NULL-terminated */
	uint64_t caps;             /* capabilities as (1 << CAP_x) */
	unsigned min_kernel;       /* major << 16 | minor; 0 = none */
} sbx_scmp_cond_t;

typedef struct sbx_scmp_rule {
	const char *const *names;  /* NULL-terminated */
	sbx_scmp_act_t action;
	int errno_ret;             /* -1 = EPERM */
	const sbx_scmp_arg_t *args;
	size_t n_args;
	sbx_scmp_cond_t includes, excludes;
} sbx_scmp_rule_t;

/* One archMap entry: when `arch` is the filter's architecture, the filter
 * also covers `sub` (e.g. x86_64 -> x86, x32). libseccomp's names:
 * "x86_64", "aarch64", "arm", ... (Docker's SCMP_ARCH_X86_64 lower-cased
 * without the prefix). */
typedef struct sbx_scmp_archmap {
	const char *arch;
	const char *const *sub;    /* NULL-terminated, may be NULL */
} sbx_scmp_archmap_t;

typedef struct sbx_scmp_profile {
	sbx_scmp_act_t default_action;
	int default_errno;         /* -1 = EPERM */
	const char *const *arches; /* "architectures": NULL-terminated or NULL */
	const sbx_scmp_archmap_t *arch_map;
	size_t n_arch_map;
	const sbx_scmp_rule_t *rules;
	size_t n_rules;
	void *priv;                /* parsed profiles: what they own */
} sbx_scmp_profile_t;

/* Docker's default profile (static data, never freed). */
const sbx_scmp_profile_t *sbx_seccomp_default(void);

/* Parse Docker's JSON profile format (`--security-opt seccomp=FILE`):
 * defaultAction, defaultErrnoRet, architectures | archMap, syscalls[] with
 * names (or name), action, errnoRet, args[{index, value, valueTwo, op}],
 * includes/excludes {arches, caps, minKernel}. Unknown keys are ignored
 * (comment, flags, listenerPath...). Errors name the place, e.g.
 * "seccomp profile 'p.json': syscalls[2].action: unknown action
 * 'SCMP_ACT_FOO'". `what` names the profile in messages. A profile with
 * no defaultAction and no syscalls is refused here: Docker reads it as
 * "unconfined", cbuild wants that said (`seccomp=unconfined`). */
sbx_scmp_profile_t *sbx_seccomp_parse(const char *json, const char *what, cb_error_t *err);
void sbx_seccomp_free(sbx_scmp_profile_t *p); /* NULL-safe; not for the default */

/* A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER). */
typedef struct sbx_scmp_bpf sbx_scmp_bpf_t;

/* Compile `p` for a process whose bounding set is `caps`, for `arch`
 * (Docker's name, "amd64" or "arm64"; NULL = this machine's), with the
 * running kernel's version for minKernel. */
int sbx_seccomp_compile(const sbx_scmp_profile_t *p, uint64_t caps, const char *arch,
			sbx_scmp_bpf_t **out, cb_error_t *err);
/* The struct sock_fprog to hand the kernel (owned by bpf). */
const void *sbx_seccomp_prog(const sbx_scmp_bpf_t *bpf);
void sbx_seccomp_bpf_free(sbx_scmp_bpf_t *bpf);

/* CAP_SYS_ADMIN -> 21; "SYS_ADMIN" is accepted too. -1 when unknown. */
int sbx_cap_from_name(const char *name);

#endif
