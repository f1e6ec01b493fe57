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

/* ---- small vectors ---- */

static void strv_set(char ***v, const char *key, const char *val)
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

static const char *strv_get(char *const *v, const char *key)
{
	return df_env_get(v, key, strlen(key));
}

static bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* ---- private state ---- */

typedef struct sstate {
	char **env;   /* ENV, one per key */
	char **args;  /* ARG KEY=VAL with a value, one per key */
	char *workdir;
	char **shell;
	char *user;
	char **onbuild; /* this stage's ONBUILD triggers, run by stages FROM it */
	bool base_unknown; /* it comes from a base image whose config was not
			    * given (df_plan_set_base_config): Env, WorkingDir,
			    * Shell and ONBUILD of that image are missing */
} sstate_t;

typedef struct stage_src {
	size_t from_node;      /* index of the FROM node */
	size_t first, last;    /* nodes after FROM: [first, last) */
	df_tree_t **triggers;  /* ONBUILD triggers given by the builder */
	size_t n_triggers;
	df_tree_t **inherited; /* ONBUILD triggers of the parent stage */
	size_t n_inherited;
	bool has_cfg;
	char **cfg_env, **cfg_shell;
	char *cfg_workdir, *cfg_user;
	sstate_t end;          /* state after the last step */
	bool built;
	char **consumed;       /* build args its ARGs consumed */
	cb_error_t soft;       /* the stage's error, fatal if needed */
	bool soft_expansion;   /* ... and it came from expanding a word */
	int slot;              /* position in plan->stages, -1 if not needed */
	df_stage_t st;         /* while building / for unneeded stages */
} stage_src_t;

struct df_plan_priv {
	df_tree_t *owned_tree;
	char **build_args;
	char **meta_env;      /* global ARGs with values + predefined */
	char **meta_declared; /* names of global ARGs */
	char **consumed;      /* build-arg names consumed by global ARGs */
	char ***cur_consumed; /* where consume() records (global or a stage) */
	char *bplat, *tplat;
	stage_src_t *src;
	size_t n_src;
	struct name_ix *names; /* sorted stage names */
	size_t n_names;
	unsigned xflags;
	int target;
};

typedef struct ctx {
	df_plan_t *p;
	struct df_plan_priv *pv;
	const df_tree_t *t;
	cb_error_t *err;
	bool expansion_failed;
} ctx_t;

static const char *const proxy_args[] = {
	"HTTP_PROXY",  "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
	"ftp_proxy",   "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy",
};

static bool is_proxy_arg(const char *k)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(proxy_args); i++)
		if (!strcmp(proxy_args[i], k))
			return true;
	return false;
}

static bool never_unused(const char *k)
{
	return is_proxy_arg(k) || cb_str_has_prefix(k, "BUILDKIT_") ||
	       !strcmp(k, "SOURCE_DATE_EPOCH");
}

static const char *build_arg(struct df_plan_priv *pv, const char *key)
{
	return strv_get(pv->build_args, key);
}

static void consume(struct df_plan_priv *pv, const char *key)
{
	char ***dst = pv->cur_consumed ? pv->cur_consumed : &pv->consumed;
	if (build_arg(pv, key) && !strv_contains(*dst, key))
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

static void stage_release(df_stage_t *st)
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

static void sstate_release(sstate_t *s)
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

typedef struct nctx {
	ctx_t *c;
	const df_tree_t *t; /* the tree the node belongs to (a trigger's own) */
	const df_node_t *n;
	int line_override; /* ONBUILD triggers report on the FROM line */
} nctx_t;

static int nerr_col(nctx_t *nc, int col, const char *fmt, ...) CB_PRINTF(3, 4);
static int nerr_col(nctx_t *nc, int col, const char *fmt, ...)
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

#define nerr(nc, ...) nerr_col((nc), (nc)->n->column, __VA_ARGS__)

static const char *upper_cmd(const df_node_t *n)
{
	const df_instruction_t *in = df_instruction_lookup(n->cmd);
	return in ? in->name : n->cmd;
}

/* ---- flags ---- */

typedef struct fdef {
	const char *name;
	df_flag_type_t type;
	/* results */
	bool used;
	char *value;   /* bool: "true"/"false"; string: value */
	char **values; /* strings */
	int col;
} fdef_t;

static void flags_release(fdef_t *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].value);
		cb_strv_free(f[i].values);
	}
}

static int parse_flags(nctx_t *nc, fdef_t *defs, size_t nd)
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
				return nerr_col(nc, col,
						"unknown flag --%s for %s (did you mean --%s?)", name,
						upper_cmd(n), best);
			return nerr_col(nc, col, "unknown flag --%s for %s", name, upper_cmd(n));
		}
		if (f->used && f->type != DF_FLAG_STRINGS)
			return nerr_col(nc, col, "duplicate flag specified: --%s", f->name);
		f->used = true;
		f->col = col;
		const char *val = eq ? eq + 1 : "";
		switch (f->type) {
		case DF_FLAG_BOOL:
			if (eq && !*val)
				return nerr_col(nc, col, "missing a value on flag: --%s", f->name);
			if (!*val || !strcasecmp(val, "true")) {
				free(f->value);
				f->value = cb_xstrdup("true");
			} else if (!strcasecmp(val, "false")) {
				free(f->value);
				f->value = cb_xstrdup("false");
			} else {
				return nerr_col(nc, col, "expecting boolean value for flag --%s, not: %s",
						f->name, val);
			}
			break;
		case DF_FLAG_STRING:
			if (!eq)
				return nerr_col(nc, col, "missing a value on flag: --%s", f->name);
			free(f->value);
			f->value = cb_xstrdup(val);
			break;
		case DF_FLAG_STRINGS:
			if (!eq)
				return nerr_col(nc, col, "missing a value on flag: --%s", f->name);
			f->values = cb_strv_push(f->values, val);
			break;
		}
	}
	return 0;
}

static bool flag_true(const fdef_t *f)
{
	return f->used && cb_streq(f->value, "true");
}

static fdef_t *flag_named(fdef_t *f, size_t nf, const char *name)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	CB_BUG("flag --%s is not in the table", name);
}

/* ---- expansion in a stage ---- */

typedef struct bstate {
	ctx_t *c;
	int index;       /* stage index */
	sstate_t s;      /* current state */
	bool soft_failed;
} bstate_t;

/* What an instruction's parse function (df_instruction_t.parse) works on. */
struct df_parse_ctx {
	bstate_t *b;
	nctx_t *nc;
	df_step_t *s;   /* the new step, kind and position set */
	df_stage_t *st; /* the stage it belongs to */
	fdef_t *f;      /* the instruction's flags, parsed, in the table's order */
	size_t nf;
};

#define PC_LOCALS(pc)                                                                         \
	bstate_t *b = (pc)->b;                                                                \
	nctx_t *nc = (pc)->nc;                                                                \
	df_step_t *s = (pc)->s

/* args first, env after: ENV wins over ARG of the same name */
static char **expand_env(const bstate_t *b)
{
	size_t na = cb_strv_len(b->s.args), ne = cb_strv_len(b->s.env);
	char **v = cb_xcalloc(na + ne + 1, sizeof(char *));
	for (size_t i = 0; i < na; i++)
		v[i] = b->s.args[i];
	for (size_t i = 0; i < ne; i++)
		v[na + i] = b->s.env[i];
	return v;
}

