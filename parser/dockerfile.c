/*
 * parser/dockerfile.c - lexer and line parser: bytes -> df_tree_t.
 *
 * Mirrors BuildKit's parser.Parse: directives, then logical lines (escape
 * continuations; comment and blank lines inside a continuation are
 * dropped), split into keyword, flags and arguments per instruction, then
 * heredoc bodies read from the lines that follow.
 */
#include "parser/dockerfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/util.h"
#include "parser/internal.h"

/* ---- source lines ---- */

typedef struct src {
	const char *data;
	size_t len;
	size_t *starts; /* byte offset of each line */
	size_t *ends;	/* offset of the line's end (before "\r*\n") */
	size_t *nexts;	/* offset of the next line */
	size_t n;
} src_t;

static void src_split(src_t *s, const char *data, size_t len)
{
	s->data = data;
	s->len = len;
	size_t cap = 16;
	s->starts = cb_xmalloc(cap * sizeof(size_t));
	s->ends = cb_xmalloc(cap * sizeof(size_t));
	s->nexts = cb_xmalloc(cap * sizeof(size_t));
	s->n = 0;
	size_t pos = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t next = nl ? (size_t)(nl - data) + 1 : len;
		size_t end = nl ? (size_t)(nl - data) : len;
		while (end > pos && data[end - 1] == '\r')
			end--;
		if (s->n == cap) {
			cap *= 2;
			s->starts = cb_xreallocarray(s->starts, cap, sizeof(size_t));
			s->ends = cb_xreallocarray(s->ends, cap, sizeof(size_t));
			s->nexts = cb_xreallocarray(s->nexts, cap, sizeof(size_t));
		}
		s->starts[s->n] = pos;
		s->ends[s->n] = end;
		s->nexts[s->n] = next;
		s->n++;
		pos = next;
	}
}

static void src_free(src_t *s)
{
	free(s->starts);
	free(s->ends);
	free(s->nexts);
}

/* ---- directives ---- */

typedef struct dir_state {
	bool done;
	bool seen_escape, seen_syntax, seen_check;
} dir_state_t;

/* `# name = value` on one (left-trimmed) line: BuildKit's reDirectives. */
static bool match_directive(const char *l, size_t n, char *name, size_t namecap, const char **val,
			    size_t *vlen)
{
	size_t i = 0;
	if (i >= n || l[i] != '#')
		return false;
	i++;
	while (i < n && df_is_space(l[i]))
		i++;
	size_t ns = i;
	if (i >= n || !isalpha((unsigned char)l[i]))
		return false;
	while (i < n && isalnum((unsigned char)l[i]))
		i++;
	size_t ne = i;
	while (i < n && df_is_space(l[i]))
		i++;
	if (i >= n || l[i] != '=')
		return false;
	i++;
	while (i < n && df_is_space(l[i]))
		i++;
	size_t ve = n;
	while (ve > i && df_is_space(l[ve - 1]))
		ve--;
	if (ve == i)
		return false;
	if (ne - ns >= namecap)
		return false;
	for (size_t k = ns; k < ne; k++)
		name[k - ns] = (char)tolower((unsigned char)l[k]);
	name[ne - ns] = '\0';
	*val = l + i;
	*vlen = ve - i;
	return true;
}

static int possible_directive(df_tree_t *t, dir_state_t *d, const char *l, size_t n, int lineno,
			      cb_error_t *err)
{
	if (d->done)
		return 0;
	char name[32];
	const char *val;
	size_t vlen;
	if (!match_directive(l, n, name, sizeof(name), &val, &vlen)) {
		d->done = true;
		return 0;
	}
	bool *seen = !strcmp(name, "escape") ? &d->seen_escape
		     : !strcmp(name, "syntax") ? &d->seen_syntax
		     : !strcmp(name, "check")  ? &d->seen_check
					       : NULL;
	if (!seen) {
		d->done = true;
		return 0;
	}
	if (*seen)
		return df_error_at(t, lineno, 1, err, "only one %s parser directive can be used",
				   name);
	*seen = true;
	if (!strcmp(name, "escape")) {
		if (vlen != 1 || (val[0] != '\\' && val[0] != '`'))
			return df_error_at(t, lineno, 1, err,
					   "invalid escape token '%.*s' does not match ` or \\",
					   (int)vlen, val);
		t->escape = val[0];
	} else if (!strcmp(name, "syntax")) {
		t->syntax = cb_xstrndup(val, vlen);
	} else {
		t->check = cb_xstrndup(val, vlen);
	}
	return 0;
}

