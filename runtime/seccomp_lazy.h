/*
 * runtime/seccomp_lazy.h - libseccomp, loaded on first use (see
 * common/lazylib.h). Include this instead of <seccomp.h>: only the
 * commands that start a process (build with RUN, run, exec) load it.
 */
#ifndef CB_RUNTIME_SECCOMP_LAZY_H
#define CB_RUNTIME_SECCOMP_LAZY_H

#include <seccomp.h>

#include "common/lazylib.h"

/* Every libseccomp function cbuild calls; add a name here before using it. */
#define CB_SECCOMP_FUNCS(X) \
	X(seccomp_arch_add) \
	X(seccomp_arch_native) \
	X(seccomp_arch_remove) \
	X(seccomp_arch_resolve_name) \
	X(seccomp_attr_set) \
	X(seccomp_export_bpf) \
	X(seccomp_init) \
	X(seccomp_release) \
	X(seccomp_rule_add_array) \
	X(seccomp_syscall_resolve_name) \
	X(seccomp_syscall_resolve_name_arch)

extern cb_lazylib_t cb_seccomp_lib;
#define X(f) extern __typeof__(f) *cb_lazy_##f;
CB_SECCOMP_FUNCS(X)
#undef X

#ifndef CB_RUNTIME_SECCOMP_LAZY_H_TABLE /* the table's own .c needs the real names */
#define seccomp_arch_add CB_LAZY(cb_seccomp_lib, seccomp_arch_add)
#define seccomp_arch_native CB_LAZY(cb_seccomp_lib, seccomp_arch_native)
#define seccomp_arch_remove CB_LAZY(cb_seccomp_lib, seccomp_arch_remove)
#define seccomp_arch_resolve_name CB_LAZY(cb_seccomp_lib, seccomp_arch_resolve_name)
#define seccomp_attr_set CB_LAZY(cb_seccomp_lib, seccomp_attr_set)
#define seccomp_export_bpf CB_LAZY(cb_seccomp_lib, seccomp_export_bpf)
#define seccomp_init CB_LAZY(cb_seccomp_lib, seccomp_init)
#define seccomp_release CB_LAZY(cb_seccomp_lib, seccomp_release)
#define seccomp_rule_add_array CB_LAZY(cb_seccomp_lib, seccomp_rule_add_array)
#define seccomp_syscall_resolve_name CB_LAZY(cb_seccomp_lib, seccomp_syscall_resolve_name)
#define seccomp_syscall_resolve_name_arch CB_LAZY(cb_seccomp_lib, seccomp_syscall_resolve_name_arch)
#endif

#endif
