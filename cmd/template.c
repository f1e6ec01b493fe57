/* cmd/template.c - the Go-template subset of `inspect --format` (see
 * template.h). The template is parsed once into a tree of text, actions,
 * range and if nodes; an action is a command of words: a value
 * (.Path, $var.Path, "string", number) or a function and its arguments. */
#include "cmd/template.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define MAX_WORDS 8
#define MAX_VARS 16

typedef enum { N_TEXT, N_ACTION, N_RANGE, N_IF } node_kind_t;

typedef struct node {
	node_kind_t kind;
	char *text;              /* N_TEXT */
	char *words[MAX_WORDS];  /* the command (N_ACTION, N_RANGE, N_IF) */
	int n_words;
	char *var_k, *var_v;     /* range $k, $v := ... (either may be NULL) */
	struct node *body, *alt; /* range/if body and else branch */
	struct node *next;
} node_t;

struct tpl {
	node_t *root;
};

typedef struct var {
	const char *name;
	json_t *value;
} var_t;

typedef struct env {
	var_t vars[MAX_VARS];
	int n_vars;
	cb_buf_t out;
} env_t;

static void nodes_free(node_t *n)
{
	while (n) {
		node_t *next = n->next;
		free(n->text);
		for (int i = 0; i < n->n_words; i++)
			free(n->words[i]);
		free(n->var_k);
		free(n->var_v);
		nodes_free(n->body);
		nodes_free(n->alt);
		free(n);
		n = next;
	}
}

void tpl_free(tpl_t *t)
{
	if (t)
		nodes_free(t->root);
	free(t);
}

/* ---- parsing ---- */

/* Split an action's inside into words: "quoted strings" stay whole. */
static int split_words(const char *s, size_t len, char **words, int *n, cb_error_t *err)
{
	size_t i = 0;
	*n = 0;
	while (i < len) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i >= len)
			break;
		size_t start = i;
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= len)
				return cb_error_set(err, 0, "template: unterminated string");
			i++;
		} else {
			while (i < len && !isspace((unsigned char)s[i]))
				i++;
		}
		if (*n >= MAX_WORDS)
			return cb_error_set(err, 0, "template: too many words in an action");
		words[(*n)++] = cb_xstrndup(s + start, i - start);
	}
	return 0;
}

typedef struct parser {
	const char *s;
	size_t pos;
} parser_t;

/* Parse nodes up to {{end}} / {{else}} (returned in *stop) or the end. */
static node_t *parse_list(parser_t *p, const char **stop, cb_error_t *err);

static node_t *new_node(node_kind_t k)
{
	node_t *n = cb_xcalloc(1, sizeof(*n));
	n->kind = k;
	return n;
}

/* `range $k, $v := PIPE`: take the variables off the words. */
static void take_range_vars(node_t *n)
{
	int assign = -1;
	for (int i = 0; i < n->n_words; i++)
		if (!strcmp(n->words[i], ":="))
			assign = i;
	if (assign < 0)
		return;
	char *a = assign > 0 ? n->words[0] : NULL, *b = assign > 1 ? n->words[1] : NULL;
	if (a && a[strlen(a) - 1] == ',')
		a[strlen(a) - 1] = 0;
	if (b) {
		n->var_k = cb_xstrdup(a);
		n->var_v = cb_xstrdup(b);
	} else if (a) {
		n->var_v = cb_xstrdup(a);
	}
	for (int i = 0; i <= assign; i++)
		free(n->words[i]);
	memmove(n->words, n->words + assign + 1, (size_t)(n->n_words - assign - 1) * sizeof(char *));
	n->n_words -= assign + 1;
}

static node_t *parse_block(parser_t *p, node_t *n, cb_error_t *err)
{
	const char *stop = NULL;
	n->body = parse_list(p, &stop, err);
	if (cb_error_is_set(err))
		return nodes_free(n), NULL;
	if (stop && !strcmp(stop, "else")) {
		n->alt = parse_list(p, &stop, err);
		if (cb_error_is_set(err))
			return nodes_free(n), NULL;
	}
	if (!stop || strcmp(stop, "end")) {
		nodes_free(n);
		cb_error_set(err, 0, "template: unexpected EOF (missing {{end}})");
		return NULL;
	}
	return n;
}

