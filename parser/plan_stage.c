/*
 * parser/plan_stage.c - FROM, stage references, and building a stage:
 * its state, ONBUILD triggers, and the instruction table's dispatch.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "parser/internal.h"
#include "parser/plan_internal.h"

/* ---- stage references ---- */

/* The `AS name` of stage i as written, NULL if none. */
static const char *stage_name(ctx_t *c, size_t i)
{
	const df_node_t *n = &c->t->nodes[c->pv->src[i].from_node];
	return n->n_args == 3 ? n->args[2] : NULL;
}

static int cmp_name_ix(const void *a, const void *b)
{
	const name_ix_t *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	return r ? r : x->idx - y->idx;
}

static char *lower_dup(const char *s)
{
	char *d = cb_xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Sorted (name, index) table: a file may have hundreds of stages. */
void df_index_stage_names(ctx_t *c)
{
	struct df_plan_priv *pv = c->pv;
	pv->names = cb_xcalloc(pv->n_src + 1, sizeof(name_ix_t));
	for (size_t i = 0; i < pv->n_src; i++) {
		const char *sn = stage_name(c, i);
		if (sn)
			pv->names[pv->n_names++] = (name_ix_t){lower_dup(sn), (int)i};
	}
	qsort(pv->names, pv->n_names, sizeof(name_ix_t), cmp_name_ix);
}

/* First stage with that name (case-insensitive), -1 if none. */
static int find_stage_by_name(ctx_t *c, const char *name)
{
	struct df_plan_priv *pv = c->pv;
	name_ix_t key = {lower_dup(name), -1};
	size_t lo = 0, hi = pv->n_names;
	while (lo < hi) { /* first entry >= key */
		size_t mid = (lo + hi) / 2;
		if (cmp_name_ix(&pv->names[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	int r = lo < pv->n_names && !strcmp(pv->names[lo].name, key.name) ? pv->names[lo].idx : -1;
	free(key.name);
	return r;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A plausible image reference (lower-case name components, optional host,
 * tag, digest), used to tell a mistyped stage name from an image. */
/* Docker's reference grammar, loosely: [host[:port]/]name[:tag][@algo:hex]
 * with lower-case name components. Used to reject "alpine:" and to tell a
 * mistyped stage name from an image. */
static bool looks_like_image(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);
	if (at) {
		const char *colon = strchr(at + 1, ':');
		if (!colon || colon == at + 1 || !colon[1])
			return false;
		for (const char *p = colon + 1; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return false;
	}
	if (n == 0)
		return false;
	/* the tag: after the last ':' that follows the last '/' */
	size_t name_end = n;
	for (size_t i = n; i > 0; i--) {
		if (s[i - 1] == '/')
			break;
		if (s[i - 1] == ':') {
			name_end = i - 1;
			size_t tl = n - i;
			if (tl == 0 || tl > 128)
				return false;
			for (size_t k = i; k < n; k++) {
				unsigned char ch = (unsigned char)s[k];
				if (!(isalnum(ch) || ch == '_' || (k > i && (ch == '.' || ch == '-'))))
					return false;
			}
			break;
		}
	}
	if (name_end == 0)
		return false;
	/* the first component may be a registry host (dots, port, capitals) */
	size_t start = 0;
	const char *slash = memchr(s, '/', name_end);
	if (slash) {
		size_t hl = (size_t)(slash - s);
		bool host = false;
		for (size_t k = 0; k < hl; k++)
			if (s[k] == '.' || s[k] == ':' || isupper((unsigned char)s[k]))
				host = true;
		if (hl == 9 && !strncmp(s, "localhost", 9))
			host = true;
		if (host) {
			for (size_t k = 0; k < hl; k++) {
				unsigned char ch = (unsigned char)s[k];
				if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == ':'))
					return false;
			}
			start = hl + 1;
		}
	}
	if (start >= name_end)
		return false;
	/* path components: [a-z0-9]+ joined by '.', '_', '__', '-'+ */
	bool need_alnum = true;
	for (size_t k = start; k < name_end; k++) {
		unsigned char ch = (unsigned char)s[k];
		if (islower(ch) || isdigit(ch)) {
			need_alnum = false;
		} else if (ch == '/' || ch == '.' || ch == '_' || ch == '-') {
			if (need_alnum && ch != '_' && ch != '-')
				return false;
			if (need_alnum && k > start && s[k - 1] == '/')
				return false;
			need_alnum = true;
		} else {
			return false;
		}
	}
	return !need_alnum;
}

void df_stage_add_dep(df_stage_t *st, int d)
{
	for (size_t i = 0; i < st->n_deps; i++)
		if (st->deps[i] == d)
			return;
	st->deps = cb_xreallocarray(st->deps, st->n_deps + 1, sizeof(int));
	st->deps[st->n_deps++] = d;
}

/* Resolve a --from value: stage index, or -1 for an image. */
int df_resolve_from(bstate_t *b, nctx_t *nc, const char *v, int col, int *stage)
{
	*stage = -1;
	int idx = -1;
	if (all_digits(v)) {
		idx = atoi(v);
		if (strlen(v) > 6 || idx >= (int)b->c->pv->n_src)
			return df_nerr_col(nc, col, "invalid stage index %s in --from", v);
	} else {
		idx = find_stage_by_name(b->c, v);
	}
	if (idx == b->index)
		return df_nerr_col(nc, col, "%s --from=%s refers to the stage it is in",
				   df_upper_cmd(nc->n), v);
	if (idx >= 0) {
		*stage = idx;
		return 0;
	}
	if (!looks_like_image(v)) {
		/* near miss of a stage name? */
		const char *best = NULL;
		size_t bd = 99;
		for (size_t i = 0; i < b->c->pv->n_src; i++) {
			const char *sn = stage_name(b->c, i);
			if (sn) {
				size_t d = df_edit_distance(v, sn);
				if (d < bd) {
					bd = d;
					best = sn;
				}
			}
		}
		if (best && bd <= 2)
			return df_nerr_col(nc, col,
					   "%s --from=%s: no stage or image named \"%s\" (did you mean "
					   "\"%s\"?)",
					   df_upper_cmd(nc->n), v, v, best);
		return df_nerr_col(nc, col, "%s --from=%s: no stage or image named \"%s\"",
				   df_upper_cmd(nc->n), v, v);
	}
	return 0;
}

/* The table's dispatch: flags as the row allows, then its parse function. */
static int build_step(bstate_t *b, nctx_t *nc, df_stage_t *st)
{
	const df_node_t *n = nc->n;
	const df_instruction_t *in = df_instruction_lookup(n->cmd);
	if (!in)
		return nerr(nc, "unknown instruction \"%s\"", n->cmd);
	if (in->kind == DF_FROM)
		CB_BUG("FROM inside a stage");
	fdef_t f[DF_MAX_FLAGS];
	memset(f, 0, sizeof(f));
	if (in->n_flags > DF_MAX_FLAGS)
		CB_BUG("%s has more than DF_MAX_FLAGS flags", in->name);
	for (size_t i = 0; i < in->n_flags; i++) {
		f[i].name = in->flags[i].name;
		f[i].type = in->flags[i].type;
	}
	df_step_t *s = df_new_step(st, in->kind, n);
	s->workdir = cb_xstrdup(b->s.workdir ? b->s.workdir : "/");
	s->shell = cb_strv_dup(b->s.shell);
	struct df_parse_ctx pc = {.b = b, .nc = nc, .s = s, .st = st, .f = f, .nf = in->n_flags};
	int rc = df_parse_flags(nc, f, in->n_flags) < 0 ? -1 : in->parse(&pc);
	df_flags_release(f, in->n_flags);
	return rc;
}

/* ---- FROM ---- */

static bool valid_stage_name(const char *s)
{
	if (!islower((unsigned char)*s))
		return false;
	for (const char *p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
		      *p == '_' || *p == '.'))
			return false;
	return true;
}

/* Names referenced in a word that are not set in env and not guarded by a
 * default (${X:-..} / ${X-..} / ${X:+..} / ${X+..}). First one, or NULL. */
static char *undeclared_ref(const char *w, char *const *env, char *const *declared)
{
	for (const char *p = w; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p != '$')
			continue;
		const char *q = p + 1;
		bool brace = *q == '{';
		if (brace)
			q++;
		const char *ns = q;
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		if (q == ns)
			continue;
		if (brace && (q[0] == '-' || q[0] == '+' || (q[0] == ':' && (q[1] == '-' || q[1] == '+'))))
			continue;
		if (df_env_get(env, ns, (size_t)(q - ns)))
			continue;
		char *name = cb_xstrndup(ns, (size_t)(q - ns));
		if (!df_strv_contains(declared, name))
			return name;
		free(name);
	}
	return NULL;
}

static int from_error(ctx_t *c, const df_node_t *n, int col, const char *fmt, ...) CB_PRINTF(4, 5);
static int from_error(ctx_t *c, const df_node_t *n, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *m = cb_vasprintf(fmt, ap);
	va_end(ap);
	return df_error_at(c->t, n->line, col, c->err, "%s", m);
}

/* Parse the FROM of stage `idx` into st (base, name, platform). */
/* FROM IMAGE AS NAME: the name, lower case, valid and not taken. */
static int from_name(ctx_t *c, int idx, const df_node_t *n, df_stage_t *st)
{
	if (strcasecmp(n->args[1], "as"))
		return from_error(c, n, n->column,
				  "FROM requires either one or three arguments (expected \"AS\", "
				  "got \"%s\")",
				  n->args[1]);
	st->name = cb_xstrdup(n->args[2]);
	for (char *p = st->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!valid_stage_name(st->name))
		return from_error(c, n, n->column,
				  "invalid name for build stage: \"%s\", name can't start with a "
				  "number or contain symbols",
				  n->args[2]);
	int first = find_stage_by_name(c, st->name);
	if (first >= 0 && first != idx)
		return from_error(c, n, n->column, "duplicate stage name \"%s\"", st->name);
	return 0;
}

/* A word of FROM, expanded with the global ARGs only (as BuildKit). */
static int from_word(ctx_t *c, const df_node_t *n, const char *word, int col, char **out)
{
	struct df_plan_priv *pv = c->pv;
	_cleanup_free_ char *u = undeclared_ref(word, pv->meta_env, pv->meta_declared);
	if (u)
		return from_error(c, n, col,
				  "ARG \"%s\" is used in FROM but not declared before the first FROM",
				  u);
	cb_error_t e = CB_ERROR_INIT;
	if (df_expand(word, pv->meta_env, pv->xflags, out, &e) < 0) {
		from_error(c, n, col, "%s", e.msg);
		cb_error_release(&e);
		return -1;
	}
	return 0;
}

/* What the stage starts from: scratch, an earlier stage, or an image. */
static int from_base(ctx_t *c, int idx, const df_node_t *n, df_stage_t *st, char *base)
{
	if (!strcasecmp(base, "scratch")) {
		st->base_kind = DF_BASE_SCRATCH;
		free(base);
		return 0;
	}
	/* an earlier stage, by name (case-insensitive); a later one is an image */
	int ref = find_stage_by_name(c, base);
	if (ref >= idx)
		ref = -1;
	if (ref >= 0) {
		st->base_kind = DF_BASE_STAGE;
		st->base_stage = ref;
		df_stage_add_dep(st, ref);
		free(base);
		return 0;
	}
	if (!looks_like_image(base)) {
		from_error(c, n, n->args_col,
			   "invalid reference format: \"%s\" is not an image name (from \"%s\")",
			   base, n->args[0]);
		free(base);
		return -1;
	}
	st->base_kind = DF_BASE_IMAGE;
	st->base_image = base;
	return 0;
}

static int parse_from(ctx_t *c, int idx, const df_node_t *n, df_stage_t *st)
{
	nctx_t nc = {.c = c, .t = c->t, .n = n};
	const df_instruction_t *in = df_instruction(DF_FROM);
	fdef_t f[1] = {{.name = in->flags[0].name, .type = in->flags[0].type}};
	int rc = -1;
	char *base = NULL;
	st->index = idx;
	st->line = n->line;
	st->original = cb_xstrdup(n->original);
	st->base_stage = -1;
	if (df_parse_flags(&nc, f, 1) < 0)
		goto out;
	if (n->n_args != 1 && n->n_args != 3) {
		from_error(c, n, n->column, "FROM requires either one or three arguments");
		goto out;
	}
	if (n->n_args == 3 && from_name(c, idx, n, st) < 0)
		goto out;
	if (from_word(c, n, n->args[0], n->args_col, &base) < 0)
		goto out;
	if (!*base) {
		from_error(c, n, n->args_col, "base name (%s) should not be blank", n->args[0]);
		goto out;
	}
	if (f[0].used && from_word(c, n, f[0].value, f[0].col, &st->platform) < 0)
		goto out;
	rc = from_base(c, idx, n, st, cb_steal_pointer(&base));
out:
	free(base);
	df_flags_release(f, 1);
	return rc;
}

/* ---- building a stage ---- */

static void init_state(ctx_t *c, stage_src_t *ss, df_stage_t *st, sstate_t *s)
{
	memset(s, 0, sizeof(*s));
	if (st->base_kind == DF_BASE_STAGE) {
		sstate_t *pe = &c->pv->src[st->base_stage].end;
		s->env = cb_strv_dup(pe->env);
		s->workdir = pe->workdir ? cb_xstrdup(pe->workdir) : NULL;
		s->shell = cb_strv_dup(pe->shell);
		s->user = pe->user ? cb_xstrdup(pe->user) : NULL;
		s->base_unknown = pe->base_unknown;
	} else if (ss->has_cfg) {
		for (size_t i = 0; ss->cfg_env && ss->cfg_env[i]; i++) {
			const char *eq = strchr(ss->cfg_env[i], '=');
			if (!eq) {
				df_strv_set(&s->env, ss->cfg_env[i], "");
				continue;
			}
			_cleanup_free_ char *k = cb_xstrndup(ss->cfg_env[i],
							     (size_t)(eq - ss->cfg_env[i]));
			df_strv_set(&s->env, k, eq + 1);
		}
		s->workdir = ss->cfg_workdir && *ss->cfg_workdir ? cb_xstrdup(ss->cfg_workdir)
								 : cb_xstrdup("/");
		s->shell = ss->cfg_shell && ss->cfg_shell[0] ? cb_strv_dup(ss->cfg_shell) : NULL;
		s->user = ss->cfg_user ? cb_xstrdup(ss->cfg_user) : NULL;
	} else {
		s->workdir = cb_xstrdup("/");
		s->base_unknown = st->base_kind == DF_BASE_IMAGE;
	}
	if (!s->shell) {
		s->shell = cb_strv_push(NULL, "/bin/sh");
		s->shell = cb_strv_push(s->shell, "-c");
	}
	if (!s->workdir)
		s->workdir = cb_xstrdup("/");
	if (!s->env)
		s->env = cb_xcalloc(1, sizeof(char *));
}

/* Parse one ONBUILD trigger as a one-line Dockerfile; errors name the
 * FROM line of the stage that receives it. */
int df_parse_trigger(const df_tree_t *tree, const df_node_t *fn, const char *trig, df_tree_t **out,
		     cb_error_t *err)
{
	df_tree_t *tt = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (df_parse(tree->name, trig, strlen(trig), &tt, &e) < 0) {
		_cleanup_free_ char *first = df_error_first_line(&e);
		cb_error_release(&e);
		/* "NAME:L:C: msg" or "NAME:L: msg": keep the msg only */
		const char *m = first;
		for (int k = 0; k < 3 && m; k++) {
			const char *c = strchr(m, ':');
			if (!c || (k > 0 && !isdigit((unsigned char)c[-1])))
				break;
			m = c + 1;
		}
		while (m && *m == ' ')
			m++;
		return df_error_at(tree, fn->line, 0, err,
				   "ONBUILD trigger '%s' of the base image: %s", trig, m ? m : first);
	}
	for (size_t k = 0; k < tt->n_nodes; k++) {
		const df_instruction_t *in = df_instruction_lookup(tt->nodes[k].cmd);
		if (in && !in->onbuild_ok) {
			df_tree_free(tt);
			return df_error_at(tree, fn->line, 0, err,
					   "ONBUILD trigger '%s' of the base image: %s isn't allowed "
					   "as an ONBUILD trigger",
					   trig, in->name);
		}
	}
	*out = tt;
	return 0;
}

/* Build stage idx from its FROM node into ss->st. Hard errors return -1;
 * an expansion error is kept in ss->soft and the stage stays partial. */
int df_build_stage(ctx_t *c, int idx)
{
	stage_src_t *ss = &c->pv->src[idx];
	df_stage_t *st = &ss->st;
	const df_node_t *fn = &c->t->nodes[ss->from_node];
	int rc = -1;
	df_stage_release(st);
	df_sstate_release(&ss->end);
	cb_error_release(&ss->soft);
	cb_strv_free(ss->consumed);
	ss->consumed = NULL;
	c->pv->cur_consumed = &ss->consumed;
	if (parse_from(c, idx, fn, st) < 0)
		return -1;
	bstate_t b = {.c = c, .index = idx};
	init_state(c, ss, st, &b.s);
	cb_error_t *saved = c->err;
	/* A parent stage's ONBUILD triggers run here, as BuildKit does. */
	for (size_t t = 0; t < ss->n_inherited; t++)
		df_tree_free(ss->inherited[t]);
	free(ss->inherited);
	ss->inherited = NULL;
	ss->n_inherited = 0;
	if (st->base_kind == DF_BASE_STAGE) {
		char **po = c->pv->src[st->base_stage].end.onbuild;
		size_t n = cb_strv_len(po);
		ss->inherited = cb_xcalloc(n + 1, sizeof(df_tree_t *));
		for (size_t i = 0; i < n; i++) {
			if (df_parse_trigger(c->t, fn, po[i], &ss->inherited[ss->n_inherited], c->err) < 0)
				goto out;
			ss->n_inherited++;
		}
	}
	/* ONBUILD triggers first, then the stage's own instructions */
	size_t n_trig = ss->n_inherited + ss->n_triggers;
	for (size_t t = 0; t < n_trig; t++) {
		df_tree_t *tt = t < ss->n_inherited ? ss->inherited[t]
						    : ss->triggers[t - ss->n_inherited];
		for (size_t i = 0; i < tt->n_nodes; i++) {
			nctx_t nc = {.c = c, .t = tt, .n = &tt->nodes[i], .line_override = fn->line};
			size_t before = st->n_steps;
			if (build_step(&b, &nc, st) < 0)
				goto out;
			for (size_t k = before; k < st->n_steps; k++) {
				st->steps[k].from_onbuild = true;
				st->steps[k].line = fn->line;
			}
		}
	}
	for (size_t i = ss->first; i < ss->last; i++) {
		nctx_t nc = {.c = c, .t = c->t, .n = &c->t->nodes[i]};
		if (build_step(&b, &nc, st) < 0)
			goto out;
	}
	rc = 0;
out:
	c->pv->cur_consumed = NULL;
	c->err = saved;
	ss->end = b.s;
	ss->built = true;
	return rc;
}
