/* User-defined networks: records, membership, the shared namespace and the
 * members' hosts files. See runtime/network.h for the model. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/netavark.h"
#include "runtime/network.h"
#include "runtime/sandbox.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/digest.h"
#include "store/json.h"
#include "store/places.h"

#define NET_NAME_MAX 128
#define NET_JSON_MAX (1u << 16)

static const char *const builtin_names[] = {"bridge", "host", "none"};

void rt_net_free(rt_net_t *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->created);
	free(n->driver);
	free(n->subnet);
	free(n->gateway);
	free(n->bridge);
	free(n);
}

bool rt_net_valid_name(const char *s)
{
	if (!isalnum((unsigned char)*s) || strlen(s) > NET_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static bool is_builtin(const char *name)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(builtin_names); i++)
		if (!strcmp(name, builtin_names[i]))
			return true;
	return false;
}

/* subnet and gateway (the subnet's first address) */
static int set_subnet(rt_net_t *n, const char *cidr)
{
	unsigned a, b, c, d, p;
	char tail;
	if (sscanf(cidr, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &p, &tail) != 5 || a > 255 ||
	    b > 255 || c > 255 || d > 255 || p < 8 || p > 30)
		return -1;
	uint32_t ip = a << 24 | b << 16 | c << 8 | d;
	ip &= 0xffffffffu << (32 - p);
	free(n->subnet);
	free(n->gateway);
	n->subnet = cb_asprintf("%u.%u.%u.%u/%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255,
				ip & 255, p);
	ip++;
	n->gateway = cb_asprintf("%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
	return 0;
}

/* The built-in ones get a stable ID: the digest of their name. */
static rt_net_t *builtin_net(const char *name)
{
	rt_net_t *n = cb_xcalloc(1, sizeof *n);
	n->name = cb_xstrdup(name);
	char d[DIGEST_STR_LEN + 1];
	digest_buffer(name, strlen(name), d);
	snprintf(n->id, sizeof n->id, "%s", digest_hex(d));
	n->created = cb_xstrdup("");
	n->driver = cb_xstrdup(!strcmp(name, "host") ? "host" : !strcmp(name, "none") ? "null"
										   : "bridge");
	n->builtin = true;
	if (!strcmp(name, "bridge")) {
		/* docker's default bridge: host's DNS servers, no names */
		const char *sub = getenv("CBUILD_BRIDGE_SUBNET");
		if (!sub || !*sub || set_subnet(n, sub) < 0)
			set_subnet(n, "10.89.0.0/24"); /* a bad setting: the default */
		const char *br = getenv("CBUILD_BRIDGE");
		n->bridge = cb_xstrdup(br && *br ? br : "cbuild0");
		/* netavark names its NAT chains after the ID: one per bridge and
		 * subnet, or two default bridges would share (and tear down)
		 * each other's chains */
		_cleanup_free_ char *key = cb_asprintf("bridge:%s:%s", n->bridge, n->subnet);
		digest_buffer(key, strlen(key), d);
		snprintf(n->id, sizeof n->id, "%s", digest_hex(d));
	}
	return n;
}

static char *net_path(store_t *st, const char *name)
{
	return store_place_network(st, name);
}

rt_net_t *rt_net_load(store_t *st, const char *name, cb_error_t *err)
{
	if (is_builtin(name))
		return builtin_net(name);
	if (!rt_net_valid_name(name)) {
		cb_error_fail(err, ENOENT, "network '%s' not found", name);
		return NULL;
	}
	_cleanup_free_ char *path = net_path(st, name);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(path, NET_JSON_MAX, &data, &len, &e) < 0) {
		if (e.code == ENOENT) {
			cb_error_release(&e);
			cb_error_fail(err, ENOENT, "network '%s' not found", name);
		} else {
			cb_error_move(err, &e);
		}
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	const char *id = json_string_value(json_object_get(j, "Id"));
	if (!json_is_object(j) || !id || strlen(id) != NET_ID_LEN) {
		json_decref(j);
		cb_error_fail(err, EBADMSG, "network '%s': bad %s", name, path);
		return NULL;
	}
	rt_net_t *n = cb_xcalloc(1, sizeof *n);
	n->name = cb_xstrdup(name);
	snprintf(n->id, sizeof n->id, "%s", id);
	const char *created = json_string_value(json_object_get(j, "Created"));
	const char *driver = json_string_value(json_object_get(j, "Driver"));
	n->created = cb_xstrdup(created ? created : "");
	n->driver = cb_xstrdup(driver ? driver : "bridge");
	const char *sub = json_string_value(json_object_get(j, "Subnet"));
	const char *br = json_string_value(json_object_get(j, "Bridge"));
	bool ok = sub && br && set_subnet(n, sub) == 0;
	n->bridge = br ? cb_xstrdup(br) : NULL;
	json_decref(j);
	if (!ok) {
		/* a record of the old pod model: recreate the network */
		rt_net_free(n);
		cb_error_fail(err, EBADMSG, "network '%s' has no subnet (made by an older cbuild): "
					    "remove and create it again", name);
		return NULL;
	}
	n->dns = true;
	return n;
}

static int write_net(store_t *st, const rt_net_t *n, cb_error_t *err)
{
	_cleanup_free_ char *dir = store_place_networks(st);
	if (cb_mkdir_p(dir, 0755, err) < 0)
		return -1;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Name", n->name, "Id", n->id,
			      "Created", n->created, "Driver", n->driver, "Subnet", n->subnet,
			      "Bridge", n->bridge);
	char *text = oci_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	_cleanup_free_ char *path = net_path(st, n->name);
	_cleanup_free_ char *tmp = store_place_tmp(st);
	int rc = cb_write_file_atomic(path, tmp, text, strlen(text), 0644, err);
	free(text);
	return rc;
}

