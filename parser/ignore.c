/*
 * parser/ignore.c - .dockerignore matching with moby/patternmatcher's rules.
 *
 * Each pattern is classified as patternmatcher does (exact, prefix "a/<dstar>",
 * suffix "<dstar>/a", or general); general patterns are compiled to a small
 * token list and matched by dynamic programming, so that no pattern can
 * make matching exponential.
 */
#include "parser/ignore.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/internal.h"

typedef enum { M_EXACT, M_PREFIX, M_SUFFIX, M_GENERAL } mtype_t;

typedef enum {
	T_LIT,	   /* one byte */
	T_STAR,	   /* [^/]* */
	T_ONE,	   /* [^/] */
	T_CLASS,   /* [...] */
	T_OPTDIR,  /* (.* /)? */
	T_ALL,	   /* .* */
} ttype_t;

typedef struct tok {
	ttype_t t;
	unsigned char c;
	bool neg;
	unsigned char set[32]; /* bitmap for T_CLASS */
} tok_t;

typedef struct pat {
	char *text;  /* cleaned, without '!' */
	bool exception;
	mtype_t m;
	tok_t *toks;
	size_t n_toks;
	size_t n_comps;	    /* '/'-separated components */
	bool wild_depth;    /* contains "**" or '[': may match any depth */
} pat_t;

struct df_ignore {
	pat_t *p;
	size_t n;
};

#define clean df_path_clean

static void tok_push(pat_t *p, tok_t t)
{
	p->toks = cb_xreallocarray(p->toks, p->n_toks + 1, sizeof(tok_t));
	p->toks[p->n_toks++] = t;
}

static void set_bit(tok_t *t, unsigned char c)
{
	t->set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int compile(pat_t *p, cb_error_t *err)
{
	const char *s = p->text;
	size_t n = strlen(s);
	p->m = M_EXACT;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '*') {
			if (i + 1 < n && s[i + 1] == '*') {
				size_t start = i;
				i++;
				p->wild_depth = true;
				if (i + 1 < n && s[i + 1] == '/')
					i++;
				if (i + 1 >= n) {
					if (p->m == M_EXACT)
						p->m = M_PREFIX;
					else
						p->m = M_GENERAL;
					tok_push(p, (tok_t){.t = T_ALL});
				} else {
					tok_push(p, (tok_t){.t = T_OPTDIR});
					p->m = M_GENERAL;
				}
				if (start == 0)
					p->m = M_SUFFIX;
			} else {
				tok_push(p, (tok_t){.t = T_STAR});
				p->m = M_GENERAL;
			}
		} else if (ch == '?') {
			tok_push(p, (tok_t){.t = T_ONE});
			p->m = M_GENERAL;
		} else if (ch == '\\') {
			if (i + 1 < n) {
				tok_push(p, (tok_t){.t = T_LIT, .c = (unsigned char)s[++i]});
				p->m = M_GENERAL;
			} else {
				tok_push(p, (tok_t){.t = T_LIT, .c = '\\'});
			}
		} else if (ch == '[') {
			tok_t t = {.t = T_CLASS};
			size_t j = i + 1;
			if (j < n && s[j] == '^') {
				t.neg = true;
				j++;
			}
			bool first = true, closed = false;
			while (j < n) {
				unsigned char c = (unsigned char)s[j];
				if (c == ']' && !first) {
					closed = true;
					break;
				}
				first = false;
				if (c == '\\' && j + 1 < n)
					c = (unsigned char)s[++j];
				if (j + 2 < n && s[j + 1] == '-' && s[j + 2] != ']') {
					unsigned char hi = (unsigned char)s[j + 2];
					if (hi == '\\' && j + 3 < n)
						hi = (unsigned char)s[j + 3], j++;
					if (hi < c)
						return cb_error_set(err, EINVAL,
								    "bad pattern '%s': invalid character "
								    "class range",
								    p->text);
					for (unsigned v = c; v <= hi; v++)
						set_bit(&t, (unsigned char)v);
					j += 3;
					continue;
				}
				set_bit(&t, c);
				j++;
			}
			if (!closed)
				return cb_error_set(err, EINVAL, "bad pattern '%s': missing closing ]",
						    p->text);
			tok_push(p, t);
			i = j;
			p->wild_depth = true;
			p->m = M_GENERAL;
		} else if (ch == ']') {
			return cb_error_set(err, EINVAL, "bad pattern '%s': unexpected ]", p->text);
		} else {
			tok_push(p, (tok_t){.t = T_LIT, .c = (unsigned char)ch});
		}
	}
	p->n_comps = 1;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/')
			p->n_comps++;
	return 0;
}

