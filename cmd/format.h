/*
 * cmd/format.h - `--format` for listing verbs (ps, images): the subset of
 * Go templates people type with docker.
 *
 *   "{{.ID}}: {{.Names}}"        one line per row, fields substituted
 *   "table {{.ID}}\t{{.Image}}"  a header row (each field's header), then
 *                                the rows; cells split at tabs ("\t" typed
 *                                as two characters counts too) and aligned
 *                                as docker's tabwriter does (min width 10,
 *                                padding 3)
 *   "table"                      the verb's default table template
 *   "json" or "{{json .}}"       one JSON object per row, every field
 *   "{{json .Names}}"            a field as a JSON string
 *
 * Lifecycle:
 *
 *     static const cmd_fmt_field_t fields[] = {{"ID", "CONTAINER ID"}, ...};
 *     cmd_fmt_t *f;
 *     if (cmd_fmt_new(spec, "table {{.ID}}\t...", fields, n, &f, err) < 0)
 *         return CMD_USAGE;          // unknown field, unclosed {{
 *     for each row: cmd_fmt_row(f, values);   // values[i] for fields[i]
 *     cmd_fmt_print(f, stdout);
 *     cmd_fmt_free(f);
 *
 * fields and values are borrowed; rows are rendered (copied) at once.
 */
#ifndef CB_CMD_FORMAT_H
#define CB_CMD_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

typedef struct cmd_fmt_field {
	const char *name;   /* "ID": what {{.ID}} names, the JSON key */
	const char *header; /* "CONTAINER ID": its table header */
} cmd_fmt_field_t;

typedef struct cmd_fmt cmd_fmt_t;

/* Parse spec. EINVAL "format: unknown field '.X'" (or a syntax error). */
int cmd_fmt_new(const char *spec, const char *default_table, const cmd_fmt_field_t *fields,
		size_t n_fields, cmd_fmt_t **out, cb_error_t *err);
/* Render one row; values[i] (NULL = "") belongs to fields[i]. */
void cmd_fmt_row(cmd_fmt_t *f, const char *const *values);
/* Write everything rendered (header first for tables). */
void cmd_fmt_print(cmd_fmt_t *f, FILE *fp);
void cmd_fmt_free(cmd_fmt_t *f); /* NULL-safe */

#endif
