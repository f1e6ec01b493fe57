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

typedef struct seen_port {
	unsigned port;
	char *proto, *ip, *service, *where;
} seen_port_t;

typedef struct ld {
	const df_compose_opts_t *o;
	df_compose_project_t *p;
	const cn_t *services;   /* the merged services map */
	const cn_t *secrets;    /* top-level secrets map or NULL */
	char **warned;          /* keys of warnings already given */
	seen_port_t *ports;
	size_t n_ports;
} ld_t;

static void warn(ld_t *ld, const char *once_key, const cn_t *at, const char *fmt, ...)
	CB_PRINTF(4, 5);

static void warn(ld_t *ld, const char *once_key, const cn_t *at, const char *fmt, ...)
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

static int want(const cn_t *n, cn_kind_t k, const char *what, cb_error_t *err)
{
	if (n->kind == k)
		return 0;
	return cn_error(err, n, "'%s' must be %s, not %s", what, kind_name(k), kind_name(n->kind));
}

/* A string or NULL for null. */
static int get_str(const cn_t *n, const char *what, char **out, cb_error_t *err)
{
	if (want(n, CN_SCALAR, what, err) < 0)
		return -1;
	free(*out);
	*out = cn_is_null(n) ? NULL : cb_xstrdup(n->str);
	return 0;
}

