/* runtime/seccomp: Docker's default profile compiled for x86_64 and aarch64
 * answers as Docker's does (checked by running the BPF in a small
 * interpreter on made-up system calls), capability-keyed rules follow the
 * bounding set, and the JSON parser takes Docker's format and refuses bad
 * profiles with a message that names the place. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <seccomp.h>

#include "runtime/sandbox.h"
#include "runtime/seccomp.h"
#include "common/util.h"

/* ---- a classic-BPF interpreter, enough for libseccomp's output ---- */

static uint32_t load_abs(const struct seccomp_data *d, uint32_t off)
{
	uint32_t v = 0;
	assert_true(off + 4 <= sizeof *d);
	memcpy(&v, (const char *)d + off, 4);
	return v;
}

static uint32_t run_bpf(const sbx_scmp_bpf_t *bpf, const struct seccomp_data *d)
{
	const struct sock_fprog *p = sbx_seccomp_prog(bpf);
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
	for (unsigned pc = 0; pc < p->len; pc++) {
		const struct sock_filter *f = &p->filter[pc];
		uint32_t src = BPF_SRC(f->code) == BPF_X ? X : f->k;
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			if (BPF_MODE(f->code) == BPF_ABS)
				A = load_abs(d, f->k);
			else if (BPF_MODE(f->code) == BPF_IMM)
				A = f->k;
			else if (BPF_MODE(f->code) == BPF_MEM)
				A = M[f->k];
			else
				fail_msg("unknown BPF_LD mode %#x", f->code);
			break;
		case BPF_LDX:
			X = BPF_MODE(f->code) == BPF_MEM ? M[f->k] : f->k;
			break;
		case BPF_ST: M[f->k] = A; break;
		case BPF_STX: M[f->k] = X; break;
		case BPF_ALU:
			switch (BPF_OP(f->code)) {
			case BPF_AND: A &= src; break;
			case BPF_OR: A |= src; break;
			case BPF_ADD: A += src; break;
			case BPF_SUB: A -= src; break;
			case BPF_RSH: A >>= src; break;
			case BPF_LSH: A <<= src; break;
			default: fail_msg("unknown BPF_ALU op %#x", f->code);
			}
			break;
		case BPF_JMP: {
			bool t;
			switch (BPF_OP(f->code)) {
			case BPF_JA: pc += f->k; continue;
			case BPF_JEQ: t = A == src; break;
			case BPF_JGT: t = A > src; break;
			case BPF_JGE: t = A >= src; break;
			case BPF_JSET: t = (A & src) != 0; break;
			default: fail_msg("unknown BPF_JMP op %#x", f->code); return 0;
			}
			pc += t ? f->jt : f->jf;
			break;
		}
		case BPF_RET: return BPF_RVAL(f->code) == BPF_A ? A : f->k;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		}
	}
	fail_msg("BPF program ran off its end");
	return 0;
}

/* ---- helpers ---- */

#define ALLOW SECCOMP_RET_ALLOW
#define EPERM_ (SECCOMP_RET_ERRNO | EPERM)
#define ENOSYS_ (SECCOMP_RET_ERRNO | ENOSYS)
#define CAP_SYS_ADMIN_ (UINT64_C(1) << 21)

static uint32_t arch_token(const char *arch)
{
	return !strcmp(arch, "amd64") ? AUDIT_ARCH_X86_64
	       : !strcmp(arch, "x86") ? AUDIT_ARCH_I386
	       : !strcmp(arch, "arm64") ? AUDIT_ARCH_AARCH64
	       : !strcmp(arch, "arm") ? AUDIT_ARCH_ARM
				      : 0;
}

/* What the filter answers to syscall `name` of `arch` with args a0, a1. */
static uint32_t ask(const sbx_scmp_bpf_t *bpf, const char *arch, const char *name, uint64_t a0,
		    uint64_t a1)
{
	struct seccomp_data d = {0};
	d.arch = arch_token(arch);
	d.nr = seccomp_syscall_resolve_name_arch(d.arch, name);
	if (d.nr < 0)
		fail_msg("%s has no syscall '%s'", arch, name);
	d.args[0] = a0;
	d.args[1] = a1;
	return run_bpf(bpf, &d);
}

static sbx_scmp_bpf_t *compile_default(uint64_t caps, const char *arch)
{
	cb_error_t err = CB_ERROR_INIT;
	sbx_scmp_bpf_t *bpf = NULL;
	int rc = sbx_seccomp_compile(sbx_seccomp_default(), caps, arch, &bpf, &err);
	if (rc < 0)
		fail_msg("compile: %s", err.msg);
	return bpf;
}

/* ---- Docker's default profile ---- */