static node_t *parse_action(parser_t *p, const char *inner, size_t len, const char **stop,
			    cb_error_t *err)
{
	char *words[MAX_WORDS];
	int n = 0;
	if (split_words(inner, len, words, &n, err) < 0)
		return NULL;
	if (n == 0) {
		cb_error_set(err, 0, "template: missing value for command");
		return NULL;
	}
	if (!strcmp(words[0], "end") || !strcmp(words[0], "else")) {
		*stop = !strcmp(words[0], "end") ? "end" : "else";
		for (int i = 0; i < n; i++)
			free(words[i]);
		return NULL;
	}
	node_kind_t k = !strcmp(words[0], "range") ? N_RANGE : !strcmp(words[0], "if") ? N_IF : N_ACTION;
	node_t *node = new_node(k);
	int skip = k == N_ACTION ? 0 : 1;
	if (skip)
		free(words[0]);
	for (int i = skip; i < n; i++)
		node->words[node->n_words++] = words[i];
	if (k == N_RANGE)
		take_range_vars(node);
	if (node->n_words == 0) {
		nodes_free(node);
		cb_error_set(err, 0, "template: missing value for %s", k == N_RANGE ? "range" : "if");
		return NULL;
	}
	return k == N_ACTION ? node : parse_block(p, node, err);
}

static node_t *parse_list(parser_t *p, const char **stop, cb_error_t *err)
{
	node_t *head = NULL, **tail = &head;
	*stop = NULL;
	while (p->s[p->pos] && !*stop) {
		const char *open = strstr(p->s + p->pos, "{{");
		size_t tlen = open ? (size_t)(open - (p->s + p->pos)) : strlen(p->s + p->pos);
		const char *inner = open ? open + 2 : NULL;
		bool trim_left = inner && *inner == '-' && isspace((unsigned char)inner[1]);
		if (trim_left)
			while (tlen && isspace((unsigned char)p->s[p->pos + tlen - 1]))
				tlen--;
		if (tlen) {
			node_t *t = new_node(N_TEXT);
			t->text = cb_xstrndup(p->s + p->pos, tlen);
			*tail = t;
			tail = &t->next;
		}
		if (!open) {
			p->pos += strlen(p->s + p->pos);
			break;
		}
		inner += trim_left;
		const char *close = strstr(inner, "}}");
		if (!close) {
			cb_error_set(err, 0, "template: unclosed action");
			return nodes_free(head), NULL;
		}
		bool trim_right = close > inner && close[-1] == '-' && isspace((unsigned char)close[-2]);
		size_t ilen = (size_t)(close - inner) - trim_right;
		p->pos = (size_t)(close + 2 - p->s);
		if (trim_right)
			while (isspace((unsigned char)p->s[p->pos]))
				p->pos++;
		node_t *a = parse_action(p, inner, ilen, stop, err);
		if (cb_error_is_set(err))
			return nodes_free(head), NULL;
		if (a) {
			*tail = a;
			tail = &a->next;
		}
	}
	return head;
}

tpl_t *tpl_compile(const char *text, cb_error_t *err)
{
	parser_t p = {text, 0};
	const char *stop = NULL;
	cb_error_t e = CB_ERROR_INIT;
	node_t *root = parse_list(&p, &stop, &e);
	if (!cb_error_is_set(&e) && stop)
		cb_error_set(&e, EINVAL, "template: unexpected {{%s}}", stop);
	if (cb_error_is_set(&e)) {
		nodes_free(root);
		cb_error_move(err, &e);
		return NULL;
	}
	tpl_t *t = cb_xcalloc(1, sizeof(*t));
	t->root = root;
	return t;
}

