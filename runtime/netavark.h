/*
 * runtime/netavark.h - a container's network namespace, set up by netavark.
 *
 * cbuild does not write bridges, veths, NAT or DNS itself: it hands
 * netavark (podman's network tool, /usr/lib/podman/netavark) one JSON
 * request per container, `netavark setup NETNS` and `netavark teardown
 * NETNS`. netavark makes the bridge, the veth, the address and default
 * route, the masquerade and -p DNAT rules (through iptables, which here is
 * the nft backend) and, for a network with DNS, starts aardvark-dns on the
 * bridge's gateway so members resolve each other by name.
 *
 * What is host-wide lives under the run directory (/run/cbuild, or
 * $CBUILD_RUN_DIR), not in a store, because bridges and NAT rules are
 * host-wide too and two stores share them:
 *   netns/ID        the container's network namespace, bind-mounted so it
 *                   outlives a crashed monitor and can still be torn down
 *   netns/ID.json   the request netavark set it up with (teardown needs it;
 *                   `network inspect` reads the addresses from it); mode
 *                   0400 once netavark's setup ended well, 0600 before
 *                   (the teardown of a setup cut short is quiet);
 *                   written through ID.json.tmp-PID (swept once PID is gone)
 *   ipam/BRIDGE/IP  one file per address in use ("ID\nPID\n", linked into
 *                   place from .claim-PID-*: the allocation)
 *   aardvark/       aardvark-dns's config directory
 */
#ifndef CB_RUNTIME_NETAVARK_H
#define CB_RUNTIME_NETAVARK_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/container.h"
#include "runtime/network.h"

/* Make c's namespace on its networks (c->networks, loaded as nets; its
 * ports, aliases and fixed addresses) and move this process into it. Must
 * run before the private mount namespace is entered (the bind mount goes to
 * the host's). *dns is the nameserver for the container's resolv.conf (a
 * gateway with aardvark-dns) or NULL: the host's servers. On failure
 * nothing is left behind. */
int rt_nav_attach(const rt_ctr_t *c, rt_net_t *const *nets, char **dns, cb_error_t *err);

/* Add network n to the namespace of running container c (network connect):
 * one more interface, its address, its names in n's aardvark-dns. EALREADY
 * when c has no namespace set up (it does not run on a bridge). */
int rt_nav_connect(const rt_ctr_t *c, const rt_net_t *n, cb_error_t *err);

/* Take network `net` out of running container c's namespace (network
 * disconnect); a no-op when it is not there. */
int rt_nav_disconnect(const rt_ctr_t *c, const char *net, cb_error_t *err);

/* A network namespace on nets that no container owns (a build's RUN
 * steps join it): set up as rt_nav_attach does under the name `id` (unique
 * on the host; rt_nav_detach(id) tears it down), but the calling thread
 * stays where it is. *fd is the namespace (O_CLOEXEC, the caller's). */
int rt_nav_make_ns(const char *id, const char *name, rt_net_t *const *nets, int *fd,
		   cb_error_t *err);

/* Whether the host still has network n's bridge or a firewall rule of its
 * subnet (the teardown of its last member was cut short). */
bool rt_nav_net_left(const rt_net_t *n);

/* Tear down every namespace rt_nav_make_ns made under a name
 * "PREFIX<pid>-..." whose process <pid> is gone (a build killed with -9). */
void rt_nav_sweep(const char *prefix);

/* Everything the run directory holds of what is gone, after cbuild
 * processes were killed with -9: namespaces of dead builds (as
 * rt_nav_sweep), of containers whose directory lost its config.json (rm
 * cut short, a removed store), teardowns whose process died, and address
 * claims of a process killed before it wrote its request. */
void rt_nav_sweep_gone(void);

/* Bind namespace file path (netns/ID) here as it is bound in the mount
 * namespace cbuild started in, when this process left that one (a build's
 * private mounts were copied before the file was bound). */
int rt_nav_bind_from_outer(const char *path);

/* The host-wide lock every netavark call of any cbuild runs under: the
 * locked fd, or -1 (err set). */
int rt_nav_lock_firewall(cb_error_t *err);

/* RUN_DIR/ joined with the printf of fmt with a and b. Caller frees. */
char *rt_nav_run_path(const char *fmt, const char *a, const char *b);

/* Tear down what rt_nav_attach made for the container, from any process
 * and any network namespace: after a normal exit, from `rm`, or after its
 * monitor crashed. A no-op when nothing is set up; exactly one caller
 * tears down when several race. */
void rt_nav_detach(const char *ctr_id);

/* The container's IPv4 address on network `net` ("" when it has none).
 * Caller frees. */
char *rt_nav_address(const char *ctr_id, const char *net);

#endif