static void check_default_rules(const char *arch)
{
	sbx_scmp_bpf_t *bpf = compile_default(SBX_CAPS_DEFAULT, arch);
	assert_int_equal(ask(bpf, arch, "read", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "execve", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "keyctl", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "add_key", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "unshare", CLONE_NEWUSER, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "mount", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "setns", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "pivot_root", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "bpf", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "clone", SIGCHLD, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "clone", CLONE_NEWUSER | SIGCHLD, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "clone", CLONE_NEWNS, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "clone3", 0, 0), ENOSYS_);
	assert_int_equal(ask(bpf, arch, "personality", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "personality", 0xffffffff, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "personality", 1, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "socket", AF_INET, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "socket", AF_VSOCK, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "chroot", 0, 0), ALLOW);      /* CAP_SYS_CHROOT */
	assert_int_equal(ask(bpf, arch, "ptrace", 0, 0), ALLOW);      /* kernel >= 4.8 */
	assert_int_equal(ask(bpf, arch, "reboot", 0, 0), EPERM_);     /* no CAP_SYS_BOOT */
	assert_int_equal(ask(bpf, arch, "open_by_handle_at", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "kcmp", 0, 0), EPERM_);       /* no CAP_SYS_PTRACE */
	sbx_seccomp_bpf_free(bpf);

	/* CAP_SYS_ADMIN in the bounding set: namespaces and mounts allowed */
	bpf = compile_default(SBX_CAPS_DEFAULT | CAP_SYS_ADMIN_, arch);
	assert_int_equal(ask(bpf, arch, "unshare", CLONE_NEWUSER, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "mount", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "clone", CLONE_NEWUSER | SIGCHLD, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "clone3", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "keyctl", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "pivot_root", 0, 0), EPERM_); /* never, as in Docker */
	sbx_seccomp_bpf_free(bpf);
}

static void test_default_amd64(void **state)
{
	(void)state;
	check_default_rules("amd64");
	sbx_scmp_bpf_t *bpf = compile_default(SBX_CAPS_DEFAULT, "amd64");
	assert_int_equal(ask(bpf, "amd64", "arch_prctl", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, "amd64", "modify_ldt", 0, 0), ALLOW);
	/* the archMap's sub-architecture: 32-bit x86 programs are filtered too */
	assert_int_equal(ask(bpf, "x86", "read", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, "x86", "unshare", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, "x86", "keyctl", 0, 0), EPERM_);
	/* an architecture the filter does not cover is killed */
	assert_int_equal(ask(bpf, "arm64", "read", 0, 0) & SECCOMP_RET_ACTION_FULL,
			 SECCOMP_RET_KILL_THREAD);
	sbx_seccomp_bpf_free(bpf);
}

static void test_default_arm64(void **state)
{
	(void)state;
	check_default_rules("arm64");
	sbx_scmp_bpf_t *bpf = compile_default(SBX_CAPS_DEFAULT, "arm64");
	assert_int_equal(ask(bpf, "arm", "read", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, "arm", "set_tls", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, "arm", "breakpoint", 0, 0), ALLOW);
	assert_int_equal(ask(bpf, "arm", "keyctl", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, "amd64", "read", 0, 0) & SECCOMP_RET_ACTION_FULL,
			 SECCOMP_RET_KILL_THREAD);
	sbx_seccomp_bpf_free(bpf);
}

static sbx_scmp_profile_t *parse_ok(const char *json);

/* What the filter answers to syscall number nr of arch. */
static uint32_t ask_nr(const sbx_scmp_bpf_t *bpf, const char *arch, uint32_t nr)
{
	struct seccomp_data d = {0};
	d.arch = arch_token(arch);
	d.nr = (int)nr;
	return run_bpf(bpf, &d);
}

/* runc's -ENOSYS stub: a syscall newer than the profile's newest answers
 * ENOSYS (glibc falls back on it), an older one the profile does not allow
 * still EPERM; x32 numbers, other architectures and profiles whose default
 * allows or already says ENOSYS are left alone. */
static void check_enosys(const char *arch, const char *newest)
{
	sbx_scmp_bpf_t *bpf = compile_default(SBX_CAPS_DEFAULT, arch);
	int last = seccomp_syscall_resolve_name_arch(arch_token(arch), newest);
	assert_true(last > 0);
	assert_int_equal(ask_nr(bpf, arch, (uint32_t)last + 3), ENOSYS_);  /* fchmodat2 */
	assert_int_equal(ask_nr(bpf, arch, (uint32_t)last + 13), ENOSYS_); /* mseal */
	assert_int_equal(ask_nr(bpf, arch, 1000), ENOSYS_);
	assert_int_equal(ask(bpf, arch, newest, 0, 0), ALLOW);
	assert_int_equal(ask(bpf, arch, "keyctl", 0, 0), EPERM_);
	assert_int_equal(ask(bpf, arch, "vhangup", 0, 0), EPERM_);
	sbx_seccomp_bpf_free(bpf);
}