/* ---- logical line assembly ---- */

typedef struct seg {
	size_t off; /* offset in the joined text */
	int line;
	int col; /* column of joined[off] in that line */
} seg_t;

typedef struct logical {
	cb_buf_t text;
	seg_t *segs;
	size_t n_segs, cap_segs;
} logical_t;

static void logical_add(logical_t *lg, const char *p, size_t n, int line, int col)
{
	if (lg->n_segs == lg->cap_segs) {
		lg->cap_segs = lg->cap_segs ? lg->cap_segs * 2 : 4;
		lg->segs = cb_xreallocarray(lg->segs, lg->cap_segs, sizeof(seg_t));
	}
	lg->segs[lg->n_segs++] = (seg_t){lg->text.len, line, col};
	cb_buf_add(&lg->text, p, n);
}

/* Position of offset `off` of the joined text. */
void df_pos_of(const void *lgp, size_t off, int *line, int *col)
{
	const logical_t *lg = lgp;
	size_t i = 0;
	while (i + 1 < lg->n_segs && lg->segs[i + 1].off <= off)
		i++;
	*line = lg->segs[i].line;
	*col = lg->segs[i].col + (int)(off - lg->segs[i].off);
}

/* BuildKit: `([^E])E[ \t]*$|^E[ \t]*$`. Returns the new length, or n when
 * the line does not continue. */
static size_t trim_continuation(const char *l, size_t n, char esc, bool *cont)
{
	size_t e = n;
	while (e > 0 && (l[e - 1] == ' ' || l[e - 1] == '\t'))
		e--;
	if (e > 0 && l[e - 1] == esc && (e == 1 || l[e - 2] != esc)) {
		*cont = true;
		return e - 1;
	}
	*cont = false;
	return n;
}

static bool is_comment_line(const char *l, size_t n)
{
	size_t i = 0;
	while (i < n && df_is_space(l[i]))
		i++;
	return i < n && l[i] == '#';
}

/* ---- splitting an instruction ---- */

/* BuildKit's extractBuilderFlags: leading "--words", quotes removed,
 * backslash escapes; "--" ends the flags. Returns the offset of the rest. */
static size_t extract_flags(const char *line, size_t start, char ***flags, int **offs,
			    size_t *n_flags)
{
	size_t n = strlen(line), pos = start;
	for (;;) {
		while (pos < n && df_is_space(line[pos]))
			pos++;
		if (pos >= n || line[pos] != '-' || pos + 1 >= n || line[pos + 1] != '-')
			return pos;
		size_t wstart = pos;
		cb_buf_t w;
		cb_buf_init(&w);
		char quote = 0;
		while (pos < n) {
			char c = line[pos];
			if (!quote && df_is_space(c))
				break;
			if (!quote && (c == '\'' || c == '"')) {
				quote = c;
				pos++;
				continue;
			}
			if (quote && c == quote) {
				quote = 0;
				pos++;
				continue;
			}
			if (c == '\\') {
				if (pos + 1 >= n) {
					pos++;
					continue;
				}
				pos++;
				c = line[pos];
			}
			cb_buf_addch(&w, c);
			pos++;
		}
		if (!strcmp(w.data, "--")) {
			cb_buf_release(&w);
			while (pos < n && df_is_space(line[pos]))
				pos++;
			return pos;
		}
		*flags = cb_xreallocarray(*flags, *n_flags + 2, sizeof(char *));
		*offs = cb_xreallocarray(*offs, *n_flags + 1, sizeof(int));
		(*offs)[*n_flags] = (int)wstart;
		(*flags)[(*n_flags)++] = df_buf_take(&w, NULL);
		(*flags)[*n_flags] = NULL;
	}
}

