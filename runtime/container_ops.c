/* Docker's everyday verbs on an existing container: kill, wait, rename,
 * restart. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/container_ops.h"
#include "common/util.h"

int rt_ctr_kill(store_t *st, rt_ctr_t *c, int sig, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	if (c->status != RT_CTR_RUNNING || !ctr_pid_alive(c->pid, c->pid_start))
		return cb_error_fail(err, EINVAL, "container '%s' is not running", c->name);
	/* docker's rule: a frozen process would act on the signal only once
	 * thawed, so only SIGKILL goes to a paused container (and thaws it) */
	bool paused = rt_ctr_paused(c);
	if (paused && sig != SIGKILL)
		return cb_error_fail(err, EBUSY, "container '%s' is paused: unpause it before "
						 "stopping or killing it", c->name);
	/* a kill meant to end it is a manual stop, as docker's daemon counts
	 * it: the restart policy lets it lie (a SIGHUP to reload does not) */
	int stop_sig = c->stop_signal ? rt_ctr_parse_signal(c->stop_signal) : SIGTERM;
	if ((sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == stop_sig) &&
	    rt_ctr_mark_stopped(c, err) < 0)
		return -1;
	if (kill(c->pid, sig) < 0 && errno != ESRCH)
		return cb_error_errno(err, "signal container '%.12s'", c->id);
	if (paused)
		ctr_thaw_if_paused(c);
	return 0;
}

int rt_ctr_wait(store_t *st, rt_ctr_t *c, int *code, cb_error_t *err)
{
	/* No daemon to tell us: the state file and the monitor are polled. A
	 * tenth of a second is well below what a human or a CI step notices
	 * and costs nothing next to the container's own work. */
	for (;;) {
		if (rt_ctr_refresh(st, c, err) < 0)
			return -1;
		/* the monitor writes the exit code before it exits: once it is
		 * gone (or the state says exited with no monitor) the code is final */
		if (c->status != RT_CTR_RUNNING &&
		    (c->monitor_pid <= 0 || !ctr_pid_alive(c->monitor_pid, c->monitor_start)))
			break;
		if (c->status == RT_CTR_EXITED && c->finished >= 0 && c->monitor_pid == 0)
			break;
		usleep(100 * 1000);
	}
	*code = c->exit_code;
	return 0;
}

int rt_ctr_rename(store_t *st, rt_ctr_t *c, const char *name, cb_error_t *err)
{
	if (!ctr_valid_name(name))
		return cb_error_fail(err, EINVAL, "invalid container name '%s': only "
						  "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
	if (cb_streq(c->name, name))
		return cb_error_fail(err, EINVAL, "renaming a container with the same name as "
						  "its current name");
	if (store_lock(st, err) < 0)
		return -1;
	/* under the lock: no run --name or other rename takes it meanwhile */
	int rc;
	if (ctr_name_taken(st, name)) {
		rc = cb_error_fail(err, EEXIST, "the container name '%s' is already in use", name);
	} else {
		char *old = c->name;
		c->name = cb_xstrdup(name);
		rc = ctr_write_config(st, c, err);
		if (rc < 0) {
			free(c->name);
			c->name = old;
		} else {
			free(old);
		}
	}
	store_unlock(st);
	return rc;
}

int rt_ctr_restart(store_t *st, rt_ctr_t *c, int timeout, cb_error_t *err)
{
	if (rt_ctr_stop(st, c, timeout, err) < 0)
		return -1;
	return rt_ctr_start_detached(st, c, err);
}

/* docker's daemon removes the --rm containers it finds exited when it
 * starts again. Here a monitor killed (-9) before its --rm removal left
 * the record: the next command that loads it removes it, unless an
 * attacher still holds it to read the exit code (run -it). */
bool ctr_remove_orphaned(store_t *st, rt_ctr_t *c)
{
	if (!c->auto_remove || c->status != RT_CTR_EXITED || c->monitor_pid <= 0 ||
	    ctr_pid_alive(c->monitor_pid, c->monitor_start) ||
	    ctr_pid_alive(c->keeper_pid, c->keeper_start))
		return false;
	_cleanup_free_ char *p = ctr_path(c, "attach.lock");
	_cleanup_close_ int fd = open(p, O_RDWR | O_CLOEXEC);
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fd >= 0 && fcntl(fd, F_SETLK, &l) < 0)
		return false;
	cb_error_t e = CB_ERROR_INIT;
	if (rt_ctr_remove(st, c, true, &e) < 0) {
		cb_warn_error(&e);
		return false;
	}
	return true;
}
