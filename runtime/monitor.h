/*
 * runtime/monitor.h - the fork of a process that outlives its caller: a
 * detached container's monitor (runtime/container_run.c) and a compose
 * project's supervisor (runtime/compose.c).
 *
 * The child leaves the caller's session (setsid), reads stdin from
 * /dev/null, writes stdout and stderr to log_path (appended) or /dev/null,
 * ignores SIGPIPE and SIGHUP, then runs main(arg, report_fd), which must
 * not return (it ends with _exit). The parent gets the read end of a pipe
 * whose write end only the child holds: what the child writes there (its
 * protocol: an error message, status lines) until it closes it or exits.
 */
#ifndef CB_RUNTIME_MONITOR_H
#define CB_RUNTIME_MONITOR_H

#include <sys/types.h>

#include "common/error.h"

/* what names the child in the fork error ("the container monitor").
 * *report_fd (O_CLOEXEC) and *pid are the caller's. */
int rt_monitor_fork(const char *what, const char *log_path, void (*main)(void *arg, int report_fd),
		    void *arg, int *report_fd, pid_t *pid, cb_error_t *err);

#endif
