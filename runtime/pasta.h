/*
 * runtime/pasta.h - a rootless container's network: pasta (Debian's
 * `passt`), the user-mode networking podman uses. netavark needs root; pasta
 * gives the container's own network namespace, owned by its user namespace,
 * a tap interface with the host's address and default route, forwards its
 * outbound TCP/UDP through sockets of the host, publishes -p ports on the
 * host and answers DNS on RT_PASTA_DNS (forwarded to the host's resolver).
 *
 * The namespace is the container's monitor's own: the monitor (rootless:
 * root of a user namespace of its own, runtime/mount.c) unshares a network
 * namespace and its container shares it. pasta must run outside, in the
 * host's namespaces, so a launcher is forked before the monitor enters its
 * user namespace and execs pasta when told the namespace exists:
 *
 *     rt_pasta_t p;
 *     rt_pasta_prepare(c, c->dir, &p, err);  // host namespaces still
 *     rt_enter_mount_ns(err);                 // user + mount namespace
 *     unshare(CLONE_NEWNET);
 *     rt_pasta_go(&p, err);                   // pasta starts
 *     ...                                     // mount the container's root
 *     rt_pasta_ready(&p, err);                // configured on return
 *     ...                                     // the container runs
 *     rt_pasta_stop(&p);                      // SIGTERM + reap
 *
 * pasta is a child of the monitor and gets SIGKILL when the monitor dies
 * (PR_SET_PDEATHSIG), so a monitor killed with -9 leaves no pasta behind.
 */
#ifndef CB_RUNTIME_PASTA_H
#define CB_RUNTIME_PASTA_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/container.h"

/* The container's nameserver: pasta maps it to the host's first one. */
#define RT_PASTA_DNS "169.254.1.1"

/* The pasta binary, or NULL when it is not installed. */
const char *rt_pasta_path(void);

/* pasta is installed and this user may open /dev/net/tun (udev makes it
 * 0666; a machine without udev may leave it root's): the rootless default
 * network is pasta's only then. */
bool rt_pasta_usable(void);

typedef struct rt_pasta {
	pid_t pid; /* the launcher, then pasta; 0 = none */
	int go_fd; /* its pipe: a byte execs pasta, EOF ends it */
	char *pidfile, *errpath;
} rt_pasta_t;

/* Fork the launcher of pasta, with c's published ports (their bound_port
 * chosen; c NULL: none). dir holds pasta's pid file and its messages. Its
 * parent's thread must live as long as pasta (PR_SET_PDEATHSIG). */
int rt_pasta_prepare(const rt_ctr_t *c, const char *dir, rt_pasta_t *p, cb_error_t *err);

/* This process is in its new network namespace: exec pasta. It takes a
 * while (~0.1 s): the caller mounts the container's root meanwhile. */
int rt_pasta_go(rt_pasta_t *p, cb_error_t *err);
/* The same for the namespaces (network, and user owning it) of process
 * ns_pid, a child of this one say (a build's RUN steps: builder/runnet.c). */
int rt_pasta_go_for(rt_pasta_t *p, pid_t ns_pid, cb_error_t *err);

/* Wait until pasta has configured the namespace (eth0 up with an address,
 * the default route, the ports bound on the host); an error with pasta's
 * message when it failed. No-op without pasta. */
int rt_pasta_ready(rt_pasta_t *p, cb_error_t *err);

/* End the launcher or pasta (SIGTERM) and reap it; release p. Safe on a
 * zeroed p and twice. */
void rt_pasta_stop(rt_pasta_t *p);

#endif
