/*
 * parser/plan.c - tree -> build plan: stages, ARG/ENV scoping, expansion,
 * per-instruction flags and arguments, target selection.
 *
 * Every stage of the file is built (so that syntax errors anywhere are
 * reported, as BuildKit does), then only the stages the target needs are
 * kept. Expansion errors count only in the stages that are kept, because
 * BuildKit never expands the others.
 */
#include "parser/plan.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/internal.h"
#include "parser/plan_internal.h"

/* ---- global ARGs ---- */

static void split_platform(const char *pl, char **os, char **arch, char **variant)
{
	const char *s1 = strchr(pl, '/');
	*os = s1 ? cb_xstrndup(pl, (size_t)(s1 - pl)) : cb_xstrdup(pl);
	const char *a = s1 ? s1 + 1 : "";
	const char *s2 = strchr(a, '/');
	*arch = s2 ? cb_xstrndup(a, (size_t)(s2 - a)) : cb_xstrdup(a);
	*variant = cb_xstrdup(s2 ? s2 + 1 : "");
}

static void set_platform_args(struct df_plan_priv *pv)
{
	const char *pre[2] = {"BUILD", "TARGET"};
	const char *pl[2] = {pv->bplat, pv->tplat};
	for (int i = 0; i < 2; i++) {
		char *os, *arch, *var;
		split_platform(pl[i], &os, &arch, &var);
		char k[32];
		snprintf(k, sizeof(k), "%sPLATFORM", pre[i]);
		df_strv_set(&pv->meta_env, k, pl[i]);
		snprintf(k, sizeof(k), "%sOS", pre[i]);
		df_strv_set(&pv->meta_env, k, os);
		snprintf(k, sizeof(k), "%sARCH", pre[i]);
		df_strv_set(&pv->meta_env, k, arch);
		snprintf(k, sizeof(k), "%sVARIANT", pre[i]);
		df_strv_set(&pv->meta_env, k, var);
		free(os);
		free(arch);
		free(var);
	}
}

static int global_arg(ctx_t *c, const df_node_t *n)
{
	struct df_plan_priv *pv = c->pv;
	nctx_t nc = {.c = c, .t = c->t, .n = n};
	if (df_no_flags(&nc) < 0)
		return -1;
	if (n->n_args == 0)
		return nerr(&nc, "ARG requires at least one argument");
	for (size_t i = 0; i < n->n_args; i++) {
		const char *w = n->args[i];
		const char *eq = strchr(w, '=');
		_cleanup_free_ char *key = eq ? cb_xstrndup(w, (size_t)(eq - w)) : cb_xstrdup(w);
		if (!*key)
			return nerr(&nc, "ARG names can not be blank");
		pv->meta_declared = cb_strv_push(pv->meta_declared, key);
		df_consume_arg(pv, key);
		const char *ba = df_build_arg(pv, key);
		if (ba) {
			df_strv_set(&pv->meta_env, key, ba);
		} else if (eq) {
			_cleanup_free_ char *v = NULL;
			cb_error_t e = CB_ERROR_INIT;
			if (df_expand(eq + 1, pv->meta_env, pv->xflags, &v, &e) < 0) {
				nerr(&nc, "%s", e.msg);
				cb_error_release(&e);
				return -1;
			}
			df_strv_set(&pv->meta_env, key, v);
		}
	}
	return 0;
}

/* ---- order, target ---- */

