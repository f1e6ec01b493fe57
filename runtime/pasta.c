/* A rootless container's network through pasta (see runtime/pasta.h). */
#include "runtime/pasta.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

/* pasta has configured the namespace within this (it takes ~10 ms); the
 * bound only ends a wait for a pasta that hangs */
#define PASTA_READY_MS 30000
#define NS_PATH_MAX 48

const char *rt_pasta_path(void)
{
	static const char *const dirs[] = {"/usr/bin/pasta", "/usr/local/bin/pasta",
					   "/usr/sbin/pasta"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(dirs); i++)
		if (access(dirs[i], X_OK) == 0)
			return dirs[i];
	return NULL;
}

bool rt_pasta_usable(void)
{
	return rt_pasta_path() && access("/dev/net/tun", R_OK | W_OK) == 0;
}

/* -t/-u SPEC per published port: "[IP/]HOST:CTR" (pasta binds every
 * address when none is given, as docker's 0.0.0.0) */
static char **port_args(char **argv, const rt_ctr_t *c)
{
	bool tcp = false, udp = false;
	for (size_t i = 0; i < c->n_ports; i++) {
		const rt_ctr_port_t *p = &c->ports[i];
		bool any = !*p->host_ip || !strcmp(p->host_ip, "0.0.0.0");
		argv = cb_strv_push(argv, p->udp ? "-u" : "-t");
		argv = cb_strv_push_take(argv, cb_asprintf("%s%s%u:%u", any ? "" : p->host_ip,
							   any ? "" : "/", (unsigned)p->bound_port,
							   (unsigned)p->ctr_port));
		udp |= p->udp;
		tcp |= !p->udp;
	}
	/* pasta's default is "auto" (every port the container listens on):
	 * docker publishes only what -p says. A udp list left out would
	 * copy the tcp one. */
	if (!tcp)
		argv = cb_strv_push(cb_strv_push(argv, "-t"), "none");
	if (!udp)
		argv = cb_strv_push(cb_strv_push(argv, "-u"), "none");
	return argv;
}

static char **pasta_argv(const char *bin, const rt_ctr_t *c, const char *pidfile)
{
	char **argv = cb_strv_push(NULL, bin);
	static const char *const fixed[] = {
		"--config-net",
		"--foreground",
		"--quiet",
		"--ns-ifname",
		"eth0",
		/* the host's loopback and the host itself stay out of reach,
		 * as from docker's bridge: no namespace-to-host port
		 * forwarding, no gateway address mapped to the host */
		"-T",
		"none",
		"-U",
		"none",
		"--no-map-gw",
		"--dns-forward",
		RT_PASTA_DNS,
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(fixed); i++)
		argv = cb_strv_push(argv, fixed[i]);
	if (c)
		argv = port_args(argv, c);
	else
		argv = cb_strv_push(cb_strv_push(cb_strv_push(cb_strv_push(argv, "-t"), "none"),
						 "-u"),
				    "none");
	/* the namespaces' paths are the launcher's to fill (ns_path): room
	 * for any pid */
	argv = cb_strv_push(argv, "--netns");
	argv = cb_strv_push_take(argv, cb_xcalloc(1, NS_PATH_MAX));
	argv = cb_strv_push(argv, "--userns");
	argv = cb_strv_push_take(argv, cb_xcalloc(1, NS_PATH_MAX));
	argv = cb_strv_push(argv, "--pid");
	return cb_strv_push(argv, pidfile);
}

/* "/proc/PID/ns/NAME" into out (NS_PATH_MAX): no stdio after the fork */
static void ns_path(char *out, pid_t pid, const char *name)
{
	char digits[16];
	int n = 0;
	for (unsigned long v = (unsigned long)pid; n == 0 || v; v /= 10)
		digits[n++] = (char)('0' + v % 10);
	char *o = out;
	for (const char *s = "/proc/"; *s;)
		*o++ = *s++;
	while (n)
		*o++ = digits[--n];
	for (const char *s = "/ns/"; *s;)
		*o++ = *s++;
	while (*name)
		*o++ = *name++;
	*o = 0;
}

/* The launcher: dies with its parent, waits for the go, execs pasta. Only
 * system calls after the fork. */
