/*
 * parser/compose.c - the merged compose tree into the project model:
 * services, their fields in long form, checks and the start order.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/util.h"
#include "parser/compose.h"
#include "parser/compose_internal.h"
#include "parser/internal.h"

void cn_warn(ld_t *ld, const char *once_key, const cn_t *at, const char *fmt, ...)
{
	for (size_t i = 0; once_key && ld->warned && ld->warned[i]; i++)
		if (!strcmp(ld->warned[i], once_key))
			return;
	if (once_key)
		ld->warned = cb_strv_push(ld->warned, once_key);
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = cb_vasprintf(fmt, ap);
	va_end(ap);
	_cleanup_free_ char *where = cn_where(at);
	ld->p->warnings = cb_strv_push_take(ld->p->warnings, cb_asprintf("%s%s", where, msg));
}

/* ---- scalars ---- */

static const char *kind_name(cn_kind_t k)
{
	return k == CN_MAP ? "a mapping" : k == CN_SEQ ? "a list" : "a string";
}

int cn_want_kind(const cn_t *n, cn_kind_t k, const char *what, cb_error_t *err)
{
	if (n->kind == k)
		return 0;
	return cn_error(err, n, "'%s' must be %s, not %s", what, kind_name(k), kind_name(n->kind));
}

/* A string or NULL for null. */
int cn_get_str(const cn_t *n, const char *what, char **out, cb_error_t *err)
{
	if (cn_want_kind(n, CN_SCALAR, what, err) < 0)
		return -1;
	free(*out);
	*out = cn_is_null(n) ? NULL : cb_xstrdup(n->str);
	return 0;
}

int cn_get_bool(const cn_t *n, const char *what, bool *out, cb_error_t *err)
{
	if (cn_want_kind(n, CN_SCALAR, what, err) < 0)
		return -1;
	const char *s = n->str;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		*out = true;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		*out = false;
	else
		return cn_error(err, n, "'%s' must be true or false, not '%s'", what, s);
	return 0;
}

