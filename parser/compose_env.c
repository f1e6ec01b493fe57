/*
 * parser/compose_env.c - env files (.env, env_file:) as compose reads them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/compose.h"
#include "parser/internal.h"

char **df_kv_set(char **v, const char *key, size_t klen, const char *val)
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

char **df_compose_env_merge(char *const *base, char *const *over)
{
	char **v = cb_strv_dup(base);
	for (size_t i = 0; over && over[i]; i++) {
		const char *eq = strchr(over[i], '=');
		size_t klen = eq ? (size_t)(eq - over[i]) : strlen(over[i]);
		v = df_kv_set(v, over[i], klen, eq ? eq + 1 : "");
	}
	return v;
}

static bool key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* The value after '=' up to the end of its line(s); *p advances past it. */
static int env_value(const char **p, const char *end, cb_buf_t *out, bool *interpolate)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*interpolate = true;
	if (s < end && (*s == '\'' || *s == '"')) {
		char q = *s++;
		*interpolate = q == '"';
		for (; s < end && *s != q; s++) {
			if (q == '"' && *s == '\\' && s + 1 < end) {
				s++;
				char c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
				if (!strchr("ntr\\\"$", *s))
					cb_buf_addch(out, '\\');
				cb_buf_addch(out, c);
			} else {
				cb_buf_addch(out, *s);
			}
		}
		if (s >= end)
			return -1;
		s++;
		while (s < end && *s != '\n')
			s++;
		*p = s;
		return 0;
	}
	const char *start = s;
	while (s < end && *s != '\n') {
		if (*s == '#' && s > start && (s[-1] == ' ' || s[-1] == '\t'))
			break;
		s++;
	}
	const char *stop = s;
	while (stop > start && isspace((unsigned char)stop[-1]))
		stop--;
	cb_buf_add(out, start, (size_t)(stop - start));
	while (s < end && *s != '\n')
		s++;
	*p = s;
	return 0;
}

int df_compose_parse_env_file(const char *name, const char *data, size_t len, char *const *env,
			      char ***out, cb_error_t *err)
{
	const char *p = data, *end = data + len;
	char **v = NULL;
	int line = 0;
	while (p < end) {
		line++;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p >= end)
			break;
		if (*p == '\n' || *p == '#') {
			while (p < end && *p != '\n')
				p++;
			p++;
			continue;
		}
		if (end - p > 7 && !strncmp(p, "export ", 7))
			p += 7;
		const char *key = p;
		while (p < end && key_char(*p))
			p++;
		size_t klen = (size_t)(p - key);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (!klen || (p < end && *p != '=' && *p != '\n' && *p != '\r')) {
			cb_strv_free(v);
			return cb_error_fail(err, EINVAL, "%s:%d: invalid line (expected KEY=VALUE)",
					     name, line);
		}
		if (p >= end || *p != '=') { /* a bare KEY: from the environment */
			const char *val = df_env_get(env, key, klen);
			if (val)
				v = df_kv_set(v, key, klen, val);
			while (p < end && *p != '\n')
				p++;
			p++;
			continue;
		}
		p++;
		cb_buf_t raw;
		cb_buf_init(&raw);
		bool interpolate;
		const char *vstart = p;
		if (env_value(&p, end, &raw, &interpolate) < 0) {
			cb_buf_release(&raw);
			cb_strv_free(v);
			return cb_error_fail(err, EINVAL, "%s:%d: unterminated quoted value", name,
					     line);
		}
		for (const char *c = vstart; c < p; c++) /* lines a quoted value spanned */
			line += *c == '\n';
		p++;
		char *val = raw.data;
		_cleanup_free_ char *expanded = NULL;
		if (interpolate) {
			_cleanup_strv_ char **look = df_compose_env_merge(env, v);
			expanded = df_compose_interpolate(raw.data, look, NULL, err);
			if (!expanded) {
				cb_buf_release(&raw);
				cb_strv_free(v);
				return cb_error_wrap(err, "%s:%d", name, line);
			}
			val = expanded;
		}
		v = df_kv_set(v, key, klen, val);
		cb_buf_release(&raw);
	}
	*out = v;
	return 0;
}