/* A free 10.89.N.0/24 (N >= 1; 10.89.0.0/24 is the default bridge's): not
 * a route on the host, not another network's of this store. */
static int pick_subnet(store_t *st, rt_net_t *n, cb_error_t *err)
{
	rt_net_t **v = NULL;
	size_t nv = 0;
	if (rt_net_list(st, &v, &nv, err) < 0)
		return -1;
	int rc = cb_error_fail(err, ENOSPC, "no free subnet in 10.89.0.0/16: use --subnet");
	for (unsigned k = 1; k < 256 && rc < 0; k++) {
		_cleanup_free_ char *cidr = cb_asprintf("10.89.%u.0/24", k);
		bool taken = rt_nav_subnet_busy(cidr);
		for (size_t i = 0; i < nv && !taken; i++)
			taken = v[i]->subnet && !strcmp(v[i]->subnet, cidr);
		if (!taken) {
			cb_error_release(err);
			set_subnet(n, cidr);
			rc = 0;
		}
	}
	for (size_t i = 0; i < nv; i++)
		rt_net_free(v[i]);
	free(v);
	return rc;
}

int rt_net_create(store_t *st, const char *name, const char *subnet, rt_net_t **out,
		  cb_error_t *err)
{
	if (!rt_net_valid_name(name))
		return cb_error_fail(err, EINVAL, "invalid network name '%s': only "
						  "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at most "
						  "%d characters)", name, NET_NAME_MAX);
	rt_net_t *n = cb_xcalloc(1, sizeof *n);
	n->name = cb_xstrdup(name);
	cb_random_hex(n->id, NET_ID_LEN / 2);
	char created[CB_RFC3339_LEN];
	cb_rfc3339_now(created);
	n->created = cb_xstrdup(created);
	n->driver = cb_xstrdup("bridge");
	n->bridge = cb_asprintf("cb-%.10s", n->id);
	n->dns = true;
	if (subnet && set_subnet(n, subnet) < 0) {
		rt_net_free(n);
		return cb_error_fail(err, EINVAL, "invalid subnet '%s': IPv4 CIDR (prefix 8 to "
						  "30) expected", subnet);
	}
	if (store_lock(st, err) < 0) {
		rt_net_free(n);
		return -1;
	}
	/* under the lock: check-then-create is atomic against other cbuilds */
	_cleanup_free_ char *path = net_path(st, name);
	int rc;
	if (is_builtin(name) || cb_path_exists(path))
		rc = cb_error_fail(err, EEXIST, "network with name '%s' already exists", name);
	else if (!subnet)
		rc = pick_subnet(st, n, err);
	else
		rc = 0;
	if (rc == 0)
		rc = write_net(st, n, err);
	store_unlock(st);
	if (rc < 0) {
		rt_net_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const rt_net_t *x = *(rt_net_t *const *)a, *y = *(rt_net_t *const *)b;
	return strcmp(x->name, y->name);
}

int rt_net_list(store_t *st, rt_net_t ***out, size_t *n_out, cb_error_t *err)
{
	size_t n = 0, cap = 8;
	rt_net_t **v = cb_xcalloc(cap, sizeof *v);
	for (size_t i = 0; i < CB_ARRAY_SIZE(builtin_names); i++)
		v[n++] = builtin_net(builtin_names[i]);
	_cleanup_free_ char *dir = store_place_networks(st);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		_cleanup_free_ char *name = cb_xstrndup(de->d_name, len - 5);
		cb_error_t e = CB_ERROR_INIT;
		rt_net_t *net = rt_net_valid_name(name) ? rt_net_load(st, name, &e) : NULL;
		if (!net) {
			/* one bad record must not hide the others */
			if (cb_error_is_set(&e))
				cb_warn_error(&e);
			continue;
		}
		if (n == cap)
			v = cb_xrealloc(v, (cap *= 2) * sizeof *v);
		v[n++] = net;
	}
	if (d)
		closedir(d);
	qsort(v + CB_ARRAY_SIZE(builtin_names), n - CB_ARRAY_SIZE(builtin_names), sizeof *v,
	      by_name);
	(void)err;
	*out = v;
	*n_out = n;
	return 0;
}

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
		_cleanup_free_ char *path = net_path(st, name);
		if (unlink(path) < 0)
			rc = cb_error_errno(err, "remove network '%s'", name);
	}
	members_free(m);
	store_unlock(st);
	return rc;
}

