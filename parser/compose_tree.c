/*
 * parser/compose_tree.c - compose YAML into a tree: libyaml, interpolation,
 * `<<` merge keys, and the merge of several files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/compose.h"
#include "parser/compose_internal.h"
#include "parser/internal.h"
#include "parser/yaml_lazy.h"

/* Aliases are copied: cap the total so that a "billion laughs" file fails
 * instead of eating the machine. */
#define CN_MAX_NODES 200000
#define CN_MAX_DEPTH 64

/* ---- nodes ---- */

void cn_free(cn_t *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			cn_free(n->keys[i]);
		cn_free(n->vals[i]);
	}
	free(n->keys);
	free(n->vals);
	free(n->str);
	free(n);
}

static cn_t *cn_new(cn_kind_t kind, const char *file, int line, int col)
{
	cn_t *n = cb_xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->file = file;
	n->line = line;
	n->col = col;
	return n;
}

cn_t *cn_new_scalar(const char *s, const cn_t *pos)
{
	cn_t *n = cn_new(CN_SCALAR, pos->file, pos->line, pos->col);
	n->str = cb_xstrdup(s ? s : "");
	n->plain = s == NULL;
	return n;
}

cn_t *cn_copy(const cn_t *n)
{
	if (!n)
		return NULL;
	cn_t *c = cn_new(n->kind, n->file, n->line, n->col);
	c->str = n->str ? cb_xstrdup(n->str) : NULL;
	c->plain = n->plain;
	c->tag = n->tag;
	c->n = n->n;
	if (n->n) {
		c->vals = cb_xcalloc(n->n, sizeof(cn_t *));
		if (n->keys)
			c->keys = cb_xcalloc(n->n, sizeof(cn_t *));
	}
	for (size_t i = 0; i < n->n; i++) {
		c->vals[i] = cn_copy(n->vals[i]);
		if (n->keys)
			c->keys[i] = cn_copy(n->keys[i]);
	}
	return c;
}

static void grow(cn_t *n)
{
	n->vals = cb_xreallocarray(n->vals, n->n + 1, sizeof(cn_t *));
	if (n->kind == CN_MAP)
		n->keys = cb_xreallocarray(n->keys, n->n + 1, sizeof(cn_t *));
}

void cn_map_add(cn_t *map, cn_t *key, cn_t *val)
{
	grow(map);
	map->keys[map->n] = key;
	map->vals[map->n++] = val;
}

void cn_seq_add(cn_t *seq, cn_t *item)
{
	grow(seq);
	seq->vals[seq->n++] = item;
}

static ssize_t cn_index(const cn_t *map, const char *key)
{
	if (!map || map->kind != CN_MAP)
		return -1;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return (ssize_t)i;
	return -1;
}

cn_t *cn_get(const cn_t *map, const char *key)
{
	ssize_t i = cn_index(map, key);
	return i < 0 ? NULL : map->vals[i];
}

static void cn_del_at(cn_t *map, size_t i)
{
	cn_free(map->keys[i]);
	cn_free(map->vals[i]);
	memmove(map->keys + i, map->keys + i + 1, (map->n - i - 1) * sizeof(cn_t *));
	memmove(map->vals + i, map->vals + i + 1, (map->n - i - 1) * sizeof(cn_t *));
	map->n--;
}

