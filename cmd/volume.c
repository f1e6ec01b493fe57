/* cbuild volume create|ls|inspect|rm|prune: named volumes
 * (runtime/volume.h). Output as docker's local driver prints it. */
#include <errno.h>
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

/* The fields of ls --format and inspect --format. */
static const cmd_fmt_field_t fields[] = {
	{"Driver", "DRIVER"},         {"Name", "VOLUME NAME"}, {"Mountpoint", "MOUNTPOINT"},
	{"CreatedAt", "CREATED AT"}, {"Scope", "SCOPE"},
};

enum { O_FORMAT = CMD_OPT_LONG, NOPTS };

/* Parse a subcommand's options into opts[key] (its argument, "" for a
 * flag that is on); the operands end in p->args. */
static int sub_opts(cmd_ctx_t *ctx, int argc, char **argv, cmd_opts_t *p, const char **opts,
		    cb_error_t *err)
{
	int o;
	cmd_opts_init(p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(p, err)) > 0)
		if (o < NOPTS)
			opts[o] = p->opt->kind == CMD_ARG_NONE ? (p->on ? "" : NULL) : p->arg;
	return o;
}

static void created_at(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const cmd_opt_t create_opts[] = {
	{"driver", 'd', CMD_ARG_REQUIRED, "DRIVER", "the volume driver (only local)"},
	{"name", 'n', CMD_ARG_REQUIRED, "NAME", "the volume's name (or as the operand)",
	 CMD_OPT_HIDDEN},
	{0}};

static int vol_create(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *opts[NOPTS] = {0};
	cmd_opts_t p;
	int rc = sub_opts(ctx, argc, argv, &p, opts, err);
	if (rc < 0)
		return rc;
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	if (opts['d'] && strcmp(opts['d'], "local"))
		return cmd_usage_error(err, "volume driver '%s' is not supported (local)", opts['d']);
	const char *name = opts['n'];
	if (p.nargs > 1)
		return cmd_nargs(ctx, p.nargs, 0, 1, err);
	if (name && p.nargs == 1)
		return cmd_usage_error(err, "'volume create' takes at most 1 name");
	if (!name && p.nargs == 1)
		name = p.args[0];
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

static const cmd_opt_t ls_opts[] = {
	{"quiet", 'q', CMD_ARG_NONE, NULL, "only the names"},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "FORMAT",
	 "a Go template ({{.Name}}, {{.Driver}}, {{.Mountpoint}}), table or json"},
	{"filter", 'f', CMD_ARG_REQUIRED, "FILTER", "dangling=true|false or name=SUBSTRING"},
	{0}};

/* docker's two everyday filters, each -f adding one: dangling=BOOL (the
 * last counts) and name=SUBSTRING (any of them); different keys all hold. */
static int vol_filters(char *const *fs, int *dangling, char ***names, cb_error_t *err)
{
	for (size_t i = 0; fs && fs[i]; i++) {
		const char *f = fs[i];
		if (!strcmp(f, "dangling=true") || !strcmp(f, "dangling=1"))
			*dangling = 1;
		else if (!strcmp(f, "dangling=false") || !strcmp(f, "dangling=0"))
			*dangling = 0;
		else if (cb_str_has_prefix(f, "name="))
			*names = cb_strv_push(*names, f + 5);
		else
			return cmd_usage_error(err, "filter '%s' is not supported (dangling=, name=)", f);
	}
	return 0;
}

static bool name_matches(char *const *subs, const char *name)
{
	for (size_t i = 0; subs && subs[i]; i++)
		if (strstr(name, subs[i]))
			return true;
	return !subs || !subs[0];
}

static int vol_ls(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *opts[NOPTS] = {0};
	_cleanup_strv_ char **filters = NULL;
	cmd_opts_t p;
	store_t *st = NULL;
	int rc;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((rc = cmd_opts_next(&p, err)) > 0) {
		if (rc == 'f')
			filters = cb_strv_push(filters, p.arg);
		else if (rc < NOPTS)
			opts[rc] = p.opt->kind == CMD_ARG_NONE ? (p.on ? "" : NULL) : p.arg;
	}
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (rc < 0)
		return rc;
	int dangling = -1;
	_cleanup_strv_ char **name_subs = NULL;
	if (vol_filters(filters, &dangling, &name_subs, err) < 0)
		return CMD_USAGE;
	const char *spec = opts['q'] ? "{{.Name}}" : opts[O_FORMAT] ? opts[O_FORMAT] : "table";
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
		bool keep = name_matches(name_subs, v.name) &&
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

static const cmd_opt_t inspect_opts[] = {
	{"format", 'f', CMD_ARG_REQUIRED, "FORMAT", "a Go template ({{.Mountpoint}}, {{.Name}})"},
	{0}};

static int vol_inspect(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *opts[NOPTS] = {0};
	cmd_opts_t p;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, opts, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (rc < 0)
		return rc;
	cmd_fmt_t *fmt = NULL;
	if (opts['f'] && cmd_fmt_new(opts['f'], NULL, fields, CB_ARRAY_SIZE(fields), &fmt,
				     err) < 0)
		return CMD_USAGE;
	json_t *out = json_array();
	for (int i = 0; i < p.nargs; i++) {
		rt_vol_info_t v;
		cb_error_t e = CB_ERROR_INIT;
		if (rt_vol_inspect(st, p.args[i], false, &v, &e) < 0) {
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

static const cmd_opt_t rm_opts[] = {
	{"force", 'f', CMD_ARG_NONE, NULL, "no error for a volume that does not exist"},
	{0}};

static int vol_rm(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *opts[NOPTS] = {0};
	cmd_opts_t p;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, opts, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 1, -1, &st, err);
	if (rc < 0)
		return rc;
	bool force = opts['f'] != NULL;
	return cmd_each(st, p.args, p.nargs, rm_one, &force, err);
}

static const cmd_opt_t prune_opts[] = {
	{"force", 'f', CMD_ARG_NONE, NULL, "do not ask for confirmation"},
	{"all", 'a', CMD_ARG_NONE, NULL,
	 "every unused volume (what prune removes anyway: all volumes are named)"},
	{0}};

static int vol_prune(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *opts[NOPTS] = {0};
	cmd_opts_t p;
	store_t *st = NULL;
	int rc = sub_opts(ctx, argc, argv, &p, opts, err);
	if (rc == 0)
		rc = cmd_operands(ctx, &p, 0, 0, &st, err);
	if (rc < 0)
		return rc;
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

const cmd_def_t cmd_volume_subs[] = {
	{"create", vol_create, "cbuild volume create [OPTIONS] [VOLUME]",
	 "create a volume (64 random hex digits as its name when none is given)", create_opts},
	{"inspect", vol_inspect, "cbuild volume inspect [OPTIONS] VOLUME...",
	 "show volumes' details as JSON", inspect_opts},
	{"ls", vol_ls, "cbuild volume ls [OPTIONS]", "list volumes", ls_opts},
	{"list", vol_ls, "cbuild volume ls [OPTIONS]", NULL, ls_opts},
	{"prune", vol_prune, "cbuild volume prune [OPTIONS]",
	 "remove every volume no container names", prune_opts},
	{"rm", vol_rm, "cbuild volume rm [OPTIONS] VOLUME...",
	 "remove volumes (never one a container, running or not, names)", rm_opts},
	{"remove", vol_rm, "cbuild volume rm [OPTIONS] VOLUME...", NULL, rm_opts},
	{0}};
