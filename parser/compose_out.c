/*
 * parser/compose_out.c - `compose config`: the resolved project as YAML or
 * JSON. The model is turned back into a tree (compose_internal.h) which
 * one printer per format walks, so both always show the same thing.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/compose.h"
#include "parser/compose_internal.h"

static const cn_t nowhere = {.file = "", .line = 0, .col = 0};

static cn_t *node(cn_kind_t k)
{
	cn_t *n = cn_new_scalar("", &nowhere);
	free(n->str);
	n->str = NULL;
	n->kind = k;
	return n;
}

static cn_t *str(const char *s)
{
	cn_t *n = cn_new_scalar(s, &nowhere);
	n->plain = false;
	return n;
}

/* A number or boolean: printed bare. */
static cn_t *raw(const char *s)
{
	cn_t *n = cn_new_scalar(s, &nowhere);
	n->plain = true;
	return n;
}

static void put(cn_t *m, const char *key, cn_t *v)
{
	if (v)
		cn_map_add(m, str(key), v);
}

static void put_str(cn_t *m, const char *key, const char *s)
{
	if (s)
		put(m, key, str(s));
}

static void put_bool(cn_t *m, const char *key, bool b)
{
	if (b)
		put(m, key, raw("true"));
}

static void put_uint(cn_t *m, const char *key, unsigned long long v)
{
	char b[32];
	snprintf(b, sizeof(b), "%llu", v);
	put(m, key, raw(b));
}

static cn_t *strv(char *const *v)
{
	cn_t *s = node(CN_SEQ);
	for (size_t i = 0; v && v[i]; i++)
		cn_seq_add(s, str(v[i]));
	return s;
}

static cn_t *kv_map(char *const *v)
{
	if (!v)
		return NULL;
	cn_t *m = node(CN_MAP);
	for (size_t i = 0; v[i]; i++) {
		const char *eq = strchr(v[i], '=');
		_cleanup_free_ char *k = eq ? cb_xstrndup(v[i], (size_t)(eq - v[i])) : cb_xstrdup(v[i]);
		put_str(m, k, eq ? eq + 1 : "");
	}
	return m;
}

/* Go's Duration.String() for whole milliseconds and up: "1m30s", "500ms". */
static cn_t *duration(int64_t ns)
{
	char b[64] = "";
	size_t n = 0;
	int64_t ms = ns / 1000000;
	if (ms < 1000) {
		snprintf(b, sizeof(b), "%" PRId64 "ms", ms);
		return str(b);
	}
	int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
	if (h)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%" PRId64 "h", h);
	if (h || m)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%" PRId64 "m", m);
	if (rest)
		snprintf(b + n, sizeof(b) - n, "%" PRId64 ".%03" PRId64 "s", s, rest);
	else
		snprintf(b + n, sizeof(b) - n, "%" PRId64 "s", s);
	return str(b);
}

static cn_t *build_tree(const df_compose_build_t *b)
{
	cn_t *m = node(CN_MAP);
	put_str(m, "context", b->context);
	put_str(m, "dockerfile", b->dockerfile);
	put_str(m, "dockerfile_inline", b->dockerfile_inline);
	put(m, "args", kv_map(b->args));
	put(m, "labels", kv_map(b->labels));
	put_bool(m, "no_cache", b->no_cache);
	put_bool(m, "pull", b->pull);
	if (b->secrets)
		put(m, "secrets", strv(b->secrets));
	if (b->tags)
		put(m, "tags", strv(b->tags));
	put_str(m, "target", b->target);
	return m;
}

static const char *const conditions[] = {"service_started", "service_healthy",
					 "service_completed_successfully"};

