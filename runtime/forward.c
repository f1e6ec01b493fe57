/* Published ports: a userspace TCP forwarder and UDP relay (see
 * runtime/forward.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/forward.h"

/* ---- -p: a userspace TCP forwarder ---- */

typedef struct conn {
	int a, b;
} conn_t;

static bool pump_once(int from, int to)
{
	char buf[32768];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static void *conn_main(void *arg)
{
	conn_t *c = arg;
	bool a_open = true, b_open = true;
	while (a_open || b_open) {
		struct pollfd p[2] = {{.fd = a_open ? c->a : -1, .events = POLLIN},
				      {.fd = b_open ? c->b : -1, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* half-close each way as it ends, so request/response protocols work */
		if (a_open && p[0].revents && !pump_once(c->a, c->b)) {
			a_open = false;
			shutdown(c->b, SHUT_WR);
		}
		if (b_open && p[1].revents && !pump_once(c->b, c->a)) {
			b_open = false;
			shutdown(c->a, SHUT_WR);
		}
	}
	close(c->a);
	close(c->b);
	free(c);
	return NULL;
}

/* ---- -p .../udp: a userspace UDP relay ---- */

/* docker-proxy's idle time for a UDP "connection" */
#define UDP_IDLE_SEC 90
#define UDP_MAX_FLOWS 256

typedef struct flow {
	struct sockaddr_storage client;
	socklen_t client_len;
	int fd; /* connected to the container's 127.0.0.1:port, in its netns */
	time_t last;
} flow_t;

static int flow_for(rt_fwd_t *f, flow_t *flows, size_t *n, const struct sockaddr_storage *from,
		    socklen_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (flows[i].client_len == len && !memcmp(&flows[i].client, from, len))
			return (int)i;
	if (*n == UDP_MAX_FLOWS)
		return -1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->ctr_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	flow_t *fl = &flows[(*n)++];
	memcpy(&fl->client, from, len);
	fl->client_len = len;
	fl->fd = s;
	fl->last = time(NULL);
	return (int)(*n - 1);
}

static void expire_flows(flow_t *flows, size_t *n)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < *n;) {
		if (now - flows[i].last > UDP_IDLE_SEC) {
			close(flows[i].fd);
			flows[i] = flows[--*n];
		} else {
			i++;
		}
	}
}

/* Each client address gets its own socket in the container, so replies
 * find their way back to the client that asked. */
static void udp_relay(rt_fwd_t *f)
{
	flow_t flows[UDP_MAX_FLOWS];
	size_t n = 0;
	char buf[65536];
	for (;;) {
		struct pollfd p[UDP_MAX_FLOWS + 1];
		p[0] = (struct pollfd){.fd = f->listen_fd, .events = POLLIN};
		for (size_t i = 0; i < n; i++)
			p[i + 1] = (struct pollfd){.fd = flows[i].fd, .events = POLLIN};
		size_t polled = n;
		int r = poll(p, polled + 1, 10 * 1000);
		if (r < 0 && errno != EINTR)
			return;
		if (r <= 0) {
			expire_flows(flows, &n);
			continue;
		}
		if (p[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t len = sizeof from;
			ssize_t got = recvfrom(f->listen_fd, buf, sizeof buf, 0,
					       (struct sockaddr *)&from, &len);
			int k = got >= 0 ? flow_for(f, flows, &n, &from, len) : -1;
			if (k >= 0) {
				send(flows[k].fd, buf, (size_t)got, MSG_NOSIGNAL);
				flows[k].last = time(NULL);
			}
		}
		/* replies; a flow added above is polled from the next round */
		for (size_t i = 0; i < polled; i++) {
			if (!(p[i + 1].revents & POLLIN))
				continue;
			ssize_t got = recv(flows[i].fd, buf, sizeof buf, 0);
			if (got >= 0) {
				sendto(f->listen_fd, buf, (size_t)got, 0,
				       (struct sockaddr *)&flows[i].client, flows[i].client_len);
				flows[i].last = time(NULL);
			}
		}
		expire_flows(flows, &n);
	}
}

static void *fwd_main(void *arg)
{
	rt_fwd_t *f = arg;
	/* this thread only: new sockets are made in the container's network */
	if (setns(f->netns_fd, CLONE_NEWNET) < 0)
		return NULL;
	if (f->udp) {
		udp_relay(f);
		return NULL;
	}
	for (;;) {
		int cfd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->ctr_port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
			if (s >= 0)
				close(s);
			close(cfd);
			continue;
		}
		conn_t *c = cb_xmalloc(sizeof *c);
		c->a = cfd;
		c->b = s;
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, conn_main, c) != 0) {
			close(cfd);
			close(s);
			free(c);
		}
		pthread_attr_destroy(&at);
	}
}

int rt_fwd_listen(const char *ip, uint16_t port, bool udp)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || (!udp && listen(fd, 128) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int rt_fwd_start(rt_fwd_t *f, cb_error_t *err)
{
	pthread_t t;
	if (pthread_create(&t, NULL, fwd_main, f) != 0)
		return cb_error_fail(err, EAGAIN, "start the port forwarder");
	pthread_detach(t);
	return 0;
}