/* ---- values and their Go formatting ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Go's %v of a JSON value; NULL (a missing key) is <no value>. */
static void fmt_value(cb_buf_t *b, json_t *v, bool top)
{
	if (!v) {
		cb_buf_addstr(b, "<no value>");
	} else if (json_is_string(v)) {
		cb_buf_addstr(b, json_string_value(v));
	} else if (json_is_integer(v)) {
		cb_buf_addf(b, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		cb_buf_addf(b, "%g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		cb_buf_addstr(b, json_is_true(v) ? "true" : "false");
	} else if (json_is_null(v)) {
		cb_buf_addstr(b, top ? "<no value>" : "<nil>");
	} else if (json_is_array(v)) {
		cb_buf_addstr(b, "[");
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				cb_buf_addstr(b, " ");
			fmt_value(b, json_array_get(v, i), false);
		}
		cb_buf_addstr(b, "]");
	} else {
		/* Go prints a map's keys sorted */
		const char *k;
		json_t *x;
		char **keys = NULL;
		json_object_foreach(v, k, x) keys = cb_strv_push(keys, k);
		size_t n = cb_strv_len(keys);
		qsort(keys, n, sizeof(char *), cmp_str);
		cb_buf_addstr(b, "map[");
		for (size_t i = 0; i < n; i++) {
			cb_buf_addf(b, "%s%s:", i ? " " : "", keys[i]);
			fmt_value(b, json_object_get(v, keys[i]), false);
		}
		cb_buf_addstr(b, "]");
		cb_strv_free(keys);
	}
}

static bool truthy(json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return false;
	if (json_is_string(v))
		return *json_string_value(v) != 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_real(v))
		return json_real_value(v) != 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return true;
}

/* Follow ".A.B" from v. A missing key or a field of a non-object is an
 * error, as in docker's inspect; below a null the value is <no value>. */
static int walk(json_t *v, const char *path, json_t **out, cb_error_t *err)
{
	while (*path == '.' && path[1]) {
		path++;
		size_t n = strcspn(path, ".");
		if (!v || json_is_null(v)) { /* a field of nil: <no value> */
			path += n;
			v = NULL;
			continue;
		}
		if (!json_is_object(v))
			return cb_error_set(err, 0, "template: can't evaluate field %.*s", (int)n, path);
		_cleanup_free_ char *key = cb_xstrndup(path, n);
		v = json_object_get(v, key);
		/* docker's inspect runs its templates with missingkey=error */
		if (!v)
			return cb_error_set(err, 0, "template: map has no entry for key \"%s\"", key);
		path += n;
	}
	*out = v;
	return 0;
}

/* One word's value (a new reference, or NULL for <no value>). */
static int eval_word(env_t *e, json_t *dot, const char *w, json_t **out, cb_error_t *err)
{
	json_t *v = NULL;
	if (w[0] == '.') {
		if (walk(dot, w, &v, err) < 0)
			return -1;
	} else if (w[0] == '$') {
		size_t n = strcspn(w, ".");
		bool found = false;
		for (int i = e->n_vars - 1; i >= 0 && !found; i--)
			if (strlen(e->vars[i].name) == n && !strncmp(e->vars[i].name, w, n)) {
				v = e->vars[i].value;
				found = true;
			}
		if (!found)
			return cb_error_set(err, 0, "template: undefined variable \"%.*s\"", (int)n, w);
		if (walk(v, w + n, &v, err) < 0)
			return -1;
	} else if (w[0] == '"') {
		_cleanup_free_ char *s = cb_xstrndup(w + 1, strlen(w) - 2);
		*out = json_string(s);
		return 0;
	} else if (isdigit((unsigned char)w[0]) || w[0] == '-') {
		*out = json_integer(strtoll(w, NULL, 10));
		return 0;
	} else if (!strcmp(w, "true") || !strcmp(w, "false")) {
		*out = json_boolean(!strcmp(w, "true"));
		return 0;
	} else {
		return cb_error_set(err, 0, "template: function \"%s\" not defined", w);
	}
	*out = v ? json_incref(v) : NULL;
	return 0;
}

