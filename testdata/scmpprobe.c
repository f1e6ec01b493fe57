/* scmpprobe - what the seccomp filter answers to syscalls a runtime or
 * glibc probes, and what /proc looks like, for
 * tests/e2e/t2032-run-seccomp-enosys.sh. Built static by the test so that
 * the same binary runs in a cbuild RUN, a cbuild container and a Docker
 * container.
 *
 *   scmpprobe syscalls NAME=NR...   one "NAME=RESULT" line each: the errno
 *                                   name of syscall(NR, -1, 0, ...), or "ok"
 *                                   (bad arguments: no call can succeed at
 *                                   anything but returning an error)
 *   scmpprobe proc                  keys=masked|open|none (is /proc/keys the
 *                                   /dev/null bind Docker's masks put there),
 *                                   proc_sys=ro|rw (is /proc/sys read-only)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	default: return strerror(e);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "syscalls")) {
		for (int i = 2; i < argc; i++) {
			char *eq = strchr(argv[i], '=');
			if (!eq)
				return 2;
			long nr = strtol(eq + 1, NULL, 10);
			errno = 0;
			long r = syscall(nr, -1L, 0L, 0L, 0L, 0L, 0L);
			printf("%.*s=%s\n", (int)(eq - argv[i]), argv[i], ename(r < 0 ? errno : 0));
		}
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "proc")) {
		struct stat st;
		struct statvfs sv;
		printf("keys=%s\n", stat("/proc/keys", &st) < 0 ? "none" : S_ISCHR(st.st_mode) ? "masked" : "open");
		printf("proc_sys=%s\n", statvfs("/proc/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY) ? "ro" : "rw");
		return 0;
	}
	fprintf(stderr, "usage: scmpprobe syscalls NAME=NR... | scmpprobe proc\n");
	return 2;
}