static int xword(bstate_t *b, nctx_t *nc, const char *word, char *const *env, unsigned extra,
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

#define path_clean df_path_clean

static char *path_join_clean(const char *base, const char *rel)
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

static df_step_t *new_step(df_stage_t *st, df_kind_t k, const df_node_t *n)
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

static int need_args(nctx_t *nc, size_t min, size_t max)
{
	size_t n = nc->n->n_args;
	const char *u = upper_cmd(nc->n);
	if (min == 1 && max == 1 && n != 1)
		return nerr(nc, "%s requires exactly one argument", u);
	if (n < min) {
		if (min == 1)
			return nerr(nc, "%s requires at least one argument", u);
		return nerr(nc, "%s requires at least %zu arguments", u, min);
	}
	return 0;
}

static bool valid_var_name(const char *k)
{
	return *k != '\0';
}

static int do_kv(struct df_parse_ctx *pc, bool is_env)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	if (n->n_args == 0)
		return nerr(nc, "%s requires at least one argument", is_env ? "ENV" : "LABEL");
	_cleanup_free_ char **env = expand_env(b);
	size_t nkv = n->n_args / 2;
	s->u.kv.kvs = cb_xcalloc(nkv ? nkv : 1, sizeof(df_kv_t));
	for (size_t i = 0; i + 1 < n->n_args; i += 2) {
		df_kv_t *kv = &s->u.kv.kvs[s->u.kv.n_kvs++];
		if (xword(b, nc, n->args[i], env, 0, &kv->key) < 0 ||
		    xword(b, nc, n->args[i + 1], env, 0, &kv->value) < 0)
			return -1;
		if (!valid_var_name(kv->key))
			return nerr(nc, "%s names can not be blank", is_env ? "ENV" : "LABEL");
	}
	if (is_env)
		for (size_t i = 0; i < s->u.kv.n_kvs; i++)
			strv_set(&b->s.env, s->u.kv.kvs[i].key, s->u.kv.kvs[i].value);
	return 0;
}

static const char *predefined_value(struct df_plan_priv *pv, const char *k)
{
	return strv_get(pv->meta_env, k) && (cb_str_has_prefix(k, "TARGET") ||
					      cb_str_has_prefix(k, "BUILD"))
		       ? strv_get(pv->meta_env, k)
		       : NULL;
}

static bool is_predefined(const char *k)
{
	static const char *const names[] = {
		"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
		"BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT",
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(names); i++)
		if (!strcmp(names[i], k))
			return true;
	return false;
}

int df_parse_arg(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	struct df_plan_priv *pv = b->c->pv;
	if (n->n_args == 0)
		return nerr(nc, "ARG requires at least one argument");
	_cleanup_free_ char **env = expand_env(b);
	s->u.kv.kvs = cb_xcalloc(n->n_args, sizeof(df_kv_t));
	for (size_t i = 0; i < n->n_args; i++) {
		df_kv_t *kv = &s->u.kv.kvs[s->u.kv.n_kvs++];
		const char *w = n->args[i];
		const char *eq = strchr(w, '=');
		kv->key = eq ? cb_xstrndup(w, (size_t)(eq - w)) : cb_xstrdup(w);
		if (!*kv->key)
			return nerr(nc, "ARG names can not be blank");
		if (eq && xword(b, nc, eq + 1, env, 0, &kv->value) < 0)
			return -1;
	}
	for (size_t i = 0; i < s->u.kv.n_kvs; i++) {
		df_kv_t *kv = &s->u.kv.kvs[i];
		const char *ba = build_arg(pv, kv->key);
		consume(pv, kv->key);
		const char *v = ba ? ba : kv->value;
		if (!v && !kv->value) {
			/* re-declaring a global ARG (or a predefined one) brings it in */
			if (strv_contains(pv->meta_declared, kv->key) || is_predefined(kv->key))
				v = strv_get(pv->meta_env, kv->key);
			if (!v && is_predefined(kv->key))
				v = predefined_value(pv, kv->key);
		}
		if (v) {
			strv_set(&b->s.args, kv->key, v);
			if (v != kv->value) {
				free(kv->value);
				kv->value = cb_xstrdup(v);
			}
		}
	}
	return 0;
}

int df_parse_workdir(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (need_args(nc, 1, 1) < 0)
		return -1;
	_cleanup_free_ char **env = expand_env(b);
	_cleanup_free_ char *w = NULL;
	if (xword(b, nc, nc->n->args[0], env, 0, &w) < 0)
		return -1;
	if (!*w)
		return nerr(nc, "WORKDIR path can not be empty");
	s->u.value = w[0] == '/' ? path_clean(w) : path_join_clean(b->s.workdir, w);
	free(b->s.workdir);
	b->s.workdir = cb_xstrdup(s->u.value);
	free(s->workdir);
	s->workdir = cb_xstrdup(b->s.workdir);
	return 0;
}

/* One argument, expanded when the table says so. */
static int do_simple(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (need_args(nc, 1, 1) < 0)
		return -1;
	if (!(df_instruction(s->kind)->expand & DF_XW_ARGS)) {
		s->u.value = cb_xstrdup(nc->n->args[0]);
		return 0;
	}
	_cleanup_free_ char **env = expand_env(b);
	return xword(b, nc, nc->n->args[0], env, 0, &s->u.value);
}

static bool valid_signal(const char *v)
{
	static const char *const sigs[] = {
		"ABRT", "ALRM", "BUS",	"CHLD",	  "CLD",    "CONT", "FPE",    "HUP",  "ILL",
		"INT",	"IO",	"IOT",	"KILL",	  "PIPE",   "POLL", "PROF",   "PWR",  "QUIT",
		"SEGV", "STKFLT", "STOP", "SYS",  "TERM",   "TRAP", "TSTP",   "TTIN", "TTOU",
		"URG",	"USR1", "USR2", "VTALRM", "WINCH",  "XCPU", "XFSZ",   "RTMIN", "RTMAX",
	};
	if (!*v)
		return false;
	bool digits = true;
	for (const char *p = v; *p; p++)
		if (!isdigit((unsigned char)*p))
			digits = false;
	if (digits)
		return strlen(v) < 4 && atoi(v) > 0 && atoi(v) <= 64;
	const char *name = v;
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++) {
		size_t l = strlen(sigs[i]);
		if (!strncasecmp(name, sigs[i], l)) {
			const char *r = name + l;
			if (!*r)
				return true;
			if ((!strcmp(sigs[i], "RTMIN") && *r == '+') ||
			    (!strcmp(sigs[i], "RTMAX") && *r == '-')) {
				for (const char *q = r + 1; *q; q++)
					if (!isdigit((unsigned char)*q))
						return false;
				return r[1] != '\0';
			}
		}
	}
	return false;
}

int df_parse_expose(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (need_args(nc, 1, SIZE_MAX) < 0)
		return -1;
	_cleanup_free_ char **env = expand_env(b);
	for (size_t i = 0; i < nc->n->n_args; i++) {
		char **words = NULL;
		cb_error_t e = CB_ERROR_INIT;
		if (df_expand_words(nc->n->args[i], env, b->c->pv->xflags, &words, &e) < 0) {
			nerr(nc, "%s", e.msg);
			cb_error_release(&e);
			return -1;
		}
		for (size_t w = 0; words[w]; w++) {
			char *p = words[w];
			char *proto = strchr(p, '/');
			const char *pr = "tcp";
			if (proto) {
				*proto++ = '\0';
				for (char *q = proto; *q; q++)
					*q = (char)tolower((unsigned char)*q);
				pr = proto;
				if (strcmp(pr, "tcp") && strcmp(pr, "udp") && strcmp(pr, "sctp")) {
					nerr(nc, "invalid proto: %s", proto);
					cb_strv_free(words);
					return -1;
				}
			}
			char *dash = strchr(p, '-');
			char *end1 = NULL, *end2 = NULL;
			long lo = strtol(p, &end1, 10), hi = lo;
			bool ok = end1 != p && (dash ? end1 == dash : *end1 == '\0');
			if (ok && dash) {
				hi = strtol(dash + 1, &end2, 10);
				ok = end2 != dash + 1 && *end2 == '\0';
			}
			if (!ok || lo < 0 || hi > 65535 || lo > hi) {
				nerr(nc, "invalid containerPort: %s", p);
				cb_strv_free(words);
				return -1;
			}
			for (long port = lo; port <= hi; port++) {
				_cleanup_free_ char *spec = cb_asprintf("%ld/%s", port, pr);
				if (!strv_contains(s->u.list, spec))
					s->u.list = cb_strv_push(s->u.list, spec);
			}
		}
		cb_strv_free(words);
	}
	return 0;
}