bool cn_is_null(const cn_t *n)
{
	if (!n || n->kind != CN_SCALAR || !n->plain)
		return false;
	return !*n->str || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

char *cn_where(const cn_t *at)
{
	if (!at)
		return cb_xstrdup("");
	return cb_asprintf("%s:%d:%d: ", at->file, at->line, at->col);
}

int cn_error(cb_error_t *err, const cn_t *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = cb_vasprintf(fmt, ap);
	va_end(ap);
	_cleanup_free_ char *where = cn_where(at);
	return cb_error_fail(err, EINVAL, "%s%s", where, msg);
}

/* ---- interpolation ---- */

static bool name_start(char c) { return c == '_' || isalpha((unsigned char)c); }
static bool name_char(char c) { return c == '_' || isalnum((unsigned char)c); }

static int interp(const char *s, size_t n, char *const *env, char ***unset, cb_buf_t *out,
		  int depth, cb_error_t *err);

/* The end of a ${...} body starting at s[i] (just after "${"): the index
 * of its closing brace, nested ${ } counted. */
static ssize_t brace_end(const char *s, size_t n, size_t i)
{
	int level = 1;
	for (; i < n; i++) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '$') {
			i++;
		} else if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
			level++;
			i++;
		} else if (s[i] == '}' && --level == 0) {
			return (ssize_t)i;
		}
	}
	return -1;
}

static void note_unset(char ***unset, const char *name, size_t len)
{
	if (!unset)
		return;
	_cleanup_free_ char *nm = cb_xstrndup(name, len);
	for (size_t i = 0; *unset && (*unset)[i]; i++)
		if (!strcmp((*unset)[i], nm))
			return;
	*unset = cb_strv_push(*unset, nm);
}

/* ${NAME[op word]}: body is the text between the braces. */
static int braced(const char *body, size_t n, char *const *env, char ***unset, cb_buf_t *out,
		  int depth, cb_error_t *err)
{
	size_t k = 0;
	if (n == 0 || !name_start(body[0]))
		goto bad;
	while (k < n && name_char(body[k]))
		k++;
	const char *val = df_env_get(env, body, k);
	bool set = val != NULL, nonempty = val && *val;
	if (k == n) {
		if (!set)
			note_unset(unset, body, k);
		cb_buf_addstr(out, val ? val : "");
		return 0;
	}
	bool colon = body[k] == ':';
	size_t op = k + colon;
	if (op >= n || !strchr("-?+", body[op]))
		goto bad;
	const char *word = body + op + 1;
	size_t wlen = n - op - 1;
	bool cond = colon ? nonempty : set;
	switch (body[op]) {
	case '-':
		if (cond) {
			cb_buf_addstr(out, val);
			return 0;
		}
		return interp(word, wlen, env, unset, out, depth + 1, err);
	case '+':
		return cond ? interp(word, wlen, env, unset, out, depth + 1, err) : 0;
	default: /* '?' */
		if (cond) {
			cb_buf_addstr(out, val);
			return 0;
		}
		cb_buf_t msg;
		cb_buf_init(&msg);
		cb_error_t e = CB_ERROR_INIT;
		if (interp(word, wlen, env, unset, &msg, depth + 1, &e) < 0)
			cb_error_release(&e);
		int rc = cb_error_fail(err, EINVAL, "required variable '%.*s' is missing a value%s%s",
				       (int)k, body, msg.len ? ": " : "", msg.data);
		cb_buf_release(&msg);
		return rc;
	}
bad:
	return cb_error_fail(err, EINVAL, "invalid interpolation format '${%.*s}'", (int)n, body);
}

static int interp(const char *s, size_t n, char *const *env, char ***unset, cb_buf_t *out,
		  int depth, cb_error_t *err)
{
	if (depth > 16)
		return cb_error_fail(err, EINVAL, "interpolation nested too deeply");
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '$') {
			cb_buf_addch(out, s[i]);
			continue;
		}
		if (i + 1 < n && s[i + 1] == '$') {
			cb_buf_addch(out, '$');
			i++;
		} else if (i + 1 < n && s[i + 1] == '{') {
			ssize_t end = brace_end(s, n, i + 2);
			if (end < 0)
				return cb_error_fail(err, EINVAL,
						     "invalid interpolation format: unclosed '${' in '%.*s'",
						     (int)n, s);
			if (braced(s + i + 2, (size_t)end - i - 2, env, unset, out, depth, err) < 0)
				return -1;
			i = (size_t)end;
		} else if (i + 1 < n && name_start(s[i + 1])) {
			size_t j = i + 1;
			while (j < n && name_char(s[j]))
				j++;
			const char *val = df_env_get(env, s + i + 1, j - i - 1);
			if (!val)
				note_unset(unset, s + i + 1, j - i - 1);
			cb_buf_addstr(out, val ? val : "");
			i = j - 1;
		} else {
			return cb_error_fail(err, EINVAL,
					     "invalid interpolation format in '%.*s': a lone '$' "
					     "(write '$$' for a literal dollar)",
					     (int)n, s);
		}
	}
	return 0;
}

