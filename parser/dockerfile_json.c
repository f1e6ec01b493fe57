/*
 * parser/dockerfile_json.c - the exec form's JSON array, read as BuildKit's
 * parser does (encoding/json rules: any JSON value must parse, only an array
 * of strings is the exec form).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/util.h"
#include "parser/dockerfile.h"
#include "parser/internal.h"

/* ---- JSON (exec form) ---- */

static void skip_ws(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
		(*i)++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(cb_buf_t *b, uint32_t cp)
{
	if (cp < 0x80) {
		cb_buf_addch(b, (char)cp);
	} else if (cp < 0x800) {
		cb_buf_addch(b, (char)(0xC0 | (cp >> 6)));
		cb_buf_addch(b, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		cb_buf_addch(b, (char)(0xE0 | (cp >> 12)));
		cb_buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		cb_buf_addch(b, (char)(0x80 | (cp & 0x3F)));
	} else {
		cb_buf_addch(b, (char)(0xF0 | (cp >> 18)));
		cb_buf_addch(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
		cb_buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		cb_buf_addch(b, (char)(0x80 | (cp & 0x3F)));
	}
}

static bool read_hex4(const char *s, size_t n, size_t i, uint32_t *v)
{
	if (i + 4 > n)
		return false;
	*v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);
		if (h < 0)
			return false;
		*v = *v * 16 + (uint32_t)h;
	}
	return true;
}

/* A JSON string at s[*i] == '"'; decoded into out when non-NULL. */
static bool json_string(const char *s, size_t n, size_t *i, cb_buf_t *out)
{
	(*i)++;
	while (*i < n) {
		unsigned char c = (unsigned char)s[*i];
		if (c == '"') {
			(*i)++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			if (out)
				cb_buf_addch(out, (char)c);
			(*i)++;
			continue;
		}
		if (*i + 1 >= n)
			return false;
		char e = s[*i + 1];
		*i += 2;
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			static const char map[] = "\"\\/\b\f\n\r\t";
			if (out)
				cb_buf_addch(out, map[simple - "\"\\/bfnrt"]);
			continue;
		}
		if (e != 'u')
			return false;
		uint32_t cp;
		if (!read_hex4(s, n, *i, &cp))
			return false;
		*i += 4;
		if (cp == 0)
			return false; /* a NUL would cut the C string short: not an array */
		if (cp >= 0xD800 && cp < 0xDC00) {
			uint32_t lo;
			if (*i + 6 <= n && s[*i] == '\\' && s[*i + 1] == 'u' &&
			    read_hex4(s, n, *i + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				*i += 6;
			} else {
				cp = 0xFFFD;
			}
		} else if (cp >= 0xDC00 && cp < 0xE000) {
			cp = 0xFFFD;
		}
		if (out)
			put_utf8(out, cp);
	}
	return false;
}

static bool json_value(const char *s, size_t n, size_t *i, int depth);

static bool json_number(const char *s, size_t n, size_t *i)
{
	size_t st = *i;
	if (*i < n && s[*i] == '-')
		(*i)++;
	if (*i >= n)
		return false;
	if (s[*i] == '0') {
		(*i)++;
	} else if (s[*i] >= '1' && s[*i] <= '9') {
		while (*i < n && isdigit((unsigned char)s[*i]))
			(*i)++;
	} else {
		return false;
	}
	if (*i < n && s[*i] == '.') {
		(*i)++;
		if (*i >= n || !isdigit((unsigned char)s[*i]))
			return false;
		while (*i < n && isdigit((unsigned char)s[*i]))
			(*i)++;
	}
	if (*i < n && (s[*i] == 'e' || s[*i] == 'E')) {
		(*i)++;
		if (*i < n && (s[*i] == '+' || s[*i] == '-'))
			(*i)++;
		if (*i >= n || !isdigit((unsigned char)s[*i]))
			return false;
		while (*i < n && isdigit((unsigned char)s[*i]))
			(*i)++;
	}
	return *i > st;
}

static bool json_container(const char *s, size_t n, size_t *i, int depth, char close, bool obj)
{
	(*i)++;
	skip_ws(s, n, i);
	if (*i < n && s[*i] == close) {
		(*i)++;
		return true;
	}
	for (;;) {
		if (obj) {
			skip_ws(s, n, i);
			if (*i >= n || s[*i] != '"' || !json_string(s, n, i, NULL))
				return false;
			skip_ws(s, n, i);
			if (*i >= n || s[*i] != ':')
				return false;
			(*i)++;
		}
		if (!json_value(s, n, i, depth + 1))
			return false;
		skip_ws(s, n, i);
		if (*i >= n)
			return false;
		if (s[*i] == close) {
			(*i)++;
			return true;
		}
		if (s[*i] != ',')
			return false;
		(*i)++;
	}
}

static bool json_value(const char *s, size_t n, size_t *i, int depth)
{
	if (depth > 200)
		return false;
	skip_ws(s, n, i);
	if (*i >= n)
		return false;
	switch (s[*i]) {
	case '"':
		return json_string(s, n, i, NULL);
	case '[':
		return json_container(s, n, i, depth, ']', false);
	case '{':
		return json_container(s, n, i, depth, '}', true);
	case 't':
		if (n - *i >= 4 && !memcmp(s + *i, "true", 4))
			return *i += 4, true;
		return false;
	case 'f':
		if (n - *i >= 5 && !memcmp(s + *i, "false", 5))
			return *i += 5, true;
		return false;
	case 'n':
		if (n - *i >= 4 && !memcmp(s + *i, "null", 4))
			return *i += 4, true;
		return false;
	default:
		return json_number(s, n, i);
	}
}

/* BuildKit's parseJSON: 1 = a JSON array of strings (into *out), 0 = not
 * JSON (fall back to shell form), -1 = JSON but not only strings. */
int df_parse_json_array(const char *s, char ***out, size_t *n_out)
{
	size_t n = strlen(s), i = 0;
	while (i < n && df_is_space(s[i]))
		i++;
	if (i >= n || s[i] != '[')
		return 0;
	size_t st = i;
	if (!json_value(s, n, &i, 0))
		return 0;
	skip_ws(s, n, &i);
	if (i != n)
		return 0;
	/* Valid JSON: walk the top-level array again. */
	i = st + 1;
	char **v = cb_xcalloc(1, sizeof(char *));
	size_t cnt = 0;
	for (;;) {
		skip_ws(s, n, &i);
		if (s[i] == ']')
			break;
		if (s[i] == ',') {
			i++;
			continue;
		}
		if (s[i] != '"') {
			cb_strv_free(v);
			return -1;
		}
		cb_buf_t b;
		cb_buf_init(&b);
		json_string(s, n, &i, &b);
		v = cb_xreallocarray(v, cnt + 2, sizeof(char *));
		v[cnt++] = df_buf_take(&b, NULL);
		v[cnt] = NULL;
	}
	*out = v;
	*n_out = cnt;
	return 1;
}
