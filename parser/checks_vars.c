/*
 * parser/checks_vars.c - the checks about variables: UndefinedVar,
 * UndefinedArgInFrom, InvalidDefaultArgInFrom, SecretsUsedInArgOrEnv, and
 * WorkdirRelativePath (which, like UndefinedVar, needs what the stage
 * inherits).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "parser/checks_internal.h"

/* BuildKit's predefined platform ARGs: usable in FROM without a
 * declaration. The values only make a FROM's default expansion non-empty. */
static const char *const predefined[] = {
	"TARGETPLATFORM=linux/amd64", "TARGETOS=linux",     "TARGETARCH=amd64", "TARGETVARIANT=",
	"BUILDPLATFORM=linux/amd64",  "BUILDOS=linux",      "BUILDARCH=amd64",  "BUILDVARIANT=",
};

static bool is_predefined(const char *name, size_t len)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(predefined); i++)
		if (!strncmp(predefined[i], name, len) && predefined[i][len] == '=')
			return true;
	return false;
}

static bool is_name_char(char c, bool first)
{
	return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* Skip a ${...} body from just after "${" to just after its '}'. */
static const char *skip_braces(const char *p, char escape)
{
	int depth = 1;
	for (; *p && depth; p++) {
		if (*p == escape && p[1])
			p++;
		else if (*p == '{')
			depth++;
		else if (*p == '}')
			depth--;
	}
	return p;
}

void ck_scan_vars(const char *w, char escape, ck_var_fn fn, void *ctx)
{
	bool dq = false;
	for (const char *p = w; *p;) {
		if (*p == escape && p[1]) {
			p += 2;
		} else if (*p == '\'' && !dq) {
			const char *q = strchr(p + 1, '\'');
			p = q ? q + 1 : p + strlen(p);
		} else if (*p == '"') {
			dq = !dq;
			p++;
		} else if (*p == '$' && p[1] == '{') {
			const char *name = p + 2;
			size_t len = 0;
			while (is_name_char(name[len], len == 0))
				len++;
			char next = name[len];
			bool plain = next == '}' || next == '%' || next == '#' || next == '/';
			if (len)
				fn(ctx, name, len, plain);
			p = skip_braces(name + len, escape);
		} else if (*p == '$' && is_name_char(p[1], true)) {
			size_t len = 1;
			while (is_name_char(p[1 + len], false))
				len++;
			fn(ctx, p + 1, len, true);
			p += 1 + len;
		} else {
			p++;
		}
	}
}

static char *key_of(const char *kv)
{
	size_t n = strcspn(kv, "=");
	return cb_xstrndup(kv, n);
}

/* ---- before the first FROM ---- */

void ck_globals(ck_t *ck)
{
	char **env = NULL;
	for (size_t i = 0; i < CB_ARRAY_SIZE(predefined); i++)
		env = cb_strv_push(env, predefined[i]);
	for (size_t i = 0; i < ck->t->n_nodes; i++) {
		const df_node_t *n = &ck->t->nodes[i];
		if (!strcmp(n->cmd, "from"))
			break;
		if (strcmp(n->cmd, "arg"))
			continue;
		for (size_t a = 0; a < n->n_args; a++) {
			char *k = key_of(n->args[a]);
			const char *eq = strchr(n->args[a], '=');
			ck->global_args = cb_strv_push_take(ck->global_args, k);
			cb_error_t e = CB_ERROR_INIT;
			char *v = NULL;
			if (eq && df_expand(eq + 1, env, ck->expand_flags, &v, &e) == 0)
				env = cb_strv_push_take(env, cb_asprintf("%s=%s", k, v));
			cb_error_release(&e);
			free(v);
		}
	}
	ck->global_env = env;
}

/* ---- FROM ---- */

typedef struct from_scan {
	ck_t *ck;
	const df_node_t *n;
	bool undeclared;
} from_scan_t;

static void from_var(void *ctx, const char *name, size_t len, bool plain)
{
	from_scan_t *fs = ctx;
	(void)plain;
	_cleanup_free_ char *k = cb_xstrndup(name, len);
	if (ck_strv_has(fs->ck->global_args, k) || is_predefined(name, len))
		return;
	fs->undeclared = true;
	ck_add(fs->ck, "UndefinedArgInFrom", fs->n->line, fs->n->column,
	       cb_asprintf("declare it before the first FROM: ARG %s=<default>", k),
	       "FROM argument '%s' is not declared", k);
}

/* The shapes a reference cannot have: what an empty default leaves
 * behind ("alpine:", ":3.20", "/app", "repo@"). */
static bool bad_reference(const char *r)
{
	size_t n = strlen(r);
	if (!n || strchr(":/@.", r[0]) || strchr(":/@", r[n - 1]))
		return true;
	return strstr(r, "//") || strstr(r, ":@") || strstr(r, "/:") || strstr(r, "::") ||
	       strpbrk(r, " \t");
}

void ck_from_vars(ck_t *ck, size_t si)
{
	const df_node_t *n = &ck->t->nodes[ck->stages[si].from];
	if (n->n_args < 1)
		return;
	from_scan_t fs = {ck, n, false};
	ck_scan_vars(n->args[0], ck->t->escape, from_var, &fs);
	for (size_t f = 0; n->flags && n->flags[f]; f++)
		if (!strncmp(n->flags[f], "--platform=", 11))
			ck_scan_vars(n->flags[f] + 11, ck->t->escape, from_var, &fs);
	if (fs.undeclared || !strchr(n->args[0], '$'))
		return;
	cb_error_t e = CB_ERROR_INIT;
	_cleanup_free_ char *v = NULL;
	if (df_expand(n->args[0], ck->global_env, ck->expand_flags, &v, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	if (bad_reference(v))
		ck_add(ck, "InvalidDefaultArgInFrom", n->line, n->column,
		       cb_asprintf("give the ARG a default that names an image, or always pass "
				   "--build-arg"),
		       "Default value for ARG %s results in empty or invalid base image name",
		       n->args[0]);
}

/* ---- a stage's variables ---- */

/* BuildKit's test: a word of the key (between '_' or the ends) is one of
 * these, and none is "public". */
static bool has_token(const char *key, const char *const *tokens, size_t n)
{
	const char *p = key;
	while (*p) {
		size_t len = strcspn(p, "_");
		for (size_t i = 0; i < n; i++)
			if (strlen(tokens[i]) == len && !strncasecmp(p, tokens[i], len))
				return true;
		p += len;
		if (*p == '_')
			p++;
	}
	return false;
}

static bool is_secret_key(const char *key)
{
	static const char *const secret[] = {"apikey", "auth",   "credential", "credentials", "key",
					     "password", "pword", "passwd",    "secret",      "token"};
	static const char *const allow[] = {"public"};
	return has_token(key, secret, CB_ARRAY_SIZE(secret)) &&
	       !has_token(key, allow, CB_ARRAY_SIZE(allow));
}

typedef struct stage_scan {
	ck_t *ck;
	const df_node_t *n;
	char **defined;
	bool base_known;
} stage_scan_t;

static void stage_var(void *ctx, const char *name, size_t len, bool plain)
{
	stage_scan_t *ss = ctx;
	if (!plain || !ss->base_known)
		return;
	_cleanup_free_ char *k = cb_xstrndup(name, len);
	if (ck_strv_has(ss->defined, k))
		return;
	ck_add(ss->ck, "UndefinedVar", ss->n->line, ss->n->column,
	       cb_asprintf("define it first (ARG %s or ENV %s=...), or escape the '$'", k, k),
	       "Usage of undefined variable '$%s'", k);
}

static void define(stage_scan_t *ss, const char *key)
{
	if (!ck_strv_has(ss->defined, key))
		ss->defined = cb_strv_push(ss->defined, key);
}

/* ARG k=v, ENV k v: the keys defined, the values scanned, secrets named. */
static void kv_node(stage_scan_t *ss, const df_node_t *n, bool is_arg)
{
	char esc = ss->ck->t->escape;
	const char *kw = is_arg ? "ARG" : "ENV";
	char **keys = NULL;
	for (size_t a = 0; a < n->n_args; a += is_arg ? 1 : 2) {
		_cleanup_free_ char *k = is_arg ? key_of(n->args[a]) : cb_xstrdup(n->args[a]);
		const char *eq = strchr(n->args[a], '=');
		if (is_arg && eq)
			ck_scan_vars(eq + 1, esc, stage_var, ss);
		if (!is_arg && a + 1 < n->n_args)
			ck_scan_vars(n->args[a + 1], esc, stage_var, ss);
		if (is_secret_key(k))
			ck_add(ss->ck, "SecretsUsedInArgOrEnv", n->line, n->column,
			       cb_asprintf("pass it with RUN --mount=type=secret,id=%s instead", k),
			       "Do not use ARG or ENV instructions for sensitive data (%s \"%s\")", kw, k);
		keys = cb_strv_push(keys, k);
	}
	for (size_t i = 0; keys && keys[i]; i++)
		define(ss, keys[i]);
	cb_strv_free(keys);
}

static bool expands_args(const char *cmd)
{
	static const char *const cmds[] = {"add",  "copy",  "expose",     "label",  "user",
					   "volume", "workdir", "stopsignal", "onbuild"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmd, cmds[i]))
			return i < CB_ARRAY_SIZE(cmds) - 1; /* ONBUILD: its own stage's business */
	return false;
}

static void workdir_node(ck_t *ck, ck_stage_t *s, const df_node_t *n)
{
	if (n->n_args < 1)
		return;
	const char *w = n->args[0];
	if (w[0] == '/' || w[0] == '$' || (w[0] == '"' && w[1] == '/')) {
		s->workdir_set = true;
		return;
	}
	if (!s->workdir_set)
		ck_add(ck, "WorkdirRelativePath", n->line, n->column,
		       cb_asprintf("use an absolute path: WORKDIR /%s", w),
		       "Relative workdir \"%s\" can have unexpected results if the base image changes",
		       w);
}

/* What the stage starts from: its parent stage's ENVs and WORKDIR, or what
 * the caller knows of the base image. */
static void inherit(ck_t *ck, ck_stage_t *s, size_t si, stage_scan_t *ss)
{
	const df_check_base_t *b = ck->in->bases && si < ck->in->n_bases ? &ck->in->bases[si] : NULL;
	ss->base_known = true;
	if (s->parent >= 0) {
		ss->defined = cb_strv_dup(ck->stages[s->parent].defined);
		s->workdir_set = ck->stages[s->parent].workdir_set;
	} else if (!s->scratch) {
		ss->base_known = b && b->known;
		/* an image we know nothing of may well set a WorkingDir */
		s->workdir_set = !b || !b->known || (b->workdir && *b->workdir);
		for (size_t i = 0; b && b->env && b->env[i]; i++)
			ss->defined = cb_strv_push_take(ss->defined, key_of(b->env[i]));
	}
}

void ck_stage_vars(ck_t *ck, size_t si)
{
	ck_stage_t *s = &ck->stages[si];
	stage_scan_t ss = {.ck = ck};
	inherit(ck, s, si, &ss);
	char **inherited = cb_strv_dup(ss.defined);
	char **env_only = NULL; /* what passes to child stages: ENV, not ARG */
	for (size_t i = s->from + 1; i < s->end; i++) {
		const df_node_t *n = &ck->t->nodes[i];
		ss.n = n;
		if (!strcmp(n->cmd, "arg")) {
			kv_node(&ss, n, true);
		} else if (!strcmp(n->cmd, "env")) {
			kv_node(&ss, n, false);
			for (size_t a = 0; a < n->n_args; a += 2)
				if (!ck_strv_has(env_only, n->args[a]))
					env_only = cb_strv_push(env_only, n->args[a]);
		} else if (expands_args(n->cmd)) {
			for (size_t a = 0; a < n->n_args; a++)
				if (strncmp(n->args[a], "<<", 2))
					ck_scan_vars(n->args[a], ck->t->escape, stage_var, &ss);
		}
		if (!strcmp(n->cmd, "workdir"))
			workdir_node(ck, s, n);
	}
	/* a child stage sees the parent's ENV (and what it inherited) */
	for (size_t i = 0; env_only && env_only[i]; i++)
		if (!ck_strv_has(inherited, env_only[i]))
			inherited = cb_strv_push(inherited, env_only[i]);
	cb_strv_free(env_only);
	cb_strv_free(ss.defined);
	s->defined = inherited;
}