char *df_compose_interpolate(const char *s, char *const *env, char ***warn, cb_error_t *err)
{
	cb_buf_t out;
	cb_buf_init(&out);
	if (interp(s, strlen(s), env, warn, &out, 0, err) < 0) {
		cb_buf_release(&out);
		return NULL;
	}
	return df_buf_take(&out, NULL);
}

/* ---- libyaml document -> tree ---- */

typedef struct loader {
	yaml_document_t *doc;
	const char *file;
	char *const *env;
	char ***unset;
	size_t count;
} loader_t;

static cn_t *conv(loader_t *ld, yaml_node_t *yn, bool value, int depth, cb_error_t *err);

static int node_tag(const yaml_node_t *yn)
{
	const char *t = (const char *)yn->tag;
	if (t && !strcmp(t, "!reset"))
		return CN_TAG_RESET;
	if (t && !strcmp(t, "!override"))
		return CN_TAG_OVERRIDE;
	return CN_TAG_NONE;
}

static cn_t *conv_scalar(loader_t *ld, yaml_node_t *yn, bool value, cb_error_t *err)
{
	cn_t *n = cn_new(CN_SCALAR, ld->file, (int)yn->start_mark.line + 1,
			 (int)yn->start_mark.column + 1);
	n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	const char *s = (const char *)yn->data.scalar.value;
	size_t len = yn->data.scalar.length;
	if (!value) {
		n->str = cb_xstrndup(s, len);
		return n;
	}
	cb_buf_t out;
	cb_buf_init(&out);
	cb_error_t e = CB_ERROR_INIT;
	if (interp(s, len, ld->env, ld->unset, &out, 0, &e) < 0) {
		cn_error(err, n, "%s", e.msg);
		cb_error_release(&e);
		cb_buf_release(&out);
		cn_free(n);
		return NULL;
	}
	n->str = df_buf_take(&out, NULL);
	return n;
}

/* Apply a `<<` value (a map, or a list of maps) to m: keys m lacks. */
static int apply_merge_key(cn_t *m, const cn_t *src, cb_error_t *err)
{
	if (src->kind == CN_SEQ) {
		for (size_t i = 0; i < src->n; i++)
			if (apply_merge_key(m, src->vals[i], err) < 0)
				return -1;
		return 0;
	}
	if (src->kind != CN_MAP)
		return cn_error(err, src, "the merge key '<<' needs a mapping or a list of mappings");
	for (size_t i = 0; i < src->n; i++)
		if (cn_index(m, src->keys[i]->str) < 0)
			cn_map_add(m, cn_copy(src->keys[i]), cn_copy(src->vals[i]));
	return 0;
}