static int visit(ctx_t *c, int idx, int *mark, int *order, size_t *no)
{
	if (mark[idx] == 2)
		return 0;
	stage_src_t *ss = &c->pv->src[idx];
	if (mark[idx] == 1) {
		const df_stage_t *st = &ss->st;
		return df_error_at(c->t, st->line, 1, c->err,
				   "circular dependency detected on stage: %s",
				   st->name ? st->name : "(unnamed)");
	}
	mark[idx] = 1;
	/* deps in index order for a stable plan */
	df_stage_t *st = &ss->st;
	int *d = cb_xmalloc((st->n_deps + 1) * sizeof(int));
	if (st->n_deps)
		memcpy(d, st->deps, st->n_deps * sizeof(int));
	for (size_t i = 1; i < st->n_deps; i++)
		for (size_t j = i; j > 0 && d[j - 1] > d[j]; j--) {
			int x = d[j];
			d[j] = d[j - 1];
			d[j - 1] = x;
		}
	for (size_t i = 0; i < st->n_deps; i++) {
		if (visit(c, d[i], mark, order, no) < 0) {
			free(d);
			return -1;
		}
	}
	free(d);
	mark[idx] = 2;
	order[(*no)++] = idx;
	return 0;
}

static int find_target(ctx_t *c, const char *target, int *out)
{
	struct df_plan_priv *pv = c->pv;
	if (!target || !*target) {
		*out = (int)pv->n_src - 1;
		return 0;
	}
	for (size_t i = 0; i < pv->n_src; i++)
		if (pv->src[i].st.name && !strcasecmp(pv->src[i].st.name, target)) {
			*out = (int)i;
			return 0;
		}
	const char *best = NULL;
	size_t bd = 99;
	for (size_t i = 0; i < pv->n_src; i++) {
		if (!pv->src[i].st.name)
			continue;
		size_t d = df_edit_distance(target, pv->src[i].st.name);
		if (d < bd) {
			bd = d;
			best = pv->src[i].st.name;
		}
	}
	if (best && bd <= 2)
		return cb_error_set(c->err, 0,
				    "%s: target stage \"%s\" could not be found (did you mean \"%s\"?)",
				    c->t->name, target, best);
	return cb_error_set(c->err, 0, "%s: target stage \"%s\" could not be found",
			    c->t->name, target);
}

static void number_steps(df_plan_t *p)
{
	int n = 0;
	for (size_t i = 0; i < p->n_stages; i++) {
		df_stage_t *st = &p->stages[i];
		st->number = ++n;
		for (size_t k = 0; k < st->n_steps; k++)
			st->steps[k].number = ++n;
	}
	p->total_steps = n;
}

static void priv_free(struct df_plan_priv *pv)
{
	if (!pv)
		return;
	for (size_t i = 0; i < pv->n_src; i++) {
		stage_src_t *ss = &pv->src[i];
		for (size_t t = 0; t < ss->n_triggers; t++)
			df_tree_free(ss->triggers[t]);
		free(ss->triggers);
		for (size_t t = 0; t < ss->n_inherited; t++)
			df_tree_free(ss->inherited[t]);
		free(ss->inherited);
		cb_strv_free(ss->cfg_env);
		cb_strv_free(ss->cfg_shell);
		free(ss->cfg_workdir);
		free(ss->cfg_user);
		df_sstate_release(&ss->end);
		cb_error_release(&ss->soft);
		cb_strv_free(ss->consumed);
		df_stage_release(&ss->st);
	}
	free(pv->src);
	for (size_t i = 0; i < pv->n_names; i++)
		free(pv->names[i].name);
	free(pv->names);
	df_tree_free(pv->owned_tree);
	cb_strv_free(pv->build_args);
	cb_strv_free(pv->meta_env);
	cb_strv_free(pv->meta_declared);
	cb_strv_free(pv->consumed);
	free(pv->bplat);
	free(pv->tplat);
	free(pv);
}

void df_plan_free(df_plan_t *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_stages; i++)
		df_stage_release(&p->stages[i]);
	free(p->stages);
	cb_strv_free(p->global_args);
	priv_free(p->priv);
	free(p);
}

const df_stage_t *df_plan_stage(const df_plan_t *p, int index)
{
	for (size_t i = 0; p && i < p->n_stages; i++)
		if (p->stages[i].index == index)
			return &p->stages[i];
	return NULL;
}

/* Build every stage, keeping each stage's error for later: only errors in
 * the stages the target needs (or non-expansion errors anywhere) count. */
