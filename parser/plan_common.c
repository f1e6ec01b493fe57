/*
 * parser/plan_common.c - what every instruction's parse function uses:
 * small vectors, build args, releases, positioned errors, flags, expansion.
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

const char *const df_proxy_args[DF_N_PROXY_ARGS] = {
	"HTTP_PROXY",
	"http_proxy",
	"HTTPS_PROXY",
	"https_proxy",
	"FTP_PROXY",
	"ftp_proxy",
	"NO_PROXY",
	"no_proxy",
	"ALL_PROXY",
	"all_proxy",
};

/* ---- small vectors ---- */

void df_strv_set(char ***v, const char *key, const char *val)
{
	size_t kl = strlen(key);
	for (size_t i = 0; *v && (*v)[i]; i++) {
		if (!strncmp((*v)[i], key, kl) && (*v)[i][kl] == '=') {
			free((*v)[i]);
			(*v)[i] = cb_asprintf("%s=%s", key, val);
			return;
		}
	}
	*v = cb_strv_push_take(*v, cb_asprintf("%s=%s", key, val));
}

const char *df_strv_get(char *const *v, const char *key)
{
	return df_env_get(v, key, strlen(key));
}

bool df_strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool is_proxy_arg(const char *k)
{
	for (size_t i = 0; i < DF_N_PROXY_ARGS; i++)
		if (!strcmp(df_proxy_args[i], k))
			return true;
	return false;
}

bool df_arg_never_unused(const char *k)
{
	return is_proxy_arg(k) || cb_str_has_prefix(k, "BUILDKIT_") ||
	       !strcmp(k, "SOURCE_DATE_EPOCH");
}

const char *df_build_arg(struct df_plan_priv *pv, const char *key)
{
	return df_strv_get(pv->build_args, key);
}

void df_consume_arg(struct df_plan_priv *pv, const char *key)
{
	char ***dst = pv->cur_consumed ? pv->cur_consumed : &pv->consumed;
	if (df_build_arg(pv, key) && !df_strv_contains(*dst, key))
		*dst = cb_strv_push(*dst, key);
}

/* ---- step / stage release ---- */

static void heredocs_free(df_heredoc_t *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].content);
	}
	free(h);
}

static void kvs_free(df_kv_t *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void step_release(df_step_t *s)
{
	free(s->original);
	free(s->workdir);
	cb_strv_free(s->env);
	cb_strv_free(s->args_env);
	cb_strv_free(s->shell);
	switch (df_instruction(s->kind)->shape) {
	case DF_SHAPE_RUN:
		cb_strv_free(s->u.run.argv);
		free(s->u.run.cmd);
		heredocs_free(s->u.run.heredocs, s->u.run.n_heredocs);
		for (size_t i = 0; i < s->u.run.n_files; i++) {
			free(s->u.run.files[i].path);
			free(s->u.run.files[i].content);
		}
		free(s->u.run.files);
		for (size_t i = 0; i < s->u.run.n_mounts; i++) {
			df_mount_t *m = &s->u.run.mounts[i];
			free(m->target);
			free(m->source);
			free(m->from);
			free(m->id);
			free(m->env);
		}
		free(s->u.run.mounts);
		break;
	case DF_SHAPE_COPY:
		cb_strv_free(s->u.copy.sources);
		heredocs_free(s->u.copy.inline_files, s->u.copy.n_inline_files);
		free(s->u.copy.dest);
		free(s->u.copy.from);
		free(s->u.copy.chown);
		free(s->u.copy.chmod);
		cb_strv_free(s->u.copy.exclude);
		free(s->u.copy.checksum);
		break;
	case DF_SHAPE_KV:
		kvs_free(s->u.kv.kvs, s->u.kv.n_kvs);
		break;
	case DF_SHAPE_LIST:
		cb_strv_free(s->u.list);
		break;
	case DF_SHAPE_VALUE:
		free(s->u.value);
		break;
	case DF_SHAPE_CMDLINE:
		cb_strv_free(s->u.cmd.argv);
		break;
	case DF_SHAPE_HEALTH:
		cb_strv_free(s->u.health.test);
		break;
	case DF_SHAPE_NONE:
		break;
	}
}

void df_stage_release(df_stage_t *st)
{
	for (size_t i = 0; i < st->n_steps; i++)
		step_release(&st->steps[i]);
	free(st->steps);
	free(st->name);
	free(st->base_image);
	free(st->platform);
	free(st->original);
	free(st->deps);
	cb_strv_free(st->onbuild);
	memset(st, 0, sizeof(*st));
}

void df_sstate_release(sstate_t *s)
{
	cb_strv_free(s->env);
	cb_strv_free(s->args);
	free(s->workdir);
	cb_strv_free(s->shell);
	free(s->user);
	cb_strv_free(s->onbuild);
	memset(s, 0, sizeof(*s));
}

/* ---- errors positioned on a node ---- */

int df_nerr_col(nctx_t *nc, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = cb_vasprintf(fmt, ap);
	va_end(ap);
	if (nc->line_override)
		return df_error_at(nc->c->t, nc->line_override, 0, nc->c->err,
				   "ONBUILD trigger '%s': %s", nc->n->original, msg);
	return df_error_at(nc->t, nc->n->line, col, nc->c->err, "%s", msg);
}

const char *df_upper_cmd(const df_node_t *n)
{
	const df_instruction_t *in = df_instruction_lookup(n->cmd);
	return in ? in->name : n->cmd;
}

/* ---- flags ---- */

void df_flags_release(fdef_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].value);
		cb_strv_free(f[i].values);
	}
}

