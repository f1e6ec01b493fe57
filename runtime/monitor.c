/* The one fork of a process that outlives its caller (runtime/monitor.h). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "runtime/monitor.h"

/* stdin from /dev/null; stdout and stderr to the log or /dev/null. A
 * monitor must not write to the caller's terminal, and must not die of
 * SIGPIPE or SIGHUP when it goes away. */
static void detach_stdio(const char *log_path)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int out = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : null;
	if (null >= 0 && out >= 0) {
		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
	}
	if (out > 2 && out != null)
		close(out);
	if (null > 2)
		close(null);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

int rt_monitor_fork(const char *what, const char *log_path, void (*main)(void *arg, int report_fd),
		    void *arg, int *report_fd, pid_t *pid, cb_error_t *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid_t child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return cb_error_errno(err, "fork %s", what);
	}
	if (child == 0) {
		close(p[0]);
		setsid();
		detach_stdio(log_path);
		main(arg, p[1]);
		_exit(127); /* main must not return */
	}
	close(p[1]);
	*report_fd = p[0];
	*pid = child;
	return 0;
}