static void build_all(ctx_t *c)
{
	struct df_plan_priv *pv = c->pv;
	cb_error_t *saved = c->err;
	for (size_t i = 0; i < pv->n_src; i++) {
		cb_error_t e = CB_ERROR_INIT;
		c->err = &e;
		c->expansion_failed = false;
		if (df_build_stage(c, (int)i) < 0) {
			cb_error_move(&pv->src[i].soft, &e);
			pv->src[i].soft_expansion = c->expansion_failed;
		}
	}
	c->err = saved;
}

/* The error that stops the plan, if any: one in a stage the target needs,
 * or one that is not expansion in any stage (BuildKit parses them all).
 * keep_expansion: leave needed stages' expansion errors (a base image's Env,
 * not known yet, may define the variable). */
static int first_error(ctx_t *c, const int *mark, const int *order, size_t no,
		       bool keep_expansion)
{
	struct df_plan_priv *pv = c->pv;
	for (size_t i = 0; i < no; i++) {
		stage_src_t *ss = &pv->src[order[i]];
		if (cb_error_is_set(&ss->soft) && !(keep_expansion && ss->soft_expansion)) {
			cb_error_move(c->err, &ss->soft);
			return -1;
		}
	}
	for (size_t i = 0; i < pv->n_src; i++) {
		if (cb_error_is_set(&pv->src[i].soft) && !mark[i] && !pv->src[i].soft_expansion) {
			cb_error_move(c->err, &pv->src[i].soft);
			return -1;
		}
	}
	return 0;
}

/* Stage idx again, now that its base's config is known, and every needed
 * stage built FROM it (they start from its end state). */
static int rebuild(ctx_t *c, int idx, const int *mark)
{
	struct df_plan_priv *pv = c->pv;
	if (df_build_stage(c, idx) < 0)
		return -1;
	for (size_t i = 0; i < pv->n_src; i++) {
		const df_stage_t *st = &pv->src[i].st;
		if (mark[i] && st->base_kind == DF_BASE_STAGE && st->base_stage == idx &&
		    rebuild(c, (int)i, mark) < 0)
			return -1;
	}
	return 0;
}

/* Take a base image's config into stage idx: its Env, WorkingDir, Shell
 * and User start the stage, its ONBUILD triggers run first. */
static int take_config(ctx_t *c, int idx, const df_base_config_t *cfg)
{
	stage_src_t *ss = &c->pv->src[idx];
	const df_node_t *fn = &c->t->nodes[ss->from_node];
	size_t ntrig = cb_strv_len(cfg->onbuild);
	ss->triggers = cb_xcalloc(ntrig + 1, sizeof(df_tree_t *));
	for (size_t i = 0; i < ntrig; i++) {
		if (df_parse_trigger(c->t, fn, cfg->onbuild[i], &ss->triggers[i], c->err) < 0)
			return -1;
		ss->n_triggers++;
	}
	ss->has_cfg = true;
	ss->cfg_env = cb_strv_dup(cfg->env);
	ss->cfg_shell = cfg->shell ? cb_strv_dup(cfg->shell) : NULL;
	ss->cfg_workdir = cfg->workdir ? cb_xstrdup(cfg->workdir) : NULL;
	ss->cfg_user = cfg->user ? cb_xstrdup(cfg->user) : NULL;
	return 0;
}

/* One base image the target needs, not asked for yet, in dependency
 * order: ask the resolver, rebuild with its config. 1 = one was resolved
 * (the needed stages may have changed: look again), 0 = none left. */
