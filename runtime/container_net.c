/* A container's network settings from its spec: published ports (-p, -P),
 * its networks, and its endpoint on them (--network-alias, --ip). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/pasta.h"
#include "runtime/sandbox.h"
#include "common/util.h"

static int parse_u16(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int rt_ctr_parse_port(const char *s, rt_ctr_port_t *p, cb_error_t *err)
{
	memset(p, 0, sizeof *p);
	_cleanup_free_ char *copy = cb_xstrdup(s);
	char *slash = strchr(copy, '/');
	if (slash) {
		p->udp = !strcmp(slash + 1, "udp");
		if (!p->udp && strcmp(slash + 1, "tcp"))
			return cb_error_fail(err, EINVAL, "port mapping '%s': tcp or udp expected", s);
		*slash = 0;
	}
	snprintf(p->host_ip, sizeof p->host_ip, "0.0.0.0");
	char *last = strrchr(copy, ':');
	const char *ctr = last ? last + 1 : copy;
	if (last) {
		*last = 0;
		char *hp = strrchr(copy, ':');
		const char *host = copy;
		if (hp) {
			*hp = 0;
			host = hp + 1;
			if (!*copy || strlen(copy) >= sizeof p->host_ip)
				return cb_error_fail(err, EINVAL, "port mapping '%s': bad host "
								  "address", s);
			snprintf(p->host_ip, sizeof p->host_ip, "%s", copy);
		}
		/* "IP::CTR": docker's any free host port on IP */
		if (!(hp && !*host) && parse_u16(host, strlen(host), &p->host_port) < 0)
			return cb_error_fail(err, EINVAL, "port mapping '%s': bad port number", s);
	}
	if (parse_u16(ctr, strlen(ctr), &p->ctr_port) < 0)
		return cb_error_fail(err, EINVAL, "port mapping '%s': bad port number", s);
	return 0;
}


static bool port_mapped(const rt_ctr_t *c, uint16_t port, bool udp)
{
	for (size_t i = 0; i < c->n_ports; i++)
		if (c->ports[i].ctr_port == port && c->ports[i].udp == udp)
			return true;
	return false;
}

/* -p as given, then (-P) every EXPOSEd port -p left, to a free host port.
 * As docker, -P adds nothing with --network host or none. */
static int fill_ports(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img,
		      cb_error_t *err)
{
	size_t np = cb_strv_len(s->ports), ne = cb_strv_len(img->exposed_ports);
	c->ports = cb_xcalloc(np + ne + 1, sizeof(rt_ctr_port_t));
	for (size_t i = 0; i < np; i++)
		if (rt_ctr_parse_port(s->ports[i], &c->ports[c->n_ports++], err) < 0)
			return -1;
	bool own_ns = !cb_streq(s->network, "host") && !cb_streq(s->network, "none");
	for (size_t i = 0; s->publish_all && own_ns && i < ne; i++) {
		rt_ctr_port_t p;
		cb_error_t e = CB_ERROR_INIT;
		/* "80/tcp": checked when the image was made; skip a bad one */
		if (rt_ctr_parse_port(img->exposed_ports[i], &p, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		if (!port_mapped(c, p.ctr_port, p.udp))
			c->ports[c->n_ports++] = p;
	}
	return 0;
}

/* --network-alias and --ip: "NET:VALUE" entries for the network given with
 * --network, which must be a user-defined one (docker's rule: the default
 * bridge has no names and no fixed addresses) */
static int fill_endpoint(rt_ctr_t *c, const rt_ctr_spec_t *s, cb_error_t *err)
{
	c->net_aliases = cb_xcalloc(1, sizeof(char *));
	c->net_ips = cb_xcalloc(1, sizeof(char *));
	const char *net = c->networks[0];
	bool user = net && strcmp(net, "bridge");
	if (s->aliases && s->aliases[0] && !user)
		return cb_error_fail(err, EINVAL, "network-scoped alias is supported only for "
						  "containers in user defined networks");
	if (s->ip && *s->ip && !user)
		return cb_error_fail(err, EINVAL, "user specified IP address is supported on "
						  "user defined networks only");
	for (size_t i = 0; s->aliases && s->aliases[i]; i++) {
		if (!*s->aliases[i] || strchr(s->aliases[i], ':'))
			return cb_error_fail(err, EINVAL, "invalid network alias '%s'",
					     s->aliases[i]);
		c->net_aliases = cb_strv_push_take(c->net_aliases,
						   cb_asprintf("%s:%s", net, s->aliases[i]));
	}
	if (s->ip && *s->ip)
		c->net_ips = cb_strv_push_take(c->net_ips, cb_asprintf("%s:%s", net, s->ip));
	return 0;
}

int ctr_fill_net(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img,
		 cb_error_t *err)
{
	if (fill_ports(c, s, img, err) < 0)
		return -1;
	size_t np = c->n_ports;
	c->networks = cb_xcalloc(1, sizeof(char *));
	/* rootless: no bridge (netavark needs root). The default network is
	 * pasta's (podman's rootless default); without pasta, or as root of a
	 * user namespace (no new one to give pasta), the host's network, or
	 * with -p a namespace of its own reached by the userspace forwarder */
	bool rootless = geteuid() != 0 || sbx_in_userns();
	const char *net = s->network ? s->network : rootless ? NULL : "bridge";
	if (rootless && (!net || !strcmp(net, "bridge")) && geteuid() != 0 && rt_pasta_usable()) {
		c->net_pasta = true;
		return fill_endpoint(c, s, err);
	}
	if (net && strcmp(net, "host") && strcmp(net, "none")) {
		if (rootless)
			return cb_error_fail(err, EPERM, "network '%s': bridge networks need root "
							 "(rootless networking is not done yet)", net);
		c->networks = cb_strv_push(c->networks, net); /* checked under the lock */
	}
	if (cb_streq(net, "host") && np)
		return cb_error_fail(err, EINVAL, "published ports need their own network: "
						  "-p does not work with --network host");
	c->net_none = cb_streq(net, "none") || (!net && np > 0);
	return fill_endpoint(c, s, err);
}

char **rt_ctr_net_values(char *const *v, const char *net)
{
	char **out = cb_xcalloc(1, sizeof(char *));
	size_t len = strlen(net);
	for (size_t i = 0; v && v[i]; i++)
		if (!strncmp(v[i], net, len) && v[i][len] == ':')
			out = cb_strv_push(out, v[i] + len + 1);
	return out;
}

/* c's /etc/hosts */
char *ctr_hosts_text(store_t *st, const rt_ctr_t *c)
{
	/* other members' names come from aardvark-dns, not from this file */
	(void)st;
	return cb_asprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			   "127.0.1.1\t%s\n", c->hostname);
}

