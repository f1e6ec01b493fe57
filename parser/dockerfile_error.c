/*
 * parser/dockerfile_error.c - positioned parser errors with the line and a
 * caret under the column, and the edit distance behind "did you mean".
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/util.h"
#include "parser/dockerfile.h"
#include "parser/internal.h"

/* ---- errors ---- */

static void add_context(cb_buf_t *b, const df_tree_t *t, int line, int col)
{
	if (!t || line < 1 || (size_t)line > t->n_lines)
		return;
	const char *text = t->lines[line - 1];
	char num[16];
	int w = snprintf(num, sizeof(num), "%d", line);
	cb_buf_addf(b, "\n %s | %s", num, text);
	if (col < 1)
		return;
	cb_buf_addf(b, "\n %*s | ", w, "");
	size_t len = strlen(text);
	/* Keep tabs so the caret lines up under tab-indented text. */
	for (int i = 0; i < col - 1; i++)
		cb_buf_addch(b, (size_t)i < len && text[i] == '\t' ? '\t' : ' ');
	cb_buf_addch(b, '^');
}

int df_error_atv(const df_tree_t *t, int line, int col, cb_error_t *err, const char *fmt,
		 va_list ap)
{
	cb_buf_t b;
	cb_buf_init(&b);
	const char *name = t && t->name ? t->name : "Dockerfile";
	if (col > 0)
		cb_buf_addf(&b, "%s:%d:%d: ", name, line, col);
	else
		cb_buf_addf(&b, "%s:%d: ", name, line);
	char *msg = cb_vasprintf(fmt, ap);
	cb_buf_addstr(&b, msg);
	free(msg);
	add_context(&b, t, line, col);
	cb_error_set(err, 0, "%s", b.data);
	cb_buf_release(&b);
	return -1;
}

int df_error_at(const df_tree_t *t, int line, int col, cb_error_t *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	df_error_atv(t, line, col, err, fmt, ap);
	va_end(ap);
	return -1;
}

char *df_error_first_line(const cb_error_t *err)
{
	if (!err || !err->msg)
		return cb_xstrdup("");
	const char *nl = strchr(err->msg, '\n');
	return nl ? cb_xstrndup(err->msg, (size_t)(nl - err->msg)) : cb_xstrdup(err->msg);
}

/* Damerau-less Levenshtein distance, small strings only. */
size_t df_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t prev[65], cur[65];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) ==
						      tolower((unsigned char)b[j - 1])
					      ? 0
					      : 1;
			size_t v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			cur[j] = v;
		}
		memcpy(prev, cur, sizeof(size_t) * (lb + 1));
	}
	return prev[lb];
}