static void test_enosys_for_newer_syscalls(void **state)
{
	(void)state;
	/* set_mempolicy_home_node (450) needs CAP_SYS_NICE: without it the
	 * newest is futex_waitv (449), as dockerd hands the profile to runc */
	check_enosys("amd64", "futex_waitv");
	check_enosys("arm64", "futex_waitv");
	sbx_scmp_bpf_t *bpf = compile_default(SBX_CAPS_DEFAULT, "amd64");
	assert_int_equal(ask_nr(bpf, "amd64", 0x40000000u | 1000), EPERM_); /* x32 */
	assert_int_equal(ask_nr(bpf, "x86", 1000), EPERM_);
	sbx_seccomp_bpf_free(bpf);
	static const char *const defaults[] = {
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\","
		" \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 13,"
		" \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	};
	static const uint32_t want[] = {ALLOW, ENOSYS_};
	for (size_t i = 0; i < CB_ARRAY_SIZE(defaults); i++) {
		sbx_scmp_profile_t *p = parse_ok(defaults[i]);
		cb_error_t err = CB_ERROR_INIT;
		assert_int_equal(sbx_seccomp_compile(p, SBX_CAPS_DEFAULT, "amd64", &bpf, &err), 0);
		assert_int_equal(ask_nr(bpf, "amd64", 1000), want[i]);
		sbx_seccomp_bpf_free(bpf);
		sbx_seccomp_free(p);
	}
}

/* A typo in the table would be skipped silently (unknown names are, as in
 * runc): every name must be a syscall of some architecture Docker lists. */
static void test_default_names_exist(void **state)
{
	(void)state;
	static const char *const arches[] = {"x86_64", "x86",  "x32",   "aarch64", "arm",
					     "s390x",  "ppc64le", "riscv64", "mips64"};
	const sbx_scmp_profile_t *p = sbx_seccomp_default();
	size_t total = 0;
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t k = 0; p->rules[i].names[k]; k++, total++) {
			const char *n = p->rules[i].names[k];
			bool found = false;
			for (size_t a = 0; a < CB_ARRAY_SIZE(arches) && !found; a++) {
				uint32_t tok = seccomp_arch_resolve_name(arches[a]);
				found = tok && seccomp_syscall_resolve_name_arch(tok, n) >= 0;
			}
			if (!found)
				fail_msg("'%s' is no syscall of any architecture", n);
		}
	/* 349 in the allow-list, 77 more in the conditional rules */
	assert_int_equal(p->rules[0].names[348] != NULL && p->rules[0].names[349] == NULL, 1);
	assert_true(total > 400);
}

/* ---- the JSON parser ---- */

static sbx_scmp_profile_t *parse_ok(const char *json)
{
	cb_error_t err = CB_ERROR_INIT;
	sbx_scmp_profile_t *p = sbx_seccomp_parse(json, "p.json", &err);
	if (!p)
		fail_msg("parse: %s", err.msg);
	return p;
}

static void test_parse_good(void **state)
{
	(void)state;
	sbx_scmp_profile_t *p = parse_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"comment\": \"ignored\","
		" \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\","
		"               \"subArchitectures\": [\"SCMP_ARCH_X86\"]}],"
		" \"syscalls\": ["
		"  {\"names\": [\"mkdir\", \"mkdirat\", \"no_such_call\"], \"action\": \"SCMP_ACT_ERRNO\","
		"   \"errnoRet\": 13},"
		"  {\"name\": \"socket\", \"action\": \"SCMP_ACT_ERRNO\", \"args\": ["
		"    {\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"},"
		"    {\"index\": 0, \"value\": 10, \"op\": \"SCMP_CMP_EQ\"}]},"
		"  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,"
		"   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"], \"minKernel\": \"3.0\"}},"
		"  {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\","
		"   \"excludes\": {\"arches\": [\"amd64\"]}},"
		"  {\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ERRNO\","
		"   \"includes\": {\"minKernel\": \"999.0\"}}"
		" ]}");
	assert_int_equal(p->n_rules, 5);
	cb_error_t err = CB_ERROR_INIT;
	sbx_scmp_bpf_t *bpf = NULL;
	assert_int_equal(sbx_seccomp_compile(p, SBX_CAPS_DEFAULT, "amd64", &bpf, &err), 0);
	assert_int_equal(ask(bpf, "amd64", "mkdir", 0, 0), SECCOMP_RET_ERRNO | 13);
	assert_int_equal(ask(bpf, "amd64", "mkdirat", 0, 0), SECCOMP_RET_ERRNO | 13);
	assert_int_equal(ask(bpf, "x86", "mkdir", 0, 0), SECCOMP_RET_ERRNO | 13);
	assert_int_equal(ask(bpf, "amd64", "read", 0, 0), ALLOW);
	/* two conditions on one argument: either matches (runc's reading) */
	assert_int_equal(ask(bpf, "amd64", "socket", AF_INET, 0), EPERM_);
	assert_int_equal(ask(bpf, "amd64", "socket", AF_INET6, 0), EPERM_);
	assert_int_equal(ask(bpf, "amd64", "socket", AF_UNIX, 0), ALLOW);
	assert_int_equal(ask(bpf, "amd64", "getpid", 0, 0), ALLOW);  /* no CAP_SYS_ADMIN */
	assert_int_equal(ask(bpf, "amd64", "getppid", 0, 0), ALLOW); /* excluded on amd64 */
	assert_int_equal(ask(bpf, "amd64", "getuid", 0, 0), ALLOW);  /* kernel too old */
	sbx_seccomp_bpf_free(bpf);
	assert_int_equal(sbx_seccomp_compile(p, CAP_SYS_ADMIN_, "amd64", &bpf, &err), 0);
	assert_int_equal(ask(bpf, "amd64", "getpid", 0, 0), EPERM_);
	sbx_seccomp_bpf_free(bpf);
	assert_int_equal(sbx_seccomp_compile(p, 0, "arm64", &bpf, &err), 0);
	assert_int_equal(ask(bpf, "arm64", "getppid", 0, 0), EPERM_);
	sbx_seccomp_bpf_free(bpf);
	sbx_seccomp_free(p);
}