/* Token DP: can toks[ti..] match s[si..]? Bottom-up over positions. */
static bool tok_match(const pat_t *p, const char *s)
{
	size_t n = strlen(s), nt = p->n_toks;
	/* cur[j]: tokens [0, i) can consume exactly s[0, j) */
	bool *cur = cb_xcalloc(n + 1, sizeof(bool));
	bool *nxt = cb_xcalloc(n + 1, sizeof(bool));
	cur[0] = true;
	for (size_t i = 0; i < nt; i++) {
		const tok_t *t = &p->toks[i];
		memset(nxt, 0, n + 1);
		switch (t->t) {
		case T_LIT:
			for (size_t j = 0; j < n; j++)
				if (cur[j] && (unsigned char)s[j] == t->c)
					nxt[j + 1] = true;
			break;
		case T_ONE:
			for (size_t j = 0; j < n; j++)
				if (cur[j] && s[j] != '/')
					nxt[j + 1] = true;
			break;
		case T_CLASS:
			for (size_t j = 0; j < n; j++) {
				unsigned char c = (unsigned char)s[j];
				bool in = (t->set[c >> 3] >> (c & 7)) & 1;
				if (cur[j] && in != t->neg)
					nxt[j + 1] = true;
			}
			break;
		case T_STAR:
			for (size_t j = 0; j <= n; j++) {
				if (cur[j])
					nxt[j] = true;
				if (j > 0 && nxt[j - 1] && s[j - 1] != '/')
					nxt[j] = true;
			}
			break;
		case T_ALL: {
			bool any = false;
			for (size_t j = 0; j <= n; j++) {
				any = any || cur[j];
				nxt[j] = any;
			}
			break;
		}
		case T_OPTDIR: {
			bool any = false;
			for (size_t j = 0; j <= n; j++) {
				/* empty, or anything ending in '/' */
				if (cur[j])
					nxt[j] = true;
				if (j > 0 && any && s[j - 1] == '/')
					nxt[j] = true;
				any = any || cur[j];
			}
			break;
		}
		}
		bool *x = cur;
		cur = nxt;
		nxt = x;
	}
	bool r = cur[n];
	free(cur);
	free(nxt);
	return r;
}

static bool pat_match(const pat_t *p, const char *path)
{
	switch (p->m) {
	case M_EXACT:
		return !strcmp(path, p->text);
	case M_PREFIX:
		return !strncmp(path, p->text, strlen(p->text) - 2);
	case M_SUFFIX: {
		const char *suffix = p->text + 2;
		if (cb_str_has_suffix(path, suffix))
			return true;
		return suffix[0] == '/' && !strcmp(path, suffix + 1);
	}
	case M_GENERAL:
		return tok_match(p, path);
	}
	return false;
}

static bool match_or_parent(const pat_t *p, const char *path)
{
	if (pat_match(p, path))
		return true;
	size_t n = strlen(path);
	_cleanup_free_ char *tmp = cb_xstrdup(path);
	/* parents, shortest first: "a", "a/b", ... (not the path itself) */
	for (size_t i = 0; i < n; i++) {
		if (path[i] != '/')
			continue;
		tmp[i] = '\0';
		bool m = pat_match(p, tmp);
		tmp[i] = '/';
		if (m)
			return true;
	}
	return false;
}

static int add_pattern(df_ignore_t *ig, const char *line, cb_error_t *err)
{
	size_t n = strlen(line);
	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	while (n && isspace((unsigned char)*line))
		line++, n--;
	if (!n)
		return 0;
	_cleanup_free_ char *s = cb_xstrndup(line, n);
	bool exc = s[0] == '!';
	const char *body = s + (exc ? 1 : 0);
	while (isspace((unsigned char)*body))
		body++;
	if (exc && !*body)
		return cb_error_set(err, EINVAL, "illegal exclusion pattern: \"!\"");
	char *c = clean(body);
	if (strlen(c) > 1 && c[0] == '/')
		memmove(c, c + 1, strlen(c));
	pat_t p = {.text = c, .exception = exc};
	if (compile(&p, err) < 0) {
		free(p.text);
		free(p.toks);
		return -1;
	}
	ig->p = cb_xreallocarray(ig->p, ig->n + 1, sizeof(pat_t));
	ig->p[ig->n++] = p;
	return 0;
}