static void push_arg(df_node_t *nd, char *s)
{
	nd->args = cb_xreallocarray(nd->args, nd->n_args + 2, sizeof(char *));
	nd->args[nd->n_args++] = s;
	nd->args[nd->n_args] = NULL;
}

/* Go's regexp [\t\v\f\r ]+ split. */
static void split_ws(df_node_t *nd, const char *rest)
{
	const char *p = rest;
	if (!*p)
		return;
	for (;;) {
		const char *e = p;
		while (*e && !(*e == ' ' || *e == '\t' || *e == '\v' || *e == '\f' || *e == '\r'))
			e++;
		push_arg(nd, cb_xstrndup(p, (size_t)(e - p)));
		if (!*e)
			break;
		while (*e == ' ' || *e == '\t' || *e == '\v' || *e == '\f' || *e == '\r')
			e++;
		p = e;
	}
}

/* BuildKit's parseWords: split on blanks outside quotes, quotes kept, an
 * escape keeps the next char with it. */
char **df_parse_words(const char *rest, char esc, size_t *n_out)
{
	char **v = cb_xcalloc(1, sizeof(char *));
	size_t cnt = 0, n = strlen(rest);
	cb_buf_t w;
	cb_buf_init(&w);
	bool inword = false, blank_ok = false;
	char quote = 0;
	for (size_t pos = 0; pos <= n; pos++) {
		char c = pos < n ? rest[pos] : 0;
		if (!inword) {
			if (pos == n)
				break;
			if (df_is_space(c))
				continue;
			inword = true;
		}
		if (pos == n) {
			if (blank_ok || w.len) {
				v = cb_xreallocarray(v, cnt + 2, sizeof(char *));
				v[cnt++] = cb_buf_detach(&w, NULL);
			}
			break;
		}
		if (!quote) {
			if (df_is_space(c)) {
				inword = false;
				if (blank_ok || w.len) {
					v = cb_xreallocarray(v, cnt + 2, sizeof(char *));
					v[cnt++] = cb_buf_detach(&w, NULL);
				}
				blank_ok = false;
				continue;
			}
			if (c == '\'' || c == '"') {
				quote = c;
				blank_ok = true;
			} else if (c == esc) {
				if (pos + 1 == n)
					continue;
				cb_buf_addch(&w, c);
				c = rest[++pos];
			}
			cb_buf_addch(&w, c);
		} else {
			if (c == quote) {
				quote = 0;
			} else if (c == esc && quote != '\'') {
				if (pos + 1 == n) {
					quote = 0;
					continue;
				}
				cb_buf_addch(&w, c);
				c = rest[++pos];
			}
			cb_buf_addch(&w, c);
		}
		v[cnt] = NULL;
	}
	cb_buf_release(&w);
	v[cnt] = NULL;
	*n_out = cnt;
	return v;
}

typedef struct lex {
	df_tree_t *t;
	const logical_t *lg;
	int line;
} lex_t;