static cn_t *service_tree(const df_compose_service_t *s)
{
	cn_t *m = node(CN_MAP);
	if (s->build)
		put(m, "build", build_tree(s->build));
	if (s->command_set)
		put(m, "command", strv(s->command));
	put_str(m, "container_name", s->container_name);
	if (s->n_depends_on) {
		cn_t *d = node(CN_MAP);
		for (size_t i = 0; i < s->n_depends_on; i++) {
			cn_t *c = node(CN_MAP);
			put_str(c, "condition", conditions[s->depends_on[i].condition]);
			put(c, "required", raw(s->depends_on[i].required ? "true" : "false"));
			put(d, s->depends_on[i].service, c);
		}
		put(m, "depends_on", d);
	}
	if (s->entrypoint_set)
		put(m, "entrypoint", strv(s->entrypoint));
	if (s->env_files)
		put(m, "env_file", strv(s->env_files));
	put(m, "environment", kv_map(s->environment));
	if (s->extra_hosts)
		put(m, "extra_hosts", strv(s->extra_hosts));
	const df_compose_healthcheck_t *h = &s->healthcheck;
	if (h->test || h->interval_ns || h->timeout_ns || h->retries || h->start_period_ns) {
		cn_t *c = node(CN_MAP);
		if (h->test)
			put(c, "test", strv(h->test));
		if (h->interval_ns)
			put(c, "interval", duration(h->interval_ns));
		if (h->timeout_ns)
			put(c, "timeout", duration(h->timeout_ns));
		if (h->retries)
			put_uint(c, "retries", (unsigned)h->retries);
		if (h->start_period_ns)
			put(c, "start_period", duration(h->start_period_ns));
		if (h->start_interval_ns)
			put(c, "start_interval", duration(h->start_interval_ns));
		put(m, "healthcheck", c);
	}
	put_str(m, "hostname", s->hostname);
	put_str(m, "image", s->image);
	put_bool(m, "init", s->init);
	put(m, "labels", kv_map(s->labels));
	if (s->n_ports) {
		cn_t *ps = node(CN_SEQ);
		for (size_t i = 0; i < s->n_ports; i++) {
			cn_t *p = node(CN_MAP);
			put_uint(p, "target", s->ports[i].target);
			if (s->ports[i].published) {
				char b[16];
				snprintf(b, sizeof(b), "%u", s->ports[i].published);
				put_str(p, "published", b);
			}
			put_str(p, "host_ip", s->ports[i].host_ip);
			put_str(p, "protocol", s->ports[i].protocol);
			cn_seq_add(ps, p);
		}
		put(m, "ports", ps);
	}
	put_bool(m, "privileged", s->privileged);
	put_str(m, "pull_policy", s->pull_policy);
	put_bool(m, "read_only", s->read_only);
	if (s->restart.kind != DF_RESTART_NO) {
		static const char *const kinds[] = {"no", "always", "on-failure", "unless-stopped"};
		_cleanup_free_ char *r = s->restart.max_retries
						 ? cb_asprintf("on-failure:%d", s->restart.max_retries)
						 : cb_xstrdup(kinds[s->restart.kind]);
		put_str(m, "restart", r);
	}
	put_bool(m, "stdin_open", s->stdin_open);
	if (s->stop_grace_period_ns)
		put(m, "stop_grace_period", duration(s->stop_grace_period_ns));
	put_str(m, "stop_signal", s->stop_signal);
	put_bool(m, "tty", s->tty);
	put_str(m, "user", s->user);
	if (s->n_volumes) {
		static const char *const types[] = {"bind", "volume", "tmpfs"};
		cn_t *vs = node(CN_SEQ);
		for (size_t i = 0; i < s->n_volumes; i++) {
			const df_compose_mount_t *v = &s->volumes[i];
			cn_t *c = node(CN_MAP);
			put_str(c, "type", types[v->type]);
			put_str(c, "source", v->source);
			put_str(c, "target", v->target);
			put_bool(c, "read_only", v->read_only);
			if (v->type == DF_MOUNT_BIND && v->create_host_path) {
				cn_t *b = node(CN_MAP);
				put_bool(b, "create_host_path", true);
				put(c, "bind", b);
			}
			cn_seq_add(vs, c);
		}
		put(m, "volumes", vs);
	}
	put_str(m, "working_dir", s->working_dir);
	return m;
}

static cn_t *project_tree(const df_compose_project_t *p)
{
	cn_t *top = node(CN_MAP);
	put_str(top, "name", p->name);
	cn_t *svcs = node(CN_MAP);
	for (size_t i = 0; i < p->n_services; i++)
		put(svcs, p->services[i].name, service_tree(&p->services[i]));
	put(top, "services", svcs);
	if (p->n_volumes) {
		cn_t *vs = node(CN_MAP);
		for (size_t i = 0; i < p->n_volumes; i++) {
			cn_t *v = node(CN_MAP);
			put_str(v, "name", p->volumes[i].name);
			put_bool(v, "external", p->volumes[i].external);
			put(vs, p->volumes[i].key, v);
		}
		put(top, "volumes", vs);
	}
	return top;
}