int cn_parse_uint(const char *s, unsigned max, unsigned *out)
{
	if (!*s)
		return -1;
	unsigned long v = 0;
	for (const char *c = s; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return -1;
		v = v * 10 + (unsigned long)(*c - '0');
		if (v > max)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int cn_get_int(const cn_t *n, const char *what, int *out, cb_error_t *err)
{
	unsigned v;
	if (cn_want_kind(n, CN_SCALAR, what, err) < 0)
		return -1;
	if (cn_parse_uint(n->str, 1000000000, &v) < 0)
		return cn_error(err, n, "'%s' must be a number, not '%s'", what, n->str);
	*out = (int)v;
	return 0;
}

/* Go's time.ParseDuration: "1m30s", "500ms", "1h"; a bare number is
 * seconds. */
int cn_get_duration(const cn_t *n, const char *what, int64_t *ns, cb_error_t *err)
{
	if (cn_want_kind(n, CN_SCALAR, what, err) < 0)
		return -1;
	const char *s = n->str;
	double total = 0;
	if (!*s)
		goto bad;
	char *end;
	double bare = strtod(s, &end);
	if (!*end && end != s) {
		*ns = (int64_t)(bare * 1e9);
		return 0;
	}
	while (*s) {
		double v = strtod(s, &end);
		if (end == s)
			goto bad;
		s = end;
		static const struct { const char *u; double mul; } units[] = {
			{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
			{"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
		};
		size_t best = CB_ARRAY_SIZE(units);
		for (size_t i = 0; i < CB_ARRAY_SIZE(units); i++)
			if (cb_str_has_prefix(s, units[i].u) &&
			    (best == CB_ARRAY_SIZE(units) || strlen(units[i].u) > strlen(units[best].u)))
				best = i;
		if (best == CB_ARRAY_SIZE(units))
			goto bad;
		total += v * units[best].mul;
		s += strlen(units[best].u);
	}
	*ns = (int64_t)total;
	return 0;
bad:
	return cn_error(err, n, "'%s': invalid duration '%s' (e.g. 30s, 1m30s, 500ms)", what,
			n->str);
}

/* Split a command string as a POSIX shell splits words (quotes and
 * backslashes; no expansion), as compose does for string commands. */
static int split_words(const cn_t *n, char ***out, cb_error_t *err)
{
	const char *s = n->str;
	char **v = NULL;
	cb_buf_t w;
	cb_buf_init(&w);
	bool in_word = false;
	char q = 0;
	for (; *s; s++) {
		if (q == '\'') {
			if (*s == '\'')
				q = 0;
			else
				cb_buf_addch(&w, *s);
		} else if (q == '"') {
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
				cb_buf_addch(&w, *++s);
			else
				cb_buf_addch(&w, *s);
		} else if (isspace((unsigned char)*s)) {
			if (in_word)
				v = cb_strv_push_take(v, cb_buf_detach(&w, NULL));
			in_word = false;
		} else {
			in_word = true;
			if (*s == '\'' || *s == '"')
				q = *s;
			else if (*s == '\\' && s[1])
				cb_buf_addch(&w, *++s);
			else
				cb_buf_addch(&w, *s);
		}
	}
	if (q) {
		cb_buf_release(&w);
		cb_strv_free(v);
		return cn_error(err, n, "unterminated quote in '%s'", n->str);
	}
	if (in_word)
		v = cb_strv_push_take(v, cb_buf_detach(&w, NULL));
	cb_buf_release(&w);
	*out = v;
	return 0;
}

/* A list of strings (items must be scalars). */
int cn_get_strv(const cn_t *n, const char *what, char ***out, cb_error_t *err)
{
	if (cn_want_kind(n, CN_SEQ, what, err) < 0)
		return -1;
	char **v = NULL;
	for (size_t i = 0; i < n->n; i++) {
		if (cn_want_kind(n->vals[i], CN_SCALAR, what, err) < 0) {
			cb_strv_free(v);
			return -1;
		}
		v = cb_strv_push(v, n->vals[i]->str);
	}
	cb_strv_free(*out);
	*out = v;
	return 0;
}

/* command/entrypoint: a string (split) or a list; null = not set. */
int cn_get_command(const cn_t *n, const char *what, char ***out, bool *set, cb_error_t *err)
{
	cb_strv_free(*out);
	*out = NULL;
	*set = !cn_is_null(n);
	if (!*set)
		return 0;
	if (n->kind == CN_SCALAR)
		return split_words(n, out, err);
	if (cn_get_strv(n, what, out, err) < 0)
		return -1;
	if (!*out) /* [] is set, and empty */
		*out = cb_xcalloc(1, sizeof(char *));
	return 0;
}

/* environment, labels, build.args: a map or a list of KEY=VAL. A bare KEY
 * (or a null value) takes its value from env when from_env, else "". */
int cn_get_kv(ld_t *ld, const cn_t *n, const char *what, bool from_env, char ***out,
	      cb_error_t *err)
{
	char **v = NULL;
	if (cn_is_null(n))
		goto done;
	if (n->kind == CN_SCALAR)
		return cn_error(err, n, "'%s' must be a mapping or a list", what);
	for (size_t i = 0; i < n->n; i++) {
		const cn_t *it = n->vals[i];
		const char *key, *val = NULL;
		size_t klen;
		if (it->kind != CN_SCALAR) {
			cb_strv_free(v);
			return cn_error(err, it, "'%s' values must be strings", what);
		}
		if (n->kind == CN_MAP) {
			key = n->keys[i]->str;
			klen = strlen(key);
			val = cn_is_null(it) ? NULL : it->str;
		} else {
			key = it->str;
			const char *eq = strchr(key, '=');
			klen = eq ? (size_t)(eq - key) : strlen(key);
			val = eq ? eq + 1 : NULL;
		}
		if (!klen) {
			cb_strv_free(v);
			return cn_error(err, it, "'%s': empty name", what);
		}
		if (!val && from_env && !(val = df_env_get(ld->o->env, key, klen)))
			continue;
		v = df_kv_set(v, key, klen, val ? val : "");
	}
done:
	cb_strv_free(*out);
	*out = v;
	return 0;
}

/* ---- top level ---- */

static int parse_volumes(ld_t *ld, const cn_t *n, cb_error_t *err)
{
	df_compose_project_t *p = ld->p;
	if (cn_is_null(n))
		return 0;
	if (cn_want_kind(n, CN_MAP, "volumes", err) < 0)
		return -1;
	p->volumes = cb_xcalloc(n->n ? n->n : 1, sizeof(*p->volumes));
	for (size_t i = 0; i < n->n; i++) {
		df_compose_volume_t *v = &p->volumes[p->n_volumes++];
		const cn_t *def = n->vals[i];
		v->key = cb_xstrdup(n->keys[i]->str);
		if (!cn_is_null(def)) {
			if (cn_want_kind(def, CN_MAP, v->key, err) < 0)
				return -1;
			const cn_t *nm = cn_get(def, "name"), *ext = cn_get(def, "external");
			if (nm && cn_get_str(nm, "name", &v->name, err) < 0)
				return -1;
			if (ext && ext->kind == CN_MAP) { /* the old external: {name: X} */
				const cn_t *en = cn_get(ext, "name");
				v->external = true;
				if (en && cn_get_str(en, "name", &v->name, err) < 0)
					return -1;
			} else if (ext && cn_get_bool(ext, "external", &v->external, err) < 0) {
				return -1;
			}
			const cn_t *drv = cn_get(def, "driver");
			if (drv && drv->kind == CN_SCALAR && strcmp(drv->str, "local"))
				cn_warn(ld, NULL, drv, "volume driver '%s' is not supported: a local "
						       "directory is used",
					drv->str);
		}
		if (!v->name)
			v->name = v->external ? cb_xstrdup(v->key) : cb_asprintf("%s_%s", p->name, v->key);
	}
	return 0;
}

/* Docker's project name rule: lower case letters, digits, '-' and '_',
 * starting with a letter or digit. */
static char *normalize_name(const char *s)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (; *s; s++) {
		char c = (char)tolower((unsigned char)*s);
		if (isalnum((unsigned char)c) || ((c == '-' || c == '_') && b.len))
			cb_buf_addch(&b, c);
	}
	return df_buf_take(&b, NULL);
}

static bool valid_project_name(const char *s)
{
	_cleanup_free_ char *n = normalize_name(s);
	return *s && !strcmp(n, s);
}

static int project_name(ld_t *ld, const cn_t *top, cb_error_t *err)
{
	const char *given = ld->o->project_name;
	if (!given)
		given = df_env_get(ld->o->env, "COMPOSE_PROJECT_NAME", 20);
	if (given && *given) {
		if (!valid_project_name(given))
			return cb_error_fail(err, EINVAL, "invalid project name '%s': lower case "
					     "letters, digits, '-' and '_' only, starting with a "
					     "letter or digit", given);
		ld->p->name = cb_xstrdup(given);
		return 0;
	}
	const cn_t *nm = cn_get(top, "name");
	if (nm) {
		if (cn_want_kind(nm, CN_SCALAR, "name", err) < 0)
			return -1;
		if (!valid_project_name(nm->str))
			return cn_error(err, nm, "invalid project name '%s': lower case letters, "
					"digits, '-' and '_' only, starting with a letter or digit",
					nm->str);
		ld->p->name = cb_xstrdup(nm->str);
		return 0;
	}
	const char *dir = ld->o->project_dir ? ld->o->project_dir : ".";
	_cleanup_free_ char *clean = cb_path_clean(dir);
	const char *base = strrchr(clean, '/');
	ld->p->name = normalize_name(base ? base + 1 : clean);
	if (!*ld->p->name)
		return cb_error_fail(err, EINVAL, "cannot derive a project name from '%s': use -p",
				     dir);
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const cn_t *const *x = a, *const *y = b;
	return strcmp((*x)->str, (*y)->str);
}

/* Kahn's algorithm, ties broken by name; a cycle is reported as a path. */
static int topo_order(df_compose_project_t *p, cb_error_t *err)
{
	size_t n = p->n_services;
	_cleanup_free_ bool *done = cb_xcalloc(n + 1, sizeof(bool));
	p->order = cb_xcalloc(n + 1, sizeof(size_t));
	for (size_t k = 0; k < n; k++) {
		size_t pick = n;
		for (size_t i = 0; i < n && pick == n; i++) {
			if (done[i])
				continue;
			bool ready = true;
			for (size_t d = 0; d < p->services[i].n_depends_on && ready; d++) {
				const df_compose_service_t *dep =
					df_compose_service(p, p->services[i].depends_on[d].service);
				ready = done[dep - p->services];
			}
			if (ready)
				pick = i;
		}
		if (pick == n)
			break;
		done[pick] = true;
		p->order[k] = pick;
		if (k + 1 == n)
			return 0;
	}
	if (n == 0)
		return 0;
	/* walk first dependencies among the rest until a service repeats */
	size_t at = 0;
	while (done[at])
		at++;
	_cleanup_free_ size_t *path = cb_xcalloc(n + 1, sizeof(size_t));
	size_t len = 0;
	for (;;) {
		for (size_t j = 0; j < len; j++)
			if (path[j] == at) {
				cb_buf_t b;
				cb_buf_init(&b);
				for (size_t q = j; q < len; q++)
					cb_buf_addf(&b, "%s -> ", p->services[path[q]].name);
				cb_buf_addstr(&b, p->services[at].name);
				int rc = cb_error_fail(err, EINVAL, "dependency cycle between "
						       "services: %s", b.data);
				cb_buf_release(&b);
				return rc;
			}
		path[len++] = at;
		const df_compose_service_t *s = &p->services[at];
		for (size_t d = 0; d < s->n_depends_on; d++) {
			size_t di = (size_t)(df_compose_service(p, s->depends_on[d].service) -
					     p->services);
			if (!done[di]) {
				at = di;
				break;
			}
		}
	}
}

static int load_tree(ld_t *ld, cn_t *top, cb_error_t *err)
{
	df_compose_project_t *p = ld->p;
	for (size_t i = 0; i < top->n; i++) {
		const char *k = top->keys[i]->str;
		if (!strcmp(k, "version") || !strcmp(k, "name") || !strcmp(k, "services") ||
		    !strcmp(k, "volumes") || !strcmp(k, "secrets") || !strcmp(k, "networks") ||
		    cb_str_has_prefix(k, "x-"))
			continue;
		if (!strcmp(k, "configs") || !strcmp(k, "include"))
			cn_warn(ld, k, top->keys[i], "top-level '%s' is not supported (ignored)", k);
		else
			cn_warn(ld, k, top->keys[i], "unknown top-level key '%s' (ignored)", k);
	}
	if (project_name(ld, top, err) < 0)
		return -1;
	p->dir = cb_xstrdup(ld->o->project_dir ? ld->o->project_dir : ".");
	const cn_t *secrets = cn_get(top, "secrets");
	if (secrets && cn_want_kind(secrets, CN_MAP, "secrets", err) < 0)
		return -1;
	ld->secrets = secrets;
	const cn_t *vols = cn_get(top, "volumes");
	if (vols && parse_volumes(ld, vols, err) < 0)
		return -1;
	const cn_t *nets = cn_get(top, "networks");
	if (nets && cn_parse_networks(ld, nets, err) < 0)
		return -1;
	cn_t *svcs = cn_get(top, "services");
	if (!svcs || cn_is_null(svcs) || (svcs->kind == CN_MAP && svcs->n == 0))
		return cb_error_fail(err, EINVAL, "%s: no services defined", top->file);
	if (cn_want_kind(svcs, CN_MAP, "services", err) < 0)
		return -1;
	ld->services = svcs;
	/* sort keys and values together: by name, the order `config` prints */
	_cleanup_free_ cn_t **keys = cb_xcalloc(svcs->n, sizeof(cn_t *));
	memcpy(keys, svcs->keys, svcs->n * sizeof(cn_t *));
	qsort(keys, svcs->n, sizeof(cn_t *), cmp_key);
	p->services = cb_xcalloc(svcs->n, sizeof(*p->services));
	for (size_t i = 0; i < svcs->n; i++) {
		p->n_services = i + 1;
		if (cn_parse_service(ld, &p->services[i], keys[i], cn_get(svcs, keys[i]->str), err) < 0)
			return -1;
	}
	if (cn_finish_networks(ld, err) < 0)
		return -1;
	return topo_order(p, err);
}

static int cmp_volume(const void *a, const void *b)
{
	return strcmp(((const df_compose_volume_t *)a)->key, ((const df_compose_volume_t *)b)->key);
}

int df_compose_load(const df_compose_opts_t *o, df_compose_project_t **out, cb_error_t *err)
{
	if (!o->n_files)
		return cb_error_fail(err, EINVAL, "no compose file given");
	_cleanup_strv_ char **unset = NULL;
	cn_t *top = NULL;
	for (size_t i = 0; i < o->n_files; i++) {
		cn_t *t = NULL;
		const df_compose_file_t *f = &o->files[i];
		if (cn_load(f->name, f->data, f->len, o->env, &unset, &t, err) < 0) {
			cn_free(top);
			return -1;
		}
		if (!t || cn_is_null(t)) {
			cn_free(t);
			cn_free(top);
			return cb_error_fail(err, EINVAL, "%s: empty compose file", f->name);
		}
		if (t->kind != CN_MAP) {
			cn_error(err, t, "a compose file must be a mapping at the top");
			cn_free(t);
			cn_free(top);
			return -1;
		}
		if (!top)
			top = t;
		else
			cn_merge_top(top, t);
	}
	df_compose_project_t *p = cb_xcalloc(1, sizeof(*p));
	ld_t ld = {.o = o, .p = p};
	for (size_t i = 0; unset && unset[i]; i++)
		p->warnings = cb_strv_push_take(p->warnings,
						cb_asprintf("variable '%s' is not set: substituting "
							    "a blank string", unset[i]));
	int rc = load_tree(&ld, top, err);
	cn_free(top);
	cb_strv_free(ld.warned);
	for (size_t i = 0; i < ld.n_ports; i++) {
		free(ld.ports[i].proto);
		free(ld.ports[i].ip);
		free(ld.ports[i].service);
		free(ld.ports[i].where);
	}
	free(ld.ports);
	if (rc < 0) {
		df_compose_project_free(p);
		return -1;
	}
	if (p->n_volumes)
		qsort(p->volumes, p->n_volumes, sizeof(*p->volumes), cmp_volume);
	*out = p;
	return 0;
}

/* ---- freeing ---- */

static void build_free(df_compose_build_t *b)
{
	if (!b)
		return;
	free(b->context);
	free(b->dockerfile);
	free(b->dockerfile_inline);
	cb_strv_free(b->args);
	free(b->target);
	cb_strv_free(b->labels);
	cb_strv_free(b->secrets);
	cb_strv_free(b->tags);
	free(b);
}

static void service_release(df_compose_service_t *s)
{
	free(s->name);
	free(s->image);
	build_free(s->build);
	cb_strv_free(s->command);
	cb_strv_free(s->entrypoint);
	cb_strv_free(s->environment);
	cb_strv_free(s->env_files);
	free(s->env_files_required);
	for (size_t i = 0; i < s->n_ports; i++) {
		free(s->ports[i].host_ip);
		free(s->ports[i].protocol);
	}
	free(s->ports);
	for (size_t i = 0; i < s->n_volumes; i++) {
		free(s->volumes[i].source);
		free(s->volumes[i].target);
	}
	free(s->volumes);
	free(s->working_dir);
	free(s->user);
	free(s->hostname);
	free(s->container_name);
	cb_strv_free(s->labels);
	cb_strv_free(s->security_opt);
	cb_strv_free(s->extra_hosts);
	for (size_t i = 0; i < s->n_depends_on; i++)
		free(s->depends_on[i].service);
	free(s->depends_on);
	cb_strv_free(s->healthcheck.test);
	free(s->stop_signal);
	free(s->pull_policy);
	cn_service_networks_free(s);
}

void df_compose_project_free(df_compose_project_t *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_services; i++)
		service_release(&p->services[i]);
	free(p->services);
	free(p->order);
	for (size_t i = 0; i < p->n_volumes; i++) {
		free(p->volumes[i].key);
		free(p->volumes[i].name);
	}
	free(p->volumes);
	cn_networks_free(p);
	cb_strv_free(p->warnings);
	free(p->name);
	free(p->dir);
	free(p);
}