int df_parse_volume(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (need_args(nc, 1, SIZE_MAX) < 0)
		return -1;
	_cleanup_free_ char **env = expand_env(b);
	for (size_t i = 0; i < nc->n->n_args; i++) {
		char *v = NULL;
		if (xword(b, nc, nc->n->args[i], env, 0, &v) < 0)
			return -1;
		if (!*v) {
			free(v);
			return nerr(nc, "VOLUME specified can not be an empty string");
		}
		s->u.list = cb_strv_push_take(s->u.list, v);
	}
	return 0;
}

static char **with_shell(char *const *shell, const char *cmd)
{
	char **v = cb_strv_dup(shell);
	return cb_strv_push(v, cmd);
}

int df_parse_cmdline(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	if (s->kind == DF_SHELL) {
		if (!n->json)
			return nerr(nc, "SHELL requires the arguments to be in JSON form");
		if (n->n_args == 0)
			return nerr(nc, "SHELL requires at least one argument");
	}
	s->u.cmd.exec_form = n->json;
	if (n->json) {
		s->u.cmd.argv = cb_strv_dup(n->args);
	} else {
		s->u.cmd.argv = with_shell(b->s.shell, n->n_args ? n->args[0] : "");
	}
	if (s->kind == DF_SHELL) {
		cb_strv_free(b->s.shell);
		b->s.shell = cb_strv_dup(n->args);
	}
	return 0;
}

/* Go time.ParseDuration, to nanoseconds. */
static int parse_duration(const char *s, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*out = 0;
		return 0;
	}
	if (!*p)
		return -1;
	double total = 0;
	while (*p) {
		char *e;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		double v = strtod(p, &e);
		if (e == p)
			return -1;
		p = e;
		double unit;
		if (!strncmp(p, "ns", 2))
			unit = 1, p += 2;
		else if (!strncmp(p, "us", 2))
			unit = 1e3, p += 2;
		else if (!strncmp(p, "\xC2\xB5s", 3))
			unit = 1e3, p += 3;
		else if (!strncmp(p, "ms", 2))
			unit = 1e6, p += 2;
		else if (*p == 's')
			unit = 1e9, p += 1;
		else if (*p == 'm')
			unit = 60e9, p += 1;
		else if (*p == 'h')
			unit = 3600e9, p += 1;
		else
			return -1;
		total += v * unit;
	}
	if (total > 9.2e18)
		return -1;
	*out = (int64_t)(neg ? -total : total);
	return 0;
}

int df_parse_healthcheck(struct df_parse_ctx *pc)
{
	nctx_t *nc = pc->nc;
	df_step_t *s = pc->s;
	const df_node_t *n = nc->n;
	fdef_t *f = pc->f;
	int rc = -1;
	if (n->n_args == 0) {
		nerr(nc, "HEALTHCHECK requires at least one argument");
		goto out;
	}
	df_healthcheck_t *h = &s->u.health;
	const char *typ = n->args[0];
	if (!strcasecmp(typ, "NONE")) {
		if (n->n_args > 1 || n->flags) {
			nerr(nc, "HEALTHCHECK NONE takes no arguments");
			goto out;
		}
		h->test = cb_strv_push(NULL, "NONE");
		rc = 0;
		goto out;
	}
	if (strcasecmp(typ, "CMD")) {
		nerr(nc, "unknown type \"%s\" in HEALTHCHECK (try CMD)", typ);
		goto out;
	}
	if (n->n_args < 2 && !n->json) {
		nerr(nc, "missing command after HEALTHCHECK CMD");
		goto out;
	}
	if (n->json) {
		h->test = cb_strv_push(NULL, "CMD");
		for (size_t i = 1; i < n->n_args; i++)
			h->test = cb_strv_push(h->test, n->args[i]);
	} else {
		h->test = cb_strv_push(NULL, "CMD-SHELL");
		h->test = cb_strv_push(h->test, n->args[1]);
	}
	int64_t *durs[] = {&h->interval_ns, &h->timeout_ns, &h->start_period_ns,
			   &h->start_interval_ns};
	for (size_t i = 0; i < 4; i++) {
		if (!f[i].used)
			continue;
		int64_t d;
		if (parse_duration(f[i].value, &d) < 0) {
			nerr_col(nc, f[i].col, "invalid duration \"%s\" for --%s", f[i].value,
				 f[i].name);
			goto out;
		}
		if (d < 0) {
			nerr_col(nc, f[i].col, "--%s cannot be negative", f[i].name);
			goto out;
		}
		if (d != 0 && d < 1000000) {
			nerr_col(nc, f[i].col, "--%s cannot be less than 1ms", f[i].name);
			goto out;
		}
		*durs[i] = d;
	}
	if (f[4].used) {
		char *e;
		long r = strtol(f[4].value, &e, 10);
		if (!*f[4].value || *e || r > 1000000000L) {
			nerr_col(nc, f[4].col, "invalid value \"%s\" for --retries", f[4].value);
			goto out;
		}
		if (r < 0) {
			nerr_col(nc, f[4].col, "--retries cannot be negative");
			goto out;
		}
		h->retries = (int)r;
	}
	rc = 0;
out:
	return rc;
}

/* ---- stage references ---- */

/* The `AS name` of stage i as written, NULL if none. */
static const char *stage_name(ctx_t *c, size_t i)
{
	const df_node_t *n = &c->t->nodes[c->pv->src[i].from_node];
	return n->n_args == 3 ? n->args[2] : NULL;
}

typedef struct name_ix {
	char *name; /* lower case */
	int idx;
} name_ix_t;

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
static void index_names(ctx_t *c)
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

static void add_dep(df_stage_t *st, int d)
{
	for (size_t i = 0; i < st->n_deps; i++)
		if (st->deps[i] == d)
			return;
	st->deps = cb_xreallocarray(st->deps, st->n_deps + 1, sizeof(int));
	st->deps[st->n_deps++] = d;
}

/* Resolve a --from value: stage index, or -1 for an image. */
static int resolve_from(bstate_t *b, nctx_t *nc, const char *v, int col, int *stage)
{
	*stage = -1;
	int idx = -1;
	if (all_digits(v)) {
		idx = atoi(v);
		if (strlen(v) > 6 || idx >= (int)b->c->pv->n_src)
			return nerr_col(nc, col, "invalid stage index %s in --from", v);
	} else {
		idx = find_stage_by_name(b->c, v);
	}
	if (idx == b->index)
		return nerr_col(nc, col, "%s --from=%s refers to the stage it is in",
				upper_cmd(nc->n), v);
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
			return nerr_col(nc, col,
					"%s --from=%s: no stage or image named \"%s\" (did you mean "
					"\"%s\"?)",
					upper_cmd(nc->n), v, v, best);
		return nerr_col(nc, col, "%s --from=%s: no stage or image named \"%s\"",
				upper_cmd(nc->n), v, v);
	}
	return 0;
}

/* ---- COPY / ADD ---- */

