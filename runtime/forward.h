/*
 * runtime/forward.h - the userspace port forwarder of published ports (-p,
 * compose's ports:): no iptables, no bridge, as docker-proxy.
 *
 * A forwarder holds a socket on the host (tcp: listening; udp: bound) and a
 * network namespace; each connection (each client address for udp) gets a
 * socket to 127.0.0.1:ctr_port made in that namespace. Containers pass the
 * namespace of their PID 1; the compose supervisor passes its own, which is
 * the project's pod.
 *
 *     rt_fwd_t f = {.netns_fd = -1};
 *     f.listen_fd = rt_fwd_listen(ip, port, udp);   // before anything starts
 *     f.ctr_port = 80; f.udp = udp; f.netns_fd = ns;
 *     rt_fwd_start(&f, err);                         // threads until exit
 *
 * The threads run until the process ends: f, listen_fd and netns_fd must
 * stay valid as long as the process serves the port.
 */
#ifndef CB_RUNTIME_FORWARD_H
#define CB_RUNTIME_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

typedef struct rt_fwd {
	int listen_fd;   /* tcp: listening; udp: the bound host socket */
	int netns_fd;
	uint16_t ctr_port;
	bool udp;
} rt_fwd_t;

/* A socket bound to ip:port of this namespace (listening for tcp), with
 * SO_REUSEADDR; ip must be an IPv4 address. Returns the fd, or -1 with
 * errno set (EINVAL for a bad address) and nothing open: callers word the
 * error, naming the port as their user wrote it. */
int rt_fwd_listen(const char *ip, uint16_t port, bool udp);

/* Serve f in a detached thread (the thread enters f->netns_fd first). */
int rt_fwd_start(rt_fwd_t *f, cb_error_t *err);

#endif