static int get_bool(const cn_t *n, const char *what, bool *out, cb_error_t *err)
{
	if (want(n, CN_SCALAR, what, err) < 0)
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

static int parse_uint(const char *s, unsigned max, unsigned *out)
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

static int get_int(const cn_t *n, const char *what, int *out, cb_error_t *err)
{
	unsigned v;
	if (want(n, CN_SCALAR, what, err) < 0)
		return -1;
	if (parse_uint(n->str, 1000000000, &v) < 0)
		return cn_error(err, n, "'%s' must be a number, not '%s'", what, n->str);
	*out = (int)v;
	return 0;
}

/* Go's time.ParseDuration: "1m30s", "500ms", "1h"; a bare number is
 * seconds. */
static int get_duration(const cn_t *n, const char *what, int64_t *ns, cb_error_t *err)
{
	if (want(n, CN_SCALAR, what, err) < 0)
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
static int get_strv(const cn_t *n, const char *what, char ***out, cb_error_t *err)
{
	if (want(n, CN_SEQ, what, err) < 0)
		return -1;
	char **v = NULL;
	for (size_t i = 0; i < n->n; i++) {
		if (want(n->vals[i], CN_SCALAR, what, err) < 0) {
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
static int get_command(const cn_t *n, const char *what, char ***out, bool *set, cb_error_t *err)
{
	cb_strv_free(*out);
	*out = NULL;
	*set = !cn_is_null(n);
	if (!*set)
		return 0;
	if (n->kind == CN_SCALAR)
		return split_words(n, out, err);
	if (get_strv(n, what, out, err) < 0)
		return -1;
	if (!*out) /* [] is set, and empty */
		*out = cb_xcalloc(1, sizeof(char *));
	return 0;
}

/* Put KEY=VAL in v, replacing an earlier KEY. */
static char **kv_set(char **v, const char *key, size_t klen, const char *val)
{
	char *kv = cb_asprintf("%.*s=%s", (int)klen, key, val);
	for (size_t i = 0; v && v[i]; i++)
		if (!strncmp(v[i], key, klen) && v[i][klen] == '=') {
			free(v[i]);
			v[i] = kv;
			return v;
		}
	return cb_strv_push_take(v, kv);
}

/* environment, labels, build.args: a map or a list of KEY=VAL. A bare KEY
 * (or a null value) takes its value from env when from_env, else "". */
static int get_kv(ld_t *ld, const cn_t *n, const char *what, bool from_env, char ***out,
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
		v = kv_set(v, key, klen, val ? val : "");
	}
done:
	cb_strv_free(*out);
	*out = v;
	return 0;
}

/* ---- ports ---- */

static int port_range(const char *s, size_t len, unsigned *lo, unsigned *hi)
{
	_cleanup_free_ char *t = cb_xstrndup(s, len);
	char *dash = strchr(t, '-');
	if (dash)
		*dash = 0;
	if (parse_uint(t, 65535, lo) < 0 || *lo == 0)
		return -1;
	*hi = *lo;
	if (dash && (parse_uint(dash + 1, 65535, hi) < 0 || *hi < *lo))
		return -1;
	return 0;
}

static int seen_port(ld_t *ld, const char *svc, const df_compose_port_t *pt, const cn_t *at,
		     cb_error_t *err)
{
	if (!pt->published)
		return 0;
	for (size_t i = 0; i < ld->n_ports; i++) {
		seen_port_t *s = &ld->ports[i];
		bool ip_clash = !s->ip || !pt->host_ip || !strcmp(s->ip, pt->host_ip) ||
				!strcmp(s->ip, "0.0.0.0") || !strcmp(pt->host_ip, "0.0.0.0");
		if (s->port == pt->published && !strcmp(s->proto, pt->protocol) && ip_clash)
			return cn_error(err, at,
					"host port %u/%s is published twice: by service '%s' (%s) "
					"and by service '%s'",
					pt->published, pt->protocol, s->service, s->where, svc);
	}
	ld->ports = cb_xreallocarray(ld->ports, ld->n_ports + 1, sizeof(*ld->ports));
	seen_port_t *s = &ld->ports[ld->n_ports++];
	s->port = pt->published;
	s->proto = cb_xstrdup(pt->protocol);
	s->ip = pt->host_ip ? cb_xstrdup(pt->host_ip) : NULL;
	s->service = cb_xstrdup(svc);
	_cleanup_free_ char *w = cn_where(at);
	s->where = cb_xstrndup(w, strlen(w) >= 2 ? strlen(w) - 2 : 0);
	return 0;
}

static void add_port(df_compose_service_t *s, const char *ip, unsigned pub, unsigned target,
		     const char *proto)
{
	s->ports = cb_xreallocarray(s->ports, s->n_ports + 1, sizeof(*s->ports));
	df_compose_port_t *p = &s->ports[s->n_ports++];
	p->host_ip = ip && *ip ? cb_xstrdup(ip) : NULL;
	p->published = pub;
	p->target = target;
	p->protocol = cb_xstrdup(proto && *proto ? proto : "tcp");
}

/* "[[IP:]HOST[-HOST]:]CTR[-CTR][/PROTO]" */
static int port_short(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	_cleanup_free_ char *spec = cb_xstrdup(n->str);
	_cleanup_free_ char *ip = NULL;
	const char *proto = "tcp";
	char *slash = strrchr(spec, '/');
	if (slash) {
		*slash = 0;
		proto = slash + 1;
	}
	char *rest = spec;
	if (rest[0] == '[') {
		char *close = strchr(rest, ']');
		if (!close || close[1] != ':')
			goto bad;
		ip = cb_xstrndup(rest + 1, (size_t)(close - rest - 1));
		rest = close + 2;
	}
	char *last = strrchr(rest, ':');
	const char *host = NULL, *ctr = rest;
	if (last) {
		*last = 0;
		ctr = last + 1;
		char *prev = strrchr(rest, ':');
		if (prev) {
			if (ip)
				goto bad;
			*prev = 0;
			ip = cb_xstrdup(rest);
			host = prev + 1;
		} else {
			host = rest;
		}
	}
	if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
		return cn_error(err, n, "port '%s': protocol must be tcp or udp", n->str);
	unsigned clo, chi, hlo = 0, hhi = 0;
	if (port_range(ctr, strlen(ctr), &clo, &chi) < 0)
		goto bad;
	if (host && *host && port_range(host, strlen(host), &hlo, &hhi) < 0)
		goto bad;
	if (hlo && hhi - hlo != chi - clo)
		return cn_error(err, n, "port '%s': the host and container ranges differ in size",
				n->str);
	for (unsigned i = 0; i <= chi - clo; i++) {
		add_port(s, ip, hlo ? hlo + i : 0, clo + i, proto);
		if (seen_port(ld, s->name, &s->ports[s->n_ports - 1], n, err) < 0)
			return -1;
	}
	return 0;
bad:
	return cn_error(err, n, "invalid port '%s' (expected [[IP:]HOST:]CONTAINER[/PROTOCOL])",
			n->str);
}

static int port_long(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	unsigned target = 0, pub = 0, hi;
	_cleanup_free_ char *ip = NULL, *proto = NULL;
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->str;
		const cn_t *v = n->vals[i];
		if (want(v, CN_SCALAR, k, err) < 0)
			return -1;
		if (!strcmp(k, "target")) {
			if (port_range(v->str, strlen(v->str), &target, &hi) < 0 || hi != target)
				return cn_error(err, v, "invalid port target '%s'", v->str);
		} else if (!strcmp(k, "published")) {
			if (!cn_is_null(v) &&
			    (port_range(v->str, strlen(v->str), &pub, &hi) < 0 || hi != pub))
				return cn_error(err, v, "invalid published port '%s'", v->str);
		} else if (!strcmp(k, "host_ip")) {
			if (get_str(v, k, &ip, err) < 0)
				return -1;
		} else if (!strcmp(k, "protocol")) {
			if (get_str(v, k, &proto, err) < 0)
				return -1;
			if (proto && strcmp(proto, "tcp") && strcmp(proto, "udp"))
				return cn_error(err, v, "port protocol must be tcp or udp");
		} else if (strcmp(k, "mode") && strcmp(k, "name") && strcmp(k, "app_protocol") &&
			   !cb_str_has_prefix(k, "x-")) {
			warn(ld, "ports.key", n->keys[i], "unknown key '%s' in a port (ignored)", k);
		}
	}
	if (!target)
		return cn_error(err, n, "a port needs 'target'");
	add_port(s, ip, pub, target, proto);
	return seen_port(ld, s->name, &s->ports[s->n_ports - 1], n, err);
}

static int get_ports(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	if (want(n, CN_SEQ, "ports", err) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		const cn_t *it = n->vals[i];
		int rc = it->kind == CN_MAP ? port_long(ld, s, it, err)
			 : it->kind == CN_SCALAR ? port_short(ld, s, it, err)
						 : cn_error(err, it, "invalid port entry");
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- volumes ---- */

static char *host_path(ld_t *ld, const char *p)
{
	if (p[0] == '~' && (p[1] == '/' || !p[1])) {
		const char *home = df_env_get(ld->o->env, "HOME", 4);
		_cleanup_free_ char *j = cb_asprintf("%s%s", home ? home : "/root", p + 1);
		return cb_path_clean(j);
	}
	if (p[0] == '/')
		return cb_path_clean(p);
	_cleanup_free_ char *j = cb_path_join(ld->o->project_dir, p);
	return cb_path_clean(j);
}

static df_compose_mount_t *add_mount(df_compose_service_t *s)
{
	s->volumes = cb_xreallocarray(s->volumes, s->n_volumes + 1, sizeof(*s->volumes));
	df_compose_mount_t *m = &s->volumes[s->n_volumes++];
	memset(m, 0, sizeof(*m));
	return m;
}

static bool is_host_path(const char *s)
{
	return s[0] == '/' || s[0] == '.' || s[0] == '~';
}

static int check_volume_ref(ld_t *ld, const char *name, const cn_t *at, cb_error_t *err)
{
	if (df_compose_volume(ld->p, name))
		return 0;
	return cn_error(err, at, "service refers to undefined volume '%s' (declare it under the "
			"top-level 'volumes:')", name);
}

static int volume_short(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	_cleanup_strv_ char **parts = NULL;
	_cleanup_free_ char *dup = cb_xstrdup(n->str);
	for (char *save = NULL, *t = strtok_r(dup, ":", &save); t; t = strtok_r(NULL, ":", &save))
		parts = cb_strv_push(parts, t);
	size_t np = cb_strv_len(parts);
	if (np < 1 || np > 3)
		return cn_error(err, n, "invalid volume '%s' (expected [SOURCE:]TARGET[:MODE])", n->str);
	df_compose_mount_t *m = add_mount(s);
	const char *target = np == 1 ? parts[0] : parts[1];
	if (target[0] != '/')
		return cn_error(err, n, "volume '%s': the target must be an absolute path", n->str);
	m->target = cb_path_clean(target);
	if (np == 1) {
		m->type = DF_MOUNT_VOLUME;
	} else if (is_host_path(parts[0])) {
		m->type = DF_MOUNT_BIND;
		m->source = host_path(ld, parts[0]);
		m->create_host_path = true;
	} else {
		m->type = DF_MOUNT_VOLUME;
		m->source = cb_xstrdup(parts[0]);
		if (check_volume_ref(ld, m->source, n, err) < 0)
			return -1;
	}
	if (np == 3) {
		_cleanup_free_ char *modes = cb_xstrdup(parts[2]);
		for (char *save = NULL, *t = strtok_r(modes, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			if (!strcmp(t, "ro"))
				m->read_only = true;
			else if (strcmp(t, "rw") && strcmp(t, "z") && strcmp(t, "Z") &&
				 strcmp(t, "cached") && strcmp(t, "delegated") &&
				 strcmp(t, "consistent") && strcmp(t, "nocopy"))
				return cn_error(err, n, "volume '%s': unknown mode '%s'", n->str, t);
		}
	}
	return 0;
}

static int volume_long(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	_cleanup_free_ char *type = NULL, *source = NULL, *target = NULL;
	df_compose_mount_t m = {0};
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->str;
		const cn_t *v = n->vals[i];
		int rc = 0;
		if (!strcmp(k, "type"))
			rc = get_str(v, k, &type, err);
		else if (!strcmp(k, "source"))
			rc = get_str(v, k, &source, err);
		else if (!strcmp(k, "target"))
			rc = get_str(v, k, &target, err);
		else if (!strcmp(k, "read_only"))
			rc = get_bool(v, k, &m.read_only, err);
		else if (!strcmp(k, "bind")) {
			const cn_t *c = cn_get(v, "create_host_path");
			rc = c ? get_bool(c, "create_host_path", &m.create_host_path, err) : 0;
		} else if (strcmp(k, "volume") && strcmp(k, "tmpfs") && strcmp(k, "consistency") &&
			   !cb_str_has_prefix(k, "x-"))
			warn(ld, "volumes.key", n->keys[i], "unknown key '%s' in a volume (ignored)", k);
		if (rc < 0)
			return -1;
	}
	if (!type || !target)
		return cn_error(err, n, "a volume in long syntax needs 'type' and 'target'");
	if (target[0] != '/')
		return cn_error(err, n, "volume target '%s' must be an absolute path", target);
	if (!strcmp(type, "bind")) {
		if (!source)
			return cn_error(err, n, "a bind mount needs 'source'");
		m.type = DF_MOUNT_BIND;
		m.source = host_path(ld, source);
	} else if (!strcmp(type, "volume")) {
		m.type = DF_MOUNT_VOLUME;
		if (source && check_volume_ref(ld, source, n, err) < 0)
			return -1;
		m.source = cb_steal_pointer(&source);
	} else if (!strcmp(type, "tmpfs")) {
		m.type = DF_MOUNT_TMPFS;
	} else {
		return cn_error(err, n, "volume type '%s' is not supported (bind, volume or tmpfs)",
				type);
	}
	m.target = cb_path_clean(target);
	*add_mount(s) = m;
	return 0;
}

static int get_volumes(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	if (want(n, CN_SEQ, "volumes", err) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		const cn_t *it = n->vals[i];
		int rc = it->kind == CN_MAP ? volume_long(ld, s, it, err)
			 : it->kind == CN_SCALAR ? volume_short(ld, s, it, err)
						 : cn_error(err, it, "invalid volume entry");
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- smaller sections ---- */

static int get_env_files(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	const cn_t *one[1] = {n};
	const cn_t *const *items = one;
	size_t count = 1;
	if (n->kind == CN_SEQ) {
		items = (const cn_t *const *)n->vals;
		count = n->n;
	}
	for (size_t i = 0; i < count; i++) {
		const cn_t *it = items[i];
		const cn_t *path = it;
		bool required = true;
		if (it->kind == CN_MAP) {
			path = cn_get(it, "path");
			const cn_t *r = cn_get(it, "required");
			if (!path)
				return cn_error(err, it, "an env_file entry needs 'path'");
			if (r && get_bool(r, "required", &required, err) < 0)
				return -1;
		}
		if (want(path, CN_SCALAR, "env_file", err) < 0)
			return -1;
		s->env_files = cb_strv_push_take(s->env_files, host_path(ld, path->str));
		size_t nf = cb_strv_len(s->env_files);
		s->env_files_required = cb_xreallocarray(s->env_files_required, nf, sizeof(bool));
		s->env_files_required[nf - 1] = required;
	}
	return 0;
}

/* A count, or -1 (and 0) for none, as docker's --pids-limit. */
static int get_pids_limit(const cn_t *n, int64_t *out, cb_error_t *err)
{
	int v = 0;
	if (want(n, CN_SCALAR, "pids_limit", err) < 0 ||
	    (strcmp(n->str, "-1") && get_int(n, "pids_limit", &v, err) < 0))
		return -1;
	*out = v;
	return 0;
}

static int get_restart(df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	if (want(n, CN_SCALAR, "restart", err) < 0)
		return -1;
	const char *v = n->str;
	unsigned max = 0;
	if (!strcmp(v, "no") || !strcmp(v, "false") || cn_is_null(n))
		s->restart.kind = DF_RESTART_NO;
	else if (!strcmp(v, "always"))
		s->restart.kind = DF_RESTART_ALWAYS;
	else if (!strcmp(v, "unless-stopped"))
		s->restart.kind = DF_RESTART_UNLESS_STOPPED;
	else if (!strcmp(v, "on-failure"))
		s->restart.kind = DF_RESTART_ON_FAILURE;
	else if (cb_str_has_prefix(v, "on-failure:") && parse_uint(v + 11, 1000000, &max) == 0)
		s->restart.kind = DF_RESTART_ON_FAILURE;
	else
		return cn_error(err, n, "invalid restart policy '%s' (no, always, on-failure[:N] or "
				"unless-stopped)", v);
	s->restart.max_retries = (int)max;
	return 0;
}

static int get_healthcheck(ld_t *ld, df_compose_healthcheck_t *h, const cn_t *n,
			   cb_error_t *err)
{
	if (want(n, CN_MAP, "healthcheck", err) < 0)
		return -1;
	bool disable = false;
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->str;
		const cn_t *v = n->vals[i];
		int rc = 0;
		if (!strcmp(k, "test")) {
			cb_strv_free(h->test);
			h->test = NULL;
			if (v->kind == CN_SCALAR) {
				h->test = cb_strv_push(cb_strv_push(NULL, "CMD-SHELL"), v->str);
			} else if ((rc = get_strv(v, k, &h->test, err)) == 0) {
				const char *t0 = h->test ? h->test[0] : "";
				if (strcmp(t0, "CMD") && strcmp(t0, "CMD-SHELL") && strcmp(t0, "NONE"))
					return cn_error(err, v, "healthcheck test must start with "
							"CMD, CMD-SHELL or NONE");
			}
		} else if (!strcmp(k, "interval"))
			rc = get_duration(v, k, &h->interval_ns, err);
		else if (!strcmp(k, "timeout"))
			rc = get_duration(v, k, &h->timeout_ns, err);
		else if (!strcmp(k, "start_period"))
			rc = get_duration(v, k, &h->start_period_ns, err);
		else if (!strcmp(k, "start_interval"))
			rc = get_duration(v, k, &h->start_interval_ns, err);
		else if (!strcmp(k, "retries"))
			rc = get_int(v, k, &h->retries, err);
		else if (!strcmp(k, "disable"))
			rc = get_bool(v, k, &disable, err);
		else if (!cb_str_has_prefix(k, "x-"))
			warn(ld, "healthcheck.key", n->keys[i],
			     "unknown key '%s' in healthcheck (ignored)", k);
		if (rc < 0)
			return -1;
	}
	if (disable) {
		cb_strv_free(h->test);
		h->test = cb_strv_push(NULL, "NONE");
	}
	return 0;
}

static int get_depends(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	if (n->kind == CN_SCALAR)
		return cn_error(err, n, "'depends_on' must be a list or a mapping");
	for (size_t i = 0; i < n->n; i++) {
		const cn_t *name = n->kind == CN_MAP ? n->keys[i] : n->vals[i];
		const cn_t *spec = n->kind == CN_MAP ? n->vals[i] : NULL;
		if (want(name, CN_SCALAR, "depends_on", err) < 0)
			return -1;
		df_compose_dep_t d = {.condition = DF_DEP_STARTED, .required = true};
		if (spec && !cn_is_null(spec)) {
			if (want(spec, CN_MAP, "depends_on", err) < 0)
				return -1;
			const cn_t *c = cn_get(spec, "condition"), *r = cn_get(spec, "required");
			if (r && get_bool(r, "required", &d.required, err) < 0)
				return -1;
			if (c && want(c, CN_SCALAR, "condition", err) < 0)
				return -1;
			if (!c || !strcmp(c->str, "service_started"))
				d.condition = DF_DEP_STARTED;
			else if (!strcmp(c->str, "service_healthy"))
				d.condition = DF_DEP_HEALTHY;
			else if (!strcmp(c->str, "service_completed_successfully"))
				d.condition = DF_DEP_COMPLETED;
			else
				return cn_error(err, c, "invalid condition '%s' (service_started, "
						"service_healthy or service_completed_successfully)",
						c->str);
		}
		if (!strcmp(name->str, s->name))
			return cn_error(err, name, "service '%s' depends on itself", s->name);
		if (!cn_get(ld->services, name->str)) {
			if (!d.required) {
				warn(ld, NULL, name, "service '%s' depends on undefined service '%s' "
				     "(required: false, ignored)", s->name, name->str);
				continue;
			}
			return cn_error(err, name, "service '%s' depends on undefined service '%s'",
					s->name, name->str);
		}
		d.service = cb_xstrdup(name->str);
		s->depends_on = cb_xreallocarray(s->depends_on, s->n_depends_on + 1,
						 sizeof(*s->depends_on));
		s->depends_on[s->n_depends_on++] = d;
	}
	return 0;
}


/* ---- build ---- */

static int build_secret(ld_t *ld, df_compose_build_t *b, const cn_t *it, cb_error_t *err)
{
	const cn_t *src = it;
	if (it->kind == CN_MAP && !(src = cn_get(it, "source")))
		return cn_error(err, it, "a build secret needs 'source'");
	if (want(src, CN_SCALAR, "secrets", err) < 0)
		return -1;
	const cn_t *def = cn_get(ld->secrets, src->str);
	if (!def)
		return cn_error(err, src, "build secret '%s' is not declared under the top-level "
				"'secrets:'", src->str);
	const cn_t *file = cn_get(def, "file");
	if (!file || file->kind != CN_SCALAR) {
		warn(ld, NULL, src, "build secret '%s' has no 'file:' (only file secrets are "
		     "supported; ignored)", src->str);
		return 0;
	}
	_cleanup_free_ char *path = host_path(ld, file->str);
	b->secrets = cb_strv_push_take(b->secrets, cb_asprintf("id=%s,src=%s", src->str, path));
	return 0;
}

static int build_key(ld_t *ld, df_compose_build_t *b, const cn_t *key, const cn_t *v,
		     cb_error_t *err)
{
	const char *k = key->str;
	if (!strcmp(k, "context"))
		return get_str(v, k, &b->context, err);
	if (!strcmp(k, "dockerfile"))
		return get_str(v, k, &b->dockerfile, err);
	if (!strcmp(k, "dockerfile_inline"))
		return get_str(v, k, &b->dockerfile_inline, err);
	if (!strcmp(k, "args"))
		return get_kv(ld, v, "build.args", true, &b->args, err);
	if (!strcmp(k, "labels"))
		return get_kv(ld, v, "build.labels", false, &b->labels, err);
	if (!strcmp(k, "target"))
		return get_str(v, k, &b->target, err);
	if (!strcmp(k, "tags"))
		return get_strv(v, k, &b->tags, err);
	if (!strcmp(k, "no_cache"))
		return get_bool(v, k, &b->no_cache, err);
	if (!strcmp(k, "pull"))
		return get_bool(v, k, &b->pull, err);
	if (!strcmp(k, "secrets")) {
		if (want(v, CN_SEQ, k, err) < 0)
			return -1;
		for (size_t i = 0; i < v->n; i++)
			if (build_secret(ld, b, v->vals[i], err) < 0)
				return -1;
		return 0;
	}
	if (!strcmp(k, "cache_from") || !strcmp(k, "cache_to")) {
		warn(ld, "build.cache_from", key, "build.%s is ignored: cbuild uses its local "
		     "build cache", k);
		return 0;
	}
	if (!strcmp(k, "ssh") || !strcmp(k, "network") || !strcmp(k, "platforms") ||
	    !strcmp(k, "shm_size") || !strcmp(k, "extra_hosts") || !strcmp(k, "isolation") ||
	    !strcmp(k, "additional_contexts") || !strcmp(k, "privileged")) {
		_cleanup_free_ char *once = cb_asprintf("build.%s", k);
		warn(ld, once, key, "build.%s is not supported (ignored)", k);
		return 0;
	}
	if (!cb_str_has_prefix(k, "x-")) {
		_cleanup_free_ char *once = cb_asprintf("build.?%s", k);
		warn(ld, once, key, "unknown key '%s' in build (ignored)", k);
	}
	return 0;
}

static int get_build(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err)
{
	df_compose_build_t *b = cb_xcalloc(1, sizeof(*b));
	s->build = b;
	if (n->kind == CN_SCALAR) {
		b->context = cb_xstrdup(n->str);
	} else {
		if (want(n, CN_MAP, "build", err) < 0)
			return -1;
		for (size_t i = 0; i < n->n; i++)
			if (build_key(ld, b, n->keys[i], n->vals[i], err) < 0)
				return -1;
	}
	if (!b->context)
		b->context = cb_xstrdup(".");
	if (strstr(b->context, "://") || cb_str_has_prefix(b->context, "git@"))
		return cn_error(err, n, "service '%s': remote build context '%s' is not supported",
				s->name, b->context);
	char *ctx = host_path(ld, b->context);
	free(b->context);
	b->context = ctx;
	if (b->dockerfile && b->dockerfile_inline)
		return cn_error(err, n, "service '%s': build has both 'dockerfile' and "
				"'dockerfile_inline'", s->name);
	if (!b->dockerfile_inline) {
		const char *df = b->dockerfile ? b->dockerfile : "Dockerfile";
		_cleanup_free_ char *j = df[0] == '/' ? cb_xstrdup(df) : cb_path_join(ctx, df);
		free(b->dockerfile);
		b->dockerfile = cb_path_clean(j);
	}
	return 0;
}

/* ---- a service ---- */

static const char *const ignored_keys[] = {
	"networks", "network_mode", "deploy", "logging", "cap_add", "cap_drop", "devices",
	"dns", "dns_search", "dns_opt", "domainname", "ulimits", "sysctls",
	"shm_size", "tmpfs", "secrets", "configs", "profiles", "platform", "mem_limit",
	"memswap_limit", "mem_reservation", "cpus", "cpu_shares", "cpuset", "pid", "ipc",
	"links", "external_links", "annotations", "attach", "cgroup", "cgroup_parent",
	"develop", "scale", "runtime", "group_add", "isolation", "mac_address",
	"oom_score_adj", "oom_kill_disable", "userns_mode", "volumes_from", "stop_grace",
	"blkio_config", "device_cgroup_rules", "extends", "label_file", "storage_opt", "uts",
	"post_start", "pre_stop", "use_api_socket", "models", "provider",
};

static int service_key(ld_t *ld, df_compose_service_t *s, const cn_t *key, const cn_t *v,
		       cb_error_t *err)
{
	const char *k = key->str;
	if (!strcmp(k, "image"))
		return get_str(v, k, &s->image, err);
	if (!strcmp(k, "build"))
		return get_build(ld, s, v, err);
	if (!strcmp(k, "command"))
		return get_command(v, k, &s->command, &s->command_set, err);
	if (!strcmp(k, "entrypoint"))
		return get_command(v, k, &s->entrypoint, &s->entrypoint_set, err);
	if (!strcmp(k, "environment"))
		return get_kv(ld, v, k, true, &s->environment, err);
	if (!strcmp(k, "env_file"))
		return get_env_files(ld, s, v, err);
	if (!strcmp(k, "ports"))
		return get_ports(ld, s, v, err);
	if (!strcmp(k, "volumes"))
		return get_volumes(ld, s, v, err);
	if (!strcmp(k, "working_dir"))
		return get_str(v, k, &s->working_dir, err);
	if (!strcmp(k, "user"))
		return get_str(v, k, &s->user, err);
	if (!strcmp(k, "hostname"))
		return get_str(v, k, &s->hostname, err);
	if (!strcmp(k, "container_name"))
		return get_str(v, k, &s->container_name, err);
	if (!strcmp(k, "labels"))
		return get_kv(ld, v, k, false, &s->labels, err);
	if (!strcmp(k, "extra_hosts")) {
		if (v->kind == CN_MAP) {
			char **h = NULL;
			for (size_t i = 0; i < v->n; i++)
				h = cb_strv_push_take(h, cb_asprintf("%s:%s", v->keys[i]->str,
								     v->vals[i]->str));
			cb_strv_free(s->extra_hosts);
			s->extra_hosts = h;
			return 0;
		}
		return get_strv(v, k, &s->extra_hosts, err);
	}
	if (!strcmp(k, "depends_on"))
		return get_depends(ld, s, v, err);
	if (!strcmp(k, "restart"))
		return get_restart(s, v, err);
	if (!strcmp(k, "healthcheck"))
		return get_healthcheck(ld, &s->healthcheck, v, err);
	if (!strcmp(k, "stop_signal"))
		return get_str(v, k, &s->stop_signal, err);
	if (!strcmp(k, "stop_grace_period"))
		return get_duration(v, k, &s->stop_grace_period_ns, err);
	if (!strcmp(k, "tty"))
		return get_bool(v, k, &s->tty, err);
	if (!strcmp(k, "stdin_open"))
		return get_bool(v, k, &s->stdin_open, err);
	if (!strcmp(k, "init"))
		return get_bool(v, k, &s->init, err);
	if (!strcmp(k, "read_only"))
		return get_bool(v, k, &s->read_only, err);
	if (!strcmp(k, "privileged"))
		return get_bool(v, k, &s->privileged, err);
	if (!strcmp(k, "pull_policy"))
		return get_str(v, k, &s->pull_policy, err);
	if (!strcmp(k, "pids_limit"))
		return get_pids_limit(v, &s->pids_limit, err);
	if (!strcmp(k, "security_opt"))
		return get_strv(v, k, &s->security_opt, err);
	if (!strcmp(k, "expose"))
		return 0; /* the services share one network namespace: all is exposed */
	if (cb_str_has_prefix(k, "x-"))
		return 0;
	_cleanup_free_ char *once = cb_asprintf("service.%s", k);
	for (size_t i = 0; i < CB_ARRAY_SIZE(ignored_keys); i++)
		if (!strcmp(k, ignored_keys[i])) {
			if (!strcmp(k, "networks") || !strcmp(k, "network_mode"))
				warn(ld, once, key, "'%s' is ignored: the services of a project share "
				     "one network namespace", k);
			else
				warn(ld, once, key, "'%s' is not supported (ignored)", k);
			return 0;
		}
	warn(ld, once, key, "unknown key '%s' in service '%s' (ignored)", k, s->name);
	return 0;
}

static bool valid_service_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static int parse_service(ld_t *ld, df_compose_service_t *s, const cn_t *key, const cn_t *n,
			 cb_error_t *err)
{
	s->name = cb_xstrdup(key->str);
	if (!valid_service_name(s->name))
		return cn_error(err, key, "invalid service name '%s' (letters, digits, '.', '_' "
				"and '-' only)", s->name);
	if (cn_is_null(n))
		return cn_error(err, key, "service '%s' is empty: it needs 'image' or 'build'",
				s->name);
	if (want(n, CN_MAP, s->name, err) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++)
		if (service_key(ld, s, n->keys[i], n->vals[i], err) < 0)
			return -1;
	if (!s->image && !s->build)
		return cn_error(err, key, "service '%s' has neither 'image' nor 'build'", s->name);
	return 0;
}

/* ---- top level ---- */

static int parse_volumes(ld_t *ld, const cn_t *n, cb_error_t *err)
{
	df_compose_project_t *p = ld->p;
	if (cn_is_null(n))
		return 0;
	if (want(n, CN_MAP, "volumes", err) < 0)
		return -1;
	p->volumes = cb_xcalloc(n->n ? n->n : 1, sizeof(*p->volumes));
	for (size_t i = 0; i < n->n; i++) {
		df_compose_volume_t *v = &p->volumes[p->n_volumes++];
		const cn_t *def = n->vals[i];
		v->key = cb_xstrdup(n->keys[i]->str);
		if (!cn_is_null(def)) {
			if (want(def, CN_MAP, v->key, err) < 0)
				return -1;
			const cn_t *nm = cn_get(def, "name"), *ext = cn_get(def, "external");
			if (nm && get_str(nm, "name", &v->name, err) < 0)
				return -1;
			if (ext && ext->kind == CN_MAP) { /* the old external: {name: X} */
				const cn_t *en = cn_get(ext, "name");
				v->external = true;
				if (en && get_str(en, "name", &v->name, err) < 0)
					return -1;
			} else if (ext && get_bool(ext, "external", &v->external, err) < 0) {
				return -1;
			}
			const cn_t *drv = cn_get(def, "driver");
			if (drv && drv->kind == CN_SCALAR && strcmp(drv->str, "local"))
				warn(ld, NULL, drv, "volume driver '%s' is not supported: a local "
				     "directory is used", drv->str);
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
		if (want(nm, CN_SCALAR, "name", err) < 0)
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
		    !strcmp(k, "volumes") || !strcmp(k, "secrets") || cb_str_has_prefix(k, "x-"))
			continue;
		if (!strcmp(k, "networks") || !strcmp(k, "configs") || !strcmp(k, "include"))
			warn(ld, k, top->keys[i], "top-level '%s' is not supported (ignored)", k);
		else
			warn(ld, k, top->keys[i], "unknown top-level key '%s' (ignored)", k);
	}
	if (project_name(ld, top, err) < 0)
		return -1;
	p->dir = cb_xstrdup(ld->o->project_dir ? ld->o->project_dir : ".");
	const cn_t *secrets = cn_get(top, "secrets");
	if (secrets && want(secrets, CN_MAP, "secrets", err) < 0)
		return -1;
	ld->secrets = secrets;
	const cn_t *vols = cn_get(top, "volumes");
	if (vols && parse_volumes(ld, vols, err) < 0)
		return -1;
	cn_t *svcs = cn_get(top, "services");
	if (!svcs || cn_is_null(svcs) || (svcs->kind == CN_MAP && svcs->n == 0))
		return cb_error_fail(err, EINVAL, "%s: no services defined", top->file);
	if (want(svcs, CN_MAP, "services", err) < 0)
		return -1;
	ld->services = svcs;
	/* sort keys and values together: by name, the order `config` prints */
	_cleanup_free_ cn_t **keys = cb_xcalloc(svcs->n, sizeof(cn_t *));
	memcpy(keys, svcs->keys, svcs->n * sizeof(cn_t *));
	qsort(keys, svcs->n, sizeof(cn_t *), cmp_key);
	p->services = cb_xcalloc(svcs->n, sizeof(*p->services));
	for (size_t i = 0; i < svcs->n; i++) {
		p->n_services = i + 1;
		if (parse_service(ld, &p->services[i], keys[i], cn_get(svcs, keys[i]->str), err) < 0)
			return -1;
	}
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
	cb_strv_free(s->security_opt);
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
	cb_strv_free(s->extra_hosts);
	for (size_t i = 0; i < s->n_depends_on; i++)
		free(s->depends_on[i].service);
	free(s->depends_on);
	cb_strv_free(s->healthcheck.test);
	free(s->stop_signal);
	free(s->pull_policy);
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
	cb_strv_free(p->warnings);
	free(p->name);
	free(p->dir);
	free(p);
}
