/*
 * runtime/seccomp.c - Docker's seccomp profile format: parse (jansson),
 * filter by architecture, capabilities and kernel as dockerd does, compile
 * with libseccomp into BPF the sandbox's child loads with one system call
 * (it cannot allocate, so everything happens here, in the parent).
 */
#include "runtime/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "runtime/seccomp_lazy.h"
#include "common/util.h"

/* ---------------------------------------------------------------------- */
/* Names.                                                                 */

static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
	"SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
	"AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

int sbx_cap_from_name(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	for (size_t i = 0; i < CB_ARRAY_SIZE(cap_names); i++)
		if (!strcasecmp(name, cap_names[i]))
			return (int)i;
	return -1;
}

/* Docker's architecture names (includes/excludes.arches, Go's view) and
 * libseccomp's (architectures, archMap: SCMP_ARCH_X86_64 -> x86_64). */
static const struct arch_name {
	const char *docker, *scmp;
} arch_names[] = {
	{"amd64", "x86_64"},       {"x86", "x86"},         {"x32", "x32"},
	{"arm64", "aarch64"},      {"arm", "arm"},         {"mips64", "mips64"},
	{"mips64n32", "mips64n32"}, {"mipsel64", "mipsel64"}, {"mips3l64n32", "mipsel64n32"},
	{"mips", "mips"},          {"mipsle", "mipsel"},   {"ppc", "ppc"},
	{"ppc64", "ppc64"},        {"ppc64le", "ppc64le"}, {"s390", "s390"},
	{"s390x", "s390x"},        {"riscv64", "riscv64"},
};

static const struct arch_name *arch_by_docker(const char *s)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(arch_names); i++)
		if (!strcmp(arch_names[i].docker, s))
			return &arch_names[i];
	return NULL;
}

static const struct arch_name *arch_by_scmp(const char *s)
{
	if (!strncmp(s, "SCMP_ARCH_", 10))
		s += 10;
	for (size_t i = 0; i < CB_ARRAY_SIZE(arch_names); i++)
		if (!strcasecmp(arch_names[i].scmp, s))
			return &arch_names[i];
	return NULL;
}

static const struct { const char *name; sbx_scmp_act_t act; } act_names[] = {
	{"SCMP_ACT_ERRNO", SBX_SCMP_ERRNO},   {"SCMP_ACT_ALLOW", SBX_SCMP_ALLOW},
	{"SCMP_ACT_KILL", SBX_SCMP_KILL},     {"SCMP_ACT_KILL_THREAD", SBX_SCMP_KILL},
	{"SCMP_ACT_KILL_PROCESS", SBX_SCMP_KILL_PROCESS},
	{"SCMP_ACT_TRAP", SBX_SCMP_TRAP},     {"SCMP_ACT_TRACE", SBX_SCMP_TRACE},
	{"SCMP_ACT_LOG", SBX_SCMP_LOG},
};

static const char *const op_names[] = {
	[SBX_SCMP_NE] = "SCMP_CMP_NE", [SBX_SCMP_LT] = "SCMP_CMP_LT",
	[SBX_SCMP_LE] = "SCMP_CMP_LE", [SBX_SCMP_EQ] = "SCMP_CMP_EQ",
	[SBX_SCMP_GE] = "SCMP_CMP_GE", [SBX_SCMP_GT] = "SCMP_CMP_GT",
	[SBX_SCMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* "4.8" -> 4 << 16 | 8; 0 when it is not a version. */
static unsigned parse_kernel(const char *s)
{
	unsigned maj = 0, min = 0;
	int n = 0;
	if (sscanf(s, "%u.%u%n", &maj, &min, &n) != 2 || maj == 0 || maj > 0xffff || min > 0xffff)
		return 0;
	return maj << 16 | min;
}

/* ---------------------------------------------------------------------- */
/* Parsing. Strings point into the kept json tree; arrays are allocated   */
/* and listed in `owned`.                                                 */

struct parsed {
	json_t *root;
	void **owned;
	size_t n_owned;
	sbx_scmp_profile_t p;
};

static void *own(struct parsed *ps, size_t n, size_t size)
{
	void *v = cb_xcalloc(n ? n : 1, size);
	ps->owned = cb_xrealloc(ps->owned, (ps->n_owned + 1) * sizeof *ps->owned);
	ps->owned[ps->n_owned++] = v;
	return v;
}

void sbx_seccomp_free(sbx_scmp_profile_t *p)
{
	if (!p)
		return;
	struct parsed *ps = p->priv;
	for (size_t i = 0; i < ps->n_owned; i++)
		free(ps->owned[i]);
	free(ps->owned);
	json_decref(ps->root);
	free(ps);
}

static int bad(cb_error_t *err, const char *where, const char *fmt, const char *what)
{
	_cleanup_free_ char *msg = cb_asprintf(fmt, what);
	return cb_error_fail(err, EINVAL, "%s: %s", where, msg);
}

/* A NULL-terminated array of strings (array of JSON strings, or null). */
static int parse_strings(struct parsed *ps, json_t *j, const char *where,
			 const char *const **out, size_t *n_out, cb_error_t *err)
{
	*out = NULL;
	if (n_out)
		*n_out = 0;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j))
		return bad(err, where, "%s", "must be an array of strings");
	const char **v = own(ps, json_array_size(j) + 1, sizeof *v);
	for (size_t i = 0; i < json_array_size(j); i++) {
		v[i] = json_string_value(json_array_get(j, i));
		if (!v[i])
			return bad(err, where, "%s", "must be an array of strings");
	}
	*out = v;
	if (n_out)
		*n_out = json_array_size(j);
	return 0;
}

