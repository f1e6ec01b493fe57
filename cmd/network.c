/* cbuild network create|ls|rm|inspect|connect|disconnect: user-defined
 * networks, a bridge and a subnet each, where every member has an address
 * of its own and a name (runtime/network.h). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "runtime/container.h"
#include "runtime/netavark.h"
#include "runtime/network.h"
#include "cmd/cmd.h"
#include "common/util.h"
#include "store/json.h"

typedef int (*sub_fn)(store_t *st, int argc, char **argv, cb_error_t *err);

typedef struct sub {
	const char *name;
	const char *alias;
	sub_fn fn;
	const char *usage;
	const char *summary;
} sub_t;

static const char *subnet_arg; /* create --subnet */
static const char *ip_arg;     /* connect --ip */
static char **alias_args;      /* connect --alias */

/* Options every subcommand may take (-q for ls, -d for create, -f for
 * disconnect); anything else is a usage error. Leaves optind on the first
 * operand. */
static int sub_opts(int argc, char **argv, const char *shortopts,
		    const struct option *longopts, int *flags, cb_error_t *err)
{
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (o == '?' || o == ':')
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		if (o == 'd' && strcmp(optarg, "bridge"))
			return cmd_usage_error(err, "driver '%s' is not supported (bridge)", optarg);
		if (o == 's')
			subnet_arg = optarg;
		if (o == 'I')
			ip_arg = optarg;
		if (o == 'A')
			alias_args = cb_strv_push(alias_args, optarg);
		flags[o & 0xff] = 1;
	}
	return 0;
}

/* sub_opts for a subcommand that takes no options. */
static int no_opts(int argc, char **argv, cb_error_t *err)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	int flags[256] = {0};
	return sub_opts(argc, argv, "", none, flags, err);
}

static int net_create(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"driver", required_argument, NULL, 'd'},
					   {"subnet", required_argument, NULL, 's'},
					   {"internal", no_argument, NULL, 'i'},
					   {NULL, 0, NULL, 0}};
	int flags[256] = {0};
	subnet_arg = NULL;
	int rc = sub_opts(argc, argv, "d:", lo, flags, err);
	if (rc < 0)
		return rc;
	if (argc - optind != 1)
		return cmd_usage_error(err, "'network create' needs exactly 1 name");
	rt_net_t *n = NULL;
	if (rt_net_create(st, argv[optind], subnet_arg, flags['i'], &n, err) < 0)
		return -1;
	printf("%s\n", n->id);
	rt_net_free(n);
	return 0;
}

static int net_ls(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"quiet", no_argument, NULL, 'q'},
					   {"no-trunc", no_argument, NULL, 'T'},
					   {NULL, 0, NULL, 0}};
	int flags[256] = {0};
	int rc = sub_opts(argc, argv, "q", lo, flags, err);
	if (rc < 0)
		return rc;
	if (optind < argc)
		return cmd_usage_error(err, "'network ls' takes no arguments");
	rt_net_t **v = NULL;
	size_t n = 0;
	if (rt_net_list(st, &v, &n, err) < 0)
		return -1;
	int idw = flags['T'] ? NET_ID_LEN : 12, namew = 4;
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

static int net_rm(store_t *st, int argc, char **argv, cb_error_t *err)
{
	int rc = no_opts(argc, argv, err);
	if (rc < 0)
		return rc;
	if (optind >= argc)
		return cmd_usage_error(err, "'network rm' needs at least 1 network");
	return cmd_each(st, argv + optind, argc - optind, rm_one, NULL, err);
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

static int net_inspect(store_t *st, int argc, char **argv, cb_error_t *err)
{
	int rc = no_opts(argc, argv, err);
	if (rc < 0)
		return rc;
	if (optind >= argc)
		return cmd_usage_error(err, "'network inspect' needs at least 1 network");
	json_t *out = json_array();
	rc = 0;
	for (int i = optind; i < argc; i++) {
		cb_error_t e = CB_ERROR_INIT;
		json_t *j = inspect_one(st, argv[i], &e);
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

static int net_connect(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"alias", required_argument, NULL, 'A'},
					   {"ip", required_argument, NULL, 'I'},
					   {NULL, 0, NULL, 0}};
	int flags[256] = {0};
	ip_arg = NULL;
	cb_strv_free(alias_args);
	alias_args = NULL;
	int rc = sub_opts(argc, argv, "", lo, flags, err);
	if (rc == 0 && argc - optind != 2)
		rc = cmd_usage_error(err, "'network connect' needs a network and a container");
	if (rc == 0)
		rc = rt_net_connect(st, argv[optind], argv[optind + 1], alias_args, ip_arg, err);
	cb_strv_free(alias_args);
	alias_args = NULL;
	return rc;
}

static int net_disconnect(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
					   {NULL, 0, NULL, 0}};
	int flags[256] = {0};
	int rc = sub_opts(argc, argv, "f", lo, flags, err);
	if (rc < 0)
		return rc;
	if (argc - optind != 2)
		return cmd_usage_error(err, "'network disconnect' needs a network and a "
					    "container");
	return rt_net_disconnect(st, argv[optind], argv[optind + 1], err);
}

static const sub_t subs[] = {
	{"create", NULL, net_create,
	 "cbuild network create [-d bridge] [--subnet CIDR] [--internal] NETWORK",
	 "create a network"},
	{"ls", "list", net_ls, "cbuild network ls [-q] [--no-trunc]", "list networks"},
	{"rm", "remove", net_rm, "cbuild network rm NETWORK...", "remove networks"},
	{"inspect", NULL, net_inspect, "cbuild network inspect NETWORK...",
	 "show networks' details as JSON"},
	{"connect", NULL, net_connect,
	 "cbuild network connect [--alias NAME]... [--ip IP] NETWORK CONTAINER",
	 "connect a container to a network"},
	{"disconnect", NULL, net_disconnect, "cbuild network disconnect [-f] NETWORK CONTAINER",
	 "disconnect a container from a network"},
};

int cmd_network(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	/* `network --help` and `network` alone: main prints the verb's usage */
	if (argc < 2)
		return cmd_usage_error(err, "'network' needs a command");
	const sub_t *s = NULL;
	for (size_t i = 0; i < CB_ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name) || cb_streq(argv[1], subs[i].alias))
			s = &subs[i];
	if (!s)
		return cmd_usage_error(err, "unknown network command '%s'", argv[1]);
	if (cmd_wants_help(argc - 1, argv + 1)) {
		printf("usage: %s\n\n%s\n", s->usage, s->summary);
		return 0;
	}
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	int rc = s->fn(st, argc - 1, argv + 1, err);
	if (rc == CMD_USAGE) {
		/* the subcommand's usage, not the whole verb's */
		cb_error_print(stderr, "cbuild", err);
		cb_error_release(err);
		fprintf(stderr, "usage: %s\n", s->usage);
		ctx->exit_code = 2;
		return 0;
	}
	return rc;
}
