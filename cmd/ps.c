/* cbuild ps [-a] [-q] [--no-trunc] [-f KEY=VALUE]... [--format F]: containers
 * as docker lists them. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/container.h"
#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "cmd/format.h"
#include "cmd/images_util.h"
#include "cmd/inspect_ctr.h"
#include "common/util.h"
#include "registry/reference.h"

/* The fields of --format, in docker's names; the default table shows the
 * first NCOLS. */
enum {
	COL_ID,
	COL_IMAGE,
	COL_COMMAND,
	COL_CREATED,
	COL_STATUS,
	COL_PORTS,
	COL_NAMES,
	NCOLS,
	COL_CREATED_AT = NCOLS,
	COL_STATE,
	COL_LABELS,
	NFIELDS
};

static const cmd_fmt_field_t fields[NFIELDS] = {
	[COL_ID] = {"ID", "CONTAINER ID"},
	[COL_IMAGE] = {"Image", "IMAGE"},
	[COL_COMMAND] = {"Command", "COMMAND"},
	[COL_CREATED] = {"RunningFor", "CREATED"},
	[COL_STATUS] = {"Status", "STATUS"},
	[COL_PORTS] = {"Ports", "PORTS"},
	[COL_NAMES] = {"Names", "NAMES"},
	[COL_CREATED_AT] = {"CreatedAt", "CREATED AT"},
	[COL_STATE] = {"State", "STATE"},
	[COL_LABELS] = {"Labels", "LABELS"},
};

static const char *const state_names[] = {"created", "running", "exited"};

/* "sh -c 'echo hi…" quoted and cut at 20 characters, as docker shows it */
static char *command_text(const rt_ctr_t *c, bool no_trunc)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		cb_buf_addf(&b, "%s%s", i ? " " : "", c->argv[i]);
	if (!no_trunc && b.len > 20) {
		size_t cut = 19;
		while (cut && (b.data[cut] & 0xC0) == 0x80)
			cut--;
		b.len = cut;
		b.data[cut] = 0;
		cb_buf_addstr(&b, "\xe2\x80\xa6");
	}
	char *s = cb_asprintf("\"%s\"", b.data);
	cb_buf_release(&b);
	return s;
}

static char *status_text(const rt_ctr_t *c)
{
	char d[64];
	switch (c->status) {
	case RT_CTR_RUNNING: {
		cmd_human_duration((int64_t)time(NULL) - c->started, d, sizeof d);
		if (rt_ctr_paused(c))
			return cb_asprintf("Up %s (Paused)", d);
		_cleanup_free_ char *h = rt_ctr_health_status(c);
		if (!h)
			return cb_asprintf("Up %s", d);
		return cb_asprintf("Up %s (%s%s)", d, strcmp(h, "starting") ? "" : "health: ", h);
	}
	case RT_CTR_EXITED:
		if (c->restarting) {
			cmd_human_ago(c->finished, d, sizeof d);
			return cb_asprintf("Restarting (%d) %s", c->exit_code, d);
		}
		cmd_human_ago(c->finished, d, sizeof d);
		return cb_asprintf("Exited (%d) %s", c->exit_code, d);
	default:
		return cb_xstrdup("Created");
	}
}

static int by_ctr_port(const void *a, const void *b)
{
	const rt_ctr_port_t *x = a, *y = b;
	if (x->ctr_port != y->ctr_port)
		return x->ctr_port < y->ctr_port ? -1 : 1;
	return (int)x->udp - (int)y->udp;
}

/* As docker: the host ports of a running container, by container port;
 * nothing for one that does not run (a -p CTR, -P one has no host port then) */
static char *ports_text(const rt_ctr_t *c)
{
	cb_buf_t b;
	cb_buf_init(&b);
	size_t n = c->status == RT_CTR_RUNNING ? c->n_ports : 0;
	rt_ctr_port_t *v = cb_xcalloc(n + 1, sizeof *v);
	if (n)
		memcpy(v, c->ports, n * sizeof *v);
	qsort(v, n, sizeof *v, by_ctr_port);
	for (size_t i = 0; i < n; i++)
		cb_buf_addf(&b, "%s%s:%u->%u/%s", i ? ", " : "", v[i].host_ip,
			    (unsigned)(v[i].bound_port ? v[i].bound_port : v[i].host_port),
			    (unsigned)v[i].ctr_port, v[i].udp ? "udp" : "tcp");
	free(v);
	return cb_buf_detach(&b, NULL);
}