static int parse_action(json_t *j, const char *where, sbx_scmp_act_t *out, cb_error_t *err)
{
	const char *s = json_string_value(j);
	if (!s)
		return bad(err, where, "%s", "missing (a string such as SCMP_ACT_ALLOW)");
	for (size_t i = 0; i < CB_ARRAY_SIZE(act_names); i++)
		if (!strcmp(s, act_names[i].name)) {
			*out = act_names[i].act;
			return 0;
		}
	if (!strcmp(s, "SCMP_ACT_NOTIFY"))
		return bad(err, where, "%s", "SCMP_ACT_NOTIFY is not supported (no seccomp agent)");
	return bad(err, where, "unknown action '%s'", s);
}

static int parse_errno(json_t *j, const char *where, int *out, cb_error_t *err)
{
	*out = -1;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 4095)
		return bad(err, where, "%s", "must be an errno number (0..4095)");
	*out = (int)json_integer_value(j);
	return 0;
}

static int parse_u64(json_t *j, const char *where, uint64_t *out, cb_error_t *err)
{
	*out = 0;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return bad(err, where, "%s", "must be a non-negative integer");
	*out = (uint64_t)json_integer_value(j);
	return 0;
}

static int parse_args(struct parsed *ps, json_t *j, const char *where, sbx_scmp_rule_t *r,
		      cb_error_t *err)
{
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j))
		return bad(err, where, "%s", "must be an array");
	sbx_scmp_arg_t *args = own(ps, json_array_size(j), sizeof *args);
	for (size_t i = 0; i < json_array_size(j); i++) {
		json_t *a = json_array_get(j, i);
		_cleanup_free_ char *w = cb_asprintf("%s[%zu]", where, i);
		if (!json_is_object(a))
			return bad(err, w, "%s", "must be an object");
		json_t *idx = json_object_get(a, "index");
		if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
		    json_integer_value(idx) > 5)
			return bad(err, w, "%s", "index must be 0..5");
		args[i].index = (unsigned)json_integer_value(idx);
		_cleanup_free_ char *wv = cb_asprintf("%s.value", w);
		_cleanup_free_ char *wv2 = cb_asprintf("%s.valueTwo", w);
		if (parse_u64(json_object_get(a, "value"), wv, &args[i].value, err) < 0 ||
		    parse_u64(json_object_get(a, "valueTwo"), wv2, &args[i].value_two, err) < 0)
			return -1;
		const char *op = json_string_value(json_object_get(a, "op"));
		if (!op)
			return bad(err, w, "%s", "op missing (SCMP_CMP_EQ, ...)");
		args[i].op = 0;
		for (int k = SBX_SCMP_NE; k <= SBX_SCMP_MASKED_EQ; k++)
			if (!strcmp(op, op_names[k]))
				args[i].op = (sbx_scmp_op_t)k;
		if (!args[i].op)
			return bad(err, w, "unknown op '%s'", op);
	}
	r->args = args;
	r->n_args = json_array_size(j);
	return 0;
}