static _Noreturn void launcher(char **argv, pid_t parent, int go, int devnull, int errfd)
{
	pid_t ns;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* rt_pasta_stop's SIGTERM ends a launcher whose parent catches it
	 * (a build's catch_interrupts) */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(errfd, 2) < 0 ||
	    dup2(go, 3) < 0)
		_exit(127);
	/* nothing else of the parent's stays open while it waits: the pipe's
	 * other end (its EOF is the end), a store's lease and lock */
	syscall(SYS_close_range, 4U, ~0U, 0);
	ssize_t n;
	while ((n = read(3, &ns, sizeof ns)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof ns)
		_exit(0);
	close(3);
	/* argv: ... --netns PATH --userns PATH --pid FILE */
	size_t argc = 0;
	while (argv[argc])
		argc++;
	ns_path(argv[argc - 5], ns, "net");
	ns_path(argv[argc - 3], ns, "user");
	/* exec keeps an ignored SIGPIPE, and bookworm's pasta takes the
	 * SIG_IGN that signal() then returns for a failure ("Couldn't install
	 * signal handlers"): the defaults, and no blocked signal */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

int rt_pasta_prepare(const rt_ctr_t *c, const char *dir, rt_pasta_t *p, cb_error_t *err)
{
	memset(p, 0, sizeof *p);
	p->go_fd = -1;
	const char *bin = rt_pasta_path();
	if (!bin)
		return cb_error_fail(err, ENOENT, "rootless networking needs pasta "
						  "(apt-get install passt)");
	p->pidfile = cb_asprintf("%s/pasta.pid", dir);
	p->errpath = cb_asprintf("%s/pasta.err", dir);
	unlink(p->pidfile);
	_cleanup_close_ int errfd = open(p->errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (errfd < 0 || devnull < 0)
		return cb_error_errno(err, "open '%s'", errfd < 0 ? p->errpath : "/dev/null");
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	pid_t self = getpid();
	_cleanup_strv_ char **argv = pasta_argv(bin, c, p->pidfile);
	pid_t pid = fork();
	if (pid == 0)
		launcher(argv, self, go[0], devnull, errfd);
	int e = errno;
	close(go[0]);
	if (pid < 0) {
		close(go[1]);
		return cb_error_set(err, e, "fork pasta");
	}
	p->pid = pid;
	p->go_fd = go[1];
	return 0;
}

/* pasta's last message, for an error (caller frees) */
static char *last_message(const char *errpath)
{
	char *text = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(errpath, 1 << 16, &text, &len, &e) < 0) {
		cb_error_release(&e);
		return cb_xstrdup("no message");
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = 0;
	char *nl = strrchr(text, '\n');
	char *out = cb_xstrdup(len ? (nl ? nl + 1 : text) : "no message");
	free(text);
	return out;
}

static bool file_nonempty(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

int rt_pasta_go(rt_pasta_t *p, cb_error_t *err)
{
	return rt_pasta_go_for(p, getpid(), err);
}

int rt_pasta_go_for(rt_pasta_t *p, pid_t ns_pid, cb_error_t *err)
{
	if (write(p->go_fd, &ns_pid, sizeof ns_pid) != (ssize_t)sizeof ns_pid)
		return cb_error_errno(err, "start pasta");
	close(p->go_fd);
	p->go_fd = -1;
	return 0;
}

/* pasta writes its pid file once the namespace is configured */
int rt_pasta_ready(rt_pasta_t *p, cb_error_t *err)
{
	if (p->pid <= 0)
		return 0;
	struct timespec ts = {0, 2 * 1000 * 1000};
	for (int ms = 0; ms < PASTA_READY_MS; ms += 2) {
		if (file_nonempty(p->pidfile))
			return 0;
		int ws;
		if (waitpid(p->pid, &ws, WNOHANG) == p->pid) {
			p->pid = 0;
			_cleanup_free_ char *m = last_message(p->errpath);
			return cb_error_fail(err, EIO, "rootless network: pasta failed: %s", m);
		}
		nanosleep(&ts, NULL);
	}
	return cb_error_fail(err, ETIMEDOUT, "rootless network: pasta did not configure the "
					     "container's namespace");
}

void rt_pasta_stop(rt_pasta_t *p)
{
	if (p->go_fd > 0)        /* a zeroed p's 0 is not ours */
		close(p->go_fd); /* EOF: the launcher ends */
	p->go_fd = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	p->pid = 0;
	free(p->pidfile);
	free(p->errpath);
	p->pidfile = p->errpath = NULL;
}