static int resolve_next(ctx_t *c, const df_base_resolver_t *r, bool *asked)
{
	struct df_plan_priv *pv = c->pv;
	int *mark = cb_xcalloc(pv->n_src, sizeof(int));
	int *order = cb_xcalloc(pv->n_src, sizeof(int));
	size_t no = 0;
	int rc = -1;
	if (visit(c, pv->target, mark, order, &no) < 0 || first_error(c, mark, order, no, true) < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; i < no && rc == 0; i++) {
		int idx = order[i];
		stage_src_t *ss = &pv->src[idx];
		if (asked[idx] || ss->st.base_kind != DF_BASE_IMAGE)
			continue;
		asked[idx] = true;
		df_base_config_t cfg = {0};
		int k = r->resolve(r->ctx, &ss->st, &cfg, c->err);
		if (k < 0 || (k > 0 && (take_config(c, idx, &cfg) < 0 || rebuild(c, idx, mark) < 0)))
			rc = -1;
		else
			rc = k > 0 ? 1 : 0;
	}
out:
	free(mark);
	free(order);
	return rc;
}

/* Every base image the target needs, before the plan exists: the plan is
 * then final, and never changes while the build runs it. */
static int resolve_bases(ctx_t *c, const df_base_resolver_t *r)
{
	if (!r->resolve)
		return 0;
	bool *asked = cb_xcalloc(c->pv->n_src + 1, sizeof(bool));
	int rc;
	while ((rc = resolve_next(c, r, asked)) > 0)
		;
	free(asked);
	return rc;
}

static int finish(ctx_t *c, char ***warnings)
{
	struct df_plan_priv *pv = c->pv;
	df_plan_t *p = c->p;
	/* Needed stages, dependency order. */
	int *mark = cb_xcalloc(pv->n_src, sizeof(int));
	int *order = cb_xcalloc(pv->n_src, sizeof(int));
	size_t no = 0;
	/* Any error in a needed stage stops us; errors in other stages are
	 * syntax errors only if the stage's FROM itself is broken. */
	int rc = -1;
	if (visit(c, pv->target, mark, order, &no) < 0 || first_error(c, mark, order, no, false) < 0)
		goto out;
	p->stages = cb_xcalloc(no ? no : 1, sizeof(df_stage_t));
	p->n_stages = no;
	for (size_t i = 0; i < pv->n_src; i++)
		pv->src[i].slot = -1;
	for (size_t i = 0; i < no; i++) {
		stage_src_t *ss = &pv->src[order[i]];
		p->stages[i] = ss->st;
		memset(&ss->st, 0, sizeof(ss->st));
		ss->slot = (int)i;
	}
	p->target = pv->target;
	p->n_total_stages = (int)pv->n_src;
	for (size_t i = 0; i < no; i++) {
		char **cv = pv->src[order[i]].consumed;
		for (size_t k = 0; cv && cv[k]; k++)
			if (!df_strv_contains(pv->consumed, cv[k]))
				pv->consumed = cb_strv_push(pv->consumed, cv[k]);
	}
	number_steps(p);
	/* Unused build args. */
	if (warnings) {
		cb_buf_t b;
		cb_buf_init(&b);
		for (size_t i = 0; pv->build_args && pv->build_args[i]; i++) {
			const char *eq = strchr(pv->build_args[i], '=');
			_cleanup_free_ char *k = cb_xstrndup(pv->build_args[i],
							     (size_t)(eq - pv->build_args[i]));
			if (df_arg_never_unused(k) || df_strv_contains(pv->consumed, k))
				continue;
			bool dup = false;
			for (size_t j = 0; j < i; j++)
				if (!strncmp(pv->build_args[j], pv->build_args[i],
					     (size_t)(eq - pv->build_args[i]) + 1))
					dup = true;
			if (dup)
				continue;
			cb_buf_addf(&b, "%s%s", b.len ? " " : "", k);
		}
		if (b.len)
			*warnings = cb_strv_push_take(
				*warnings,
				cb_asprintf("one or more build-args were not consumed: [%s]", b.data));
		cb_buf_release(&b);
		if (c->t->warnings)
			for (size_t i = 0; c->t->warnings[i]; i++)
				*warnings = cb_strv_push(*warnings, c->t->warnings[i]);
	}
	rc = 0;
out:
	free(mark);
	free(order);
	return rc;
}