/* Does the name the container was run with still name its image? Once
 * rmi -f or a new tag took it away, docker's ps shows the image ID. */
static bool name_still_names(store_t *st, const rt_ctr_t *c, char id[13])
{
	cb_error_t e = CB_ERROR_INIT;
	image_t *mine = image_load(st, c->image, &e);
	if (!mine) {
		cb_error_release(&e);
		return true; /* nothing better to show */
	}
	image_t *named = c->image_name ? cmd_load_image(st, c->image_name, &e) : NULL;
	if (!named)
		cb_error_release(&e);
	bool same = named && cb_streq(named->config_digest, mine->config_digest);
	cmd_short_id(mine->config_digest, id);
	image_free(named);
	image_free(mine);
	return same;
}

/* the image as the user typed it, in its familiar form */
static char *image_text(store_t *st, const rt_ctr_t *c)
{
	reg_ref_t r;
	cb_error_t e = CB_ERROR_INIT;
	char id[13];
	if (!name_still_names(st, c, id))
		return cb_xstrdup(id);
	if (c->image_name && reg_ref_parse(c->image_name, 0, &r, &e) == 0) {
		char *s = reg_ref_familiar(&r);
		reg_ref_release(&r);
		if (cb_str_has_suffix(s, ":latest"))
			s[strlen(s) - 7] = 0;
		return s;
	}
	cb_error_release(&e);
	return cb_xstrdup(c->image_name ? c->image_name : c->image);
}

/* "2024-01-02 15:04:05 +0000 UTC", docker's CreatedAt */
static char *created_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	return cb_xstrdup(buf);
}

/* The image's labels (a container has its image's), "k=v,k2=v2". */
static json_t *image_labels(store_t *st, const rt_ctr_t *c, char **text)
{
	cb_error_t e = CB_ERROR_INIT;
	image_t *img = image_load(st, c->image, &e);
	json_t *labels = NULL;
	if (!img)
		cb_error_release(&e);
	/* the image's, with the container's --label over them */
	labels = cmd_ctr_labels(c, img && img->config ? img->config->labels : NULL);
	image_free(img);
	cb_buf_t b;
	cb_buf_init(&b);
	const char *k;
	json_t *v;
	json_object_foreach(labels, k, v)
		cb_buf_addf(&b, "%s%s=%s", b.len ? "," : "", k, json_string_value(v) ? json_string_value(v) : "");
	*text = cb_buf_detach(&b, NULL);
	return labels;
}

/* ---- --filter ---- */

typedef struct filters {
	char **v; /* "key=value" */
	bool any_status;
} filters_t;

static int add_filter(filters_t *f, const char *arg, cb_error_t *err)
{
	static const char *const keys[] = {"status", "name", "id", "ancestor", "label", "exited"};
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	bool known = false;
	for (size_t i = 0; i < CB_ARRAY_SIZE(keys); i++)
		known |= strlen(keys[i]) == klen && !strncmp(arg, keys[i], klen);
	if (!eq || !known)
		return cmd_usage_error(err, "invalid filter '%s' (status=, name=, id=, ancestor=, "
					    "label=, exited=)", arg);
	if (!strncmp(arg, "status=", 7)) {
		static const char *const ok[] = {"created", "restarting", "running", "removing",
						 "paused", "exited", "dead"};
		bool valid = false;
		for (size_t i = 0; i < CB_ARRAY_SIZE(ok); i++)
			valid |= !strcmp(eq + 1, ok[i]);
		if (!valid)
			return cmd_usage_error(err, "invalid filter 'status=%s'", eq + 1);
	}
	if (!strncmp(arg, "exited=", 7)) {
		char *end;
		long code = strtol(eq + 1, &end, 10);
		if (!eq[1] || *end || code < 0 || code > 255)
			return cmd_usage_error(err, "invalid filter 'exited=%s'", eq + 1);
	}
	/* a filter on state looks at every container, as -a does */
	if (!strncmp(arg, "status=", 7) || !strncmp(arg, "exited=", 7))
		f->any_status = true;
	f->v = cb_strv_push(f->v, arg);
	return 0;
}