static int node_err(lex_t *lx, size_t off, cb_error_t *err, const char *fmt, ...) CB_PRINTF(4, 5);
static int node_err(lex_t *lx, size_t off, cb_error_t *err, const char *fmt, ...)
{
	int line = lx->line, col = 0;
	if (lx->lg)
		df_pos_of(lx->lg, off, &line, &col);
	va_list ap;
	va_start(ap, fmt);
	df_error_atv(lx->t, line, col, err, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_name_val(lex_t *lx, df_node_t *nd, const char *rest, size_t rest_off,
			  const char *key, cb_error_t *err)
{
	size_t nw = 0;
	_cleanup_strv_ char **words = df_parse_words(rest, lx->t->escape, &nw);
	if (nw == 0)
		return 0;
	if (!strchr(words[0], '=')) {
		/* legacy `ENV k v w`: split at the first blank run */
		const char *p = rest;
		while (*p && !(*p == ' ' || *p == '\t' || *p == '\v' || *p == '\f' || *p == '\r'))
			p++;
		if (!*p)
			return node_err(lx, rest_off, err, "%s must have two arguments", key);
		push_arg(nd, cb_xstrndup(rest, (size_t)(p - rest)));
		while (*p == ' ' || *p == '\t' || *p == '\v' || *p == '\f' || *p == '\r')
			p++;
		push_arg(nd, cb_xstrdup(p));
		return 0;
	}
	for (size_t i = 0; i < nw; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq)
			return node_err(lx, rest_off, err,
					"syntax error - can't find = in \"%s\"; must be of the form: "
					"name=value",
					words[i]);
		push_arg(nd, cb_xstrndup(words[i], (size_t)(eq - words[i])));
		push_arg(nd, cb_xstrdup(eq + 1));
	}
	return 0;
}

static int parse_maybe_json(lex_t *lx, df_node_t *nd, const char *rest, size_t rest_off,
			    bool to_list, cb_error_t *err)
{
	char **v = NULL;
	size_t n = 0;
	int r = df_parse_json_array(rest, &v, &n);
	if (r < 0)
		return node_err(lx, rest_off, err,
				"when using JSON array syntax, arrays must be comprised of "
				"strings only");
	if (r > 0) {
		cb_strv_free(nd->args);
		nd->args = v;
		nd->n_args = n;
		nd->json = true;
		return 0;
	}
	if (to_list)
		split_ws(nd, rest);
	else if (*rest)
		push_arg(nd, cb_xstrdup(rest));
	return 0;
}

static int parse_health(lex_t *lx, df_node_t *nd, const char *rest, size_t rest_off,
			cb_error_t *err)
{
	size_t sep = 0;
	while (rest[sep] && !df_is_space(rest[sep]))
		sep++;
	if (sep == 0)
		return 0;
	size_t next = sep;
	while (rest[next] && df_is_space(rest[next]))
		next++;
	push_arg(nd, cb_xstrndup(rest, sep));
	char **v = NULL;
	size_t n = 0;
	int r = df_parse_json_array(rest + next, &v, &n);
	if (r < 0)
		return node_err(lx, rest_off + next, err,
				"when using JSON array syntax, arrays must be comprised of "
				"strings only");
	if (r > 0) {
		for (size_t i = 0; i < n; i++)
			push_arg(nd, v[i]);
		free(v);
		nd->json = true;
	} else if (rest[next]) {
		push_arg(nd, cb_xstrdup(rest + next));
	}
	return 0;
}

int df_heredoc_marker(const char *word, char **name, bool *expand, bool *chomp, char *open_quote)
{
	const char *w = word;
	while (isdigit((unsigned char)*w))
		w++;
	if (strncmp(w, "<<", 2))
		return 0;
	w += 2;
	bool ch = false;
	if (*w == '-') {
		ch = true;
		w++;
	}
	while (df_is_space(*w)) /* BuildKit: `RUN <<  EOF` and `<<- EOF` are heredocs */
		w++;
	if (!*w || strchr(w, '<'))
		return 0;
	/* The rest must be one shell word; quotes and escapes are removed, and
	 * a quoted delimiter turns expansion off. */
	cb_buf_t nm;
	cb_buf_init(&nm);
	bool quoted = false, ended = false;
	char q = 0;
	for (const char *p = w; *p; p++) {
		if (q) {
			if (*p == q)
				q = 0;
			else if (*p == '\\' && q == '"' && (p[1] == '"' || p[1] == '\\' || p[1] == '$'))
				cb_buf_addch(&nm, *++p);
			else
				cb_buf_addch(&nm, *p);
			continue;
		}
		if (df_is_space(*p)) {
			ended = true;
			continue;
		}
		if (ended) { /* a second word: `<<EOF python3` is not one marker */
			cb_buf_release(&nm);
			return 0;
		}
		if (*p == '\'' || *p == '"') {
			q = *p;
			quoted = true;
		} else if (*p == '\\') {
			if (p[1])
				cb_buf_addch(&nm, *++p);
		} else {
			cb_buf_addch(&nm, *p);
		}
	}
	if (q) {
		cb_buf_release(&nm);
		if (open_quote)
			*open_quote = q;
		return -1;
	}
	if (!nm.len) {
		cb_buf_release(&nm);
		return 0;
	}
	if (name)
		*name = df_buf_take(&nm, NULL);
	else
		cb_buf_release(&nm);
	if (expand)
		*expand = !quoted;
	if (chomp)
		*chomp = ch;
	return 1;
}

/* Heredoc markers in a line: words (quotes and escapes raw) matching
 * `^(\d*)<<(-?)\s*([^<]*)$` whose tail is one shell word. As BuildKit's
 * lexer does, blanks right after `<<` join it to the next word. */
static int find_heredocs(lex_t *lx, df_node_t *nd, const char *line, cb_error_t *err)
{
	if (!strstr(line, "<<"))
		return 0; /* the common case, without splitting the line */
	size_t nw = 0;
	_cleanup_strv_ char **words = df_parse_words(line, '\\', &nw);
	for (size_t i = 0; i < nw; i++) {
		_cleanup_free_ char *joined = NULL;
		const char *w = words[i];
		size_t d = strspn(w, "0123456789");
		if (!strcmp(w + d, "<<") && i + 1 < nw) {
			joined = cb_asprintf("%s %s", words[i], words[i + 1]);
			w = joined;
			i++;
		}
		char *name = NULL;
		bool expand = false, chomp = false;
		char q = 0;
		int r = df_heredoc_marker(w, &name, &expand, &chomp, &q);
		if (r < 0)
			return node_err(lx, 0, err,
					"unexpected end of statement while looking for matching "
					"%s-quote in heredoc",
					q == '"' ? "double" : "single");
		if (r == 0)
			continue;
		nd->heredocs = cb_xreallocarray(nd->heredocs, nd->n_heredocs + 1,
						sizeof(df_heredoc_t));
		nd->heredocs[nd->n_heredocs++] = (df_heredoc_t){
			.name = name,
			.expand = expand,
			.chomp = chomp,
			.line = nd->line,
		};
	}
	return 0;
}

static void node_release(df_node_t *nd)
{
	free(nd->cmd);
	free(nd->original);
	cb_strv_free(nd->flags);
	free(nd->flag_cols);
	cb_strv_free(nd->args);
	for (size_t i = 0; i < nd->n_heredocs; i++) {
		free(nd->heredocs[i].name);
		free(nd->heredocs[i].content);
	}
	free(nd->heredocs);
}

/* Split a logical line into a node (BuildKit's newNodeFromLine). */
static int node_from_line(lex_t *lx, const char *line, df_node_t *nd, cb_error_t *err)
{
	size_t n = strlen(line), s = 0;
	while (s < n && df_is_space(line[s]))
		s++;
	size_t ke = s;
	while (ke < n && !(line[ke] == ' ' || line[ke] == '\t' || line[ke] == '\v' ||
			   line[ke] == '\f' || line[ke] == '\r'))
		ke++;
	nd->cmd = cb_xstrndup(line + s, ke - s);
	for (char *p = nd->cmd; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	df_pos_of(lx->lg, s, &nd->line, &nd->column);
	{
		size_t oe = n;
		while (oe > s && df_is_space(line[oe - 1]))
			oe--;
		nd->original = cb_xstrndup(line + s, oe - s);
	}
	if (!df_is_instruction(nd->cmd)) {
		_cleanup_free_ char *word = cb_xstrndup(line + s, ke - s);
		const char *sugg = df_suggest_instruction(word);
		if (sugg)
			return node_err(lx, s, err, "unknown instruction \"%s\" (did you mean \"%s\"?)",
					word, sugg);
		return node_err(lx, s, err, "unknown instruction \"%s\"", word);
	}
	size_t rs = extract_flags(line, ke, &nd->flags, &nd->flag_cols, &nd->n_args);
	/* extract_flags counted into n_args as scratch; move it */
	size_t nflags = nd->n_args;
	nd->n_args = 0;
	for (size_t i = 0; i < nflags; i++) {
		int l, c;
		df_pos_of(lx->lg, (size_t)nd->flag_cols[i], &l, &c);
		nd->flag_cols[i] = c;
	}
	size_t re = n;
	while (re > rs && df_is_space(line[re - 1]))
		re--;
	_cleanup_free_ char *rest = cb_xstrndup(line + rs, re - rs);
	{
		int l;
		df_pos_of(lx->lg, rs < n ? rs : (n ? n - 1 : 0), &l, &nd->args_col);
		if (rs >= n)
			nd->args_col++;
	}
	const char *c = nd->cmd;
	if (!strcmp(c, "add") || !strcmp(c, "copy") || !strcmp(c, "volume"))
		return parse_maybe_json(lx, nd, rest, rs, true, err);
	if (!strcmp(c, "run") || !strcmp(c, "cmd") || !strcmp(c, "entrypoint") ||
	    !strcmp(c, "shell"))
		return parse_maybe_json(lx, nd, rest, rs, false, err);
	if (!strcmp(c, "env") || !strcmp(c, "label"))
		return parse_name_val(lx, nd, rest, rs, !strcmp(c, "env") ? "ENV" : "LABEL", err);
	if (!strcmp(c, "arg")) {
		size_t nw = 0;
		char **w = df_parse_words(rest, lx->t->escape, &nw);
		cb_strv_free(nd->args);
		nd->args = w;
		nd->n_args = nw;
		return 0;
	}
	if (!strcmp(c, "expose") || !strcmp(c, "from")) {
		split_ws(nd, rest);
		return 0;
	}
	if (!strcmp(c, "healthcheck"))
		return parse_health(lx, nd, rest, rs, err);
	if (!strcmp(c, "onbuild")) {
		if (!*rest)
			return 0;
		/* Validate the trigger as a line of its own. */
		df_node_t sub = {0};
		const logical_t *saved = lx->lg;
		logical_t sublg = {0};
		cb_buf_init(&sublg.text);
		int l, col;
		df_pos_of(saved, rs, &l, &col);
		logical_add(&sublg, rest, strlen(rest), l, col);
		lx->lg = &sublg;
		int r = node_from_line(lx, rest, &sub, err);
		lx->lg = saved;
		if (r == 0) {
			if (!strcmp(sub.cmd, "onbuild"))
				r = node_err(lx, rs, err,
					     "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
			else if (!strcmp(sub.cmd, "from") || !strcmp(sub.cmd, "maintainer"))
				r = node_err(lx, rs, err, "%s isn't allowed as an ONBUILD trigger",
					     sub.cmd);
		}
		node_release(&sub);
		cb_buf_release(&sublg.text);
		free(sublg.segs);
		if (r < 0)
			return -1;
		push_arg(nd, cb_xstrdup(rest));
		return 0;
	}
	/* maintainer stopsignal user workdir: the rest as one string */
	if (*rest)
		push_arg(nd, cb_xstrdup(rest));
	return 0;
}

static bool can_have_heredoc(const df_node_t *nd)
{
	return !nd->json &&
	       (!strcmp(nd->cmd, "run") || !strcmp(nd->cmd, "copy") || !strcmp(nd->cmd, "add"));
}

static void chomp_tabs(cb_buf_t *b, const char *p, size_t n, bool chomp)
{
	size_t i = 0;
	if (chomp)
		while (i < n && p[i] == '\t')
			i++;
	cb_buf_add(b, p + i, n - i);
}

/* Read the bodies of nd's heredocs from the lines after *li. */
static int read_heredocs(lex_t *lx, const src_t *s, size_t *li, df_node_t *nd, cb_error_t *err)
{
	for (size_t h = 0; h < nd->n_heredocs; h++) {
		df_heredoc_t *hd = &nd->heredocs[h];
		cb_buf_t body;
		cb_buf_init(&body);
		bool done = false;
		size_t namelen = strlen(hd->name);
		while (*li < s->n) {
			size_t st = s->starts[*li], en = s->ends[*li], nx = s->nexts[*li];
			(*li)++;
			const char *p = s->data + st;
			size_t n = en - st;
			size_t k = 0;
			if (hd->chomp)
				while (k < n && p[k] == '\t')
					k++;
			if (n - k == namelen && !memcmp(p + k, hd->name, namelen)) {
				done = true;
				break;
			}
			/* Keep the line's own ending (CRLF files keep \r\n, as BuildKit). */
			chomp_tabs(&body, p, nx - st, hd->chomp);
			if (nx == s->len && (nx == st || s->data[nx - 1] != '\n'))
				cb_buf_addch(&body, '\n');
		}
		nd->end_line = (int)*li;
		if (!done) {
			cb_buf_release(&body);
			int col = 0;
			if (hd->line >= 1 && (size_t)hd->line <= lx->t->n_lines) {
				const char *l = lx->t->lines[hd->line - 1];
				const char *m = strstr(l, "<<");
				col = m ? (int)(m - l) + 1 : 0;
			}
			return df_error_at(lx->t, hd->line, col, err,
					   "unterminated heredoc \"%s\" (no line \"%s\" before the "
					   "end of the file)",
					   hd->name, hd->name);
		}
		hd->content = df_buf_take(&body, NULL);
	}
	return 0;
}

static void tree_add_node(df_tree_t *t, size_t *cap, df_node_t *nd)
{
	if (t->n_nodes == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		t->nodes = cb_xreallocarray(t->nodes, *cap, sizeof(df_node_t));
	}
	t->nodes[t->n_nodes++] = *nd;
}

static void tree_set_lines(df_tree_t *t, const src_t *s)
{
	t->n_lines = s->n;
	t->lines = cb_xcalloc(s->n + 1, sizeof(char *));
	for (size_t i = 0; i < s->n; i++)
		t->lines[i] = cb_xstrndup(s->data + s->starts[i], s->ends[i] - s->starts[i]);
}

static int parse_all(df_tree_t *t, const src_t *s, cb_error_t *err)
{
	dir_state_t dir = {0};
	size_t cap = 0, li = 0;
	lex_t lx = {.t = t};
	logical_t lg = {0};
	cb_buf_init(&lg.text);
	int rc = -1;
	while (li < s->n) {
		const char *p = s->data + s->starts[li];
		size_t n = s->ends[li] - s->starts[li];
		int lineno = (int)li + 1;
		li++;
		size_t lead = 0;
		while (lead < n && df_is_space(p[lead]))
			lead++;
		if (possible_directive(t, &dir, p + lead, n - lead, lineno, err) < 0)
			goto out;
		if (lead < n && p[lead] == '#')
			continue; /* comment */
		bool cont;
		size_t len = trim_continuation(p + lead, n - lead, t->escape, &cont);
		if (!cont && len == 0)
			continue;
		cb_buf_reset(&lg.text);
		lg.n_segs = 0;
		logical_add(&lg, p + lead, len, lineno, (int)lead + 1);
		bool empty_cont = false;
		int last_line = lineno;
		while (cont && li < s->n) {
			const char *q = s->data + s->starts[li];
			size_t m = s->ends[li] - s->starts[li];
			int qline = (int)li + 1;
			li++;
			if (possible_directive(t, &dir, q, m, qline, err) < 0)
				goto out;
			if (is_comment_line(q, m))
				continue;
			size_t k = 0;
			while (k < m && df_is_space(q[k]))
				k++;
			if (k == m) {
				empty_cont = true;
				continue;
			}
			size_t ql = trim_continuation(q, m, t->escape, &cont);
			logical_add(&lg, q, ql, qline, 1);
			last_line = qline;
		}
		if (empty_cont)
			t->warnings = cb_strv_push_take(
				t->warnings, cb_asprintf("%s:%d: empty continuation line found in: %s",
							 t->name, lineno, lg.text.data));
		if (cont) {
			/* The file ended inside a continuation. */
			size_t k = 0;
			while (k < lg.text.len && df_is_space(lg.text.data[k]))
				k++;
			if (k == lg.text.len) {
				df_error_at(t, lineno, (int)lead + 1, err,
					    "line continuation at the end of the file with nothing "
					    "to continue");
				goto out;
			}
		}
		df_node_t nd = {0};
		lx.lg = &lg;
		lx.line = lineno;
		if (node_from_line(&lx, lg.text.data, &nd, err) < 0) {
			node_release(&nd);
			goto out;
		}
		nd.end_line = last_line;
		if (can_have_heredoc(&nd)) {
			if (find_heredocs(&lx, &nd, lg.text.data, err) < 0 ||
			    read_heredocs(&lx, s, &li, &nd, err) < 0) {
				node_release(&nd);
				goto out;
			}
		}
		tree_add_node(t, &cap, &nd);
	}
	if (t->n_nodes == 0) {
		df_error_at(t, (int)(s->n ? s->n : 1), 0, err, "file with no instructions");
		goto out;
	}
	rc = 0;
out:
	cb_buf_release(&lg.text);
	free(lg.segs);
	return rc;
}

/* A NUL would end every C string built from the line, silently cutting an
 * instruction short (BuildKit passes it on and exec fails with EINVAL). */
static int check_nul(const df_tree_t *t, const src_t *s, cb_error_t *err)
{
	const char *nul = memchr(s->data, '\0', s->len);
	if (!nul)
		return 0;
	size_t off = (size_t)(nul - s->data), li = 0;
	while (li + 1 < s->n && s->starts[li + 1] <= off)
		li++;
	size_t col = s->n ? off - s->starts[li] + 1 : 1;
	return df_error_at(t, (int)li + 1, (int)col, err, "a NUL byte is not allowed in a Dockerfile");
}

int df_parse(const char *name, const char *data, size_t len, df_tree_t **out, cb_error_t *err)
{
	df_tree_t *t = cb_xcalloc(1, sizeof(*t));
	t->name = cb_xstrdup(name ? name : "Dockerfile");
	t->escape = '\\';
	if (!data)
		data = "", len = 0;
	/* BuildKit turns each byte that is not UTF-8 into U+FFFD before it
	 * parses (RUN, ENV, LABEL, paths alike: checked with Docker 20.10), and
	 * every string from here on ends in JSON, which must be UTF-8. */
	_cleanup_free_ char *fixed = NULL;
	if (!cb_utf8_valid(data, len))
		fixed = cb_utf8_fix(data, len, &len), data = fixed;
	src_t s;
	src_split(&s, data, len);
	tree_set_lines(t, &s);
	int r = check_nul(t, &s, err);
	if (r == 0)
		r = parse_all(t, &s, err);
	src_free(&s);
	if (r < 0) {
		df_tree_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void df_tree_free(df_tree_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_nodes; i++)
		node_release(&t->nodes[i]);
	free(t->nodes);
	free(t->name);
	free(t->syntax);
	free(t->check);
	cb_strv_free(t->warnings);
	cb_strv_free(t->lines);
	free(t);
}
