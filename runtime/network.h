/*
 * runtime/network.h - networks as docker has them: records and membership.
 *
 * A network is a bridge and a subnet; each member has a namespace and an
 * address of its own on it (and a MAC made from the address, as docker's
 * bridge makes it), set up by netavark (runtime/netavark.h), and
 * members resolve each other by name through aardvark-dns. The built-in
 * `bridge` (cbuild0, 10.89.0.0/24 unless $CBUILD_BRIDGE and
 * $CBUILD_BRIDGE_SUBNET say otherwise) is every container's default, with
 * the host's DNS servers and no names, as docker's default bridge.
 *
 * On disk: ROOT/networks/NAME.json {"Name", "Id", "Created", "Driver",
 * "Subnet", "Bridge"}, written atomically under the store lock. Membership
 * is recorded in each container's config ("networks"). A record of the old
 * pod model (no Subnet) fails to load with EBADMSG.
 *
 * `bridge`, `host` and `none` are built in: they are listed and inspected,
 * never written, removed or connected to. Connecting or disconnecting a
 * running container adds or removes its interface at once (netavark), as
 * docker does; a stopped one gets the change at its next start.
 *
 * Every fallible function follows common/error.h; "network 'x' not found"
 * is ENOENT.
 */
#ifndef CB_RUNTIME_NETWORK_H
#define CB_RUNTIME_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

#define NET_ID_LEN 64

typedef struct rt_net {
	char *name;
	char id[NET_ID_LEN + 1];
	char *created;   /* RFC 3339; "" for the built-in ones */
	char *driver;    /* "bridge"; "host" and "null" for the built-in ones */
	bool builtin;
	/* bridge networks (NULL otherwise) */
	char *subnet;    /* "10.89.1.0/24" */
	char *gateway;   /* "10.89.1.1": the bridge's address */
	char *bridge;    /* the host's bridge interface: "cbuild0", "cb-<id>" */
	bool dns;        /* aardvark-dns resolves members by name */
	bool internal;   /* no default route, no NAT: members reach only each other */
} rt_net_t;

void rt_net_free(rt_net_t *n);

/* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, here at most 128 chars. */
bool rt_net_valid_name(const char *name);

/* Make the network (subnet NULL: a free 10.89.N.0/24 no other store on
 * the host holds, see the claims below; internal: no way
 * out, as docker's --internal). EINVAL for a bad name, EEXIST "network with
 * name 'x' already exists" (host and none exist). *out is the caller's. */
int rt_net_create(store_t *st, const char *name, const char *subnet, bool internal,
		  rt_net_t **out, cb_error_t *err);

/* One network by name (built-in ones too); ENOENT when missing. */
rt_net_t *rt_net_load(store_t *st, const char *name, cb_error_t *err);

/* Every network, built-in ones first, then by name. Free each with
 * rt_net_free and the array with free. */
int rt_net_list(store_t *st, rt_net_t ***out, size_t *n, cb_error_t *err);

/* IDs of the containers on the network (newest first; empty for the
 * built-in ones). Caller frees (cb_strv_free). */
int rt_net_members(store_t *st, const char *name, char ***ids, cb_error_t *err);

/* Remove the network. EBUSY "network x has active endpoints (a, b)" while
 * any container is on it, EPERM for host and none. */
int rt_net_remove(store_t *st, const char *name, cb_error_t *err);

/* A network no container is on whose bridge or firewall rules are left
 * (a member's setup or teardown cut short by kill -9): netavark takes them
 * down (network prune, for the default bridge, which stays). */
void rt_net_scrub_unused(store_t *st, const char *name);

/* Remove the record only (rt_net_remove checks that nobody is on it). */
int rt_net_unlink(store_t *st, const char *name, cb_error_t *err);

/* Set n's subnet (CIDR, normalized) and gateway (its first address); -1
 * when cidr is not IPv4 CIDR with a prefix of 8 to 30. */
int rt_net_set_subnet(rt_net_t *n, const char *cidr);

/* ---- host-wide subnet claims (runtime/network_subnet.c) ----
 * Every network's subnet is claimed in one directory of the host
 * (/run/cbuild/subnets), so that two stores never pick the same one; a
 * claim names the network's record and ID, and one whose record is gone (a
 * removed store) is stale and taken back. */

/* Lock the claims (a host-wide flock): the fd, -1 (err set), or -2 when
 * claims cannot be kept here (not root): nothing to collide with. */
int rt_subnets_lock(cb_error_t *err);
void rt_subnets_unlock(int lock);
/* Under the lock: claim n's subnet, or when it has none pick a free
 * 10.89.N.0/24 (no route on the host, no live claim, no network of this
 * store) and claim it. A subnet the user chose that another network holds
 * is not refused (docker checks only its own), just not claimed twice. */
int rt_subnets_take(store_t *st, rt_net_t *n, int lock, cb_error_t *err);
/* Give n's claim back (when it is n's). Takes the lock itself. */
void rt_subnets_release(store_t *st, const rt_net_t *n);

/* True when a subnet is in use on the host (a route to it exists). */
bool rt_net_subnet_busy(const char *cidr);

/* Put the container (ID, name or prefix) on the network, with more names
 * (aliases, may be NULL) and a fixed address (ip, may be NULL) there. A
 * created or exited one joins at its next start; a running one as the
 * header comment says. EEXIST when already connected. */
int rt_net_connect(store_t *st, const char *name, const char *ctr, char *const *aliases,
		   const char *ip, cb_error_t *err);

/* Take the container off the network; ENOENT when it is not on it. */
int rt_net_disconnect(store_t *st, const char *name, const char *ctr, cb_error_t *err);

#endif
