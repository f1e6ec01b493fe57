/* Networks' members: who is on a network (recorded in each container's
 * config), connect and disconnect (at once for a running container, through
 * runtime/netavark.c), and rm's check that nobody is. The records are
 * runtime/network.c's, which knows no container: this file depends on both,
 * neither on it but through runtime/network.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/netavark.h"
#include "runtime/network.h"
#include "common/fs.h"
#include "common/util.h"

/* ---- membership ---- */

static bool on_network(const rt_ctr_t *c, const char *name)
{
	for (size_t i = 0; c->networks && c->networks[i]; i++)
		if (!strcmp(c->networks[i], name))
			return true;
	return false;
}

/* The containers on the network, loaded (state refreshed), newest first;
 * NULL-terminated. Containers that vanish while we read are skipped. */
static rt_ctr_t **load_members(store_t *st, const char *name)
{
	_cleanup_strv_ char **ids = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (rt_ctr_list(st, &ids, &e) < 0) {
		cb_error_release(&e);
		return cb_xcalloc(1, sizeof(rt_ctr_t *));
	}
	size_t n = 0;
	rt_ctr_t **v = cb_xcalloc(cb_strv_len(ids) + 1, sizeof *v);
	for (size_t i = 0; ids[i]; i++) {
		rt_ctr_t *c = ctr_load_id(st, ids[i], &e);
		if (!c) {
			cb_error_release(&e);
			continue;
		}
		if (on_network(c, name))
			v[n++] = c;
		else
			rt_ctr_free(c);
	}
	return v;
}

static void members_free(rt_ctr_t **v)
{
	for (size_t i = 0; v && v[i]; i++)
		rt_ctr_free(v[i]);
	free(v);
}

int rt_net_members(store_t *st, const char *name, char ***ids, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	char **out = cb_xcalloc(1, sizeof(char *));
	if (n->bridge) {
		rt_ctr_t **m = load_members(st, name);
		for (size_t i = 0; m[i]; i++)
			out = cb_strv_push(out, m[i]->id);
		members_free(m);
	}
	rt_net_free(n);
	*ids = out;
	return 0;
}

/* netavark removes a network's bridge and firewall rules with the
 * teardown of its last member; a member's teardown cut short (kill -9)
 * can leave them with no member to go with. A namespace set up on the
 * network alone and torn down again has netavark remove what is left. */
static void scrub(store_t *st, const char *name)
{
	cb_error_t e = CB_ERROR_INIT;
	rt_net_t *n = rt_net_load(st, name, &e);
	if (!n || !rt_nav_net_left(n)) {
		cb_error_release(&e);
		rt_net_free(n);
		return;
	}
	/* each round takes one copy of a rule: two setups racing (one cut
	 * short) can have added it twice. A bridge still there after a round
	 * has others on it (a build's namespace, another store's containers
	 * on the same default bridge): theirs to take down. */
	for (int round = 0; round < 4 && rt_nav_net_left(n) &&
			    (round == 0 || if_nametoindex(n->bridge) == 0);
	     round++) {
		char hex[17], id[64];
		cb_random_hex(hex, 8);
		/* the pid lets a sweep see that a killed network rm is gone */
		snprintf(id, sizeof id, "scrub-%ld-%s", (long)getpid(), hex);
		rt_net_t *nets[] = {n, NULL};
		int fd = -1;
		if (rt_nav_make_ns(id, id, nets, &fd, &e) < 0)
			cb_error_release(&e);
		else
			close(fd);
		rt_nav_detach(id);
	}
	rt_net_free(n);
}

