/* The stdin of a detached container started with -i: a pipe its monitor
 * holds open for the container's life, fed by whoever attaches through
 * the socket containers/ID/attach.sock (one client at a time, as they
 * come). Without it a detached `run -dit ... sh` would read EOF at once
 * and exit, where docker's keeps running until someone attaches. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "common/fs.h"
#include "common/util.h"

/* sun_path is 108 bytes and a store root can be deep: the socket is named
 * through an fd of the container's directory. */
static int sock_addr(const rt_ctr_t *c, int *dirfd, struct sockaddr_un *sa, cb_error_t *err)
{
	*dirfd = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return cb_error_errno(err, "open '%s'", c->dir);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/attach.sock", *dirfd);
	return 0;
}

struct ctr_stdin {
	int listen_fd; /* -1 when the socket could not be made */
	int stdin_w;
	bool once;     /* docker's StdinOnce without a tty: the first client's
			* end is the container's stdin's */
};

static void *serve(void *arg)
{
	ctr_stdin_t *s = arg;
	char buf[4096];
	for (;;) {
		int cl = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (cl < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		for (;;) {
			ssize_t n = read(cl, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			cb_error_t e = CB_ERROR_INIT;
			if (cb_write_all(s->stdin_w, buf, (size_t)n, &e) < 0) {
				cb_error_release(&e); /* the container closed its stdin */
				break;
			}
		}
		close(cl);
		if (s->once) {
			close(s->stdin_w);
			return NULL;
		}
	}
}

static int listen_on(const rt_ctr_t *c, cb_error_t *err)
{
	int dirfd = -1;
	struct sockaddr_un sa;
	if (sock_addr(c, &dirfd, &sa, err) < 0)
		return -1;
	unlinkat(dirfd, "attach.sock", 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		cb_error_errno(err, "listen on '%s/attach.sock'", c->dir);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	close(dirfd);
	return fd;
}

int ctr_stdin_open(const rt_ctr_t *c, ctr_stdin_t **out, int *read_end, cb_error_t *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cb_error_errno(err, "create the container's stdin");
	ctr_stdin_t *s = cb_xcalloc(1, sizeof *s);
	s->stdin_w = p[1];
	s->once = c->stdin_once && !c->tty;
	/* without the socket the stdin still stays open (the container goes
	 * on as docker's does); only attach cannot feed it */
	cb_error_t e = CB_ERROR_INIT;
	s->listen_fd = listen_on(c, &e);
	if (s->listen_fd < 0)
		cb_warn_error(&e);
	*out = s;
	*read_end = p[0];
	return 0;
}

void ctr_stdin_serve(ctr_stdin_t *s)
{
	if (!s || s->listen_fd < 0)
		return;
	/* a client gone mid-write must not kill the monitor */
	signal(SIGPIPE, SIG_IGN);
	pthread_t th;
	if (pthread_create(&th, NULL, serve, s) != 0) {
		cb_warn("the stdin relay of a container could not start: attach cannot feed it");
		return;
	}
	pthread_detach(th);
}

int ctr_stdin_connect(const rt_ctr_t *c, cb_error_t *err)
{
	int dirfd = -1;
	struct sockaddr_un sa;
	if (sock_addr(c, &dirfd, &sa, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		cb_error_errno(err, "attach to the stdin of container '%s'", c->name);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	close(dirfd);
	return fd;
}