/* ---- YAML ---- */

static bool yaml_plain_ok(const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on", "off",
					    "null", "~", "y", "n"};
	if (!*s || isspace((unsigned char)s[0]) || isspace((unsigned char)s[strlen(s) - 1]))
		return false;
	if (strchr("-?:", s[0]) && (!s[1] || s[1] == ' '))
		return false; /* "-x" is a plain scalar, "- x" an item */
	if (strchr(",[]{}#&*!|>'\"%@`", s[0]))
		return false;
	for (size_t i = 0; i < CB_ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return false;
	char *end;
	(void)strtod(s, &end);
	if (!*end)
		return false; /* looks like a number */
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || (c[0] == ':' && (c[1] == ' ' || !c[1])) ||
		    (c[0] == ' ' && c[1] == '#'))
			return false;
	return true;
}

static void quoted(cb_buf_t *b, const char *s)
{
	cb_buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			cb_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			cb_buf_addstr(b, "\\n");
		else if (c == '\t')
			cb_buf_addstr(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			cb_buf_addf(b, "\\u%04x", c);
		else
			cb_buf_addch(b, (char)c);
	}
	cb_buf_addch(b, '"');
}

static void yaml_scalar(cb_buf_t *b, const cn_t *n)
{
	if (n->plain || yaml_plain_ok(n->str))
		cb_buf_addstr(b, n->str);
	else
		quoted(b, n->str);
}

static void yaml_node(cb_buf_t *b, const cn_t *n, int indent, bool inline_first);

static void yaml_value(cb_buf_t *b, const cn_t *v, int indent)
{
	if (v->kind == CN_SCALAR) {
		cb_buf_addch(b, ' ');
		yaml_scalar(b, v);
		cb_buf_addch(b, '\n');
	} else if (!v->n) {
		cb_buf_addstr(b, v->kind == CN_MAP ? " {}\n" : " []\n");
	} else {
		cb_buf_addch(b, '\n');
		yaml_node(b, v, indent, false);
	}
}

static void yaml_node(cb_buf_t *b, const cn_t *n, int indent, bool inline_first)
{
	for (size_t i = 0; i < n->n; i++) {
		if (!(inline_first && i == 0))
			cb_buf_addf(b, "%*s", indent, "");
		if (n->kind == CN_MAP) {
			yaml_scalar(b, n->keys[i]);
			cb_buf_addch(b, ':');
			yaml_value(b, n->vals[i], indent + 2);
			continue;
		}
		const cn_t *it = n->vals[i];
		cb_buf_addstr(b, "-");
		if (it->kind == CN_SCALAR || !it->n) {
			yaml_value(b, it, indent + 2);
		} else {
			cb_buf_addch(b, ' ');
			yaml_node(b, it, indent + 2, true);
		}
	}
}

char *df_compose_to_yaml(const df_compose_project_t *p)
{
	cn_t *t = project_tree(p);
	cb_buf_t b;
	cb_buf_init(&b);
	yaml_node(&b, t, 0, false);
	cn_free(t);
	return cb_buf_detach(&b, NULL);
}

/* ---- JSON ---- */

static void json_node(cb_buf_t *b, const cn_t *n, int indent)
{
	if (n->kind == CN_SCALAR) {
		if (n->plain)
			cb_buf_addstr(b, n->str);
		else
			quoted(b, n->str);
		return;
	}
	bool map = n->kind == CN_MAP;
	cb_buf_addch(b, map ? '{' : '[');
	for (size_t i = 0; i < n->n; i++) {
		cb_buf_addf(b, "%s\n%*s", i ? "," : "", indent + 2, "");
		if (map) {
			quoted(b, n->keys[i]->str);
			cb_buf_addstr(b, ": ");
		}
		json_node(b, n->vals[i], indent + 2);
	}
	if (n->n)
		cb_buf_addf(b, "\n%*s", indent, "");
	cb_buf_addch(b, map ? '}' : ']');
}

char *df_compose_to_json(const df_compose_project_t *p)
{
	cn_t *t = project_tree(p);
	cb_buf_t b;
	cb_buf_init(&b);
	json_node(&b, t, 0);
	cb_buf_addch(&b, '\n');
	cn_free(t);
	return cb_buf_detach(&b, NULL);
}