void rt_net_scrub_unused(store_t *st, const char *name)
{
	cb_error_t e = CB_ERROR_INIT;
	if (store_lock(st, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	rt_ctr_t **m = load_members(st, name);
	if (!m[0])
		scrub(st, name);
	members_free(m);
	store_unlock(st);
}

int rt_net_remove(store_t *st, const char *name, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	bool builtin = n->builtin;
	rt_net_free(n);
	if (builtin)
		return cb_error_fail(err, EPERM, "'%s' is a pre-defined network and cannot be "
						 "removed", name);
	if (store_lock(st, err) < 0)
		return -1;
	rt_ctr_t **m = load_members(st, name);
	int rc = 0;
	if (m[0]) {
		cb_buf_t b;
		cb_buf_init(&b);
		for (size_t i = 0; m[i]; i++)
			cb_buf_addf(&b, "%s%s", i ? ", " : "", m[i]->name);
		rc = cb_error_fail(err, EBUSY, "network %s has active endpoints (%s)", name,
				   b.data);
		cb_buf_release(&b);
	} else {
		scrub(st, name);
		rc = rt_net_unlink(st, name, err);
	}
	members_free(m);
	store_unlock(st);
	return rc;
}

/* ---- connect and disconnect ---- */

static int sorted_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ctr_running(const rt_ctr_t *c)
{
	return c->status == RT_CTR_RUNNING && ctr_pid_alive(c->pid, c->pid_start);
}

/* c's "NET:VALUE" entries without those of net */
static char **without_net(char **v, const char *net)
{
	char **keep = cb_xcalloc(1, sizeof(char *));
	size_t len = strlen(net);
	for (size_t i = 0; v && v[i]; i++)
		if (strncmp(v[i], net, len) || v[i][len] != ':')
			keep = cb_strv_push(keep, v[i]);
	cb_strv_free(v);
	return keep;
}

/* --alias and --ip of network connect, recorded for network n */
static int add_endpoint(rt_ctr_t *c, const rt_net_t *n, char *const *aliases, const char *ip,
			cb_error_t *err)
{
	struct in_addr a;
	if (ip && *ip && inet_pton(AF_INET, ip, &a) != 1)
		return cb_error_fail(err, EINVAL, "invalid IPv4 address '%s'", ip);
	for (size_t i = 0; aliases && aliases[i]; i++) {
		if (!*aliases[i] || strchr(aliases[i], ':'))
			return cb_error_fail(err, EINVAL, "invalid network alias '%s'", aliases[i]);
		c->net_aliases = cb_strv_push_take(c->net_aliases,
						   cb_asprintf("%s:%s", n->name, aliases[i]));
	}
	if (ip && *ip)
		c->net_ips = cb_strv_push_take(c->net_ips, cb_asprintf("%s:%s", n->name, ip));
	return 0;
}

/* A running container on no network with names that joins one with names
 * gets that network's aardvark-dns (which forwards other names to the
 * host's servers) in its resolv.conf, as docker starts its resolver on
 * connect. Written in place: the file is bind-mounted into the container.
 * --dns servers stay the user's choice. */
static int point_dns(store_t *st, const rt_ctr_t *c, const rt_net_t *n, cb_error_t *err)
{
	if (!n->dns || (c->extra.dns && c->extra.dns[0]))
		return 0;
	for (size_t i = 0; c->networks[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		rt_net_t *o = rt_net_load(st, c->networks[i], &e);
		cb_error_release(&e);
		bool named = o && o->dns;
		rt_net_free(o);
		if (named)
			return 0;
	}
	_cleanup_free_ char *path = ctr_path(c, "resolv.conf");
	_cleanup_free_ char *text = cb_asprintf("nameserver %s\n", n->gateway);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", path);
	return cb_write_all(fd, text, strlen(text), err);
}

static int connect_locked(store_t *st, const char *name, const char *what,
			  char *const *aliases, const char *ip, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	if (n->builtin) {
		rt_net_free(n);
		return cb_error_fail(err, EINVAL, "containers cannot be connected to the "
						  "pre-defined network '%s'", name);
	}
	rt_ctr_t *c = rt_ctr_load(st, what, err);
	if (!c) {
		rt_net_free(n);
		return -1;
	}
	int rc = 0;
	if (on_network(c, name))
		rc = cb_error_fail(err, EEXIST, "container '%s' is already connected to network "
						"'%s'", c->name, name);
	if (rc == 0)
		rc = add_endpoint(c, n, aliases, ip, err);
	/* a running container gets the interface now, as docker's */
	if (rc == 0 && ctr_running(c) && c->networks[0]) {
		rc = rt_nav_connect(c, n, err);
		if (rc == 0)
			rc = point_dns(st, c, n, err);
	}
	if (rc == 0) {
		size_t len = cb_strv_len(c->networks);
		c->networks = cb_strv_push(c->networks, name);
		qsort(c->networks, len + 1, sizeof(char *), sorted_cmp);
		rc = ctr_write_config(st, c, err);
	}
	rt_ctr_free(c);
	rt_net_free(n);
	return rc;
}

int rt_net_connect(store_t *st, const char *name, const char *ctr, char *const *aliases,
		   const char *ip, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = connect_locked(st, name, ctr, aliases, ip, err);
	store_unlock(st);
	return rc;
}

static int disconnect_locked(store_t *st, const char *name, const char *what, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	rt_net_free(n);
	rt_ctr_t *c = rt_ctr_load(st, what, err);
	if (!c)
		return -1;
	int rc = 0;
	if (!on_network(c, name)) {
		rc = cb_error_fail(err, ENOENT, "container '%s' is not connected to network '%s'",
				   c->name, name);
	} else {
		/* a running one loses the interface now */
		if (ctr_running(c) && c->networks[0])
			rc = rt_nav_disconnect(c, name, err);
		char **keep = cb_xcalloc(1, sizeof(char *));
		for (size_t i = 0; c->networks[i]; i++)
			if (strcmp(c->networks[i], name))
				keep = cb_strv_push(keep, c->networks[i]);
		cb_strv_free(c->networks);
		c->networks = keep;
		c->net_aliases = without_net(c->net_aliases, name);
		c->net_ips = without_net(c->net_ips, name);
		if (rc == 0)
			rc = ctr_write_config(st, c, err);
	}
	rt_ctr_free(c);
	return rc;
}

int rt_net_disconnect(store_t *st, const char *name, const char *ctr, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = disconnect_locked(st, name, ctr, err);
	store_unlock(st);
	return rc;
}