int df_ignore_from_patterns(char *const *patterns, df_ignore_t **out, cb_error_t *err)
{
	df_ignore_t *ig = cb_xcalloc(1, sizeof(*ig));
	for (size_t i = 0; patterns && patterns[i]; i++) {
		if (add_pattern(ig, patterns[i], err) < 0) {
			df_ignore_free(ig);
			return -1;
		}
	}
	*out = ig;
	return 0;
}

int df_ignore_parse(const char *data, size_t len, df_ignore_t **out, cb_error_t *err)
{
	df_ignore_t *ig = cb_xcalloc(1, sizeof(*ig));
	size_t pos = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		pos = 3;
	int lineno = 0;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		lineno++;
		_cleanup_free_ char *line = cb_xstrndup(data + pos, end - pos);
		pos = nl ? end + 1 : len;
		if (line[0] == '#')
			continue;
		if (add_pattern(ig, line, err) < 0) {
			df_ignore_free(ig);
			return cb_error_wrap(err, ".dockerignore line %d", lineno);
		}
	}
	*out = ig;
	return 0;
}

void df_ignore_free(df_ignore_t *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++) {
		free(ig->p[i].text);
		free(ig->p[i].toks);
	}
	free(ig->p);
	free(ig);
}

size_t df_ignore_count(const df_ignore_t *ig)
{
	return ig ? ig->n : 0;
}

static char *norm_path(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	while (*path == '/')
		path++;
	return clean(*path ? path : ".");
}

bool df_ignore_match(const df_ignore_t *ig, const char *path)
{
	if (!ig || !ig->n)
		return false;
	_cleanup_free_ char *p = norm_path(path);
	bool matched = false;
	for (size_t i = 0; i < ig->n; i++) {
		const pat_t *pt = &ig->p[i];
		/* only a pattern that could change the answer is evaluated */
		if (pt->exception != matched)
			continue;
		if (match_or_parent(pt, p))
			matched = !pt->exception;
	}
	return matched;
}

/* Could exception pattern pt match some path strictly below dir? */
static bool could_match_below(const pat_t *pt, const char *dir)
{
	size_t depth = 1;
	for (const char *q = dir; *q; q++)
		if (*q == '/')
			depth++;
	if (pt->wild_depth) {
		/* conservative: compare the literal prefix only */
		size_t lp = 0;
		while (pt->text[lp] && !strchr("*?[\\", pt->text[lp]))
			lp++;
		size_t dl = strlen(dir);
		size_t m = lp < dl + 1 ? lp : dl + 1;
		_cleanup_free_ char *ds = cb_asprintf("%s/", dir);
		return strncmp(pt->text, ds, m) == 0;
	}
	if (pt->n_comps <= depth)
		return false; /* it decides for dir and its children alike */
	/* the first `depth` components must match dir's components */
	const char *a = pt->text, *b = dir;
	for (size_t k = 0; k < depth; k++) {
		const char *ae = strchr(a, '/'), *be = strchr(b, '/');
		_cleanup_free_ char *ac = ae ? cb_xstrndup(a, (size_t)(ae - a)) : cb_xstrdup(a);
		_cleanup_free_ char *bc = be ? cb_xstrndup(b, (size_t)(be - b)) : cb_xstrdup(b);
		if (fnmatch(ac, bc, FNM_PATHNAME) != 0)
			return false;
		a = ae ? ae + 1 : "";
		b = be ? be + 1 : "";
	}
	return true;
}

bool df_ignore_skip_dir(const df_ignore_t *ig, const char *dir)
{
	if (!df_ignore_match(ig, dir))
		return false;
	_cleanup_free_ char *d = norm_path(dir);
	if (!strcmp(d, "."))
		return false;
	for (size_t i = 0; i < ig->n; i++)
		if (ig->p[i].exception && could_match_below(&ig->p[i], d))
			return false;
	return true;
}

char *df_ignore_dockerfile_specific(const char *dockerfile_path)
{
	return cb_asprintf("%s.dockerignore", dockerfile_path);
}
