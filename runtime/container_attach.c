/* attach: a running container's output from now on, signals passed to its
 * PID 1, and its exit code at the end. The monitor already writes every
 * line the container prints to its log: attach follows that file, from
 * its end (docker attach shows no earlier output either). */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/container_ops.h"
#include "runtime/log.h"
#include "common/fs.h"
#include "common/util.h"

/* Write the records in data[0..len) to their streams; the bytes used. */
static size_t emit(const char *data, size_t len, int out_fd, int err_fd, cb_error_t *err, int *rc)
{
	size_t used = 0;
	while (used < len && *rc == 0) {
		const char *nl = memchr(data + used, '\n', len - used);
		if (!nl)
			break;
		rt_log_record_t r;
		if (rt_log_parse(data + used, (size_t)(nl - data - used), &r)) {
			int fd = r.stream == 2 ? err_fd : out_fd;
			if (cb_write_all(fd, r.text, r.text_len, err) < 0 ||
			    (r.full && cb_write_all(fd, "\n", 1, err) < 0))
				*rc = -1;
		}
		used = (size_t)(nl - data) + 1;
	}
	return used;
}

/* Typed bytes -> the container's stdin, the detach keys held back while
 * they may be starting. True when they were typed in full. */
typedef struct keys {
	const char *want;
	size_t matched;
} keys_t;

static bool pump_stdin(rt_attach_t *a, keys_t *k, int sock, bool *eof)
{
	char in[4096], out[4096 + 16];
	ssize_t n = read(a->in_fd, in, sizeof in);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		*eof = true; /* our stdin ended: the container's stays open */
		return false;
	}
	size_t o = 0;
	for (ssize_t i = 0; i < n; i++) {
		if (k->want && *k->want && in[i] == k->want[k->matched]) {
			if (!k->want[++k->matched])
				return true;
			continue;
		}
		/* a partial match was ordinary input after all */
		if (k->matched)
			memcpy(out + o, k->want, k->matched);
		o += k->matched;
		k->matched = 0;
		if (k->want && in[i] == k->want[0]) {
			k->matched = 1;
			continue;
		}
		out[o++] = in[i];
		if (o >= sizeof in) {
			cb_error_t e = CB_ERROR_INIT;
			if (cb_write_all(sock, out, o, &e) < 0)
				cb_error_release(&e);
			o = 0;
		}
	}
	cb_error_t e = CB_ERROR_INIT;
	if (o && cb_write_all(sock, out, o, &e) < 0)
		cb_error_release(&e);
	return false;
}

int rt_ctr_attach(store_t *st, rt_ctr_t *c, rt_attach_t *a, int *exit_code, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	if (c->status != RT_CTR_RUNNING && !a->at_start)
		return cb_error_fail(err, EINVAL, "you cannot attach to a stopped container "
						  "'%s': start it first", c->name);
	/* a detached -i container's stdin is its monitor's socket; an attached
	 * run's is its own terminal (nothing to send it from here) */
	int sock = -1;
	if (a->in_fd >= 0 && c->interactive) {
		cb_error_t e = CB_ERROR_INIT;
		sock = ctr_stdin_connect(c, &e);
		/* a container we just started listens before it runs: refused or
		 * gone means it already exited (run -it sh -c 'echo hi'), its
		 * output is in the log and its code in its record */
		bool exited = a->at_start && (e.code == ECONNREFUSED || e.code == ENOENT);
		if (sock < 0 && !exited) {
			cb_error_move(err, &e);
			return -1;
		}
		cb_error_release(&e);
	}
	/* docker's rule: the keys detach from a tty only; else they are input */
	keys_t keys = {c->tty ? a->detach_keys : NULL, 0};
	bool in_eof = sock < 0;
	a->detached = false;
	rt_log_reader_t r;
	rt_log_init(&r, c);
	const char *data;
	size_t len;
	/* from now on (start -a: from the mark): what is before is history */
	int rc = rt_log_read(&r, &data, &len, err);
	size_t history = a->at_start && a->mark < (long long)len ? (size_t)a->mark : len;
	if (rc == 0)
		rt_log_consume(&r, history);
	bool running = true;
	while (rc == 0) {
		if (a->pending_signal && *a->pending_signal) {
			int sig = *a->pending_signal;
			*a->pending_signal = 0;
			cb_error_t e = CB_ERROR_INIT;
			if (rt_ctr_kill(st, c, sig, &e) < 0)
				cb_error_release(&e); /* it exited meanwhile */
		}
		if ((rc = rt_log_read(&r, &data, &len, err)) < 0)
			break;
		rt_log_consume(&r, emit(data, len, a->out_fd, a->err_fd, err, &rc));
		if (rc < 0 || rt_log_follow_rotation(&r))
			continue;
		if (!running)
			break; /* the monitor's last lines are read: done */
		/* the monitor records the exit after writing the last output */
		if (rt_ctr_refresh(st, c, err) < 0) {
			rc = -1;
			break;
		}
		/* --rm: its monitor recorded the exit and waits for us to read
		 * it (rt_ctr_hold_removal); no restart policy goes with it */
		if (c->status != RT_CTR_RUNNING &&
		    (c->auto_remove || !ctr_pid_alive(c->monitor_pid, c->monitor_start))) {
			running = false;
			continue;
		}
		/* wait for what is typed, or a twentieth of a second for output */
		struct pollfd p = {.fd = in_eof ? -1 : a->in_fd, .events = POLLIN};
		if (poll(&p, 1, 50) > 0 && pump_stdin(a, &keys, sock, &in_eof)) {
			a->detached = true;
			break;
		}
		/* StdinOnce: our EOF is the container's (docker's start -ai) */
		if (in_eof && sock >= 0 && c->stdin_once && !c->tty) {
			close(sock);
			sock = -1;
		}
	}
	if (sock >= 0)
		close(sock);
	rt_log_release(&r);
	if (rc == 0 && !a->detached)
		*exit_code = c->exit_code;
	return rc;
}

int rt_ctr_hold_removal(const rt_ctr_t *c, cb_error_t *err)
{
	_cleanup_free_ char *p = ctr_path(c, "attach.lock");
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", p);
	/* a POSIX lock: the monitor forked after this does not inherit it
	 * (a flock would be shared with it, and it would wait for itself) */
	struct flock l = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLKW, &l) < 0) {
		cb_error_errno(err, "lock '%s'", p);
		close(fd);
		return -1;
	}
	return fd;
}

void rt_ctr_resize_from(const rt_ctr_t *c, int fd)
{
	struct winsize ws;
	if (!c->tty || c->pid <= 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
		return;
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/fd/0", (int)c->pid);
	int slave = open(p, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	/* the pid could have been reused: only a running container's own */
	if (slave >= 0 && isatty(slave) && ctr_pid_alive(c->pid, c->pid_start))
		ioctl(slave, TIOCSWINSZ, &ws);
	if (slave >= 0)
		close(slave);
}

long long rt_ctr_attach_mark(const rt_ctr_t *c)
{
	_cleanup_free_ char *path = ctr_path(c, "log");
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}
