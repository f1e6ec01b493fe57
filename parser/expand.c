/*
 * parser/expand.c - shell-word expansion with BuildKit's shell.Lex rules.
 *
 * Not a shell: no command substitution, no globbing, no field splitting
 * except for df_expand_words (BuildKit's ProcessWords).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/dockerfile.h"
#include "parser/internal.h"

typedef struct words {
	char **v;
	size_t n;
	cb_buf_t cur;
	bool in_word;
} words_t;

typedef struct lexer {
	const char *s;
	size_t n, pos;
	char esc;
	char *const *env;
	bool keep_unset;
	bool skip_quotes;
	cb_error_t *err;
	int depth;
} lexer_t;

const char *df_env_get(char *const *env, const char *key, size_t keylen)
{
	const char *found = NULL;
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, keylen) && env[i][keylen] == '=')
			found = env[i] + keylen + 1;
	return found;
}

static void w_flush(words_t *w)
{
	if (w->cur.len) {
		w->v = cb_xreallocarray(w->v, w->n + 2, sizeof(char *));
		w->v[w->n++] = cb_buf_detach(&w->cur, NULL);
		w->v[w->n] = NULL;
	}
	w->in_word = false;
}

static void w_raw_char(words_t *w, char c)
{
	if (!w)
		return;
	cb_buf_addch(&w->cur, c);
	w->in_word = true;
}

static void w_char(words_t *w, char c)
{
	if (!w)
		return;
	if (isspace((unsigned char)c)) {
		if (w->in_word)
			w_flush(w);
	} else {
		w_raw_char(w, c);
	}
}

static int peek(lexer_t *lx)
{
	return lx->pos < lx->n ? (unsigned char)lx->s[lx->pos] : -1;
}

static int next(lexer_t *lx)
{
	return lx->pos < lx->n ? (unsigned char)lx->s[lx->pos++] : -1;
}

static int lx_err(lexer_t *lx, const char *msg, const char *arg)
{
	if (!cb_error_is_set(lx->err))
		cb_error_set(lx->err, EINVAL, msg, arg);
	return -1;
}

static int process_stop_on(lexer_t *lx, int stop, cb_buf_t *out, words_t *w);

static int single_quote(lexer_t *lx, cb_buf_t *out)
{
	next(lx);
	for (;;) {
		int c = next(lx);
		if (c < 0)
			return lx_err(lx, "unexpected end of statement while looking for matching "
					  "single-quote%s",
				      "");
		if (c == '\'')
			return 0;
		cb_buf_addch(out, (char)c);
	}
}

static int process_dollar(lexer_t *lx, cb_buf_t *out);

static int double_quote(lexer_t *lx, cb_buf_t *out)
{
	next(lx);
	for (;;) {
		int c = peek(lx);
		if (c < 0)
			return lx_err(lx, "unexpected end of statement while looking for matching "
					  "double-quote%s",
				      "");
		if (c == '"') {
			next(lx);
			return 0;
		}
		if (c == '$') {
			if (process_dollar(lx, out) < 0)
				return -1;
			continue;
		}
		c = next(lx);
		if (c == lx->esc) {
			int p = peek(lx);
			if (p < 0)
				continue;
			if (p == '"' || p == '$' || p == lx->esc)
				c = next(lx);
		}
		cb_buf_addch(out, (char)c);
	}
}

static bool is_special_param(int c)
{
	return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
	       c == '0';
}

static void process_name(lexer_t *lx, cb_buf_t *name)
{
	while (peek(lx) >= 0) {
		int c = peek(lx);
		if (name->len == 0 && isdigit(c)) {
			while (peek(lx) >= 0 && isdigit(peek(lx)))
				cb_buf_addch(name, (char)next(lx));
			return;
		}
		if (name->len == 0 && is_special_param(c)) {
			cb_buf_addch(name, (char)next(lx));
			return;
		}
		if (!isalnum(c) && c != '_' && c < 0x80)
			break;
		if (c >= 0x80)
			break;
		cb_buf_addch(name, (char)next(lx));
	}
}

static const char *get_env(lexer_t *lx, const char *name)
{
	return df_env_get(lx->env, name, strlen(name));
}

/* Remove the shortest/longest prefix or suffix matching a glob. */
static void trim_pattern(const char *val, const char *pat, bool suffix, bool longest, cb_buf_t *out)
{
	size_t n = strlen(val);
	_cleanup_free_ char *tmp = cb_xmalloc(n + 1);
	if (!suffix) {
		for (size_t k = 0; k <= n; k++) {
			size_t l = longest ? n - k : k;
			memcpy(tmp, val, l);
			tmp[l] = '\0';
			if (fnmatch(pat, tmp, 0) == 0) {
				cb_buf_addstr(out, val + l);
				return;
			}
		}
	} else {
		for (size_t k = 0; k <= n; k++) {
			size_t st = longest ? k : n - k;
			if (fnmatch(pat, val + st, 0) == 0) {
				cb_buf_add(out, val, st);
				return;
			}
		}
	}
	cb_buf_addstr(out, val);
}

