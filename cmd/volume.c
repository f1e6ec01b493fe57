/* cbuild volume create|ls|inspect|rm|prune: named volumes
 * (runtime/volume.h). Output as docker's local driver prints it. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/volume.h"
#include "cmd/cmd.h"
#include "cmd/format.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "store/json.h"

typedef int (*sub_fn)(store_t *st, int argc, char **argv, cb_error_t *err);

typedef struct sub {
	const char *name, *alias;
	sub_fn fn;
	const char *usage, *summary;
} sub_t;

/* The fields of ls --format and inspect --format. */
static const cmd_fmt_field_t fields[] = {
	{"Driver", "DRIVER"},         {"Name", "VOLUME NAME"}, {"Mountpoint", "MOUNTPOINT"},
	{"CreatedAt", "CREATED AT"}, {"Scope", "SCOPE"},
};

/* getopt over a subcommand's options; opts[c] = its argument ("" for a
 * flag). Leaves optind on the first operand. */
static int sub_opts(int argc, char **argv, const char *shortopts, const struct option *lo,
		    const char **opts, cb_error_t *err)
{
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (o == '?' || o == ':')
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		opts[o & 0xff] = optarg ? optarg : "";
	}
	return 0;
}

static void created_at(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int vol_create(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"driver", required_argument, NULL, 'd'},
					   {"name", required_argument, NULL, 'n'},
					   {NULL, 0, NULL, 0}};
	const char *opts[256] = {0};
	int rc = sub_opts(argc, argv, "d:", lo, opts, err);
	if (rc < 0)
		return rc;
	if (opts['d'] && strcmp(opts['d'], "local"))
		return cmd_usage_error(err, "volume driver '%s' is not supported (local)", opts['d']);
	const char *name = opts['n'];
	if (argc - optind > 1 || (name && argc - optind == 1))
		return cmd_usage_error(err, "'volume create' takes at most 1 name");
	if (!name && argc - optind == 1)
		name = argv[optind];
	/* docker names an unnamed one with 64 random hex digits */
	char rnd[65];
	if (!name) {
		cb_random_hex(rnd, 32);
		name = rnd;
	}
	_cleanup_free_ char *dir = NULL;
	if (rt_vol_ensure(st, name, &dir, NULL, err) < 0)
		return -1;
	printf("%s\n", name);
	return 0;
}

static int vol_ls(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"quiet", no_argument, NULL, 'q'},
					   {"format", required_argument, NULL, 'F'},
					   {"filter", required_argument, NULL, 'f'},
					   {NULL, 0, NULL, 0}};
	const char *opts[256] = {0};
	int rc = sub_opts(argc, argv, "qf:", lo, opts, err);
	if (rc < 0)
		return rc;
	if (argc != optind)
		return cmd_usage_error(err, "'volume ls' takes no arguments");
	/* dangling=true|false and name=SUBSTRING, docker's two everyday filters */
	const char *f = opts['f'];
	int dangling = -1;
	const char *name_sub = NULL;
	if (f && (!strcmp(f, "dangling=true") || !strcmp(f, "dangling=1")))
		dangling = 1;
	else if (f && (!strcmp(f, "dangling=false") || !strcmp(f, "dangling=0")))
		dangling = 0;
	else if (f && cb_str_has_prefix(f, "name="))
		name_sub = f + 5;
	else if (f)
		return cmd_usage_error(err, "filter '%s' is not supported (dangling=, name=)", f);
	const char *spec = opts['q'] ? "{{.Name}}" : opts['F'] ? opts['F'] : "table";
	cmd_fmt_t *fmt = NULL;
	if (cmd_fmt_new(spec, "table {{.Driver}}\t{{.Name}}", fields, CB_ARRAY_SIZE(fields),
			&fmt, err) < 0)
		return CMD_USAGE;
	_cleanup_strv_ char **names = NULL;
	if (rt_vol_list(st, &names, err) < 0) {
		cmd_fmt_free(fmt);
		return -1;
	}
	for (size_t i = 0; names[i]; i++) {
		rt_vol_info_t v;
		cb_error_t e = CB_ERROR_INIT;
		if (rt_vol_inspect(st, names[i], false, &v, &e) < 0) {
			cb_error_release(&e); /* removed meanwhile */
			continue;
		}
		bool keep = (!name_sub || strstr(v.name, name_sub)) &&
			    (dangling < 0 || dangling == !v.users[0]);
		char created[64];
		created_at(v.created, created, sizeof created);
		const char *row[] = {"local", v.name, v.mountpoint, created, "local"};
		if (keep)
			cmd_fmt_row(fmt, row);
		rt_vol_info_release(&v);
	}
	cmd_fmt_print(fmt, stdout);
	cmd_fmt_free(fmt);
	return 0;
}