static bool valid_chmod(const char *v)
{
	if (!*v)
		return false;
	bool octal = true;
	for (const char *p = v; *p; p++)
		if (*p < '0' || *p > '7')
			octal = false;
	if (octal)
		return strlen(v) <= 4;
	/* symbolic: [ugoa]*[+-=][rwxXst]* , ... */
	const char *p = v;
	for (;;) {
		while (*p && strchr("ugoa", *p))
			p++;
		if (!*p || !strchr("+-=", *p))
			return false;
		while (*p && strchr("+-=", *p)) {
			p++;
			while (*p && strchr("rwxXst", *p))
				p++;
		}
		if (!*p)
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

static const df_heredoc_t *heredoc_for(const df_node_t *n, const char *word)
{
	_cleanup_free_ char *name = NULL;
	if (df_heredoc_marker(word, &name, NULL, NULL, NULL) != 1)
		return NULL;
	/* the last body of that name, as BuildKit's map of them keeps */
	for (size_t i = n->n_heredocs; i-- > 0;)
		if (!strcmp(n->heredocs[i].name, name))
			return &n->heredocs[i];
	return NULL;
}

static char *chomp_content(const char *s, bool chomp)
{
	(void)chomp; /* the lexer already stripped the tabs */
	return cb_xstrdup(s);
}

int df_parse_copy(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	df_stage_t *st = pc->st;
	const df_node_t *n = nc->n;
	bool add = s->kind == DF_ADD;
	fdef_t *f = pc->f;
	size_t nf = pc->nf;
	int rc = -1;
	_cleanup_free_ char **env = expand_env(b);
	df_copy_t *cp = &s->u.copy;
	cp->from_stage = -1;
	if (n->n_args < 2) {
		nerr(nc,
		     "%s requires at least two arguments, but only one was provided. Destination "
		     "could not be determined",
		     upper_cmd(n));
		goto out;
	}
	for (size_t i = 0; i < nf; i++) {
		fdef_t *x = &f[i];
		if (!x->used)
			continue;
		if (!strcmp(x->name, "from")) {
			if (xword(b, nc, x->value, env, 0, &cp->from) < 0)
				goto out;
			if (!*cp->from) {
				nerr_col(nc, x->col, "%s --from requires a stage name or image",
					 upper_cmd(n));
				goto out;
			}
			if (resolve_from(b, nc, cp->from, x->col, &cp->from_stage) < 0)
				goto out;
			if (cp->from_stage >= 0)
				add_dep(st, cp->from_stage);
		} else if (!strcmp(x->name, "chown")) {
			if (xword(b, nc, x->value, env, 0, &cp->chown) < 0)
				goto out;
		} else if (!strcmp(x->name, "chmod")) {
			if (xword(b, nc, x->value, env, 0, &cp->chmod) < 0)
				goto out;
			if (!valid_chmod(cp->chmod)) {
				nerr_col(nc, x->col, "invalid chmod parameter \"%s\"", cp->chmod);
				goto out;
			}
		} else if (!strcmp(x->name, "link")) {
			cp->link = flag_true(x);
		} else if (!strcmp(x->name, "parents")) {
			cp->parents = flag_true(x);
		} else if (!strcmp(x->name, "exclude")) {
			for (size_t k = 0; x->values[k]; k++) {
				char *e = NULL;
				if (xword(b, nc, x->values[k], env, 0, &e) < 0)
					goto out;
				cp->exclude = cb_strv_push_take(cp->exclude, e);
			}
		} else if (!strcmp(x->name, "checksum")) {
			if (xword(b, nc, x->value, env, 0, &cp->checksum) < 0)
				goto out;
			const char *colon = strchr(cp->checksum, ':');
			if (!colon || colon == cp->checksum || !colon[1]) {
				nerr_col(nc, x->col, "invalid checksum digest format \"%s\"",
					 cp->checksum);
				goto out;
			}
		} else if (!strcmp(x->name, "keep-git-dir")) {
			cp->keep_git_dir = flag_true(x);
		} else if (!strcmp(x->name, "unpack")) {
			cp->unpack = flag_true(x);
		}
	}
	if (add && !flag_named(f, nf, "unpack")->used)
		cp->unpack = true;
	if (!n->json && df_heredoc_marker(n->args[n->n_args - 1], NULL, NULL, NULL, NULL) == 1) {
		nerr(nc, "%s cannot accept a heredoc as a destination", add ? "ADD" : "COPY");
		goto out;
	}
	if (xword(b, nc, n->args[n->n_args - 1], env, 0, &cp->dest) < 0)
		goto out;
	cp->sources = cb_xcalloc(1, sizeof(char *));
	size_t nsrc = 0;
	for (size_t i = 0; i + 1 < n->n_args; i++) {
		const df_heredoc_t *h = n->json ? NULL : heredoc_for(n, n->args[i]);
		if (h) {
			cp->inline_files = cb_xreallocarray(cp->inline_files, cp->n_inline_files + 1,
							    sizeof(df_heredoc_t));
			df_heredoc_t *d = &cp->inline_files[cp->n_inline_files++];
			memset(d, 0, sizeof(*d));
			d->name = cb_xstrdup(h->name);
			d->expand = h->expand;
			d->chomp = h->chomp;
			d->line = h->line;
			if (h->expand) {
				/* BuildKit: the body expands with '\' and quotes kept as is */
				cb_error_t e = CB_ERROR_INIT;
				if (df_expand(h->content, env, DF_EXPAND_SKIP_QUOTES, &d->content, &e) <
				    0) {
					nerr(nc, "%s", e.msg);
					cb_error_release(&e);
					goto out;
				}
			} else {
				d->content = chomp_content(h->content, h->chomp);
			}
			continue;
		}
		char *v = NULL;
		if (xword(b, nc, n->args[i], env, 0, &v) < 0)
			goto out;
		cp->sources = cb_xreallocarray(cp->sources, nsrc + 2, sizeof(char *));
		cp->sources[nsrc++] = v;
		cp->sources[nsrc] = NULL;
	}
	if (cp->checksum && nsrc != 1) {
		nerr(nc, "checksum can't be specified for multiple sources");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* ---- RUN ---- */

static int parse_size(const char *v, int64_t *out)
{
	char *e;
	double d = strtod(v, &e);
	if (e == v || d < 0)
		return -1;
	int64_t mult = 1;
	switch (tolower((unsigned char)*e)) {
	case '\0':
		break;
	case 'b':
		e++;
		break;
	case 'k':
		mult = 1024;
		e++;
		break;
	case 'm':
		mult = 1024 * 1024;
		e++;
		break;
	case 'g':
		mult = 1024LL * 1024 * 1024;
		e++;
		break;
	case 't':
		mult = 1024LL * 1024 * 1024 * 1024;
		e++;
		break;
	default:
		return -1;
	}
	if (*e == 'i' || *e == 'I')
		e++;
	if (*e == 'b' || *e == 'B')
		e++;
	if (*e)
		return -1;
	*out = (int64_t)(d * (double)mult);
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "t") || !strcasecmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "0") || !strcasecmp(v, "f") || !strcasecmp(v, "false")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* CSV fields of a --mount value (Go encoding/csv, one record). */
static char **csv_fields(const char *s, bool *ok)
{
	char **v = NULL;
	cb_buf_t f;
	cb_buf_init(&f);
	const char *p = s;
	*ok = true;
	for (;;) {
		cb_buf_reset(&f);
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p) {
					*ok = false;
					break;
				}
				if (*p == '"') {
					if (p[1] == '"') {
						cb_buf_addch(&f, '"');
						p += 2;
						continue;
					}
					p++;
					break;
				}
				cb_buf_addch(&f, *p++);
			}
			if (*ok && *p && *p != ',')
				*ok = false;
		} else {
			while (*p && *p != ',') {
				if (*p == '"')
					*ok = false;
				cb_buf_addch(&f, *p++);
			}
		}
		v = cb_strv_push(v, f.data);
		if (!*ok || !*p)
			break;
		p++; /* ',' */
	}
	cb_buf_release(&f);
	return v;
}

/* RUN --mount: the types, and the keys each accepts (BuildKit's
 * instructions/commands_runmount.go). */
