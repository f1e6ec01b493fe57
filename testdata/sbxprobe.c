/* sbxprobe - what a sandbox allows, one "key=value" line per check, for
 * tests/e2e/t5070-sandbox-matrix.sh. Built static by the test so that the
 * same binary runs in a cbuild RUN, a cbuild container and a Docker
 * container (busybox has no keyctl, and its unshare may differ).
 *
 *   sbxprobe [FORKS]   FORKS: children to try to start (the pids check)
 *
 * Prints: capeff, seccomp, nnp (from /proc/self/status), pids_cgroup
 * (the path in the pids hierarchy, from /proc/self/cgroup), then for
 * unshare_user, unshare_mnt, keyctl, mount: "ok" or the errno name, then
 * forks=N (children started) fork_err=ERRNO-NAME ("none" when all
 * started). Children only pause() and are killed before exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOMEM: return "ENOMEM";
	default: return strerror(e);
	}
}

static void status_field(const char *key, const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(name);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, name, n) && line[n] == ':') {
			char *v = line + n + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			printf("%s=%s\n", key, v);
		}
	if (f)
		fclose(f);
}

static void pids_cgroup(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 && !strncmp(c1 + 1, "pids:", 5)) {
			c2[1 + strcspn(c2 + 1, "\n")] = '\0';
			printf("pids_cgroup=%s\n", c2 + 1);
		}
	}
	if (f)
		fclose(f);
}

/* Each namespace attempt in a child: a success must not change us. */
static int in_child(int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0)
		_exit(fn() < 0 ? errno : 0);
	int ws;
	if (p < 0 || waitpid(p, &ws, 0) < 0 || !WIFEXITED(ws))
		return EIO;
	return WEXITSTATUS(ws);
}

static int try_userns(void) { return unshare(CLONE_NEWUSER); }
static int try_mntns(void) { return unshare(CLONE_NEWNS); }
static int try_mount(void) { return mount("none", "/tmp", "tmpfs", 0, NULL); }
static int try_keyctl(void)
{
	/* KEYCTL_JOIN_SESSION_KEYRING, NULL: a new anonymous session keyring */
	return (int)syscall(SYS_keyctl, 1, NULL, 0, 0, 0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	status_field("capeff", "CapEff");
	status_field("seccomp", "Seccomp");
	status_field("nnp", "NoNewPrivs");
	pids_cgroup();
	printf("unshare_user=%s\n", ename(in_child(try_userns)));
	printf("unshare_mnt=%s\n", ename(in_child(try_mntns)));
	printf("keyctl=%s\n", ename(in_child(try_keyctl)));
	printf("mount=%s\n", ename(in_child(try_mount)));
	int want = argc > 1 ? atoi(argv[1]) : 0;
	if (want <= 0)
		return 0;
	pid_t *kids = calloc((size_t)want, sizeof *kids);
	int n = 0, err = 0;
	for (; n < want; n++) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			err = errno;
			break;
		}
		kids[n] = p;
	}
	printf("forks=%d\nfork_err=%s\n", n, err ? ename(err) : "none");
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