int df_plan_build(const df_tree_t *tree, const df_plan_opts_t *opts, df_plan_t **out,
		  char ***warnings, cb_error_t *err)
{
	df_plan_opts_t none = {0};
	if (!opts)
		opts = &none;
	df_plan_t *p = cb_xcalloc(1, sizeof(*p));
	struct df_plan_priv *pv = cb_xcalloc(1, sizeof(*pv));
	p->priv = pv;
	p->tree = tree;
	ctx_t c = {.p = p, .pv = pv, .t = tree, .err = err};
	pv->xflags = tree->escape == '`' ? DF_EXPAND_ESCAPE_BACKTICK : 0;
	pv->bplat = cb_xstrdup(opts->platform.build_platform ? opts->platform.build_platform
							     : "linux/amd64");
	pv->tplat = cb_xstrdup(opts->platform.target_platform ? opts->platform.target_platform
							      : pv->bplat);
	for (size_t i = 0; opts->build_args && opts->build_args[i]; i++) {
		const char *a = opts->build_args[i];
		const char *eq = strchr(a, '=');
		if (!eq)
			continue;
		_cleanup_free_ char *k = cb_xstrndup(a, (size_t)(eq - a));
		df_strv_set(&pv->build_args, k, eq + 1);
	}
	set_platform_args(pv);
	char **warn = NULL;
	/* Global ARGs, then the stages' node ranges. */
	size_t i = 0;
	for (; i < tree->n_nodes && strcmp(tree->nodes[i].cmd, "from"); i++) {
		const df_node_t *n = &tree->nodes[i];
		if (strcmp(n->cmd, "arg")) {
			df_error_at(tree, n->line, n->column, err,
				    "%s before the first FROM: only ARG may come before FROM "
				    "(no build stage in the current context)",
				    df_upper_cmd(n));
			goto fail;
		}
		if (global_arg(&c, n) < 0)
			goto fail;
	}
	if (i == tree->n_nodes) {
		df_error_at(tree, tree->n_nodes ? tree->nodes[tree->n_nodes - 1].line : 1, 0, err,
			    "no FROM instruction: a Dockerfile needs at least one build stage");
		goto fail;
	}
	p->global_args = cb_strv_dup(pv->meta_env);
	for (; i < tree->n_nodes; i++) {
		if (strcmp(tree->nodes[i].cmd, "from"))
			continue;
		pv->src = cb_xreallocarray(pv->src, pv->n_src + 1, sizeof(stage_src_t));
		stage_src_t *ss = &pv->src[pv->n_src++];
		memset(ss, 0, sizeof(*ss));
		ss->from_node = i;
		ss->first = i + 1;
		size_t j = i + 1;
		while (j < tree->n_nodes && strcmp(tree->nodes[j].cmd, "from"))
			j++;
		ss->last = j;
		ss->slot = -1;
	}
	df_index_stage_names(&c);
	build_all(&c);
	if (find_target(&c, opts->target, &pv->target) < 0)
		goto fail;
	if (resolve_bases(&c, &opts->base) < 0)
		goto fail;
	if (finish(&c, &warn) < 0)
		goto fail;
	*out = p;
	if (warnings)
		*warnings = warn;
	else
		cb_strv_free(warn);
	return 0;
fail:
	cb_strv_free(warn);
	df_plan_free(p);
	return -1;
}

int df_plan_from_bytes(const char *name, const char *data, size_t len, const df_plan_opts_t *opts,
		       df_plan_t **out, char ***warnings, cb_error_t *err)
{
	df_tree_t *t = NULL;
	if (df_parse(name, data, len, &t, err) < 0)
		return -1;
	if (df_plan_build(t, opts, out, warnings, err) < 0) {
		df_tree_free(t);
		return -1;
	}
	(*out)->priv->owned_tree = t;
	return 0;
}