static json_t *as_string(json_t *v)
{
	cb_buf_t b;
	cb_buf_init(&b);
	fmt_value(&b, v, true);
	json_t *s = json_string(b.len ? b.data : "");
	cb_buf_release(&b);
	return s;
}

static int call(const char *fn, json_t **args, int n, json_t **out, cb_error_t *err)
{
	if (!strcmp(fn, "json") && n == 1) {
		char *s = args[0] ? json_dumps(args[0], JSON_ENCODE_ANY | JSON_COMPACT) : strdup("null");
		*out = json_string(s ? s : "");
		free(s);
	} else if (!strcmp(fn, "index") && n >= 2) {
		json_t *v = args[0];
		for (int i = 1; i < n && v; i++) {
			if (json_is_array(v) && json_is_integer(args[i])) {
				json_int_t k = json_integer_value(args[i]);
				if (k < 0 || (size_t)k >= json_array_size(v))
					return cb_error_set(err, 0, "template: index out of range: %lld",
							    (long long)k);
				v = json_array_get(v, (size_t)k);
			} else if (json_is_object(v) && json_is_string(args[i])) {
				v = json_object_get(v, json_string_value(args[i]));
			} else {
				return cb_error_set(err, 0, "template: can't index item");
			}
		}
		*out = v ? json_incref(v) : NULL;
	} else if (!strcmp(fn, "len") && n == 1) {
		json_t *v = args[0];
		size_t l = json_is_array(v)    ? json_array_size(v)
			   : json_is_object(v) ? json_object_size(v)
			   : json_is_string(v) ? strlen(json_string_value(v))
					       : 0;
		*out = json_integer((json_int_t)l);
	} else if ((!strcmp(fn, "upper") || !strcmp(fn, "lower") || !strcmp(fn, "title")) && n == 1) {
		json_t *s = as_string(args[0]);
		char *c = cb_xstrdup(json_string_value(s));
		for (char *q = c; *q; q++)
			*q = (char)(fn[0] == 'u' ? toupper((unsigned char)*q)
				    : fn[0] == 'l' ? tolower((unsigned char)*q)
				    : q == c || q[-1] == ' ' ? toupper((unsigned char)*q) : *q);
		*out = json_string(c);
		free(c);
		json_decref(s);
	} else if (!strcmp(fn, "join") && n == 2 && json_is_array(args[0])) {
		cb_buf_t b;
		cb_buf_init(&b);
		const char *sep = json_is_string(args[1]) ? json_string_value(args[1]) : "";
		for (size_t i = 0; i < json_array_size(args[0]); i++) {
			if (i)
				cb_buf_addstr(&b, sep);
			fmt_value(&b, json_array_get(args[0], i), false);
		}
		*out = json_string(b.len ? b.data : "");
		cb_buf_release(&b);
	} else if (!strcmp(fn, "println") || !strcmp(fn, "print")) {
		cb_buf_t b;
		cb_buf_init(&b);
		for (int i = 0; i < n; i++) {
			if (i)
				cb_buf_addstr(&b, " ");
			fmt_value(&b, args[i], true);
		}
		if (fn[5] == 'l')
			cb_buf_addstr(&b, "\n");
		*out = json_string(b.len ? b.data : "");
		cb_buf_release(&b);
	} else {
		return cb_error_set(err, 0, "template: wrong use of \"%s\" (%d arguments)", fn, n);
	}
	return 0;
}

