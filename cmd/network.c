/* cbuild network create|ls|rm|inspect|connect|disconnect: user-defined
 * networks, a bridge and a subnet each, where every member has an address
 * of its own and a name (runtime/network.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "runtime/container.h"
#include "runtime/netavark.h"
#include "runtime/network.h"
#include "runtime/usage.h"
#include "cmd/cmd.h"
#include "common/util.h"
#include "store/json.h"

/* Parse a subcommand's options: its table's flags into flags[key & 0xff]
 * (-q of ls, -f of disconnect), --subnet into subnet_arg. */
static const char *subnet_arg; /* create --subnet */
static const char *ip_arg;     /* connect --ip */
static char **alias_args;      /* connect --alias */

enum { O_SUBNET = CMD_OPT_LONG, O_NO_TRUNC, O_IP, O_ALIAS, O_INTERNAL };

static int sub_opts(cmd_ctx_t *ctx, int argc, char **argv, cmd_opts_t *p, int *flags,
		    cb_error_t *err)
{
	int o;
	cmd_opts_init(p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(p, err)) > 0) {
		if (o == 'd' && strcmp(p->arg, "bridge"))
			return cmd_usage_error(err, "driver '%s' is not supported (bridge)", p->arg);
		if (o == O_SUBNET)
			subnet_arg = p->arg;
		if (o == O_IP)
			ip_arg = p->arg;
		if (o == O_ALIAS)
			alias_args = cb_strv_push(alias_args, p->arg);
		flags[o & 0xff] = p->on;
	}
	return o;
}

static const cmd_opt_t create_opts[] = {
	{"driver", 'd', CMD_ARG_REQUIRED, "bridge", "the network driver (bridge only)"},
	{"subnet", O_SUBNET, CMD_ARG_REQUIRED, "CIDR", "the network's subnet (default: a free 10.89.x.0/24)"},
	{"internal", O_INTERNAL, CMD_ARG_NONE, NULL, "no route out of the network, no NAT"},
	{0}};

static int net_create(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int flags[256] = {0};
	cmd_opts_t p;
	subnet_arg = NULL;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, flags, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 1, 1, &st, err);
	if (rc < 0)
		return rc;
	rt_net_t *n = NULL;
	if (rt_net_create(st, p.args[0], subnet_arg, flags[O_INTERNAL & 0xff], &n, err) < 0)
		return -1;
	printf("%s\n", n->id);
	rt_net_free(n);
	return 0;
}

static const cmd_opt_t ls_opts[] = {
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only network IDs"},
	{"no-trunc", O_NO_TRUNC, CMD_ARG_NONE, NULL, "do not truncate IDs"},
	{0}};

static int net_ls(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int flags[256] = {0};
	cmd_opts_t p;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, flags, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (rc < 0)
		return rc;
	rt_net_t **v = NULL;
	size_t n = 0;
	if (rt_net_list(st, &v, &n, err) < 0)
		return -1;
	int idw = flags[O_NO_TRUNC & 0xff] ? NET_ID_LEN : 12, namew = 4;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(v[i]->name) > namew)
			namew = (int)strlen(v[i]->name);
	if (!flags['q'])
		printf("%-*s   %-*s   %-6s   %s\n", idw, "NETWORK ID", namew, "NAME", "DRIVER",
		       "SCOPE");
	for (size_t i = 0; i < n; i++) {
		if (flags['q'])
			printf("%.*s\n", idw, v[i]->id);
		else
			printf("%-*.*s   %-*s   %-6s   local\n", idw, idw, v[i]->id, namew,
			       v[i]->name, v[i]->driver);
		rt_net_free(v[i]);
	}
	free(v);
	return 0;
}

static int rm_one(void *opaque, store_t *st, const char *name, cb_error_t *err)
{
	(void)opaque;
	if (rt_net_remove(st, name, err) < 0)
		return -1;
	printf("%s\n", name);
	return 0;
}

static int net_rm(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int flags[256] = {0};
	cmd_opts_t p;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, flags, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (rc < 0)
		return rc;
	return cmd_each(st, p.args, p.nargs, rm_one, NULL, err);
}

static json_t *inspect_one(store_t *st, const char *name, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return NULL;
	_cleanup_strv_ char **ids = NULL;
	if (rt_net_members(st, name, &ids, err) < 0) {
		rt_net_free(n);
		return NULL;
	}
	json_t *ctrs = json_object();
	for (size_t i = 0; ids[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		rt_ctr_t *c = rt_ctr_load(st, ids[i], &e);
		if (!c) { /* removed meanwhile */
			cb_error_release(&e);
			continue;
		}
		/* the address while it runs (docker: "10.89.1.2/24") */
		_cleanup_free_ char *ip = rt_nav_address(c->id, name);
		const char *slash = n->subnet ? strchr(n->subnet, '/') : NULL;
		_cleanup_free_ char *addr = *ip ? cb_asprintf("%s%s", ip, slash ? slash : "")
						: cb_xstrdup("");
		json_object_set_new(ctrs, c->id,
				    json_pack("{s:s, s:s}", "Name", c->name, "IPv4Address", addr));
		rt_ctr_free(c);
	}
	json_t *ipam = json_array();
	if (n->subnet)
		json_array_append_new(ipam, json_pack("{s:s, s:s}", "Subnet", n->subnet,
						      "Gateway", n->gateway));
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:o}, s:o}", "Name", n->name,
			      "Id", n->id, "Created", n->created, "Scope", "local", "Driver",
			      n->driver, "Internal", n->internal, "IPAM", "Config", ipam,
			      "Containers", ctrs);
	rt_net_free(n);
	return j;
}

