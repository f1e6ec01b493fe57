/* --format: a Go-template subset and docker's table alignment. */
#include "cmd/format.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/json.h"

/* One piece of a parsed template: literal text, or a field (JSON-quoted
 * with {{json .X}}). */
typedef struct piece {
	char *text; /* literal, when field < 0 */
	int field;  /* index in fields, -1 for text */
	bool json;
} piece_t;

struct cmd_fmt {
	const cmd_fmt_field_t *fields;
	size_t n_fields;
	bool table, json;
	piece_t *pieces;
	size_t n_pieces;
	cb_buf_t out; /* rendered rows, header first */
};

static void add_piece(cmd_fmt_t *f, piece_t p)
{
	f->pieces = cb_xreallocarray(f->pieces, f->n_pieces + 1, sizeof(*f->pieces));
	f->pieces[f->n_pieces++] = p;
}

/* "\t" and "\n" typed as two characters mean tab and newline, as in docker. */
static char *unescape(const char *s)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
			cb_buf_addch(&b, s[1] == 't' ? '\t' : '\n');
			s++;
		} else {
			cb_buf_addch(&b, *s);
		}
	}
	return cb_buf_detach(&b, NULL);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

static int find_field(const cmd_fmt_t *f, const char *name)
{
	for (size_t i = 0; i < f->n_fields; i++)
		if (!strcmp(f->fields[i].name, name))
			return (int)i;
	return -1;
}

/* The inside of {{ }}: ".X", "json .X", "json ." */
static int parse_action(cmd_fmt_t *f, char *act, cb_error_t *err)
{
	char *s = trim(act);
	bool json = false;
	if (!strncmp(s, "json", 4) && (s[4] == ' ' || s[4] == '\t')) {
		json = true;
		s = trim(s + 4);
	}
	if (json && !strcmp(s, ".")) {
		f->json = true;
		return 0;
	}
	if (s[0] != '.' || !s[1])
		return cb_error_set(err, 0, "format: unsupported template action '{{%s}}'", act);
	int k = find_field(f, s + 1);
	if (k < 0)
		return cb_error_set(err, 0, "format: unknown field '%s'", s);
	add_piece(f, (piece_t){.field = k, .json = json});
	return 0;
}

static int parse_template(cmd_fmt_t *f, const char *tmpl, cb_error_t *err)
{
	_cleanup_free_ char *t = unescape(tmpl);
	char *p = t;
	while (*p) {
		char *open = strstr(p, "{{");
		if (!open) {
			add_piece(f, (piece_t){.text = cb_xstrdup(p), .field = -1});
			break;
		}
		if (open > p)
			add_piece(f, (piece_t){.text = cb_xstrndup(p, (size_t)(open - p)), .field = -1});
		char *close = strstr(open + 2, "}}");
		if (!close)
			return cb_error_set(err, 0, "format: unclosed '{{' in '%s'", tmpl);
		*close = 0;
		if (parse_action(f, open + 2, err) < 0)
			return -1;
		p = close + 2;
	}
	return 0;
}

int cmd_fmt_new(const char *spec, const char *default_table, const cmd_fmt_field_t *fields,
		size_t n_fields, cmd_fmt_t **out, cb_error_t *err)
{
	cmd_fmt_t *f = cb_xcalloc(1, sizeof(*f));
	f->fields = fields;
	f->n_fields = n_fields;
	cb_buf_init(&f->out);
	const char *tmpl = spec;
	if (!strcmp(spec, "json")) {
		f->json = true;
		tmpl = "";
	} else if (!strcmp(spec, "table")) {
		tmpl = default_table;
	}
	if (!strncmp(tmpl, "table", 5) && (tmpl[5] == ' ' || tmpl[5] == '\t' || !tmpl[5])) {
		f->table = true;
		tmpl += 5 + (tmpl[5] != 0);
	}
	if (parse_template(f, tmpl, err) < 0) {
		cmd_fmt_free(f);
		return -1;
	}
	if (f->table && !f->json) {
		/* the header: the same template with each field's header */
		for (size_t i = 0; i < f->n_pieces; i++) {
			const piece_t *p = &f->pieces[i];
			cb_buf_addstr(&f->out, p->field < 0 ? p->text : fields[p->field].header);
		}
		cb_buf_addch(&f->out, '\n');
	}
	*out = f;
	return 0;
}

static void row_json(cmd_fmt_t *f, const char *const *values)
{
	json_t *o = json_object();
	for (size_t i = 0; i < f->n_fields; i++)
		json_object_set_new(o, f->fields[i].name, oci_json_str(values[i] ? values[i] : ""));
	char *s = oci_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cb_buf_addstr(&f->out, s);
	cb_buf_addch(&f->out, '\n');
	free(s);
	json_decref(o);
}

void cmd_fmt_row(cmd_fmt_t *f, const char *const *values)
{
	if (f->json) {
		row_json(f, values);
		return;
	}
	for (size_t i = 0; i < f->n_pieces; i++) {
		const piece_t *p = &f->pieces[i];
		const char *v = p->field < 0 ? p->text : values[p->field] ? values[p->field] : "";
		if (p->json) {
			json_t *js = oci_json_str(v);
			char *s = oci_json_dumps(js, JSON_ENCODE_ANY);
			cb_buf_addstr(&f->out, s);
			free(s);
			json_decref(js);
		} else {
			cb_buf_addstr(&f->out, v);
		}
	}
	cb_buf_addch(&f->out, '\n');
}

/* display width: UTF-8 continuation bytes take no column */
static size_t dwidth(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* docker's tabwriter.NewWriter(out, 10, 1, 3, ' ', 0): every tab-ended
 * cell padded to its column's widest + 3, at least 10. */
static void print_table(const char *text, FILE *fp)
{
	size_t widths[64] = {0};
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		size_t col = 0;
		for (const char *c = line; col < 64;) {
			const char *tab = memchr(c, '\t', (size_t)(end - c));
			if (!tab)
				break;
			size_t w = dwidth(c, (size_t)(tab - c)) + 3;
			if (w < 10)
				w = 10;
			if (w > widths[col])
				widths[col] = w;
			col++;
			c = tab + 1;
		}
		line = *end ? end + 1 : end;
	}
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		size_t col = 0;
		const char *c = line;
		for (;;) {
			const char *tab = memchr(c, '\t', (size_t)(end - c));
			if (!tab || col >= 64)
				break;
			size_t w = dwidth(c, (size_t)(tab - c));
			fprintf(fp, "%.*s%*s", (int)(tab - c), c, (int)(widths[col] - w), "");
			col++;
			c = tab + 1;
		}
		fprintf(fp, "%.*s\n", (int)(end - c), c);
		line = *end ? end + 1 : end;
	}
}

void cmd_fmt_print(cmd_fmt_t *f, FILE *fp)
{
	if (f->table && !f->json)
		print_table(f->out.data ? f->out.data : "", fp);
	else if (f->out.len)
		fwrite(f->out.data, 1, f->out.len, fp);
	cb_buf_reset(&f->out);
}

void cmd_fmt_free(cmd_fmt_t *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_pieces; i++)
		free(f->pieces[i].text);
	free(f->pieces);
	cb_buf_release(&f->out);
	free(f);
}
