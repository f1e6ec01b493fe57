/*
 * parser/plan_run.c - RUN: --mount (BuildKit's defaults), --network,
 * --security, heredoc scripts, the environment the command runs with.
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
	MK_TYPE,
	MK_FROM,
	MK_SOURCE,
	MK_TARGET,
	MK_RO,
	MK_RW,
	MK_REQUIRED,
	MK_SIZE,
	MK_ID,
	MK_ENV,
	MK_SHARING,
	MK_MODE,
	MK_UID,
	MK_GID,
} mkey_t;

/* In the order "did you mean" prefers on a tie. */
static const struct mount_key {
	const char *name;
	mkey_t key;
	unsigned types; /* the types it is allowed for */
	bool bare;      /* may be given without "=value" (a boolean) */
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
		return df_nerr_col(nc, col, "unexpected key '%s' in '%s' (did you mean %s?)", key, fld,
				   best);
	return df_nerr_col(nc, col, "unexpected key '%s' in '%s'", key, fld);
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
		if (df_xword(mp->b, mp->nc, fields[i] + 5, mp->env, 0, &t) < 0)
			return -1;
		size_t k = 0;
		for (; k < CB_ARRAY_SIZE(mount_types); k++)
			if (!strcasecmp(mount_types[k].name, t))
				break;
		if (k == CB_ARRAY_SIZE(mount_types))
			return df_nerr_col(mp->nc, mp->col, "unsupported mount type \"%s\"", t);
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
		return df_nerr_col(mp->nc, mp->col, "invalid value %s for %s", v, mk->name);
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
		return df_nerr_col(mp->nc, mp->col, "invalid value for %s: %s", mk->name, *v);
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
			return df_nerr_col(mp->nc, mp->col, "invalid value for %s: %s", mk->name, *v);
		break;
	case MK_SHARING:
		if (!strcasecmp(*v, "shared"))
			m->sharing = DF_SHARING_SHARED;
		else if (!strcasecmp(*v, "private"))
			m->sharing = DF_SHARING_PRIVATE;
		else if (!strcasecmp(*v, "locked"))
			m->sharing = DF_SHARING_LOCKED;
		else
			return df_nerr_col(mp->nc, mp->col, "unsupported sharing value \"%s\"", *v);
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
			return df_nerr_col(mp->nc, mp->col, "invalid field '%s' must be a key=value pair",
					   fld);
		if (!mk)
			return unknown_mount_key(mp->nc, mp->col, key, fld);
		if (!(mk->types & (1u << mp->m->type)))
			return df_nerr_col(mp->nc, mp->col, "unexpected key '%s' for mount type '%s'",
					   key, tn);
		_cleanup_free_ char *v = NULL;
		if (eq && df_xword(mp->b, mp->nc, eq + 1, mp->env, 0, &v) < 0)
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
			return df_nerr_col(mp->nc, mp->col, "secret mount should not have a from");
		if (!m->source && !m->target && !m->id && !m->env)
			return df_nerr_col(mp->nc, mp->col,
					   "invalid secret mount. one of source, target required");
		if (m->source && m->id)
			return df_nerr_col(mp->nc, mp->col, "both source and id can't be set");
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
		return df_nerr_col(nc, col, "failed to parse csv mounts: \"%s\"", val);
	m->type = DF_MOUNT_BIND;
	m->from_stage = -1;
	m->mode = -1;
	m->uid = m->gid = -1;
	mount_parse_t mp = {.b = b, .nc = nc, .col = col, .env = env, .m = m, .ro_auto = true};
	if (mount_type_of(&mp, fields) < 0 || mount_fields(&mp, fields) < 0)
		return -1;
	const struct mount_type *mt = &mount_types[m->type];
	if (!mt->file_info) {
		const char *bad = m->mode >= 0 ? "mode" : m->uid >= 0 ? "uid"
						  : m->gid >= 0       ? "gid"
								      : NULL;
		if (bad)
			return df_nerr_col(nc, col, "%s not allowed for \"%s\" type mounts", bad, mt->name);
	}
	if (mp.ro_auto)
		m->readonly = !mt->rw;
	if (mp.sharing_set && m->type != DF_MOUNT_CACHE)
		return df_nerr_col(nc, col, "invalid cache sharing set for %s mount", mt->name);
	if (mount_defaults(&mp, ssh_index) < 0)
		return -1;
	/* as BuildKit does, no target (`--mount=ro`, `type=bind`) mounts at the
	 * working directory, and a relative one joins it */
	bool explicit_target = m->target != NULL;
	if ((mt->at_path && !m->target) || (m->target && m->target[0] != '/')) {
		char *t = df_path_join_clean(b->s.workdir ? b->s.workdir : "/",
					     m->target ? m->target : ".");
		free(m->target);
		m->target = t;
	}
	/* ... but never over the root; while the base image's WorkingDir is not
	 * known (no resolver gave it) "/" is only provisional */
	if (mt->at_path && !strcmp(m->target, "/") && (explicit_target || !b->s.base_unknown))
		return df_nerr_col(nc, col, "invalid mount target \"/\"");
	if (m->from) {
		if (df_resolve_from(b, nc, m->from, col, &m->from_stage) < 0)
			return -1;
		if (m->from_stage >= 0)
			df_stage_add_dep(st, m->from_stage);
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

/* --network and --security. */
static int run_modes(nctx_t *nc, const fdef_t *f, df_run_t *r)
{
	if (f[1].used) {
		if (!strcmp(f[1].value, "default"))
			r->network = DF_NETWORK_DEFAULT;
		else if (!strcmp(f[1].value, "none"))
			r->network = DF_NETWORK_NONE;
		else if (!strcmp(f[1].value, "host"))
			r->network = DF_NETWORK_HOST;
		else
			return df_nerr_col(nc, f[1].col, "unsupported network mode \"%s\"", f[1].value);
	}
	if (f[2].used) {
		if (!strcmp(f[2].value, "insecure"))
			r->insecure = true;
		else if (strcmp(f[2].value, "sandbox"))
			return df_nerr_col(nc, f[2].col, "unsupported security mode \"%s\"", f[2].value);
	}
	return 0;
}

/* What runs: the exec form as is, the shell form (heredocs included)
 * behind the stage's SHELL. */
static void run_argv(bstate_t *b, const df_node_t *n, df_run_t *r)
{
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
				r->argv = df_with_shell(b->s.shell, r->files[0].path);
			} else {
				r->argv = df_with_shell(b->s.shell, h->content);
			}
		} else if (n->n_heredocs) {
			cb_buf_t full;
			cb_buf_init(&full);
			cb_buf_addstr(&full, r->cmd);
			for (size_t i = 0; i < n->n_heredocs; i++)
				cb_buf_addf(&full, "\n%s%s", n->heredocs[i].content,
					    n->heredocs[i].name);
			r->argv = df_with_shell(b->s.shell, full.data);
			cb_buf_release(&full);
		} else {
			r->argv = df_with_shell(b->s.shell, r->cmd);
		}
	}
}

