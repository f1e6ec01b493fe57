/*
 * runtime/seccomp_default.c - Docker's default seccomp profile, as data.
 *
 * Transcribed from moby's profiles/seccomp/default.json (the version with
 * riscv64, memfd_secret, futex_waitv and set_mempolicy_home_node; Docker
 * 23-25). Same allow-list, same argument rules, same conditions on
 * architecture, capabilities and kernel; see runtime/seccomp.h for how
 * they are read. Keep the order of the JSON so the two can be diffed.
 */
#include "runtime/seccomp.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/socket.h>

#include "common/util.h"

#define CAP(x) (UINT64_C(1) << (x))
#define KERNEL(maj, min) ((unsigned)(maj) << 16 | (unsigned)(min))
#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ARGS(...) ((const sbx_scmp_arg_t[]){__VA_ARGS__}), \
	CB_ARRAY_SIZE(((const sbx_scmp_arg_t[]){__VA_ARGS__}))

/* Every syscall a container may make whatever its capabilities. */
static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
	"chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
	"clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
	"close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
	"epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
	"exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
	"fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat",
	"fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	"ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd",
	"getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
	"getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
	"getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
	"getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
	"getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32",
	"getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
	"ioprio_get", "ioprio_set", "io_setup", "io_submit", "io_uring_enter", "io_uring_register",
	"io_uring_setup", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
	"landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
	"listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
	"lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
	"mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
	"mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
	"mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget",
	"msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
	"nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
	"pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect",
	"poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
	"process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2",
	"read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
	"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
	"renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
	"sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
	"sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
	"semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
	"sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
	"setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority",
	"setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
	"setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
	"set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat",
	"shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
	"sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64",
	"statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun",
	"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
	"timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
	"tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
	"utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
	"waitid", "waitpid", "write", "writev",
	NULL,
};

/* personality(2) personas glibc and tools use: PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff. */
#define PERSONA(v) \
	{.names = NAMES("personality"), .action = SBX_SCMP_ALLOW, .errno_ret = -1, \
	 .args = ARGS({.index = 0, .value = (v), .op = SBX_SCMP_EQ})}

/* clone(2) without any flag that makes a namespace. */
#define NS_FLAGS                                                                   \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
	 CLONE_NEWNET | CLONE_NEWCGROUP)

static const sbx_scmp_rule_t rules[] = {
	{.names = allowed, .action = SBX_SCMP_ALLOW, .errno_ret = -1},
	{.names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"),
	 .action = SBX_SCMP_ALLOW, .errno_ret = -1, .includes = {.min_kernel = KERNEL(4, 8)}},
	/* AF_VSOCK would reach the host (or other VMs) past every namespace */
	{.names = NAMES("socket"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .args = ARGS({.index = 0, .value = AF_VSOCK, .op = SBX_SCMP_NE})},
	PERSONA(0x0),
	PERSONA(0x0008),
	PERSONA(0x20000),
	PERSONA(0x20008),
	PERSONA(0xffffffff),
	{.names = NAMES("sync_file_range2", "swapcontext"), .action = SBX_SCMP_ALLOW,
	 .errno_ret = -1, .includes = {.arches = NAMES("ppc64le")}},
	{.names = NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
			"breakpoint", "cacheflush", "set_tls"),
	 .action = SBX_SCMP_ALLOW, .errno_ret = -1, .includes = {.arches = NAMES("arm", "arm64")}},
	{.names = NAMES("arch_prctl"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.arches = NAMES("amd64", "x32")}},
	{.names = NAMES("modify_ldt"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.arches = NAMES("amd64", "x32", "x86")}},
	{.names = NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
	 .action = SBX_SCMP_ALLOW, .errno_ret = -1, .includes = {.arches = NAMES("s390", "s390x")}},
	{.names = NAMES("riscv_flush_icache"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.arches = NAMES("riscv64")}},
	{.names = NAMES("open_by_handle_at"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_DAC_READ_SEARCH)}},
	{.names = NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
			"fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
			"open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
			"sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
	 .action = SBX_SCMP_ALLOW, .errno_ret = -1, .includes = {.caps = CAP(CAP_SYS_ADMIN)}},
	{.names = NAMES("clone"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .args = ARGS({.index = 0, .value = NS_FLAGS, .value_two = 0, .op = SBX_SCMP_MASKED_EQ}),
	 .excludes = {.caps = CAP(CAP_SYS_ADMIN), .arches = NAMES("s390", "s390x")}},
	/* s390 passes clone's flags second */
	{.names = NAMES("clone"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .args = ARGS({.index = 1, .value = NS_FLAGS, .value_two = 0, .op = SBX_SCMP_MASKED_EQ}),
	 .includes = {.arches = NAMES("s390", "s390x")}, .excludes = {.caps = CAP(CAP_SYS_ADMIN)}},
	/* clone3's flags sit in memory the filter cannot read: ENOSYS makes
	 * glibc fall back to clone, whose flags it can */
	{.names = NAMES("clone3"), .action = SBX_SCMP_ERRNO, .errno_ret = 38 /* ENOSYS */,
	 .excludes = {.caps = CAP(CAP_SYS_ADMIN)}},
	{.names = NAMES("reboot"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_SYS_BOOT)}},
	{.names = NAMES("chroot"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_SYS_CHROOT)}},
	{.names = NAMES("delete_module", "init_module", "finit_module"), .action = SBX_SCMP_ALLOW,
	 .errno_ret = -1, .includes = {.caps = CAP(CAP_SYS_MODULE)}},
	{.names = NAMES("acct"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_SYS_PACCT)}},
	{.names = NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
			"process_vm_writev", "ptrace"),
	 .action = SBX_SCMP_ALLOW, .errno_ret = -1, .includes = {.caps = CAP(CAP_SYS_PTRACE)}},
	{.names = NAMES("iopl", "ioperm"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_SYS_RAWIO)}},
	{.names = NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"),
	 .action = SBX_SCMP_ALLOW, .errno_ret = -1, .includes = {.caps = CAP(CAP_SYS_TIME)}},
	{.names = NAMES("vhangup"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_SYS_TTY_CONFIG)}},
	{.names = NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
	 .action = SBX_SCMP_ALLOW, .errno_ret = -1, .includes = {.caps = CAP(CAP_SYS_NICE)}},
	{.names = NAMES("syslog"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_SYSLOG)}},
	{.names = NAMES("bpf"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_BPF)}},
	{.names = NAMES("perf_event_open"), .action = SBX_SCMP_ALLOW, .errno_ret = -1,
	 .includes = {.caps = CAP(CAP_PERFMON)}},
};

static const sbx_scmp_archmap_t arch_map[] = {
	{"x86_64", NAMES("x86", "x32")},
	{"aarch64", NAMES("arm")},
	{"mips64", NAMES("mips", "mips64n32")},
	{"mips64n32", NAMES("mips", "mips64")},
	{"mipsel64", NAMES("mipsel", "mipsel64n32")},
	{"mipsel64n32", NAMES("mipsel", "mipsel64")},
	{"s390x", NAMES("s390")},
	{"riscv64", NULL},
};

static const sbx_scmp_profile_t docker_default = {
	.default_action = SBX_SCMP_ERRNO,
	.default_errno = 1, /* EPERM: Docker's defaultErrnoRet */
	.arch_map = arch_map,
	.n_arch_map = CB_ARRAY_SIZE(arch_map),
	.rules = rules,
	.n_rules = CB_ARRAY_SIZE(rules),
};

const sbx_scmp_profile_t *sbx_seccomp_default(void)
{
	return &docker_default;
}