static int parse_cond(struct parsed *ps, json_t *j, const char *where, sbx_scmp_cond_t *c,
		      cb_error_t *err)
{
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return bad(err, where, "%s", "must be an object");
	_cleanup_free_ char *wa = cb_asprintf("%s.arches", where);
	if (parse_strings(ps, json_object_get(j, "arches"), wa, &c->arches, NULL, err) < 0)
		return -1;
	for (size_t i = 0; c->arches && c->arches[i]; i++)
		if (!arch_by_docker(c->arches[i]))
			return bad(err, wa, "unknown architecture '%s' (amd64, arm64, x86, ...)",
				   c->arches[i]);
	const char *const *caps = NULL;
	_cleanup_free_ char *wc = cb_asprintf("%s.caps", where);
	if (parse_strings(ps, json_object_get(j, "caps"), wc, &caps, NULL, err) < 0)
		return -1;
	for (size_t i = 0; caps && caps[i]; i++) {
		int cap = sbx_cap_from_name(caps[i]);
		if (cap < 0)
			return bad(err, wc, "unknown capability '%s'", caps[i]);
		c->caps |= UINT64_C(1) << cap;
	}
	json_t *mk = json_object_get(j, "minKernel");
	if (mk && !json_is_null(mk)) {
		const char *s = json_string_value(mk);
		if (!s || !(c->min_kernel = parse_kernel(s)))
			return bad(err, where, "%s", "minKernel must be a version such as \"4.8\"");
	}
	return 0;
}

static int parse_rule(struct parsed *ps, json_t *j, const char *where, sbx_scmp_rule_t *r,
		      cb_error_t *err)
{
	if (!json_is_object(j))
		return bad(err, where, "%s", "must be an object");
	json_t *name = json_object_get(j, "name");
	json_t *names = json_object_get(j, "names");
	_cleanup_free_ char *wn = cb_asprintf("%s.names", where);
	if (name && names)
		return bad(err, where, "%s", "'name' and 'names' were both given, use either");
	if (name) {
		const char **v = own(ps, 2, sizeof *v);
		if (!(v[0] = json_string_value(name)))
			return bad(err, where, "%s", "name must be a string");
		r->names = v;
	} else {
		size_t n = 0;
		if (parse_strings(ps, names, wn, &r->names, &n, err) < 0)
			return -1;
		if (n == 0)
			return bad(err, where, "%s", "no syscall names");
	}
	_cleanup_free_ char *wa = cb_asprintf("%s.action", where);
	_cleanup_free_ char *we = cb_asprintf("%s.errnoRet", where);
	_cleanup_free_ char *wg = cb_asprintf("%s.args", where);
	_cleanup_free_ char *wi = cb_asprintf("%s.includes", where);
	_cleanup_free_ char *wx = cb_asprintf("%s.excludes", where);
	if (parse_action(json_object_get(j, "action"), wa, &r->action, err) < 0 ||
	    parse_errno(json_object_get(j, "errnoRet"), we, &r->errno_ret, err) < 0 ||
	    parse_args(ps, json_object_get(j, "args"), wg, r, err) < 0 ||
	    parse_cond(ps, json_object_get(j, "includes"), wi, &r->includes, err) < 0 ||
	    parse_cond(ps, json_object_get(j, "excludes"), wx, &r->excludes, err) < 0)
		return -1;
	return 0;
}

static int parse_arches(struct parsed *ps, json_t *root, cb_error_t *err)
{
	json_t *list = json_object_get(root, "architectures");
	json_t *map = json_object_get(root, "archMap");
	if (json_array_size(list) && json_array_size(map))
		return bad(err, "architectures", "%s",
			   "'architectures' and 'archMap' were both given, use either");
	if (parse_strings(ps, list, "architectures", &ps->p.arches, NULL, err) < 0)
		return -1;
	for (size_t i = 0; ps->p.arches && ps->p.arches[i]; i++)
		if (!arch_by_scmp(ps->p.arches[i]))
			return bad(err, "architectures", "unknown architecture '%s'",
				   ps->p.arches[i]);
	if (!map || json_is_null(map))
		return 0;
	if (!json_is_array(map))
		return bad(err, "archMap", "%s", "must be an array");
	sbx_scmp_archmap_t *m = own(ps, json_array_size(map), sizeof *m);
	for (size_t i = 0; i < json_array_size(map); i++) {
		json_t *e = json_array_get(map, i);
		_cleanup_free_ char *w = cb_asprintf("archMap[%zu]", i);
		const char *a = json_string_value(json_object_get(e, "architecture"));
		if (!a || !arch_by_scmp(a))
			return bad(err, w, "unknown architecture '%s'", a ? a : "(none)");
		m[i].arch = arch_by_scmp(a)->scmp;
		const char *const *sub = NULL;
		if (parse_strings(ps, json_object_get(e, "subArchitectures"), w, &sub, NULL, err) < 0)
			return -1;
		for (size_t k = 0; sub && sub[k]; k++)
			if (!arch_by_scmp(sub[k]))
				return bad(err, w, "unknown architecture '%s'", sub[k]);
		m[i].sub = sub;
	}
	ps->p.arch_map = m;
	ps->p.n_arch_map = json_array_size(map);
	return 0;
}

