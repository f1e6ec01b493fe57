/* Which subnets networks hold, host-wide: a claim file per network subnet
 * under one directory every store on the host shares (/run/cbuild/subnets,
 * whatever $CBUILD_RUN_DIR says, as the firewall the subnets end up in is
 * the host's), so two stores never pick the same subnet: a subnet becomes a
 * host route only when a first container joins, too late to tell. See
 * runtime/network.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "runtime/network.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/places.h"

static const char *claims_dir(void)
{
	/* unit tests only: their networks must not meet the host's */
	const char *d = getenv("CBUILD_SUBNET_DIR");
	return d && *d ? d : "/run/cbuild/subnets";
}

int rt_subnets_lock(cb_error_t *err)
{
	cb_error_t e = CB_ERROR_INIT;
	if (cb_mkdir_p(claims_dir(), 0755, &e) < 0) {
		/* not root (a rootless store has no bridges to collide) */
		bool none = e.code == EACCES || e.code == EPERM || e.code == EROFS;
		if (none) {
			cb_error_release(&e);
			return -2;
		}
		cb_error_move(err, &e);
		return -1;
	}
	_cleanup_free_ char *path = cb_path_join(claims_dir(), ".lock");
	int fd = cb_lock_path(path, 0644, &e);
	if (fd < 0 && (e.code == EACCES || e.code == EROFS)) {
		cb_error_release(&e);
		return -2;
	}
	if (fd < 0)
		cb_error_move(err, &e);
	return fd;
}

void rt_subnets_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* "10.89.5.0/24" <-> the claim's file name "10.89.5.0-24" */
static char *claim_name(const char *cidr)
{
	char *s = cb_xstrdup(cidr);
	char *slash = strchr(s, '/');
	if (slash)
		*slash = '-';
	return s;
}

static bool parse(const char *cidr, char sep, uint32_t *net, uint32_t *mask)
{
	unsigned a, b, c, d, p;
	char s, tail;
	if (sscanf(cidr, "%u.%u.%u.%u%c%u%c", &a, &b, &c, &d, &s, &p, &tail) != 6 || s != sep ||
	    a > 255 || b > 255 || c > 255 || d > 255 || p < 1 || p > 32)
		return false;
	*mask = 0xffffffffu << (32 - p);
	*net = (a << 24 | b << 16 | c << 8 | d) & *mask;
	return true;
}

/* The claim still names a network that exists: its record is there with
 * the ID the claim has. A store removed with its networks, or a network
 * whose removal was cut short, leaves a stale one. */
static bool claim_live(const char *path)
{
	_cleanup_free_ char *text = NULL, *rec = NULL;
	size_t len;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(path, 1 << 16, &text, &len, &e) < 0) {
		cb_error_release(&e);
		return true; /* unreadable: keep away from it */
	}
	json_t *j = json_loads(text, 0, NULL);
	const char *record = json_string_value(json_object_get(j, "record"));
	const char *id = json_string_value(json_object_get(j, "id"));
	bool live = true;
	if (record && id) {
		if (cb_read_file(record, 1 << 16, &rec, &len, &e) < 0) {
			live = e.code != ENOENT && e.code != ENOTDIR;
			cb_error_release(&e);
		} else {
			json_t *r = json_loads(rec, 0, NULL);
			live = cb_streq(json_string_value(json_object_get(r, "Id")), id);
			json_decref(r);
		}
	}
	json_decref(j);
	return live;
}

/* Whether a live claim overlaps cidr (cidr NULL: none does); stale ones
 * met on the way are removed (the lock is held). */
static bool claimed(const char *cidr)
{
	uint32_t net = 0, mask = 0;
	if (cidr && !parse(cidr, '/', &net, &mask))
		return false;
	DIR *d = opendir(claims_dir());
	if (!d)
		return false;
	bool hit = false;
	struct dirent *de;
	while (!hit && (de = readdir(d))) {
		uint32_t cn, cm;
		if (!parse(de->d_name, '-', &cn, &cm) || (cn & (mask & cm)) != (net & (mask & cm)))
			continue;
		_cleanup_free_ char *p = cb_path_join(claims_dir(), de->d_name);
		if (claim_live(p))
			hit = cidr != NULL;
		else
			unlink(p);
	}
	closedir(d);
	return hit;
}

static int write_claim(const rt_net_t *n, const char *record, cb_error_t *err)
{
	_cleanup_free_ char *name = claim_name(n->subnet);
	_cleanup_free_ char *path = cb_path_join(claims_dir(), name);
	json_t *j = json_pack("{s:s, s:s, s:s}", "record", record, "id", n->id, "name", n->name);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	int rc = cb_write_file_atomic(path, NULL, text, strlen(text), 0644, err);
	free(text);
	return rc;
}

int rt_subnets_take(store_t *st, rt_net_t *n, int lock, cb_error_t *err)
{
	_cleanup_free_ char *record = store_place_network(st, n->name);
	if (n->subnet) {
		/* the user's choice: kept from the others' picks when free */
		if (lock < 0 || claimed(n->subnet))
			return 0;
		return write_claim(n, record, err);
	}
	if (lock >= 0)
		claimed(NULL); /* every stale claim goes, not only those met */
	rt_net_t **v = NULL;
	size_t nv = 0;
	if (rt_net_list(st, &v, &nv, err) < 0)
		return -1;
	int rc = cb_error_fail(err, ENOSPC, "no free subnet in 10.89.0.0/16: use --subnet");
	/* each store starts at a place of its own: fewer stale claims to
	 * look at when many stores pick at once */
	unsigned start = 0;
	for (const char *c = store_root(st); *c; c++)
		start = start * 31 + (unsigned char)*c;
	for (unsigned step = 0; step < 255 && rc < 0; step++) {
		unsigned k = 1 + (start + step) % 255;
		_cleanup_free_ char *cidr = cb_asprintf("10.89.%u.0/24", k);
		bool taken = rt_net_subnet_busy(cidr) || (lock >= 0 && claimed(cidr));
		for (size_t i = 0; i < nv && !taken; i++)
			taken = v[i]->subnet && !strcmp(v[i]->subnet, cidr);
		if (taken)
			continue;
		cb_error_release(err);
		rt_net_set_subnet(n, cidr);
		rc = lock >= 0 ? write_claim(n, record, err) : 0;
	}
	for (size_t i = 0; i < nv; i++)
		rt_net_free(v[i]);
	free(v);
	return rc;
}

void rt_subnets_release(store_t *st, const rt_net_t *n)
{
	if (!n->subnet)
		return;
	cb_error_t e = CB_ERROR_INIT;
	int lock = rt_subnets_lock(&e);
	cb_error_release(&e);
	if (lock < 0)
		return;
	_cleanup_free_ char *name = claim_name(n->subnet);
	_cleanup_free_ char *path = cb_path_join(claims_dir(), name);
	_cleanup_free_ char *record = store_place_network(st, n->name);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (cb_read_file(path, 1 << 16, &text, &len, &e) == 0) {
		json_t *j = json_loads(text, 0, NULL);
		/* only our own: the subnet may be another network's by now */
		if (cb_streq(json_string_value(json_object_get(j, "record")), record) &&
		    cb_streq(json_string_value(json_object_get(j, "id")), n->id))
			unlink(path);
		json_decref(j);
	}
	cb_error_release(&e);
	rt_subnets_unlock(lock);
}