static int eval(env_t *e, json_t *dot, const node_t *n, json_t **out, cb_error_t *err)
{
	const char *w0 = n->words[0];
	if (n->n_words == 1 && (w0[0] == '.' || w0[0] == '$' || w0[0] == '"' || isdigit((unsigned char)w0[0])))
		return eval_word(e, dot, w0, out, err);
	if (w0[0] == '.' || w0[0] == '$' || w0[0] == '"')
		return cb_error_set(err, 0, "template: can't give argument to non-function %s", w0);
	json_t *args[MAX_WORDS] = {0};
	int rc = 0, na = 0;
	for (int i = 1; i < n->n_words && rc == 0; i++, na++)
		rc = eval_word(e, dot, n->words[i], &args[na], err);
	if (rc == 0)
		rc = call(w0, args, na, out, err);
	for (int i = 0; i < na; i++)
		json_decref(args[i]);
	return rc;
}

static int render_list(env_t *e, json_t *dot, const node_t *n, cb_error_t *err);

static int render_range(env_t *e, json_t *dot, const node_t *n, cb_error_t *err)
{
	json_t *v = NULL;
	if (eval(e, dot, n, &v, err) < 0)
		return -1;
	int rc = 0, base = e->n_vars;
	bool any = false;
	if (e->n_vars + 2 > MAX_VARS)
		rc = cb_error_set(err, 0, "template: ranges nested too deep");
	if (rc == 0 && json_is_array(v)) {
		for (size_t i = 0; rc == 0 && i < json_array_size(v); i++, any = true) {
			json_t *idx = json_integer((json_int_t)i), *x = json_array_get(v, i);
			e->n_vars = base;
			if (n->var_k)
				e->vars[e->n_vars++] = (var_t){n->var_k, idx};
			if (n->var_v)
				e->vars[e->n_vars++] = (var_t){n->var_v, x};
			rc = render_list(e, x, n->body, err);
			json_decref(idx);
		}
	} else if (rc == 0 && json_is_object(v)) {
		char **keys = NULL;
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x) keys = cb_strv_push(keys, k);
		size_t nk = cb_strv_len(keys);
		qsort(keys, nk, sizeof(char *), cmp_str);
		for (size_t i = 0; rc == 0 && i < nk; i++, any = true) {
			json_t *key = json_string(keys[i]);
			x = json_object_get(v, keys[i]);
			e->n_vars = base;
			if (n->var_k)
				e->vars[e->n_vars++] = (var_t){n->var_k, key};
			if (n->var_v)
				e->vars[e->n_vars++] = (var_t){n->var_v, x};
			rc = render_list(e, x, n->body, err);
			json_decref(key);
		}
		cb_strv_free(keys);
	} else if (rc == 0 && v && !json_is_null(v)) {
		rc = cb_error_set(err, 0, "template: range can't iterate over a scalar");
	}
	e->n_vars = base;
	if (rc == 0 && !any && n->alt)
		rc = render_list(e, dot, n->alt, err);
	json_decref(v);
	return rc;
}

static int render_list(env_t *e, json_t *dot, const node_t *n, cb_error_t *err)
{
	for (; n; n = n->next) {
		json_t *v = NULL;
		int rc = 0;
		switch (n->kind) {
		case N_TEXT: cb_buf_addstr(&e->out, n->text); break;
		case N_ACTION:
			rc = eval(e, dot, n, &v, err);
			if (rc == 0)
				fmt_value(&e->out, v, true);
			break;
		case N_IF:
			rc = eval(e, dot, n, &v, err);
			if (rc == 0)
				rc = render_list(e, dot, truthy(v) ? n->body : n->alt, err);
			break;
		case N_RANGE: rc = render_range(e, dot, n, err); break;
		}
		json_decref(v);
		if (rc < 0)
			return -1;
	}
	return 0;
}

char *tpl_render(const tpl_t *t, json_t *doc, cb_error_t *err)
{
	env_t e = {.n_vars = 1};
	e.vars[0] = (var_t){"$", doc};
	cb_buf_init(&e.out);
	if (render_list(&e, doc, t->root, err) < 0) {
		cb_buf_release(&e.out);
		return NULL;
	}
	size_t len;
	char *s = cb_buf_detach(&e.out, &len);
	return s ? s : cb_xstrdup("");
}