/* The environment the command runs with. */
static void run_env(bstate_t *b, df_step_t *s)
{
	s->env = cb_strv_dup(b->s.env);
	for (size_t i = 0; b->s.args && b->s.args[i]; i++) {
		const char *eq = strchr(b->s.args[i], '=');
		if (!df_env_get(b->s.env, b->s.args[i], (size_t)(eq - b->s.args[i])))
			s->args_env = cb_strv_push(s->args_env, b->s.args[i]);
	}
	for (size_t i = 0; i < DF_N_PROXY_ARGS; i++) {
		const char *v = df_build_arg(b->c->pv, df_proxy_args[i]);
		if (v && !df_strv_get(s->args_env, df_proxy_args[i]) && !df_strv_get(s->env, df_proxy_args[i])) {
			_cleanup_free_ char *kv = cb_asprintf("%s=%s", df_proxy_args[i], v);
			s->args_env = cb_strv_push(s->args_env, kv);
		}
	}
	if (!s->args_env)
		s->args_env = cb_xcalloc(1, sizeof(char *));
	if (!s->env)
		s->env = cb_xcalloc(1, sizeof(char *));
}

int df_parse_run(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	fdef_t *f = pc->f; /* mount, network, security */
	df_run_t *r = &s->u.run;
	_cleanup_free_ char **env = df_step_env(b);
	if (n->n_args == 0 && !n->json)
		return nerr(nc, "RUN requires at least one argument");
	if (run_modes(nc, f, r) < 0)
		return -1;
	int ssh_index = 0;
	for (size_t i = 0; f[0].values && f[0].values[i]; i++) {
		r->mounts = cb_xreallocarray(r->mounts, r->n_mounts + 1, sizeof(df_mount_t));
		df_mount_t *m = &r->mounts[r->n_mounts++]; /* released even when it fails */
		if (parse_mount(b, nc, f[0].values[i], f[0].col, env, m, ssh_index, pc->st) < 0)
			return -1;
		if (m->type == DF_MOUNT_SSH)
			ssh_index++;
	}
	run_argv(b, n, r);
	run_env(b, s);
	return 0;
}