static cn_t *conv_map(loader_t *ld, yaml_node_t *yn, int depth, cb_error_t *err)
{
	cn_t *m = cn_new(CN_MAP, ld->file, (int)yn->start_mark.line + 1,
			 (int)yn->start_mark.column + 1);
	cn_t *merges = cn_new(CN_SEQ, ld->file, m->line, m->col);
	for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
		cn_t *k = kn ? conv(ld, kn, false, depth + 1, err) : NULL;
		if (!k)
			goto fail;
		if (k->kind != CN_SCALAR) {
			cn_error(err, k, "a mapping key must be a string");
			cn_free(k);
			goto fail;
		}
		cn_t *v = vn ? conv(ld, vn, true, depth + 1, err) : NULL;
		if (!v) {
			cn_free(k);
			goto fail;
		}
		if (k->plain && !strcmp(k->str, "<<")) {
			cn_free(k);
			cn_seq_add(merges, v);
			continue;
		}
		if (cn_index(m, k->str) >= 0) {
			cn_error(err, k, "duplicate key '%s'", k->str);
			cn_free(k);
			cn_free(v);
			goto fail;
		}
		cn_map_add(m, k, v);
	}
	for (size_t i = 0; i < merges->n; i++)
		if (apply_merge_key(m, merges->vals[i], err) < 0)
			goto fail;
	cn_free(merges);
	return m;
fail:
	cn_free(merges);
	cn_free(m);
	return NULL;
}

static cn_t *conv(loader_t *ld, yaml_node_t *yn, bool value, int depth, cb_error_t *err)
{
	if (depth > CN_MAX_DEPTH || ++ld->count > CN_MAX_NODES) {
		cb_error_fail(err, E2BIG, "%s:%d:%d: document too deep or too large (aliases?)",
			      ld->file, (int)yn->start_mark.line + 1, (int)yn->start_mark.column + 1);
		return NULL;
	}
	cn_t *n = NULL;
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		n = conv_scalar(ld, yn, value, err);
		break;
	case YAML_MAPPING_NODE:
		n = conv_map(ld, yn, depth, err);
		break;
	case YAML_SEQUENCE_NODE:
		n = cn_new(CN_SEQ, ld->file, (int)yn->start_mark.line + 1,
			   (int)yn->start_mark.column + 1);
		for (yaml_node_item_t *it = yn->data.sequence.items.start;
		     it < yn->data.sequence.items.top; it++) {
			yaml_node_t *in = yaml_document_get_node(ld->doc, *it);
			cn_t *c = in ? conv(ld, in, true, depth + 1, err) : NULL;
			if (!c) {
				cn_free(n);
				return NULL;
			}
			cn_seq_add(n, c);
		}
		break;
	default:
		cb_error_fail(err, EINVAL, "%s: unexpected YAML node", ld->file);
		return NULL;
	}
	if (n)
		n->tag = node_tag(yn);
	return n;
}

