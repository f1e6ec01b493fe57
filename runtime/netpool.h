/*
 * runtime/netpool.h - a store's pool of ready build network namespaces.
 *
 * A build's RUN steps share one namespace on the default bridge (see
 * builder/runnet.c); netavark's setup and teardown of it cost 0.1-0.4 s
 * each. As BuildKit's cniprovider keeps ready namespaces, a build puts its
 * namespace back here at its end (at most RT_NETPOOL_MAX per store) and the
 * next build of the store takes it instead of setting one up. While entries
 * exist the default bridge and its NAT rules stay, as docker0 does.
 *
 * The namespace keeps the ID it was made under (build-PID-HEX: its files
 * under netns/ and its address claim stay where they are); the pool holds
 * leases, one file per namespace, under RUN_DIR/netpool/SID/ (SID: a hash
 * of the store's root):
 *   root              the store's root, for the sweep (its pool goes with it)
 *   .lock             taken to count and put back
 *   ID                a free entry ("BRIDGE SUBNET\n": what it was made on)
 *   ID.used-PID       taken by the build PID
 * A take and a put back are one rename each, so a kill -9 at any point
 * leaves either an entry or a lease of a dead PID, which rt_netpool_sweep
 * tears down. A namespace with no lease belongs to the PID in its ID.
 */
#ifndef CB_RUNTIME_NETPOOL_H
#define CB_RUNTIME_NETPOOL_H

#include <stdbool.h>

#include "runtime/network.h"

#define RT_NETPOOL_MAX 2

/* Take a free namespace of the store at root made on bridge network net:
 * *fd (O_CLOEXEC, the caller's) and its ID in id. -1 when none is there. */
int rt_netpool_take(const char *root, const rt_net_t *net, char *id, size_t idsz, int *fd);

/* Put namespace id (made on net) back in root's pool; true when it went
 * there, false when the caller must tear it down (the pool is full, the
 * store is gone). */
bool rt_netpool_put(const char *root, const char *id, const rt_net_t *net);

/* Tear down namespace id, which the caller had from rt_netpool_take or
 * made, and the caller's lease of it (rt_netpool_put said no). */
void rt_netpool_drop(const char *root, const char *id);

/* Tear down every free namespace of root's pool (system prune). */
void rt_netpool_drain(const char *root);

/* Whether build namespace id is the pool's or a live build's (its lease is
 * free, or used by a live PID): not a leftover of a dead build. */
bool rt_netpool_owned(const char *id);

/* Pools of stores whose root is gone go; leases whose namespace is gone,
 * or whose build died, are dropped (the namespace torn down). */
void rt_netpool_sweep(void);

#endif