static int net_inspect(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int flags[256] = {0};
	cmd_opts_t p;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, flags, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (rc < 0)
		return rc;
	json_t *out = json_array();
	rc = 0;
	for (int i = 0; i < p.nargs; i++) {
		cb_error_t e = CB_ERROR_INIT;
		json_t *j = inspect_one(st, p.args[i], &e);
		if (j) {
			json_array_append_new(out, j);
			continue;
		}
		/* like docker: print what was found, fail for the rest */
		if (cb_error_is_set(err))
			cb_error_print(stderr, "cbuild", err), cb_error_release(err);
		cb_error_move(err, &e);
		rc = -1;
	}
	char *s = oci_json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(out);
	return rc;
}

static const cmd_opt_t connect_opts[] = {
	{"alias", O_ALIAS, CMD_ARG_REQUIRED, "NAME", "another name the container has on the network",
	 CMD_OPT_REPEAT},
	{"ip", O_IP, CMD_ARG_REQUIRED, "IP", "the container's address on the network"},
	{0}};

static int net_connect(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int flags[256] = {0};
	cmd_opts_t p;
	ip_arg = NULL;
	cb_strv_free(alias_args);
	alias_args = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, flags, err);
	if (rc >= 0 && p.nargs != 2)
		rc = cmd_nargs(ctx, p.nargs, 2, 2, err);
	store_t *st = rc >= 0 ? cmd_store(ctx, err) : NULL;
	if (rc >= 0)
		rc = st ? rt_net_connect(st, p.args[0], p.args[1], alias_args, ip_arg, err) : -1;
	cb_strv_free(alias_args);
	alias_args = NULL;
	return rc;
}

static const cmd_opt_t disconnect_opts[] = {
	{"force", 'f', CMD_ARG_NONE, NULL, "accepted for docker"},
	{0}};

static int net_disconnect(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int flags[256] = {0};
	cmd_opts_t p;
	int rc = sub_opts(ctx, argc, argv, &p, flags, err);
	if (rc < 0)
		return rc;
	if (p.nargs != 2)
		return cmd_nargs(ctx, p.nargs, 2, 2, err);
	store_t *st = cmd_store(ctx, err);
	return st ? rt_net_disconnect(st, p.args[0], p.args[1], err) : -1;
}

static const cmd_opt_t prune_opts[] = {
	{"force", 'f', CMD_ARG_NONE, NULL, "do not ask for confirmation"},
	{0}};

/* docker's network prune: every user-defined network no container is on,
 * and the namespaces builds keep ready (runtime/netpool.h). */
static int net_prune(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	int flags[256] = {0};
	cmd_opts_t p;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, flags, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (rc != 0)
		return rc;
	if (!flags['f'] && !cmd_confirm("WARNING! This will remove all custom networks not used by "
					"at least one container."))
		return 0;
	_cleanup_strv_ char **gone = NULL;
	if (rt_prune_networks(st, &gone, err) < 0)
		return -1;
	if (gone[0])
		printf("Deleted Networks:\n");
	for (size_t i = 0; gone[i]; i++)
		printf("%s\n", gone[i]);
	return 0;
}

static const cmd_opt_t no_opts[] = {{0}};

const cmd_def_t cmd_network_subs[] = {
	{"create", net_create, "cbuild network create [OPTIONS] NETWORK", "create a network",
	 create_opts},
	{"ls", net_ls, "cbuild network ls [OPTIONS]", "list networks", ls_opts},
	{"list", net_ls, "cbuild network ls [OPTIONS]", NULL, ls_opts},
	{"rm", net_rm, "cbuild network rm NETWORK...", "remove networks", no_opts},
	{"remove", net_rm, "cbuild network rm NETWORK...", NULL, no_opts},
	{"prune", net_prune, "cbuild network prune [OPTIONS]",
	 "remove unused networks and the namespaces builds keep ready", prune_opts},
	{"inspect", net_inspect, "cbuild network inspect NETWORK...",
	 "show networks' details as JSON", no_opts},
	{"connect", net_connect, "cbuild network connect [OPTIONS] NETWORK CONTAINER",
	 "connect a container to a network", connect_opts},
	{"disconnect", net_disconnect, "cbuild network disconnect [OPTIONS] NETWORK CONTAINER",
	 "disconnect a container from a network", disconnect_opts},
	{0}};
