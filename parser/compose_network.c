/* Compose networks: the top-level `networks:` and a service's `networks:`
 * and `network_mode:` (see parser/compose.h). A service without either is
 * on "default", which exists whether or not the file declares it, as in
 * docker compose. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/compose.h"
#include "parser/compose_internal.h"

static void free_svc_nets(df_compose_service_t *s);

static int parse_subnet(const cn_t *ipam, char **subnet, cb_error_t *err)
{
	if (cn_want_kind(ipam, CN_MAP, "ipam", err) < 0)
		return -1;
	const cn_t *cfg = cn_get(ipam, "config");
	if (!cfg || cn_is_null(cfg))
		return 0;
	if (cn_want_kind(cfg, CN_SEQ, "ipam.config", err) < 0)
		return -1;
	if (!cfg->n)
		return 0;
	if (cn_want_kind(cfg->vals[0], CN_MAP, "ipam.config", err) < 0)
		return -1;
	const cn_t *sn = cn_get(cfg->vals[0], "subnet");
	return sn ? cn_get_str(sn, "subnet", subnet, err) : 0;
}

static int parse_one(ld_t *ld, df_compose_network_t *nw, const cn_t *def, cb_error_t *err)
{
	if (cn_is_null(def))
		return 0;
	if (cn_want_kind(def, CN_MAP, nw->key, err) < 0)
		return -1;
	for (size_t i = 0; i < def->n; i++) {
		const char *k = def->keys[i]->str;
		const cn_t *v = def->vals[i];
		int rc = 0;
		if (!strcmp(k, "name")) {
			rc = cn_get_str(v, k, &nw->name, err);
		} else if (!strcmp(k, "external")) {
			if (v->kind == CN_MAP) { /* the old external: {name: X} */
				const cn_t *en = cn_get(v, "name");
				nw->external = true;
				rc = en ? cn_get_str(en, "name", &nw->name, err) : 0;
			} else {
				rc = cn_get_bool(v, k, &nw->external, err);
			}
		} else if (!strcmp(k, "internal")) {
			rc = cn_get_bool(v, k, &nw->internal, err);
		} else if (!strcmp(k, "ipam")) {
			rc = parse_subnet(v, &nw->subnet, err);
		} else if (!strcmp(k, "driver")) {
			if (v->kind == CN_SCALAR && strcmp(v->str, "bridge"))
				cn_warn(ld, NULL, v, "network driver '%s' is not supported: a bridge "
						     "is used", v->str);
		} else if (strcmp(k, "labels") && strcmp(k, "attachable") &&
			   !cb_str_has_prefix(k, "x-")) {
			cn_warn(ld, NULL, def->keys[i], "'%s' of network '%s' is not supported "
							"(ignored)", k, nw->key);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int cn_parse_networks(ld_t *ld, const cn_t *n, cb_error_t *err)
{
	df_compose_project_t *p = ld->p;
	if (cn_is_null(n))
		return 0;
	if (cn_want_kind(n, CN_MAP, "networks", err) < 0)
		return -1;
	p->networks = cb_xcalloc(n->n + 2, sizeof(*p->networks));
	for (size_t i = 0; i < n->n; i++) {
		df_compose_network_t *nw = &p->networks[p->n_networks++];
		nw->key = cb_xstrdup(n->keys[i]->str);
		if (parse_one(ld, nw, n->vals[i], err) < 0)
			return -1;
		if (!nw->name)
			nw->name = nw->external ? cb_xstrdup(nw->key)
						: cb_asprintf("%s_%s", p->name, nw->key);
	}
	return 0;
}

static df_compose_svc_net_t *add_net(df_compose_service_t *s, const char *key)
{
	s->networks = cb_xreallocarray(s->networks, s->n_networks + 1, sizeof(*s->networks));
	df_compose_svc_net_t *sn = &s->networks[s->n_networks++];
	*sn = (df_compose_svc_net_t){.key = cb_xstrdup(key)};
	return sn;
}

/* A service's network in the long form: {aliases: [...], ipv4_address: IP} */
static int svc_net_attrs(ld_t *ld, df_compose_svc_net_t *sn, const cn_t *v, cb_error_t *err)
{
	if (cn_is_null(v))
		return 0;
	if (cn_want_kind(v, CN_MAP, sn->key, err) < 0)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const char *k = v->keys[i]->str;
		int rc = 0;
		if (!strcmp(k, "aliases"))
			rc = cn_get_strv(v->vals[i], k, &sn->aliases, err);
		else if (!strcmp(k, "ipv4_address"))
			rc = cn_get_str(v->vals[i], k, &sn->ipv4_address, err);
		else if (!cb_str_has_prefix(k, "x-"))
			cn_warn(ld, NULL, v->keys[i], "'%s' of a service's network is not "
						      "supported (ignored)", k);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int cn_get_service_networks(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	free_svc_nets(s);
	if (cn_is_null(n))
		return 0;
	if (n->kind == CN_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			if (cn_want_kind(n->vals[i], CN_SCALAR, "networks", err) < 0)
				return -1;
			add_net(s, n->vals[i]->str);
		}
		return 0;
	}
	if (cn_want_kind(n, CN_MAP, "networks", err) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++)
		if (svc_net_attrs(ld, add_net(s, n->keys[i]->str), n->vals[i], err) < 0)
			return -1;
	return 0;
}

static df_compose_network_t *find_network(df_compose_project_t *p, const char *key)
{
	for (size_t i = 0; i < p->n_networks; i++)
		if (!strcmp(p->networks[i].key, key))
			return &p->networks[i];
	return NULL;
}

static int cmp_svc_net(const void *a, const void *b)
{
	return strcmp(((const df_compose_svc_net_t *)a)->key,
		      ((const df_compose_svc_net_t *)b)->key);
}

static int cmp_network(const void *a, const void *b)
{
	return strcmp(((const df_compose_network_t *)a)->key,
		      ((const df_compose_network_t *)b)->key);
}

/* Every service's networks exist (an undeclared "default" is made here). */
int cn_finish_networks(ld_t *ld, cb_error_t *err)
{
	df_compose_project_t *p = ld->p;
	for (size_t i = 0; i < p->n_services; i++) {
		df_compose_service_t *s = &p->services[i];
		if (s->network_mode && s->n_networks)
			return cb_error_fail(err, EINVAL, "service '%s' declares mutually exclusive "
							  "'network_mode' and 'networks'", s->name);
		if (!s->network_mode && !s->n_networks)
			add_net(s, "default");
		for (size_t k = 0; k < s->n_networks; k++) {
			const char *key = s->networks[k].key;
			if (find_network(p, key))
				continue;
			if (strcmp(key, "default"))
				return cb_error_fail(err, EINVAL, "service '%s' refers to undefined "
								  "network '%s'", s->name, key);
			p->networks = cb_xreallocarray(p->networks, p->n_networks + 1,
						       sizeof(*p->networks));
			p->networks[p->n_networks++] = (df_compose_network_t){
				.key = cb_xstrdup("default"),
				.name = cb_asprintf("%s_default", p->name)};
		}
		if (s->n_networks > 1)
			qsort(s->networks, s->n_networks, sizeof(*s->networks), cmp_svc_net);
	}
	if (p->n_networks > 1)
		qsort(p->networks, p->n_networks, sizeof(*p->networks), cmp_network);
	return 0;
}

static void free_svc_nets(df_compose_service_t *s)
{
	for (size_t i = 0; i < s->n_networks; i++) {
		free(s->networks[i].key);
		cb_strv_free(s->networks[i].aliases);
		free(s->networks[i].ipv4_address);
	}
	free(s->networks);
	s->networks = NULL;
	s->n_networks = 0;
}

void cn_service_networks_free(df_compose_service_t *s)
{
	free_svc_nets(s);
	free(s->network_mode);
	s->network_mode = NULL;
}

void cn_networks_free(df_compose_project_t *p)
{
	for (size_t i = 0; i < p->n_networks; i++) {
		free(p->networks[i].key);
		free(p->networks[i].name);
		free(p->networks[i].subnet);
	}
	free(p->networks);
}
