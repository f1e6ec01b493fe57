/* cbuild history [--no-trunc] [-q] [--format F] [--platform os/arch[/variant]] IMAGE */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/format.h"
#include "cmd/images_util.h"
#include "common/util.h"

enum { F_ID, F_SINCE, F_AT, F_BY, F_SIZE, F_COMMENT, NFIELDS };
static const cmd_fmt_field_t fields[NFIELDS] = {
	[F_ID] = {"ID", "IMAGE"},           [F_SINCE] = {"CreatedSince", "CREATED"},
	[F_AT] = {"CreatedAt", "CREATED AT"}, [F_BY] = {"CreatedBy", "CREATED BY"},
	[F_SIZE] = {"Size", "SIZE"},        [F_COMMENT] = {"Comment", "COMMENT"},
};

#define DEFAULT_TABLE "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
/* docker cuts CREATED BY to this many characters, the last one an ellipsis */
#define BY_WIDTH 45

typedef struct history_opts {
	bool no_trunc, quiet;
	const char *platform, *format;
} history_opts_t;

enum { O_NO_TRUNC = CMD_OPT_LONG, O_FORMAT, O_PLATFORM };

const cmd_opt_t cmd_history_opts[] = {
	{"no-trunc", O_NO_TRUNC, CMD_ARG_NONE, NULL, "do not truncate IDs and steps"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only the IDs"},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "TEMPLATE", "Go-template subset, table or json"},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]", "the platform of a multi-platform image"},
	{0}};

static int parse_history_args(cmd_ctx_t *ctx, int argc, char **argv, history_opts_t *o, cb_error_t *err)
{
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == O_NO_TRUNC)
			o->no_trunc = true;
		else if (c == 'q')
			o->quiet = true;
		else if (c == O_FORMAT)
			o->format = p.arg;
		else if (c == O_PLATFORM && cmd_check_platform(p.arg, err) == 0)
			o->platform = p.arg;
		else if (c == O_PLATFORM)
			return CMD_USAGE;
	}
	if (c < 0)
		return c;
	argc = 1 + p.nargs; /* the operands are argv[1..] */
	if (argc - 1 != 1)
		return cmd_nargs(ctx, argc - 1, 1, 1, err);
	return 0;
}

/* s cut to BY_WIDTH characters (UTF-8 aware), the last one "…", as docker
 * shows CREATED BY; a new string. */
static char *ellipsis(const char *s)
{
	size_t chars = 0, cut = 0;
	for (size_t i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue; /* a continuation byte */
		if (chars == BY_WIDTH - 1)
			cut = i;
		if (++chars > BY_WIDTH)
			return cb_asprintf("%.*s…", (int)cut, s);
	}
	return cb_xstrdup(s);
}

static void history_rows(store_t *st, const image_t *img, const history_opts_t *o,
			 cmd_fmt_t *fmt)
{
	char id[13];
	cmd_short_id(img->config_digest, id);
	/* newest first, as docker prints; layers are counted from the bottom */
	size_t n = img->config->n_history, layer_of[n + 1], layer = 0;
	for (size_t i = 0; i < n; i++) {
		layer_of[i] = layer;
		if (!img->config->history[i].empty_layer)
			layer++;
	}
	for (size_t i = n; i-- > 0;) {
		const oci_history_t *h = &img->config->history[i];
		size_t l = layer_of[i];
		char created[64], size[32] = "0B";
		int64_t t = oci_time_parse(h->created);
		cmd_human_ago(t, created, sizeof(created));
		if (!h->empty_layer && l < img->manifest->n_layers)
			cmd_human_size(image_layer_unpacked_size(st, &img->manifest->layers[l]), size,
				       sizeof(size));
		_cleanup_free_ char *at = t >= 0 ? oci_time_now(t) : cb_xstrdup("");
		const char *by = h->created_by ? h->created_by : "";
		_cleanup_free_ char *shown = o->no_trunc ? cb_xstrdup(by) : ellipsis(by);
		const char *v[NFIELDS] = {
			[F_ID] = i + 1 == n ? (o->no_trunc ? img->config_digest : id) : "<missing>",
			[F_SINCE] = created, [F_AT] = at, [F_BY] = shown, [F_SIZE] = size,
			[F_COMMENT] = h->comment ? h->comment : ""};
		cmd_fmt_row(fmt, v);
	}
}

int cmd_history(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	history_opts_t o = {0};
	int rc = parse_history_args(ctx, argc, argv, &o, err);
	if (rc)
		return rc;
	cmd_fmt_t *fmt = NULL;
	/* -q: docker's {{.ID}} per row, <missing> for steps of other images */
	const char *spec = o.quiet ? "{{.ID}}" : o.format ? o.format : DEFAULT_TABLE;
	if (cmd_fmt_new(spec, DEFAULT_TABLE, fields, NFIELDS, &fmt, err) < 0)
		return CMD_USAGE;
	store_t *st = cmd_store(ctx, err);
	image_t *img = st ? cmd_load_image_platform(st, argv[1], o.platform, err) : NULL;
	if (!img) {
		cmd_fmt_free(fmt);
		return -1;
	}
	history_rows(st, img, &o, fmt);
	cmd_fmt_print(fmt, stdout);
	cmd_fmt_free(fmt);
	image_free(img);
	return 0;
}