#define MT(t) (1u << DF_MOUNT_##t)
#define MT_ALL (MT(BIND) | MT(CACHE) | MT(TMPFS) | MT(SECRET) | MT(SSH))

static const struct mount_type {
	const char *name;
	bool file_info; /* mode, uid, gid apply */
	bool at_path;   /* mounted at a target path (default: the workdir) */
	bool rw;        /* writable unless ro is given */
} mount_types[] = {
	[DF_MOUNT_BIND] = {"bind", false, true, false},
	[DF_MOUNT_CACHE] = {"cache", true, true, true},
	[DF_MOUNT_TMPFS] = {"tmpfs", false, true, true},
	[DF_MOUNT_SECRET] = {"secret", true, false, false},
	[DF_MOUNT_SSH] = {"ssh", true, false, false},
};

typedef enum {
	MK_TYPE, MK_FROM, MK_SOURCE, MK_TARGET, MK_RO, MK_RW, MK_REQUIRED, MK_SIZE,
	MK_ID, MK_ENV, MK_SHARING, MK_MODE, MK_UID, MK_GID,
} mkey_t;

/* In the order "did you mean" prefers on a tie. */
static const struct mount_key {
	const char *name;
	mkey_t key;
	unsigned types;  /* the types it is allowed for */
	bool bare;       /* may be given without "=value" (a boolean) */
	bool suggest;
} mount_keys[] = {
	{"type", MK_TYPE, MT_ALL, false, true},
	{"from", MK_FROM, MT_ALL, false, true},
	{"source", MK_SOURCE, MT_ALL, false, true},
	{"target", MK_TARGET, MT_ALL, false, true},
	{"readonly", MK_RO, MT_ALL, true, true},
	{"id", MK_ID, MT_ALL, false, true},
	{"sharing", MK_SHARING, MT_ALL, false, true}, /* checked after: cache only */
	{"required", MK_REQUIRED, MT(SECRET) | MT(SSH), true, true},
	{"mode", MK_MODE, MT_ALL, false, true},
	{"uid", MK_UID, MT_ALL, false, true},
	{"gid", MK_GID, MT_ALL, false, true},
	{"src", MK_SOURCE, MT_ALL, false, true},
	{"dst", MK_TARGET, MT_ALL, false, true},
	{"ro", MK_RO, MT_ALL, true, true},
	{"rw", MK_RW, MT_ALL, true, true},
	{"readwrite", MK_RW, MT_ALL, true, true},
	{"size", MK_SIZE, MT(TMPFS), false, true},
	{"env", MK_ENV, MT(SECRET), false, true},
	{"destination", MK_TARGET, MT_ALL, false, false},
};

static const struct mount_key *mount_key(const char *key)
{
	for (size_t k = 0; k < CB_ARRAY_SIZE(mount_keys); k++)
		if (!strcmp(mount_keys[k].name, key))
			return &mount_keys[k];
	return NULL;
}

static int unknown_mount_key(nctx_t *nc, int col, const char *key, const char *fld)
{
	const char *best = NULL;
	size_t bd = 99;
	for (size_t k = 0; k < CB_ARRAY_SIZE(mount_keys); k++) {
		size_t d = df_edit_distance(key, mount_keys[k].name);
		if (mount_keys[k].suggest && d < bd) {
			bd = d;
			best = mount_keys[k].name;
		}
	}
	if (best && bd <= 2)
		return nerr_col(nc, col, "unexpected key '%s' in '%s' (did you mean %s?)", key, fld,
				best);
	return nerr_col(nc, col, "unexpected key '%s' in '%s'", key, fld);
}

typedef struct mount_parse {
	bstate_t *b;
	nctx_t *nc;
	int col;
	char *const *env;
	df_mount_t *m;
	bool ro_auto, sharing_set;
} mount_parse_t;

static int mount_type_of(mount_parse_t *mp, char **fields)
{
	/* The type decides what other keys mean: find it first. */
	for (size_t i = 0; fields[i]; i++) {
		if (strncasecmp(fields[i], "type=", 5))
			continue;
		_cleanup_free_ char *t = NULL;
		if (xword(mp->b, mp->nc, fields[i] + 5, mp->env, 0, &t) < 0)
			return -1;
		size_t k = 0;
		for (; k < CB_ARRAY_SIZE(mount_types); k++)
			if (!strcasecmp(mount_types[k].name, t))
				break;
		if (k == CB_ARRAY_SIZE(mount_types))
			return nerr_col(mp->nc, mp->col, "unsupported mount type \"%s\"", t);
		mp->m->type = (df_mount_type_t)k;
	}
	return 0;
}

static int mount_number(mount_parse_t *mp, const struct mount_key *mk, const char *v)
{
	char *e;
	bool is_mode = mk->key == MK_MODE;
	errno = 0;
	unsigned long long x = strtoull(v, &e, is_mode ? 8 : 10);
	if (!*v || *e || errno || x > 0xFFFFFFFFULL || v[0] == '-' || v[0] == '+')
		return nerr_col(mp->nc, mp->col, "invalid value %s for %s", v, mk->name);
	if (is_mode)
		mp->m->mode = (int)(x & 07777);
	else if (mk->key == MK_UID)
		mp->m->uid = (long)x;
	else
		mp->m->gid = (long)x;
	return 0;
}

/* One key=value (v NULL: a bare key) of a known key. */
static int mount_field(mount_parse_t *mp, const struct mount_key *mk, char **v)
{
	df_mount_t *m = mp->m;
	bool bv = true;
	if (mk->bare && *v && parse_bool(*v, &bv) < 0)
		return nerr_col(mp->nc, mp->col, "invalid value for %s: %s", mk->name, *v);
	switch (mk->key) {
	case MK_TYPE: /* done first */
		break;
	case MK_FROM:
		free(m->from);
		m->from = cb_steal_pointer(v);
		break;
	case MK_SOURCE:
		free(m->source);
		m->source = cb_steal_pointer(v);
		break;
	case MK_TARGET:
		free(m->target);
		m->target = cb_steal_pointer(v);
		break;
	case MK_ID:
		free(m->id);
		m->id = cb_steal_pointer(v);
		break;
	case MK_ENV:
		free(m->env);
		m->env = cb_steal_pointer(v);
		break;
	case MK_RO:
	case MK_RW:
		m->readonly = mk->key == MK_RO ? bv : !bv;
		mp->ro_auto = false;
		break;
	case MK_REQUIRED:
		m->required = bv;
		break;
	case MK_SIZE:
		if (parse_size(*v, &m->size) < 0)
			return nerr_col(mp->nc, mp->col, "invalid value for %s: %s", mk->name, *v);
		break;
	case MK_SHARING:
		if (!strcasecmp(*v, "shared"))
			m->sharing = DF_SHARING_SHARED;
		else if (!strcasecmp(*v, "private"))
			m->sharing = DF_SHARING_PRIVATE;
		else if (!strcasecmp(*v, "locked"))
			m->sharing = DF_SHARING_LOCKED;
		else
			return nerr_col(mp->nc, mp->col, "unsupported sharing value \"%s\"", *v);
		mp->sharing_set = true;
		break;
	case MK_MODE:
	case MK_UID:
	case MK_GID:
		return mount_number(mp, mk, *v);
	}
	return 0;
}