static int parse_profile(struct parsed *ps, cb_error_t *err)
{
	json_t *root = ps->root;
	if (!json_is_object(root))
		return bad(err, "profile", "%s", "must be a JSON object");
	json_t *calls = json_object_get(root, "syscalls");
	json_t *def = json_object_get(root, "defaultAction");
	if (!def && !json_array_size(calls))
		return bad(err, "profile", "%s",
			   "no defaultAction and no syscalls (say seccomp=unconfined for no filter)");
	if (parse_action(def, "defaultAction", &ps->p.default_action, err) < 0 ||
	    parse_errno(json_object_get(root, "defaultErrnoRet"), "defaultErrnoRet",
			&ps->p.default_errno, err) < 0 ||
	    parse_arches(ps, root, err) < 0)
		return -1;
	if (calls && !json_is_null(calls) && !json_is_array(calls))
		return bad(err, "syscalls", "%s", "must be an array");
	sbx_scmp_rule_t *rules = own(ps, json_array_size(calls), sizeof *rules);
	for (size_t i = 0; i < json_array_size(calls); i++) {
		_cleanup_free_ char *w = cb_asprintf("syscalls[%zu]", i);
		if (parse_rule(ps, json_array_get(calls, i), w, &rules[i], err) < 0)
			return -1;
	}
	ps->p.rules = rules;
	ps->p.n_rules = json_array_size(calls);
	return 0;
}

sbx_scmp_profile_t *sbx_seccomp_parse(const char *text, const char *what, cb_error_t *err)
{
	struct parsed *ps = cb_xcalloc(1, sizeof *ps);
	ps->p.priv = ps;
	json_error_t je;
	ps->root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	int rc;
	if (!ps->root)
		rc = cb_error_fail(err, EINVAL, "line %d: %s", je.line, je.text);
	else
		rc = parse_profile(ps, err);
	if (rc < 0) {
		sbx_seccomp_free(&ps->p);
		cb_error_wrap(err, "seccomp profile '%s'", what);
		return NULL;
	}
	return &ps->p;
}

/* ---------------------------------------------------------------------- */
/* Compiling.                                                             */

struct sbx_scmp_bpf {
	struct sock_fprog prog;
};

const void *sbx_seccomp_prog(const sbx_scmp_bpf_t *bpf)
{
	return &bpf->prog;
}

void sbx_seccomp_bpf_free(sbx_scmp_bpf_t *bpf)
{
	if (!bpf)
		return;
	free(bpf->prog.filter);
	free(bpf);
}

static uint32_t action_value(sbx_scmp_act_t a, int errno_ret)
{
	int e = errno_ret >= 0 ? errno_ret : EPERM;
	switch (a) {
	case SBX_SCMP_ERRNO: return SCMP_ACT_ERRNO((uint32_t)e);
	case SBX_SCMP_ALLOW: return SCMP_ACT_ALLOW;
	case SBX_SCMP_KILL: return SCMP_ACT_KILL_THREAD;
	case SBX_SCMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
	case SBX_SCMP_TRAP: return SCMP_ACT_TRAP;
	case SBX_SCMP_TRACE: return SCMP_ACT_TRACE((uint32_t)e);
	case SBX_SCMP_LOG: return SCMP_ACT_LOG;
	}
	return SCMP_ACT_ERRNO(EPERM);
}

static bool has_arch(const char *const *v, const char *arch)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], arch))
			return true;
	return false;
}