int df_parse_flags(nctx_t *nc, fdef_t *defs, size_t nd)
{
	const df_node_t *n = nc->n;
	for (size_t i = 0; n->flags && n->flags[i]; i++) {
		const char *arg = n->flags[i] + 2;
		int col = n->flag_cols ? n->flag_cols[i] : n->column;
		const char *eq = strchr(arg, '=');
		size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
		fdef_t *f = NULL;
		for (size_t k = 0; k < nd; k++)
			if (strlen(defs[k].name) == nl && !strncmp(defs[k].name, arg, nl))
				f = &defs[k];
		if (!f) {
			_cleanup_free_ char *name = cb_xstrndup(arg, nl);
			const char *best = NULL;
			size_t bd = 99;
			for (size_t k = 0; k < nd; k++) {
				size_t d = df_edit_distance(name, defs[k].name);
				/* a truncated name ("--plat") is a near miss too */
				if (nl >= 3 && !strncmp(name, defs[k].name, nl))
					d = 1;
				if (d < bd) {
					bd = d;
					best = defs[k].name;
				}
			}
			if (best && bd <= 2)
				return df_nerr_col(nc, col,
						   "unknown flag --%s for %s (did you mean --%s?)", name,
						   df_upper_cmd(n), best);
			return df_nerr_col(nc, col, "unknown flag --%s for %s", name, df_upper_cmd(n));
		}
		if (f->used && f->type != DF_FLAG_STRINGS)
			return df_nerr_col(nc, col, "duplicate flag specified: --%s", f->name);
		f->used = true;
		f->col = col;
		const char *val = eq ? eq + 1 : "";
		switch (f->type) {
		case DF_FLAG_BOOL:
			if (eq && !*val)
				return df_nerr_col(nc, col, "missing a value on flag: --%s", f->name);
			if (!*val || !strcasecmp(val, "true")) {
				free(f->value);
				f->value = cb_xstrdup("true");
			} else if (!strcasecmp(val, "false")) {
				free(f->value);
				f->value = cb_xstrdup("false");
			} else {
				return df_nerr_col(nc, col, "expecting boolean value for flag --%s, not: %s",
						   f->name, val);
			}
			break;
		case DF_FLAG_STRING:
			if (!eq)
				return df_nerr_col(nc, col, "missing a value on flag: --%s", f->name);
			free(f->value);
			f->value = cb_xstrdup(val);
			break;
		case DF_FLAG_STRINGS:
			if (!eq)
				return df_nerr_col(nc, col, "missing a value on flag: --%s", f->name);
			f->values = cb_strv_push(f->values, val);
			break;
		}
	}
	return 0;
}