static int mount_fields(mount_parse_t *mp, char **fields)
{
	const char *tn = mount_types[mp->m->type].name;
	for (size_t i = 0; fields[i]; i++) {
		const char *fld = fields[i];
		const char *eq = strchr(fld, '=');
		_cleanup_free_ char *key = eq ? cb_xstrndup(fld, (size_t)(eq - fld)) : cb_xstrdup(fld);
		for (char *q = key; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		const struct mount_key *mk = mount_key(key);
		if (!eq && (!mk || !mk->bare))
			return nerr_col(mp->nc, mp->col, "invalid field '%s' must be a key=value pair",
					fld);
		if (!mk)
			return unknown_mount_key(mp->nc, mp->col, key, fld);
		if (!(mk->types & (1u << mp->m->type)))
			return nerr_col(mp->nc, mp->col, "unexpected key '%s' for mount type '%s'",
					key, tn);
		_cleanup_free_ char *v = NULL;
		if (eq && xword(mp->b, mp->nc, eq + 1, mp->env, 0, &v) < 0)
			return -1;
		if (mount_field(mp, mk, &v) < 0)
			return -1;
	}
	return 0;
}

/* BuildKit's defaults for a secret, ssh or cache mount. */
static int mount_defaults(mount_parse_t *mp, int ssh_index)
{
	df_mount_t *m = mp->m;
	switch (m->type) {
	case DF_MOUNT_SECRET:
		if (m->from)
			return nerr_col(mp->nc, mp->col, "secret mount should not have a from");
		if (!m->source && !m->target && !m->id && !m->env)
			return nerr_col(mp->nc, mp->col,
					"invalid secret mount. one of source, target required");
		if (m->source && m->id)
			return nerr_col(mp->nc, mp->col, "both source and id can't be set");
		if (!m->id && m->source) {
			m->id = m->source;
			m->source = NULL;
		}
		if (!m->id && m->target) {
			const char *sl = strrchr(m->target, '/');
			m->id = cb_xstrdup(sl ? sl + 1 : m->target);
		}
		if (!m->target && !m->env)
			m->target = cb_asprintf("/run/secrets/%s", m->id ? m->id : "");
		if (m->mode < 0)
			m->mode = 0400;
		break;
	case DF_MOUNT_SSH:
		if (!m->id)
			m->id = cb_xstrdup("default");
		if (!m->target)
			m->target = cb_asprintf("/run/buildkit/ssh_agent.%d", ssh_index);
		if (m->mode < 0)
			m->mode = 0600;
		break;
	case DF_MOUNT_CACHE:
		if (!m->id) /* BuildKit: path.Clean of the target as written ("." if none) */
			m->id = m->target ? cb_xstrdup(m->target) : cb_xstrdup(".");
		if (m->mode < 0)
			m->mode = 0755;
		break;
	default:
		break;
	}
	return 0;
}

static int parse_mount(bstate_t *b, nctx_t *nc, const char *val, int col, char *const *env,
		       df_mount_t *m, int ssh_index, df_stage_t *st)
{
	/* first: the caller frees *m whether this succeeds or not */
	memset(m, 0, sizeof(*m));
	bool ok;
	_cleanup_strv_ char **fields = csv_fields(val, &ok);
	if (!ok)
		return nerr_col(nc, col, "failed to parse csv mounts: \"%s\"", val);
	m->type = DF_MOUNT_BIND;
	m->from_stage = -1;
	m->mode = -1;
	m->uid = m->gid = -1;
	mount_parse_t mp = {.b = b, .nc = nc, .col = col, .env = env, .m = m, .ro_auto = true};
	if (mount_type_of(&mp, fields) < 0 || mount_fields(&mp, fields) < 0)
		return -1;
	const struct mount_type *mt = &mount_types[m->type];
	if (!mt->file_info) {
		const char *bad = m->mode >= 0 ? "mode" : m->uid >= 0 ? "uid" : m->gid >= 0 ? "gid" : NULL;
		if (bad)
			return nerr_col(nc, col, "%s not allowed for \"%s\" type mounts", bad, mt->name);
	}
	if (mp.ro_auto)
		m->readonly = !mt->rw;
	if (mp.sharing_set && m->type != DF_MOUNT_CACHE)
		return nerr_col(nc, col, "invalid cache sharing set for %s mount", mt->name);
	if (mount_defaults(&mp, ssh_index) < 0)
		return -1;
	/* as BuildKit does, no target (`--mount=ro`, `type=bind`) mounts at the
	 * working directory, and a relative one joins it */
	bool explicit_target = m->target != NULL;
	if ((mt->at_path && !m->target) || (m->target && m->target[0] != '/')) {
		char *t = path_join_clean(b->s.workdir ? b->s.workdir : "/",
					  m->target ? m->target : ".");
		free(m->target);
		m->target = t;
	}
	/* ... but never over the root; while the base image's WorkingDir is not
	 * known yet (df_plan_set_base_config to come) "/" is only provisional */
	if (mt->at_path && !strcmp(m->target, "/") && (explicit_target || !b->s.base_unknown))
		return nerr_col(nc, col, "invalid mount target \"/\"");
	if (m->from) {
		if (resolve_from(b, nc, m->from, col, &m->from_stage) < 0)
			return -1;
		if (m->from_stage >= 0)
			add_dep(st, m->from_stage);
	}
	if (m->uid < 0 && mt->file_info)
		m->uid = 0;
	if (m->gid < 0 && mt->file_info)
		m->gid = 0;
	return 0;
}

static bool single_heredoc_cmd(const char *cmd)
{
	return df_heredoc_marker(cmd, NULL, NULL, NULL, NULL) == 1;
}

int df_parse_run(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	df_stage_t *st = pc->st;
	const df_node_t *n = nc->n;
	fdef_t *f = pc->f; /* mount, network, security */
	int rc = -1;
	df_run_t *r = &s->u.run;
	_cleanup_free_ char **env = expand_env(b);
	if (n->n_args == 0 && !n->json) {
		nerr(nc, "RUN requires at least one argument");
		goto out;
	}
	if (f[1].used) {
		if (!strcmp(f[1].value, "default"))
			r->network = DF_NETWORK_DEFAULT;
		else if (!strcmp(f[1].value, "none"))
			r->network = DF_NETWORK_NONE;
		else if (!strcmp(f[1].value, "host"))
			r->network = DF_NETWORK_HOST;
		else {
			nerr_col(nc, f[1].col, "unsupported network mode \"%s\"", f[1].value);
			goto out;
		}
	}
	if (f[2].used) {
		if (!strcmp(f[2].value, "insecure"))
			r->insecure = true;
		else if (strcmp(f[2].value, "sandbox")) {
			nerr_col(nc, f[2].col, "unsupported security mode \"%s\"", f[2].value);
			goto out;
		}
	}
	int ssh_index = 0;
	for (size_t i = 0; f[0].values && f[0].values[i]; i++) {
		r->mounts = cb_xreallocarray(r->mounts, r->n_mounts + 1, sizeof(df_mount_t));
		df_mount_t *m = &r->mounts[r->n_mounts];
		if (parse_mount(b, nc, f[0].values[i], f[0].col, env, m, ssh_index, st) < 0) {
			r->n_mounts++;
			goto out;
		}
		if (m->type == DF_MOUNT_SSH)
			ssh_index++;
		r->n_mounts++;
	}
	r->exec_form = n->json;
	if (n->json) {
		r->argv = cb_strv_dup(n->args);
	} else {
		r->cmd = cb_xstrdup(n->args[0]);
		if (n->n_heredocs) {
			r->heredocs = cb_xcalloc(n->n_heredocs, sizeof(df_heredoc_t));
			for (size_t i = 0; i < n->n_heredocs; i++) {
				r->heredocs[i] = n->heredocs[i];
				r->heredocs[i].name = cb_xstrdup(n->heredocs[i].name);
				r->heredocs[i].content = cb_xstrdup(n->heredocs[i].content);
			}
			r->n_heredocs = n->n_heredocs;
		}
		if (n->n_heredocs && single_heredoc_cmd(r->cmd)) {
			const df_heredoc_t *h = &n->heredocs[0];
			if (cb_str_has_prefix(h->content, "#!")) {
				r->files = cb_xcalloc(1, sizeof(df_file_t));
				r->files[0].path = cb_asprintf("/dev/pipes/%s", h->name);
				r->files[0].content = cb_xstrdup(h->content);
				r->files[0].mode = 0755;
				r->n_files = 1;
				r->argv = with_shell(b->s.shell, r->files[0].path);
			} else {
				r->argv = with_shell(b->s.shell, h->content);
			}
		} else if (n->n_heredocs) {
			cb_buf_t full;
			cb_buf_init(&full);
			cb_buf_addstr(&full, r->cmd);
			for (size_t i = 0; i < n->n_heredocs; i++)
				cb_buf_addf(&full, "\n%s%s", n->heredocs[i].content,
					    n->heredocs[i].name);
			r->argv = with_shell(b->s.shell, full.data);
			cb_buf_release(&full);
		} else {
			r->argv = with_shell(b->s.shell, r->cmd);
		}
	}
	/* The environment the command runs with. */
	s->env = cb_strv_dup(b->s.env);
	for (size_t i = 0; b->s.args && b->s.args[i]; i++) {
		const char *eq = strchr(b->s.args[i], '=');
		if (!df_env_get(b->s.env, b->s.args[i], (size_t)(eq - b->s.args[i])))
			s->args_env = cb_strv_push(s->args_env, b->s.args[i]);
	}
	for (size_t i = 0; i < CB_ARRAY_SIZE(proxy_args); i++) {
		const char *v = build_arg(b->c->pv, proxy_args[i]);
		if (v && !strv_get(s->args_env, proxy_args[i]) && !strv_get(s->env, proxy_args[i])) {
			_cleanup_free_ char *kv = cb_asprintf("%s=%s", proxy_args[i], v);
			s->args_env = cb_strv_push(s->args_env, kv);
		}
	}
	if (!s->args_env)
		s->args_env = cb_xcalloc(1, sizeof(char *));
	if (!s->env)
		s->env = cb_xcalloc(1, sizeof(char *));
	rc = 0;
out:
	return rc;
}

static int no_flags(nctx_t *nc)
{
	return parse_flags(nc, NULL, 0);
}

int df_parse_env(struct df_parse_ctx *pc)
{
	return do_kv(pc, true);
}

int df_parse_label(struct df_parse_ctx *pc)
{
	return do_kv(pc, false);
}

int df_parse_user(struct df_parse_ctx *pc)
{
	if (do_simple(pc) < 0)
		return -1;
	free(pc->b->s.user);
	pc->b->s.user = cb_xstrdup(pc->s->u.value);
	return 0;
}

int df_parse_stopsignal(struct df_parse_ctx *pc)
{
	if (do_simple(pc) < 0)
		return -1;
	if (!valid_signal(pc->s->u.value))
		return nerr(pc->nc, "invalid signal: %s", pc->s->u.value);
	return 0;
}

int df_parse_maintainer(struct df_parse_ctx *pc)
{
	return do_simple(pc);
}

int df_parse_onbuild(struct df_parse_ctx *pc)
{
	const df_node_t *n = pc->nc->n;
	if (n->n_args == 0)
		return nerr(pc->nc, "ONBUILD requires at least one argument");
	pc->s->u.value = cb_xstrdup(n->args[0]);
	pc->st->onbuild = cb_strv_push(pc->st->onbuild, n->args[0]);
	pc->b->s.onbuild = cb_strv_push(pc->b->s.onbuild, n->args[0]);
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
	df_step_t *s = new_step(st, in->kind, n);
	s->workdir = cb_xstrdup(b->s.workdir ? b->s.workdir : "/");
	s->shell = cb_strv_dup(b->s.shell);
	struct df_parse_ctx pc = {.b = b, .nc = nc, .s = s, .st = st, .f = f, .nf = in->n_flags};
	int rc = parse_flags(nc, f, in->n_flags) < 0 ? -1 : in->parse(&pc);
	flags_release(f, in->n_flags);
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
		if (!strv_contains(declared, name))
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
static int parse_from(ctx_t *c, int idx, const df_node_t *n, df_stage_t *st)
{
	struct df_plan_priv *pv = c->pv;
	nctx_t nc = {.c = c, .t = c->t, .n = n};
	fdef_t f[1] = {{.name = df_instruction(DF_FROM)->flags[0].name,
			.type = df_instruction(DF_FROM)->flags[0].type}};
	int rc = -1;
	char *undecl = NULL;
	st->index = idx;
	st->line = n->line;
	st->original = cb_xstrdup(n->original);
	st->base_stage = -1;
	if (parse_flags(&nc, f, 1) < 0)
		goto out;
	if (n->n_args != 1 && n->n_args != 3) {
		from_error(c, n, n->column, "FROM requires either one or three arguments");
		goto out;
	}
	if (n->n_args == 3) {
		if (strcasecmp(n->args[1], "as")) {
			from_error(c, n, n->column,
				   "FROM requires either one or three arguments (expected \"AS\", "
				   "got \"%s\")",
				   n->args[1]);
			goto out;
		}
		st->name = cb_xstrdup(n->args[2]);
		for (char *p = st->name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!valid_stage_name(st->name)) {
			from_error(c, n, n->column,
				   "invalid name for build stage: \"%s\", name can't start with a "
				   "number or contain symbols",
				   n->args[2]);
			goto out;
		}
		int first = find_stage_by_name(c, st->name);
		if (first >= 0 && first != idx) {
			from_error(c, n, n->column, "duplicate stage name \"%s\"", st->name);
			goto out;
		}
	}
	undecl = undeclared_ref(n->args[0], pv->meta_env, pv->meta_declared);
	if (undecl) {
		from_error(c, n, n->args_col,
			   "ARG \"%s\" is used in FROM but not declared before the first FROM",
			   undecl);
		goto out;
	}
	cb_error_t e = CB_ERROR_INIT;
	char *base = NULL;
	if (df_expand(n->args[0], pv->meta_env, pv->xflags, &base, &e) < 0) {
		from_error(c, n, n->args_col, "%s", e.msg);
		cb_error_release(&e);
		goto out;
	}
	if (!*base) {
		from_error(c, n, n->args_col, "base name (%s) should not be blank", n->args[0]);
		free(base);
		goto out;
	}
	if (f[0].used) {
		_cleanup_free_ char *u = undeclared_ref(f[0].value, pv->meta_env, pv->meta_declared);
		if (u) {
			from_error(c, n, f[0].col,
				   "ARG \"%s\" is used in FROM but not declared before the first "
				   "FROM",
				   u);
			free(base);
			goto out;
		}
		if (df_expand(f[0].value, pv->meta_env, pv->xflags, &st->platform, &e) < 0) {
			from_error(c, n, f[0].col, "%s", e.msg);
			cb_error_release(&e);
			free(base);
			goto out;
		}
	}
	if (!strcasecmp(base, "scratch")) {
		st->base_kind = DF_BASE_SCRATCH;
		free(base);
	} else {
		/* an earlier stage, by name (case-insensitive) */
		/* FROM names only earlier stages; a later one is an image */
		int ref = find_stage_by_name(c, base);
		if (ref >= idx)
			ref = -1;
		if (ref >= 0) {
			st->base_kind = DF_BASE_STAGE;
			st->base_stage = ref;
			add_dep(st, ref);
			free(base);
		} else if (!looks_like_image(base)) {
			from_error(c, n, n->args_col, "invalid reference format: \"%s\" is not an image "
				   "name (from \"%s\")", base, n->args[0]);
			free(base);
			goto out;
		} else {
			st->base_kind = DF_BASE_IMAGE;
			st->base_image = base;
		}
	}
	rc = 0;
out:
	free(undecl);
	flags_release(f, 1);
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
				strv_set(&s->env, ss->cfg_env[i], "");
				continue;
			}
			_cleanup_free_ char *k = cb_xstrndup(ss->cfg_env[i],
							     (size_t)(eq - ss->cfg_env[i]));
			strv_set(&s->env, k, eq + 1);
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
static int parse_trigger(const df_tree_t *tree, const df_node_t *fn, const char *trig, df_tree_t **out,
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
static int build_stage(ctx_t *c, int idx)
{
	stage_src_t *ss = &c->pv->src[idx];
	df_stage_t *st = &ss->st;
	const df_node_t *fn = &c->t->nodes[ss->from_node];
	int rc = -1;
	stage_release(st);
	sstate_release(&ss->end);
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
			if (parse_trigger(c->t, fn, po[i], &ss->inherited[ss->n_inherited], c->err) < 0)
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
		strv_set(&pv->meta_env, k, pl[i]);
		snprintf(k, sizeof(k), "%sOS", pre[i]);
		strv_set(&pv->meta_env, k, os);
		snprintf(k, sizeof(k), "%sARCH", pre[i]);
		strv_set(&pv->meta_env, k, arch);
		snprintf(k, sizeof(k), "%sVARIANT", pre[i]);
		strv_set(&pv->meta_env, k, var);
		free(os);
		free(arch);
		free(var);
	}
}

static int global_arg(ctx_t *c, const df_node_t *n)
{
	struct df_plan_priv *pv = c->pv;
	nctx_t nc = {.c = c, .t = c->t, .n = n};
	if (no_flags(&nc) < 0)
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
		consume(pv, key);
		const char *ba = build_arg(pv, key);
		if (ba) {
			strv_set(&pv->meta_env, key, ba);
		} else if (eq) {
			_cleanup_free_ char *v = NULL;
			cb_error_t e = CB_ERROR_INIT;
			if (df_expand(eq + 1, pv->meta_env, pv->xflags, &v, &e) < 0) {
				nerr(&nc, "%s", e.msg);
				cb_error_release(&e);
				return -1;
			}
			strv_set(&pv->meta_env, key, v);
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
		sstate_release(&ss->end);
		cb_error_release(&ss->soft);
		cb_strv_free(ss->consumed);
		stage_release(&ss->st);
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
		stage_release(&p->stages[i]);
	free(p->stages);
	cb_strv_free(p->global_args);
	priv_free(p->priv);
	free(p);
}

df_stage_t *df_plan_stage(df_plan_t *p, int index)
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
		if (build_stage(c, (int)i) < 0) {
			cb_error_move(&pv->src[i].soft, &e);
			pv->src[i].soft_expansion = c->expansion_failed;
		}
	}
	c->err = saved;
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
	if (visit(c, pv->target, mark, order, &no) < 0)
		goto out;
	for (size_t i = 0; i < no; i++) {
		stage_src_t *ss = &pv->src[order[i]];
		if (cb_error_is_set(&ss->soft)) {
			cb_error_move(c->err, &ss->soft);
			goto out;
		}
	}
	for (size_t i = 0; i < pv->n_src; i++) {
		if (cb_error_is_set(&pv->src[i].soft) && !mark[i]) {
			/* BuildKit parses every stage: report what is not expansion */
			if (!pv->src[i].soft_expansion) {
				cb_error_move(c->err, &pv->src[i].soft);
				goto out;
			}
		}
	}
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
			if (!strv_contains(pv->consumed, cv[k]))
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
			if (never_unused(k) || strv_contains(pv->consumed, k))
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
		strv_set(&pv->build_args, k, eq + 1);
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
				    upper_cmd(n));
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
	index_names(&c);
	build_all(&c);
	if (find_target(&c, opts->target, &pv->target) < 0)
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

/* Rebuild stage `index` (in the plan) and every planned stage built FROM it. */
static int rebuild(df_plan_t *p, int index, cb_error_t *err)
{
	struct df_plan_priv *pv = p->priv;
	ctx_t c = {.p = p, .pv = pv, .t = p->tree, .err = err};
	stage_src_t *ss = &pv->src[index];
	if (ss->slot < 0)
		return cb_error_set(err, EINVAL, "stage %d is not part of the plan", index);
	/* move the planned stage back to build it again */
	stage_release(&ss->st);
	ss->st = p->stages[ss->slot];
	memset(&p->stages[ss->slot], 0, sizeof(df_stage_t));
	int r = build_stage(&c, index);
	p->stages[ss->slot] = ss->st;
	memset(&ss->st, 0, sizeof(ss->st));
	if (r < 0)
		return -1;
	for (size_t i = 0; i < p->n_stages; i++) {
		df_stage_t *st = &p->stages[i];
		if (st->base_kind == DF_BASE_STAGE && st->base_stage == index &&
		    rebuild(p, st->index, err) < 0)
			return -1;
	}
	return 0;
}

/* whole: cfg is the image's whole config (an absent field is known to be
 * empty), not only its ONBUILD part */
static int set_base(df_plan_t *p, int index, const df_base_config_t *cfg, bool whole,
		    cb_error_t *err)
{
	struct df_plan_priv *pv = p->priv;
	if (index < 0 || (size_t)index >= pv->n_src || pv->src[index].slot < 0)
		return cb_error_set(err, EINVAL, "stage %d is not part of the plan", index);
	stage_src_t *ss = &pv->src[index];
	const df_node_t *fn = &p->tree->nodes[ss->from_node];
	size_t ntrig = cfg ? cb_strv_len(cfg->onbuild) : 0;
	size_t before = ss->n_triggers;
	ss->triggers = cb_xreallocarray(ss->triggers, before + ntrig + 1, sizeof(df_tree_t *));
	for (size_t i = 0; i < ntrig; i++) {
		df_tree_t *tt = NULL;
		if (parse_trigger(p->tree, fn, cfg->onbuild[i], &tt, err) < 0) {
			for (size_t k = before; k < ss->n_triggers; k++)
				df_tree_free(ss->triggers[k]);
			ss->n_triggers = before;
			return -1;
		}
		ss->triggers[ss->n_triggers++] = tt;
	}
	if (cfg && (whole || cfg->env || cfg->workdir || cfg->shell || cfg->user)) {
		ss->has_cfg = true;
		cb_strv_free(ss->cfg_env);
		ss->cfg_env = cb_strv_dup(cfg->env);
		cb_strv_free(ss->cfg_shell);
		ss->cfg_shell = cfg->shell ? cb_strv_dup(cfg->shell) : NULL;
		free(ss->cfg_workdir);
		ss->cfg_workdir = cfg->workdir ? cb_xstrdup(cfg->workdir) : NULL;
		free(ss->cfg_user);
		ss->cfg_user = cfg->user ? cb_xstrdup(cfg->user) : NULL;
	}
	if (rebuild(p, index, err) < 0) {
		/* take the new triggers back out so the plan stays usable */
		for (size_t k = before; k < ss->n_triggers; k++)
			df_tree_free(ss->triggers[k]);
		ss->n_triggers = before;
		cb_error_t ignore = CB_ERROR_INIT;
		rebuild(p, index, &ignore);
		cb_error_release(&ignore);
		number_steps(p);
		return -1;
	}
	number_steps(p);
	return 0;
}

int df_plan_set_base_config(df_plan_t *p, int index, const df_base_config_t *cfg,
			    cb_error_t *err)
{
	df_base_config_t none = {0};
	return set_base(p, index, cfg ? cfg : &none, true, err);
}

int df_plan_set_base(df_plan_t *p, int index, char *const *image_env, char *const *onbuild,
		     cb_error_t *err)
{
	df_base_config_t cfg = {.env = image_env, .onbuild = onbuild};
	return set_base(p, index, &cfg, true, err);
}

int df_plan_insert_onbuild(df_plan_t *p, int index, char *const *triggers, cb_error_t *err)
{
	df_base_config_t cfg = {.onbuild = triggers};
	return set_base(p, index, &cfg, false, err);
}