/* dockerd's filter of a rule (profiles/seccomp/seccomp_linux.go). */
static bool rule_applies(const sbx_scmp_rule_t *r, uint64_t caps, const char *arch,
			 unsigned kernel)
{
	const sbx_scmp_cond_t *x = &r->excludes, *in = &r->includes;
	if (has_arch(x->arches, arch) || (x->caps & caps) ||
	    (x->min_kernel && kernel >= x->min_kernel))
		return false;
	if (in->arches && in->arches[0] && !has_arch(in->arches, arch))
		return false;
	if ((in->caps & caps) != in->caps)
		return false;
	return !in->min_kernel || kernel >= in->min_kernel;
}

static int add_rule(scmp_filter_ctx ctx, const sbx_scmp_rule_t *r, uint32_t act,
		    const char *name, cb_error_t *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* a syscall this libseccomp does not know: runc skips it too */
	struct scmp_arg_cmp cmp[6];
	bool dup = false;
	for (size_t i = 0; i < r->n_args; i++)
		for (size_t k = 0; k < i; k++)
			dup |= r->args[i].index == r->args[k].index;
	if (r->n_args > 6)
		dup = true;
	for (size_t i = 0; i < r->n_args; i++) {
		cmp[i % 6] = (struct scmp_arg_cmp){r->args[i].index, (enum scmp_compare)r->args[i].op,
						   r->args[i].value, r->args[i].value_two};
		if (!dup && i + 1 < r->n_args)
			continue;
		int rc = seccomp_rule_add_array(ctx, act, nr, dup ? 1 : (unsigned)r->n_args,
						dup ? &cmp[i % 6] : cmp);
		if (rc < 0)
			return cb_error_fail(err, -rc, "seccomp rule for '%s'", name);
	}
	if (r->n_args == 0) {
		int rc = seccomp_rule_add_array(ctx, act, nr, 0, NULL);
		if (rc < 0)
			return cb_error_fail(err, -rc, "seccomp rule for '%s'", name);
	}
	return 0;
}

static unsigned running_kernel(void)
{
	struct utsname u;
	return uname(&u) == 0 ? parse_kernel(u.release) : 0;
}

static int add_arches(scmp_filter_ctx ctx, const sbx_scmp_profile_t *p, const char *scmp_arch,
		      cb_error_t *err)
{
	const char *const *extra = p->arches;
	for (size_t i = 0; !extra && i < p->n_arch_map; i++)
		if (!strcmp(p->arch_map[i].arch, scmp_arch))
			extra = p->arch_map[i].sub;
	for (size_t i = 0; extra && extra[i]; i++) {
		const struct arch_name *a = arch_by_scmp(extra[i]);
		uint32_t tok = a ? seccomp_arch_resolve_name(a->scmp) : 0;
		if (!tok)
			return cb_error_fail(err, EINVAL, "seccomp: unknown architecture '%s'",
					     extra[i]);
		int rc = seccomp_arch_add(ctx, tok);
		if (rc < 0 && rc != -EEXIST)
			return cb_error_fail(err, -rc, "seccomp: add architecture '%s'", extra[i]);
	}
	return 0;
}

/* runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): a syscall newer than
 * every one the profile names answers ENOSYS instead of the default action
 * (EPERM), because glibc and runtimes probe new syscalls (fchmodat2,
 * clone3, ...) and fall back to the old ones on ENOSYS only: EPERM made
 * them fail. It goes in front of libseccomp's program (which loads what it
 * needs itself) and covers the filter's main architecture; on x86_64 the
 * x32 numbers (bit 30) are left to the profile. Returns its length. */
#define X32_SYSCALL_BIT 0x40000000u
#define STUB_MAX 6

static size_t enosys_stub(uint32_t arch, int last, struct sock_filter *f)
{
	bool x86_64 = arch == SCMP_ARCH_X86_64;
	size_t n = 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	/* another architecture: on to the profile (past the 3 or 4 below) */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, x86_64 ? 4 : 3);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	if (x86_64)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 2, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)last, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	return n;
}

/* The highest syscall number (for arch) the profile's applicable rules
 * name, as runc's findLastSyscalls; -1 when none is known. */