/* "app", "app:1", "docker.io/library/app:latest" name the same image. */
static bool same_image_name(const char *a, const char *b)
{
	reg_ref_t ra, rb;
	cb_error_t e = CB_ERROR_INIT;
	if (!a || reg_ref_parse(a, 0, &ra, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	bool same = false;
	if (reg_ref_parse(b, 0, &rb, &e) == 0) {
		same = !strcmp(ra.domain, rb.domain) && !strcmp(ra.path, rb.path) &&
		       cb_streq(ra.tag, rb.tag);
		reg_ref_release(&rb);
	} else {
		cb_error_release(&e);
	}
	reg_ref_release(&ra);
	return same;
}

static bool match_ancestor(store_t *st, const rt_ctr_t *c, const char *v)
{
	if (same_image_name(c->image_name, v))
		return true;
	/* an image ID (or prefix), or the name of the same image by another tag */
	_cleanup_free_ char *manifest = NULL, *full = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (cmd_find_image(st, v, &manifest, &full, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	return cb_streq(manifest, c->image);
}

static bool match_label(json_t *labels, const char *v)
{
	_cleanup_free_ char *k = cb_xstrdup(v);
	char *eq = strchr(k, '=');
	if (eq)
		*eq = 0;
	json_t *got = json_object_get(labels, k);
	return got && (!eq || cb_streq(json_string_value(got), eq + 1));
}

/* docker's State: "paused" for a frozen running container */
static const char *state_of(const rt_ctr_t *c)
{
	/* docker's "restarting": exited, its keeper in a back-off */
	return rt_ctr_paused(c) ? "paused" : c->restarting ? "restarting" : state_names[c->status];
}

static bool match_one(store_t *st, const rt_ctr_t *c, json_t *labels, const char *f)
{
	const char *v = strchr(f, '=') + 1;
	switch (f[0]) {
	case 's': return !strcmp(v, state_of(c));
	case 'n': return strstr(c->name, v) != NULL;
	case 'i': return cb_str_has_prefix(c->id, v);
	case 'a': return match_ancestor(st, c, v);
	case 'l': return match_label(labels, v);
	case 'e': return c->status == RT_CTR_EXITED && c->exit_code == atoi(v);
	}
	return false;
}

/* docker's rule: filters with the same key are ORed, different keys ANDed */
static bool filters_match(store_t *st, const filters_t *fs, const rt_ctr_t *c, json_t *labels)
{
	for (size_t i = 0; fs->v && fs->v[i]; i++) {
		size_t klen = (size_t)(strchr(fs->v[i], '=') - fs->v[i]);
		bool any = false, seen_before = false;
		for (size_t j = 0; fs->v[j]; j++) {
			if (strncmp(fs->v[j], fs->v[i], klen + 1))
				continue;
			if (j < i)
				seen_before = true;
			any |= match_one(st, c, labels, fs->v[j]);
		}
		if (!seen_before && !any)
			return false;
	}
	return true;
}

/* ---- output ---- */

/* display width: UTF-8 continuation bytes take no column */
static size_t dwidth(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void print_row(char *const *row, const size_t *width)
{
	for (int k = 0; k < NCOLS - 1; k++)
		printf("%s%*s", row[k], (int)(width[k] - dwidth(row[k]) + 3), "");
	printf("%s\n", row[NCOLS - 1]);
}

static void print_default(char *(*cells)[NFIELDS], size_t rows, bool quiet)
{
	size_t width[NCOLS];
	for (int k = 0; k < NCOLS; k++)
		width[k] = strlen(fields[k].header);
	for (size_t i = 0; i < rows; i++)
		for (int k = 0; k < NCOLS; k++)
			if (dwidth(cells[i][k]) > width[k])
				width[k] = dwidth(cells[i][k]);
	if (!quiet) {
		const char *heads[NCOLS];
		for (int k = 0; k < NCOLS; k++)
			heads[k] = fields[k].header;
		print_row((char *const *)heads, width);
	}
	for (size_t i = 0; i < rows; i++) {
		if (quiet)
			printf("%s\n", cells[i][COL_ID]);
		else
			print_row(cells[i], width);
	}
}

static void fill_row(store_t *st, const rt_ctr_t *c, bool no_trunc, char **row, char *labels)
{
	char created[64];
	cmd_human_ago(c->created, created, sizeof created);
	row[COL_ID] = no_trunc ? cb_xstrdup(c->id) : cb_asprintf("%.12s", c->id);
	row[COL_IMAGE] = image_text(st, c);
	row[COL_COMMAND] = command_text(c, no_trunc);
	row[COL_CREATED] = cb_xstrdup(created);
	row[COL_STATUS] = status_text(c);
	row[COL_PORTS] = ports_text(c);
	row[COL_NAMES] = cb_xstrdup(c->name);
	row[COL_CREATED_AT] = created_at(c->created);
	row[COL_STATE] = cb_xstrdup(state_of(c));
	row[COL_LABELS] = labels;
	(void)st;
}

typedef struct ps_opts {
	bool all, quiet, no_trunc;
	const char *format;
	filters_t filters;
} ps_opts_t;

enum { O_NO_TRUNC = CMD_OPT_LONG, O_FORMAT };

const cmd_opt_t cmd_ps_opts[] = {
	{"all", 'a', CMD_ARG_NONE, NULL, "show all containers (default: running ones)"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only container IDs"},
	{"no-trunc", O_NO_TRUNC, CMD_ARG_NONE, NULL, "do not truncate IDs and commands"},
	{"filter", 'f', CMD_ARG_REQUIRED, "KEY=VALUE",
	 "status=, name=, id=, ancestor=, label=, exited=", CMD_OPT_REPEAT},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "TEMPLATE", "Go-template subset, table or json"},
	{0}};

static int parse_ps_args(cmd_ctx_t *ctx, int argc, char **argv, ps_opts_t *o, cb_error_t *err)
{
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		switch (c) {
		case 'a': o->all = p.on; break;
		case 'q': o->quiet = p.on; break;
		case O_NO_TRUNC: o->no_trunc = p.on; break;
		case O_FORMAT: o->format = p.arg; break;
		case 'f':
			if (add_filter(&o->filters, p.arg, err) < 0)
				return CMD_USAGE;
			break;
		}
	}
	if (c < 0)
		return c;
	if (p.nargs != 0)
		return cmd_nargs(ctx, p.nargs, 0, 0, err);
	return 0;
}

int cmd_ps(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	ps_opts_t o = {0};
	int rc = parse_ps_args(ctx, argc, argv, &o, err);
	_cleanup_strv_ char **filters = o.filters.v;
	if (rc < 0)
		return rc;
	cmd_fmt_t *fmt = NULL;
	if (o.format && !o.quiet &&
	    cmd_fmt_new(o.format,
			"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
			"{{.Ports}}\t{{.Names}}",
			fields, NFIELDS, &fmt, err) < 0)
		return CMD_USAGE;
	store_t *st = cmd_store(ctx, err);
	_cleanup_strv_ char **ids = NULL;
	if (!st || rt_ctr_list(st, &ids, err) < 0) {
		cmd_fmt_free(fmt);
		return -1;
	}
	size_t n = cb_strv_len(ids), rows = 0;
	char *(*cells)[NFIELDS] = cb_xcalloc(n + 1, sizeof(*cells));
	for (size_t i = 0; i < n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		rt_ctr_t *c = rt_ctr_load(st, ids[i], &e);
		if (!c) {
			cb_error_release(&e); /* removed meanwhile */
			continue;
		}
		char *labels_text = NULL;
		json_t *labels = image_labels(st, c, &labels_text);
		if ((o.all || o.filters.any_status || c->status == RT_CTR_RUNNING ||
		     c->restarting) &&
		    filters_match(st, &o.filters, c, labels)) {
			fill_row(st, c, o.no_trunc, cells[rows++], labels_text);
			labels_text = NULL;
		}
		free(labels_text);
		json_decref(labels);
		rt_ctr_free(c);
	}
	if (fmt) {
		for (size_t i = 0; i < rows; i++)
			cmd_fmt_row(fmt, (const char *const *)cells[i]);
		cmd_fmt_print(fmt, stdout);
		cmd_fmt_free(fmt);
	} else {
		print_default(cells, rows, o.quiet);
	}
	for (size_t i = 0; i < rows; i++)
		for (int k = 0; k < NFIELDS; k++)
			free(cells[i][k]);
	free(cells);
	return 0;
}