static void replace_pattern(const char *val, const char *pat, const char *repl, bool all,
			    cb_buf_t *out)
{
	size_t n = strlen(val), i = 0;
	_cleanup_free_ char *tmp = cb_xmalloc(n + 1);
	bool done = false;
	while (i < n) {
		size_t best = 0;
		bool hit = false;
		if (!done && *pat) {
			for (size_t l = n - i; l > 0; l--) {
				memcpy(tmp, val + i, l);
				tmp[l] = '\0';
				if (fnmatch(pat, tmp, 0) == 0) {
					best = l;
					hit = true;
					break;
				}
			}
		}
		if (hit) {
			cb_buf_addstr(out, repl);
			i += best;
			if (!all)
				done = true;
		} else {
			cb_buf_addch(out, val[i++]);
		}
	}
}

static int process_dollar(lexer_t *lx, cb_buf_t *out)
{
	size_t start = lx->pos;
	next(lx); /* '$' */
	if (peek(lx) != '{') {
		cb_buf_t name;
		cb_buf_init(&name);
		process_name(lx, &name);
		if (!name.len) {
			cb_buf_addch(out, '$');
		} else {
			const char *v = get_env(lx, name.data);
			if (!v && lx->keep_unset)
				cb_buf_add(out, lx->s + start, lx->pos - start);
			else if (v)
				cb_buf_addstr(out, v);
		}
		cb_buf_release(&name);
		return 0;
	}
	next(lx); /* '{' */
	int c = peek(lx);
	if (c < 0)
		return lx_err(lx, "syntax error: missing '}'%s", "");
	if (c == '{' || c == '}' || c == ':')
		return lx_err(lx, "syntax error: bad substitution%s", "");
	bool length = false;
	if (c == '#') {
		/* ${#var}: the length (but ${#} alone is the special param) */
		if (lx->pos + 1 < lx->n && lx->s[lx->pos + 1] != '}') {
			next(lx);
			length = true;
		}
	}
	if (++lx->depth > 64)
		return lx_err(lx, "syntax error: substitutions nested too deeply%s", "");
	int rc = -1;
	cb_buf_t name, word, word2;
	cb_buf_init(&name);
	cb_buf_init(&word);
	cb_buf_init(&word2);
	process_name(lx, &name);
	const char *v = get_env(lx, name.data);
	c = next(lx);
	if (length) {
		if (c != '}') {
			lx_err(lx, "syntax error: bad substitution%s", "");
			goto out;
		}
		cb_buf_addf(out, "%zu", v ? strlen(v) : 0);
		rc = 0;
		goto out;
	}
	switch (c) {
	case '}':
		if (!v && lx->keep_unset)
			cb_buf_add(out, lx->s + start, lx->pos - start);
		else if (v)
			cb_buf_addstr(out, v);
		rc = 0;
		break;
	case '?':
		if (process_stop_on(lx, '}', &word, NULL) < 0)
			goto out;
		if (!v) {
			if (lx->keep_unset) {
				cb_buf_add(out, lx->s + start, lx->pos - start);
				rc = 0;
				break;
			}
			cb_error_set(lx->err, EINVAL, "%s: %s", name.data,
				     word.len ? word.data : "is not allowed to be unset");
			goto out;
		}
		cb_buf_addstr(out, v);
		rc = 0;
		break;
	case ':': {
		int mod = next(lx);
		if (process_stop_on(lx, '}', &word, NULL) < 0) {
			if (peek(lx) < 0) {
				cb_error_release(lx->err);
				lx_err(lx, "syntax error: missing '}'%s", "");
			}
			goto out;
		}
		if (!v && lx->keep_unset) {
			cb_buf_add(out, lx->s + start, lx->pos - start);
			rc = 0;
			break;
		}
		const char *val = v ? v : "";
		if (mod == '+') {
			if (*val)
				cb_buf_addstr(out, word.data);
		} else if (mod == '-') {
			cb_buf_addstr(out, *val ? val : word.data);
		} else if (mod == '?') {
			if (!*val) {
				cb_error_set(lx->err, EINVAL, "%s: %s", name.data,
					     word.len ? word.data
						      : (v ? "is not allowed to be empty"
							   : "is not allowed to be unset"));
				goto out;
			}
			cb_buf_addstr(out, val);
		} else {
			cb_error_set(lx->err, EINVAL, "unsupported modifier (%c) in substitution",
				     mod < 0 ? '?' : mod);
			goto out;
		}
		rc = 0;
		break;
	}
	case '+':
	case '-':
		if (process_stop_on(lx, '}', &word, NULL) < 0)
			goto out;
		if (!v && lx->keep_unset) {
			cb_buf_add(out, lx->s + start, lx->pos - start);
		} else if (c == '-') {
			cb_buf_addstr(out, v ? v : word.data);
		} else if (v) {
			cb_buf_addstr(out, word.data);
		}
		rc = 0;
		break;
	case '%':
	case '#': {
		bool longest = false;
		if (peek(lx) == c) {
			next(lx);
			longest = true;
		}
		if (process_stop_on(lx, '}', &word, NULL) < 0)
			goto out;
		if (!v && lx->keep_unset)
			cb_buf_add(out, lx->s + start, lx->pos - start);
		else
			trim_pattern(v ? v : "", word.data, c == '%', longest, out);
		rc = 0;
		break;
	}
	case '/': {
		bool all = false;
		if (peek(lx) == '/') {
			next(lx);
			all = true;
		}
		if (process_stop_on(lx, '/', &word, NULL) < 0 ||
		    process_stop_on(lx, '}', &word2, NULL) < 0)
			goto out;
		if (!v && lx->keep_unset)
			cb_buf_add(out, lx->s + start, lx->pos - start);
		else
			replace_pattern(v ? v : "", word.data, word2.data, all, out);
		rc = 0;
		break;
	}
	case -1:
		lx_err(lx, "syntax error: missing '}'%s", "");
		break;
	default:
		cb_error_set(lx->err, EINVAL, "unsupported modifier (%c) in substitution", c);
		break;
	}
out:
	lx->depth--;
	cb_buf_release(&name);
	cb_buf_release(&word);
	cb_buf_release(&word2);
	return rc;
}