/* ---- hosts files ---- */

char *ctr_hosts_text(store_t *st, const rt_ctr_t *c)
{
	/* other members' names come from aardvark-dns, not from this file */
	(void)st;
	return cb_asprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			   "127.0.1.1\t%s\n", c->hostname);
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

/* Adding or removing an interface of a running container is not done yet:
 * the change applies at its next start. */
static int check_stopped(const rt_ctr_t *c, const char *name, cb_error_t *err)
{
	if (!ctr_running(c))
		return 0;
	return cb_error_fail(err, EBUSY, "cannot change the networks of running container '%s' "
					 "(network '%s'): stop it first", c->name, name);
}

static int connect_locked(store_t *st, const char *name, const char *what, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	bool builtin = n->builtin;
	rt_net_free(n);
	if (builtin)
		return cb_error_fail(err, EINVAL, "containers cannot be connected to the "
						  "pre-defined network '%s'", name);
	rt_ctr_t *c = rt_ctr_load(st, what, err);
	if (!c)
		return -1;
	int rc = 0;
	if (on_network(c, name))
		rc = cb_error_fail(err, EEXIST, "container '%s' is already connected to network "
						"'%s'", c->name, name);
	if (rc == 0)
		rc = check_stopped(c, name, err);
	if (rc == 0) {
		size_t len = cb_strv_len(c->networks);
		c->networks = cb_strv_push(c->networks, name);
		qsort(c->networks, len + 1, sizeof(char *), sorted_cmp);
		rc = ctr_write_config(st, c, err);
	}
	rt_ctr_free(c);
	return rc;
}

int rt_net_connect(store_t *st, const char *name, const char *ctr, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = connect_locked(st, name, ctr, err);
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
	int rc = check_stopped(c, name, err);
	if (rc < 0) {
	} else if (!on_network(c, name)) {
		rc = cb_error_fail(err, ENOENT, "container '%s' is not connected to network '%s'",
				   c->name, name);
	} else {
		char **keep = cb_xcalloc(1, sizeof(char *));
		for (size_t i = 0; c->networks[i]; i++)
			if (strcmp(c->networks[i], name))
				keep = cb_strv_push(keep, c->networks[i]);
		cb_strv_free(c->networks);
		c->networks = keep;
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