static int last_syscall(const sbx_scmp_profile_t *p, uint64_t caps, const struct arch_name *an,
			uint32_t arch)
{
	int last = -1;
	unsigned kernel = running_kernel();
	for (size_t i = 0; i < p->n_rules; i++) {
		if (!rule_applies(&p->rules[i], caps, an->docker, kernel))
			continue;
		for (size_t k = 0; p->rules[i].names[k]; k++) {
			int nr = seccomp_syscall_resolve_name_arch(arch, p->rules[i].names[k]);
			if (nr > last)
				last = nr;
		}
	}
	return last;
}

/* runc adds the stub unless the default allows (or logs) or already says
 * ENOSYS. */
static bool wants_stub(const sbx_scmp_profile_t *p)
{
	if (p->default_action == SBX_SCMP_ALLOW || p->default_action == SBX_SCMP_LOG)
		return false;
	return !(p->default_action == SBX_SCMP_ERRNO && p->default_errno == ENOSYS);
}

static int export_bpf(scmp_filter_ctx ctx, const struct sock_filter *stub, size_t nstub,
		      sbx_scmp_bpf_t **out, cb_error_t *err)
{
	_cleanup_close_ int fd = memfd_create("cbuild-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return cb_error_fail(err, errno, "seccomp: memfd_create");
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return cb_error_fail(err, -rc, "seccomp: compile the filter");
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) || size > 1 << 20)
		return cb_error_fail(err, EINVAL, "seccomp: the compiled filter has %lld bytes",
				     (long long)size);
	struct sock_filter *code = cb_xmalloc((size_t)size + nstub * sizeof *code);
	memcpy(code, stub, nstub * sizeof *code);
	if (pread(fd, code + nstub, (size_t)size, 0) != size) {
		free(code);
		return cb_error_fail(err, EIO, "seccomp: read the compiled filter");
	}
	sbx_scmp_bpf_t *b = cb_xcalloc(1, sizeof *b);
	b->prog.len = (unsigned short)(nstub + (size_t)size / sizeof(struct sock_filter));
	b->prog.filter = code;
	*out = b;
	return 0;
}

static int compile(scmp_filter_ctx ctx, const sbx_scmp_profile_t *p, uint64_t caps,
		   const struct arch_name *an, uint32_t def, cb_error_t *err)
{
	if (add_arches(ctx, p, an->scmp, err) < 0)
		return -1;
	unsigned kernel = running_kernel();
	for (size_t i = 0; i < p->n_rules; i++) {
		const sbx_scmp_rule_t *r = &p->rules[i];
		if (!rule_applies(r, caps, an->docker, kernel))
			continue;
		uint32_t act = action_value(r->action, r->errno_ret);
		if (act == def)
			continue; /* libseccomp refuses a rule that says the default */
		for (size_t k = 0; r->names[k]; k++)
			if (add_rule(ctx, r, act, r->names[k], err) < 0)
				return -1;
	}
	return 0;
}

int sbx_seccomp_compile(const sbx_scmp_profile_t *p, uint64_t caps, const char *arch,
			sbx_scmp_bpf_t **out, cb_error_t *err)
{
	uint32_t native = seccomp_arch_native();
	const struct arch_name *an = NULL;
	if (arch)
		an = arch_by_docker(arch);
	else
		for (size_t i = 0; i < CB_ARRAY_SIZE(arch_names) && !an; i++)
			if (seccomp_arch_resolve_name(arch_names[i].scmp) == native)
				an = &arch_names[i];
	uint32_t tok = an ? seccomp_arch_resolve_name(an->scmp) : 0;
	if (!tok)
		return cb_error_fail(err, EINVAL, "seccomp: unsupported architecture '%s'",
				     arch ? arch : "(native)");
	uint32_t def = action_value(p->default_action, p->default_errno);
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return cb_error_fail(err, ENOMEM, "seccomp: init");
	int rc = 0;
	if (tok != native) {
		if ((rc = seccomp_arch_add(ctx, tok)) == 0)
			rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
		if (rc < 0)
			rc = cb_error_fail(err, -rc, "seccomp: architecture '%s'", an->docker);
	}
	if (rc == 0)
		rc = compile(ctx, p, caps, an, def, err);
	struct sock_filter stub[STUB_MAX];
	size_t nstub = 0;
	int last = rc == 0 && wants_stub(p) ? last_syscall(p, caps, an, tok) : -1;
	if (last >= 0)
		nstub = enosys_stub(tok, last, stub);
	if (rc == 0)
		rc = export_bpf(ctx, stub, nstub, out, err);
	seccomp_release(ctx);
	return rc;
}