static json_t *vol_json(const rt_vol_info_t *v)
{
	char created[64];
	created_at(v->created, created, sizeof created);
	json_t *j = json_object();
	json_object_set_new(j, "CreatedAt", oci_json_str(created));
	json_object_set_new(j, "Driver", oci_json_str("local"));
	json_object_set_new(j, "Labels", json_object());
	json_object_set_new(j, "Mountpoint", oci_json_str(v->mountpoint));
	json_object_set_new(j, "Name", oci_json_str(v->name));
	json_object_set_new(j, "Options", json_object());
	json_object_set_new(j, "Scope", oci_json_str("local"));
	return j;
}

static int vol_inspect(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"format", required_argument, NULL, 'f'},
					   {NULL, 0, NULL, 0}};
	const char *opts[256] = {0};
	int rc = sub_opts(argc, argv, "f:", lo, opts, err);
	if (rc < 0)
		return rc;
	if (argc == optind)
		return cmd_usage_error(err, "'volume inspect' needs at least 1 volume");
	cmd_fmt_t *fmt = NULL;
	if (opts['f'] && cmd_fmt_new(opts['f'], NULL, fields, CB_ARRAY_SIZE(fields), &fmt,
				     err) < 0)
		return CMD_USAGE;
	json_t *out = json_array();
	for (int i = optind; i < argc; i++) {
		rt_vol_info_t v;
		cb_error_t e = CB_ERROR_INIT;
		if (rt_vol_inspect(st, argv[i], false, &v, &e) < 0) {
			/* like docker: print what was found, fail for the rest */
			if (cb_error_is_set(err))
				cb_error_print(stderr, "cbuild", err), cb_error_release(err);
			cb_error_move(err, &e);
			rc = -1;
			continue;
		}
		char created[64];
		created_at(v.created, created, sizeof created);
		const char *row[] = {"local", v.name, v.mountpoint, created, "local"};
		if (fmt)
			cmd_fmt_row(fmt, row);
		json_array_append_new(out, vol_json(&v));
		rt_vol_info_release(&v);
	}
	if (fmt) {
		cmd_fmt_print(fmt, stdout);
		cmd_fmt_free(fmt);
	} else {
		char *s = oci_json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
	}
	json_decref(out);
	return rc;
}

static int rm_one(void *force, store_t *st, const char *name, cb_error_t *err)
{
	int rc = rt_vol_remove(st, name, *(bool *)force, err);
	if (rc == 0)
		printf("%s\n", name);
	return rc;
}

static int vol_rm(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
					   {NULL, 0, NULL, 0}};
	const char *opts[256] = {0};
	int rc = sub_opts(argc, argv, "f", lo, opts, err);
	if (rc < 0)
		return rc;
	if (argc == optind)
		return cmd_usage_error(err, "'volume rm' needs at least 1 volume");
	bool force = opts['f'] != NULL;
	return cmd_each(st, argv + optind, argc - optind, rm_one, &force, err);
}

static int vol_prune(store_t *st, int argc, char **argv, cb_error_t *err)
{
	static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
					   {"all", no_argument, NULL, 'a'},
					   {NULL, 0, NULL, 0}};
	const char *opts[256] = {0};
	int rc = sub_opts(argc, argv, "fa", lo, opts, err);
	if (rc < 0)
		return rc;
	if (argc != optind)
		return cmd_usage_error(err, "'volume prune' takes no arguments");
	if (!opts['f'] &&
	    !cmd_confirm("WARNING! This will remove all local volumes not used by at least one "
			 "container."))
		return 0;
	_cleanup_strv_ char **gone = NULL;
	uint64_t bytes = 0;
	if (rt_vol_prune(st, &gone, &bytes, err) < 0)
		return -1;
	if (gone[0]) {
		printf("Deleted Volumes:\n");
		for (size_t i = 0; gone[i]; i++)
			printf("%s\n", gone[i]);
		printf("\n");
	}
	char size[32];
	cmd_human_size((int64_t)bytes, size, sizeof size);
	printf("Total reclaimed space: %s\n", size);
	return 0;
}

static const sub_t subs[] = {
	{"create", NULL, vol_create, "cbuild volume create [-d local] [VOLUME]",
	 "create a volume (a random name when none is given)"},
	{"ls", "list", vol_ls,
	 "cbuild volume ls [-q] [--format F] [-f dangling=true|false|name=SUBSTRING]",
	 "list volumes"},
	{"inspect", NULL, vol_inspect, "cbuild volume inspect [-f FORMAT] VOLUME...",
	 "show volumes' details as JSON"},
	{"rm", "remove", vol_rm, "cbuild volume rm [-f] VOLUME...",
	 "remove volumes (not while a container uses them)"},
	{"prune", NULL, vol_prune, "cbuild volume prune [-f]",
	 "remove every volume no container uses"},
};

int cmd_volume(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	if (argc < 2)
		return cmd_usage_error(err, "'volume' needs a command");
	const sub_t *s = NULL;
	for (size_t i = 0; i < CB_ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name) || cb_streq(argv[1], subs[i].alias))
			s = &subs[i];
	if (!s)
		return cmd_usage_error(err, "unknown volume command '%s'", argv[1]);
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