static const struct bad_case {
	const char *json, *want;
} bad_cases[] = {
	{"{\"defaultAction\": ", "line 1"},
	{"[]", "profile: must be a JSON object"},
	{"{}", "no defaultAction and no syscalls (say seccomp=unconfined"},
	{"{\"defaultAction\": \"SCMP_ACT_FOO\"}", "defaultAction: unknown action 'SCMP_ACT_FOO'"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}",
	 "defaultErrnoRet: must be an errno number"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": {}}", "syscalls: must be an array"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"]}]}",
	 "syscalls[0].action: missing"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [],"
	 " \"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0]: no syscall names"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\", 3],"
	 " \"action\": \"SCMP_ACT_ALLOW\"}]}", "syscalls[0].names: must be an array of strings"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"name\": \"read\","
	 " \"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	 "syscalls[0]: 'name' and 'names' were both given"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	 " \"action\": \"SCMP_ACT_NOTIFY\"}]}", "SCMP_ACT_NOTIFY is not supported"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	 " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 1,"
	 " \"op\": \"SCMP_CMP_EQ\"}]}]}", "syscalls[0].args[0]: index must be 0..5"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	 " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1,"
	 " \"op\": \"SCMP_CMP_XX\"}]}]}", "syscalls[0].args[0]: unknown op 'SCMP_CMP_XX'"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	 " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": -1,"
	 " \"op\": \"SCMP_CMP_EQ\"}]}]}", "syscalls[0].args[0].value: must be a non-negative"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	 " \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_FOO\"]}}]}",
	 "syscalls[0].includes.caps: unknown capability 'CAP_FOO'"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	 " \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"arches\": [\"amd46\"]}}]}",
	 "syscalls[0].excludes.arches: unknown architecture 'amd46'"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	 " \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"four\"}}]}",
	 "syscalls[0].includes: minKernel must be a version"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"],"
	 " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
	 "'architectures' and 'archMap' were both given"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
	 "architectures: unknown architecture 'SCMP_ARCH_VAX'"},
	{"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultAction\": \"SCMP_ACT_ALLOW\"}",
	 "duplicate object key"},
};

static void test_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad_cases); i++) {
		cb_error_t err = CB_ERROR_INIT;
		sbx_scmp_profile_t *p = sbx_seccomp_parse(bad_cases[i].json, "p.json", &err);
		if (p)
			fail_msg("case %zu parsed: %s", i, bad_cases[i].json);
		assert_int_equal(err.code, EINVAL);
		if (strncmp(err.msg, "seccomp profile 'p.json': ", 26) ||
		    !strstr(err.msg, bad_cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, bad_cases[i].want);
		cb_error_release(&err);
	}
}

static void test_cap_names(void **state)
{
	(void)state;
	assert_int_equal(sbx_cap_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(sbx_cap_from_name("sys_admin"), 21);
	assert_int_equal(sbx_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(sbx_cap_from_name("CAP_NOPE"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_amd64),
		cmocka_unit_test(test_default_arm64),
		cmocka_unit_test(test_default_names_exist),
		cmocka_unit_test(test_enosys_for_newer_syscalls),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_cap_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