static int process_stop_on(lexer_t *lx, int stop, cb_buf_t *out, words_t *w)
{
	bool found = false;
	while (peek(lx) >= 0) {
		int c = peek(lx);
		if (stop >= 0 && c == stop) {
			next(lx);
			found = true;
			break;
		}
		if (c == '$' || (!lx->skip_quotes && (c == '\'' || c == '"'))) {
			cb_buf_t tmp;
			cb_buf_init(&tmp);
			int r = c == '\'' ? single_quote(lx, &tmp)
				: c == '"' ? double_quote(lx, &tmp)
					   : process_dollar(lx, &tmp);
			if (r < 0) {
				cb_buf_release(&tmp);
				return -1;
			}
			cb_buf_add(out, tmp.data, tmp.len);
			if (w) {
				if (c == '$') {
					for (size_t i = 0; i < tmp.len; i++)
						w_char(w, tmp.data[i]);
				} else {
					cb_buf_add(&w->cur, tmp.data, tmp.len);
					w->in_word = true;
				}
			}
			cb_buf_release(&tmp);
			continue;
		}
		c = next(lx);
		if (c == lx->esc) {
			c = next(lx);
			if (c < 0)
				break;
			w_raw_char(w, (char)c);
		} else {
			w_char(w, (char)c);
		}
		cb_buf_addch(out, (char)c);
	}
	if (stop >= 0 && !found) {
		char s[2] = {(char)stop, 0};
		return lx_err(lx, "unexpected end of statement while looking for matching %s", s);
	}
	return 0;
}

static int run(const char *word, char *const *env, unsigned flags, cb_buf_t *out, words_t *w,
	       cb_error_t *err)
{
	lexer_t lx = {
		.s = word,
		.n = strlen(word),
		.esc = (flags & DF_EXPAND_ESCAPE_BACKTICK) ? '`' : '\\',
		.env = env,
		.keep_unset = (flags & DF_EXPAND_KEEP_UNSET) != 0,
		.skip_quotes = (flags & DF_EXPAND_SKIP_QUOTES) != 0,
		.err = err,
	};
	return process_stop_on(&lx, -1, out, w);
}

int df_expand(const char *word, char *const *env, unsigned flags, char **out, cb_error_t *err)
{
	cb_buf_t b;
	cb_buf_init(&b);
	if (run(word ? word : "", env, flags, &b, NULL, err) < 0) {
		cb_buf_release(&b);
		return -1;
	}
	*out = df_buf_take(&b, NULL);
	return 0;
}

int df_expand_words(const char *word, char *const *env, unsigned flags, char ***out,
		    cb_error_t *err)
{
	cb_buf_t b;
	cb_buf_init(&b);
	words_t w = {0};
	cb_buf_init(&w.cur);
	int r = run(word ? word : "", env, flags, &b, &w, err);
	cb_buf_release(&b);
	if (r < 0) {
		cb_buf_release(&w.cur);
		cb_strv_free(w.v);
		return -1;
	}
	w_flush(&w);
	cb_buf_release(&w.cur);
	*out = w.v ? w.v : cb_xcalloc(1, sizeof(char *));
	return 0;
}

bool df_word_has_vars(const char *word, unsigned flags)
{
	char esc = (flags & DF_EXPAND_ESCAPE_BACKTICK) ? '`' : '\\';
	bool sq = false;
	for (const char *p = word; p && *p; p++) {
		if (sq) {
			if (*p == '\'')
				sq = false;
			continue;
		}
		if (*p == '\'')
			sq = true;
		else if (*p == esc && p[1])
			p++;
		else if (*p == '$')
			return true;
	}
	return false;
}