int cn_load(const char *file, const char *data, size_t len, char *const *env, char ***unset,
	    cn_t **out, cb_error_t *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return cb_error_fail(err, ENOMEM, "%s: cannot initialise the YAML parser", file);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *mk = parser.problem ? &parser.problem_mark : &parser.context_mark;
		int rc = cb_error_fail(err, EINVAL, "%s:%d:%d: YAML syntax error: %s%s%s", file,
				       (int)mk->line + 1, (int)mk->column + 1,
				       parser.problem ? parser.problem : "invalid document",
				       parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return rc;
	}
	int rc = 0;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	*out = NULL;
	if (root) {
		loader_t ld = {.doc = &doc, .file = file, .env = env, .unset = unset};
		*out = conv(&ld, root, true, 0, err);
		rc = *out ? 0 : -1;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- merging several files ---- */

typedef enum mctx {
	M_GENERIC, M_TOP, M_SERVICES, M_SERVICE, M_BUILD, M_HEALTH,
} mctx_t;

static bool cn_equal(const cn_t *a, const cn_t *b)
{
	if (a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == CN_SCALAR)
		return !strcmp(a->str, b->str);
	for (size_t i = 0; i < a->n; i++) {
		if (a->keys && strcmp(a->keys[i]->str, b->keys[i]->str))
			return false;
		if (!cn_equal(a->vals[i], b->vals[i]))
			return false;
	}
	return true;
}

/* A list of "K=V" (or "K:V" with sep ':') or a map, as a map. Consumes n. */
static cn_t *to_map(cn_t *n, bool colon_too)
{
	if (n->kind != CN_SEQ)
		return n;
	for (size_t i = 0; i < n->n; i++)
		if (n->vals[i]->kind != CN_SCALAR)
			return n; /* a bad shape: the model reports it */
	cn_t *m = cn_new(CN_MAP, n->file, n->line, n->col);
	m->tag = n->tag;
	for (size_t i = 0; i < n->n; i++) {
		cn_t *it = n->vals[i];
		char *s = it->str;
		char *sep = strchr(s, '=');
		if (!sep && colon_too)
			sep = strchr(s, ':');
		cn_t *k = cn_new(CN_SCALAR, it->file, it->line, it->col);
		cn_t *v = cn_new(CN_SCALAR, it->file, it->line, it->col);
		if (sep) {
			k->str = cb_xstrndup(s, (size_t)(sep - s));
			v->str = cb_xstrdup(sep + 1);
		} else {
			k->str = cb_xstrdup(s);
			v->str = cb_xstrdup("");
			v->plain = true; /* null: take it from the environment */
		}
		ssize_t at = cn_index(m, k->str);
		if (at >= 0)
			cn_del_at(m, (size_t)at);
		cn_map_add(m, k, v);
	}
	cn_free(n);
	return m;
}

/* depends_on: [a, b] -> {a: null, b: null} */
static cn_t *deps_to_map(cn_t *n)
{
	if (n->kind != CN_SEQ)
		return n;
	cn_t *m = cn_new(CN_MAP, n->file, n->line, n->col);
	for (size_t i = 0; i < n->n; i++) {
		if (n->vals[i]->kind != CN_SCALAR || cn_index(m, n->vals[i]->str) >= 0)
			continue;
		cn_t *v = cn_new_scalar(NULL, n->vals[i]);
		cn_map_add(m, cn_copy(n->vals[i]), v);
	}
	cn_free(n);
	return m;
}

/* The container path a service volume entry mounts on. */
static char *volume_target(const cn_t *v)
{
	if (v->kind == CN_MAP) {
		const cn_t *t = cn_get(v, "target");
		return t && t->kind == CN_SCALAR ? cb_xstrdup(t->str) : NULL;
	}
	if (v->kind != CN_SCALAR)
		return NULL;
	const char *c = strchr(v->str, ':');
	if (!c)
		return cb_xstrdup(v->str);
	const char *e = strchr(c + 1, ':');
	return e ? cb_xstrndup(c + 1, (size_t)(e - c - 1)) : cb_xstrdup(c + 1);
}

static cn_t *merge_volumes(cn_t *b, cn_t *o)
{
	for (size_t i = 0; i < o->n; i++) {
		_cleanup_free_ char *t = volume_target(o->vals[i]);
		bool replaced = false;
		for (size_t j = 0; t && j < b->n && !replaced; j++) {
			_cleanup_free_ char *bt = volume_target(b->vals[j]);
			if (bt && !strcmp(bt, t)) {
				cn_free(b->vals[j]);
				b->vals[j] = o->vals[i];
				replaced = true;
			}
		}
		if (!replaced)
			cn_seq_add(b, o->vals[i]);
		o->vals[i] = NULL;
	}
	o->n = 0;
	cn_free(o);
	return b;
}

static cn_t *append_unique(cn_t *b, cn_t *o)
{
	for (size_t i = 0; i < o->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < b->n && !dup; j++)
			dup = cn_equal(b->vals[j], o->vals[i]);
		if (dup) {
			cn_free(o->vals[i]);
		} else {
			cn_seq_add(b, o->vals[i]);
		}
		o->vals[i] = NULL;
	}
	o->n = 0;
	cn_free(o);
	return b;
}

static cn_t *merge_node(cn_t *b, cn_t *o, mctx_t ctx);

static mctx_t child_ctx(mctx_t ctx, const char *key)
{
	switch (ctx) {
	case M_TOP: return !strcmp(key, "services") ? M_SERVICES : M_GENERIC;
	case M_SERVICES: return M_SERVICE;
	case M_SERVICE:
		if (!strcmp(key, "build"))
			return M_BUILD;
		if (!strcmp(key, "healthcheck"))
			return M_HEALTH;
		return M_GENERIC;
	default: return M_GENERIC;
	}
}

/* Service (and build) fields with their own merge rule; NULL = generic. */
static cn_t *merge_field(cn_t *b, cn_t *o, mctx_t ctx, const char *key, bool *done)
{
	*done = true;
	if (ctx == M_SERVICE) {
		if (!strcmp(key, "command") || !strcmp(key, "entrypoint")) {
			cn_free(b);
			return o;
		}
		if (!strcmp(key, "environment") || !strcmp(key, "labels") ||
		    !strcmp(key, "annotations") || !strcmp(key, "sysctls"))
			return merge_node(to_map(b, false), to_map(o, false), M_GENERIC);
		if (!strcmp(key, "extra_hosts"))
			return merge_node(to_map(b, true), to_map(o, true), M_GENERIC);
		if (!strcmp(key, "depends_on"))
			return merge_node(deps_to_map(b), deps_to_map(o), M_GENERIC);
		if (!strcmp(key, "volumes") && b->kind == CN_SEQ && o->kind == CN_SEQ)
			return merge_volumes(b, o);
		if (!strcmp(key, "build")) {
			if (b->kind == CN_SCALAR) {
				cn_t *m = cn_new(CN_MAP, b->file, b->line, b->col);
				cn_map_add(m, cn_new_scalar("context", b), b);
				b = m;
			}
			if (o->kind == CN_SCALAR) {
				cn_t *m = cn_new(CN_MAP, o->file, o->line, o->col);
				cn_map_add(m, cn_new_scalar("context", o), o);
				o = m;
			}
			return merge_node(b, o, M_BUILD);
		}
	} else if (ctx == M_BUILD) {
		if (!strcmp(key, "args") || !strcmp(key, "labels"))
			return merge_node(to_map(b, false), to_map(o, false), M_GENERIC);
	} else if (ctx == M_HEALTH && !strcmp(key, "test")) {
		cn_free(b);
		return o;
	}
	*done = false;
	return NULL;
}

static cn_t *merge_node(cn_t *b, cn_t *o, mctx_t ctx)
{
	if (o->tag == CN_TAG_OVERRIDE || b->kind != o->kind || o->kind == CN_SCALAR) {
		cn_free(b);
		return o;
	}
	if (o->kind == CN_SEQ)
		return append_unique(b, o);
	for (size_t i = 0; i < o->n; i++) {
		const char *key = o->keys[i]->str;
		ssize_t at = cn_index(b, key);
		cn_t *ov = o->vals[i];
		o->vals[i] = NULL;
		if (ov->tag == CN_TAG_RESET) {
			if (at >= 0)
				cn_del_at(b, (size_t)at);
			cn_free(ov);
			continue;
		}
		if (at < 0) {
			cn_map_add(b, o->keys[i], ov);
			o->keys[i] = NULL;
			continue;
		}
		bool done = false, override = ov->tag == CN_TAG_OVERRIDE; /* ov is consumed below */
		cn_t *bv = b->vals[at];
		cn_t *r = override ? NULL : merge_field(bv, ov, ctx, key, &done);
		if (override) {
			cn_free(bv);
			r = ov;
		} else if (!done) {
			r = merge_node(bv, ov, child_ctx(ctx, key));
		}
		b->vals[at] = r;
	}
	for (size_t i = 0; i < o->n; i++)
		cn_free(o->keys[i]);
	o->n = 0;
	cn_free(o);
	return b;
}

void cn_merge_top(cn_t *base, cn_t *over)
{
	cn_t *r = merge_node(base, over, M_TOP);
	(void)r; /* both are maps: the result is base itself */
}