bool df_flag_true(const fdef_t *f)
{
	return f->used && cb_streq(f->value, "true");
}

fdef_t *df_flag_named(fdef_t *f, size_t nf, const char *name)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	CB_BUG("flag --%s is not in the table", name);
}

/* ---- expansion in a stage ---- */

/* args first, env after: ENV wins over ARG of the same name */
char **df_step_env(const bstate_t *b)
{
	size_t na = cb_strv_len(b->s.args), ne = cb_strv_len(b->s.env);
	char **v = cb_xcalloc(na + ne + 1, sizeof(char *));
	for (size_t i = 0; i < na; i++)
		v[i] = b->s.args[i];
	for (size_t i = 0; i < ne; i++)
		v[na + i] = b->s.env[i];
	return v;
}

int df_xword(bstate_t *b, nctx_t *nc, const char *word, char *const *env, unsigned extra,
	     char **out)
{
	cb_error_t e = CB_ERROR_INIT;
	if (df_expand(word, env, b->c->pv->xflags | extra, out, &e) == 0)
		return 0;
	b->c->expansion_failed = true;
	nerr(nc, "%s", e.msg);
	cb_error_release(&e);
	return -1;
}

char *df_path_join_clean(const char *base, const char *rel)
{
	_cleanup_free_ char *j = cb_asprintf("%s/%s", base ? base : "/", rel);
	return path_clean(j);
}

/* Go's path.Clean for absolute-or-relative slash paths. */
char *df_path_clean(const char *p)
{
	bool abs = p[0] == '/';
	size_t n = strlen(p);
	char **parts = cb_xcalloc(n + 2, sizeof(char *));
	size_t np = 0;
	const char *s = p;
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (l == 1 && s[0] == '.') {
			/* skip */
		} else if (l == 2 && s[0] == '.' && s[1] == '.') {
			if (np > 0 && strcmp(parts[np - 1], ".."))
				free(parts[--np]);
			else if (!abs)
				parts[np++] = cb_xstrdup("..");
		} else {
			parts[np++] = cb_xstrndup(s, l);
		}
		s += l;
	}
	cb_buf_t b;
	cb_buf_init(&b);
	if (abs)
		cb_buf_addch(&b, '/');
	for (size_t i = 0; i < np; i++) {
		if (i)
			cb_buf_addch(&b, '/');
		cb_buf_addstr(&b, parts[i]);
		free(parts[i]);
	}
	free(parts);
	if (!b.len)
		cb_buf_addch(&b, '.');
	return df_buf_take(&b, NULL);
}

/* ---- per-instruction builders ---- */

df_step_t *df_new_step(df_stage_t *st, df_kind_t k, const df_node_t *n)
{
	/* grow by doubling: a stage may have thousands of steps */
	size_t n1 = st->n_steps + 1;
	if ((n1 & (n1 - 1)) == 0 || st->n_steps == 0)
		st->steps = cb_xreallocarray(st->steps, n1 < 4 ? 4 : n1 * 2, sizeof(df_step_t));
	df_step_t *s = &st->steps[st->n_steps++];
	memset(s, 0, sizeof(*s));
	s->kind = k;
	s->line = n->line;
	s->original = cb_xstrdup(n->original);
	return s;
}

int df_need_args(nctx_t *nc, size_t min, size_t max)
{
	size_t n = nc->n->n_args;
	const char *u = df_upper_cmd(nc->n);
	if (min == 1 && max == 1 && n != 1)
		return nerr(nc, "%s requires exactly one argument", u);
	if (n < min) {
		if (min == 1)
			return nerr(nc, "%s requires at least one argument", u);
		return nerr(nc, "%s requires at least %zu arguments", u, min);
	}
	return 0;
}

bool df_valid_var_name(const char *k)
{
	return *k != '\0';
}

int df_no_flags(nctx_t *nc)
{
	return df_parse_flags(nc, NULL, 0);
}
