/* Networks' records: the built-in ones, user-defined ones in the store, and
 * which subnets are free. Membership is runtime/network_members.c's. See
 * runtime/network.h for the model. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/network.h"
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
int rt_net_set_subnet(rt_net_t *n, const char *cidr)
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
		if (!sub || !*sub || rt_net_set_subnet(n, sub) < 0)
			rt_net_set_subnet(n, "10.89.0.0/24"); /* a bad setting: the default */
		const char *br = getenv("CBUILD_BRIDGE");
		n->bridge = cb_xstrdup(br && *br ? br : "cbuild0");
		/* an ID per bridge and subnet (netavark names the chains after
		 * the bridge: runtime/netavark.c) */
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
	n->internal = json_is_true(json_object_get(j, "Internal"));
	bool ok = sub && br && rt_net_set_subnet(n, sub) == 0;
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
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "Name", n->name, "Id",
			      n->id, "Created", n->created, "Driver", n->driver, "Subnet",
			      n->subnet, "Bridge", n->bridge, "Internal", n->internal);
	char *text = oci_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	_cleanup_free_ char *path = net_path(st, n->name);
	_cleanup_free_ char *tmp = store_place_tmp(st);
	int rc = cb_write_file_atomic(path, tmp, text, strlen(text), 0644, err);
	free(text);
	return rc;
}

int rt_net_create(store_t *st, const char *name, const char *subnet, bool internal,
		  rt_net_t **out, cb_error_t *err)
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
	n->internal = internal;
	if (subnet && rt_net_set_subnet(n, subnet) < 0) {
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
	int rc = 0, claims = -2;
	if (is_builtin(name) || cb_path_exists(path))
		rc = cb_error_fail(err, EEXIST, "network with name '%s' already exists", name);
	/* the host-wide claim and the record are written under the claims'
	 * lock: until the record is there, the claim would look stale (a
	 * write that fails leaves one, taken back by the next pick) */
	if (rc == 0 && (claims = rt_subnets_lock(err)) == -1)
		rc = -1;
	if (rc == 0)
		rc = rt_subnets_take(st, n, claims, err);
	if (rc == 0)
		rc = write_net(st, n, err);
	rt_subnets_unlock(claims);
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

int rt_net_unlink(store_t *st, const char *name, cb_error_t *err)
{
	_cleanup_free_ char *path = net_path(st, name);
	cb_error_t e = CB_ERROR_INIT;
	rt_net_t *n = rt_net_load(st, name, &e);
	cb_error_release(&e);
	if (unlink(path) < 0) {
		rt_net_free(n);
		return cb_error_errno(err, "remove network '%s'", name);
	}
	if (n)
		rt_subnets_release(st, n);
	rt_net_free(n);
	return 0;
}

/* ---- the host's routes ---- */

/* Whether a prefix net/mask and another one overlap: they share the
 * shorter of the two prefixes. */
static bool prefixes_overlap(uint32_t net, uint32_t mask, uint32_t other, uint32_t other_mask)
{
	uint32_t common = mask & other_mask;
	return (net & common) == (other & common);
}

static bool routes_overlap(uint32_t net, uint32_t mask)
{
	FILE *f = fopen("/proc/net/route", "re");
	if (!f)
		return false;
	char line[256];
	bool busy = false;
	while (!busy && fgets(line, sizeof line, f)) {
		char ifn[64];
		unsigned dst, gw, flags, refc, use, metric, m;
		if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifn, &dst, &gw, &flags, &refc, &use,
			   &metric, &m) != 8 || m == 0)
			continue; /* the header, or the default route */
		busy = prefixes_overlap(net, mask, ntohl(dst), ntohl(m));
	}
	fclose(f);
	return busy;
}

/* An interface that is down has no route, but keeps its address: a
 * bridge left by a killed run still holds its gateway, and a network given
 * that subnet again could not take it (nor its resolver port 53). */
static bool addresses_overlap(uint32_t net, uint32_t mask)
{
	struct ifaddrs *all = NULL;
	if (getifaddrs(&all) < 0)
		return false;
	bool busy = false;
	for (struct ifaddrs *a = all; a && !busy; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !a->ifa_netmask)
			continue;
		uint32_t addr = ntohl(((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr);
		uint32_t m = ntohl(((struct sockaddr_in *)a->ifa_netmask)->sin_addr.s_addr);
		if (addr >> 24 == 127)
			continue;
		busy = prefixes_overlap(net, mask, addr & m, m);
	}
	freeifaddrs(all);
	return busy;
}

bool rt_net_subnet_busy(const char *cidr)
{
	unsigned a, b, c, d, p;
	char tail;
	if (sscanf(cidr, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &p, &tail) != 5 || p < 8 || p > 30)
		return false;
	uint32_t mask = 0xffffffffu << (32 - p);
	uint32_t net = (a << 24 | b << 16 | c << 8 | d) & mask;
	return routes_overlap(net, mask) || addresses_overlap(net, mask);
}
