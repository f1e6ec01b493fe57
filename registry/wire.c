/*
 * registry/wire.c - challenge parsing, URL resolution, Retry-After,
 * platforms, base64. See wire.h.
 */
#include "registry/wire.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/curl_lazy.h"

#include "common/util.h"

bool reg_mt_is_index(const char *mt)
{
	return cb_streq(mt, MT_OCI_INDEX) || cb_streq(mt, MT_DOCKER_LIST);
}

bool reg_mt_is_manifest(const char *mt)
{
	return cb_streq(mt, MT_OCI_MANIFEST) || cb_streq(mt, MT_DOCKER_MANIFEST);
}

/* ---- WWW-Authenticate ---- */

void reg_challenge_release(reg_challenge_t *c)
{
	if (!c)
		return;
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	return p;
}

static bool is_token_char(char c)
{
	return c && !isspace((unsigned char)c) && c != '=' && c != ',' && c != '"';
}

/* Parse `key=value` at p into owned strings; returns the position after it
 * or NULL on a syntax error. */
static const char *parse_param(const char *p, char **key, char **val)
{
	const char *k = p;
	while (is_token_char(*p))
		p++;
	if (p == k)
		return NULL;
	size_t klen = (size_t)(p - k);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return NULL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	cb_buf_t v;
	cb_buf_init(&v);
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			cb_buf_addch(&v, *p++);
		}
		if (*p != '"') {
			cb_buf_release(&v);
			return NULL;
		}
		p++;
	} else {
		while (is_token_char(*p))
			cb_buf_addch(&v, *p++);
	}
	*key = cb_xstrndup(k, klen);
	*val = cb_buf_detach(&v, NULL);
	cb_buf_release(&v);
	return p;
}

/* One challenge starting at p; stops before the next scheme. */
static const char *parse_one(const char *p, reg_challenge_t *c, bool *bad)
{
	const char *s = p;
	while (is_token_char(*p))
		p++;
	size_t n = (size_t)(p - s);
	if (n == 6 && !strncasecmp(s, "bearer", 6))
		c->scheme = REG_AUTH_BEARER;
	else if (n == 5 && !strncasecmp(s, "basic", 5))
		c->scheme = REG_AUTH_BASIC;
	else
		c->scheme = REG_AUTH_OTHER;
	for (;;) {
		p = skip_ws(p);
		if (!*p)
			return p;
		/* A token not followed by '=' starts the next challenge. */
		const char *q = p;
		while (is_token_char(*q))
			q++;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			return p;
		char *key = NULL, *val = NULL;
		const char *next = parse_param(p, &key, &val);
		if (!next) {
			*bad = true;
			return NULL;
		}
		char **slot = NULL;
		if (!strcasecmp(key, "realm"))
			slot = &c->realm;
		else if (!strcasecmp(key, "service"))
			slot = &c->service;
		else if (!strcasecmp(key, "scope"))
			slot = &c->scope;
		else if (!strcasecmp(key, "error"))
			slot = &c->error;
		if (slot) {
			free(*slot);
			*slot = val;
			val = NULL;
		}
		free(key);
		free(val);
		p = next;
	}
}

int reg_challenge_parse(const char *hdr, reg_challenge_t *out, cb_error_t *err)
{
	reg_challenge_t best = {0};
	const char *p = skip_ws(hdr ? hdr : "");
	if (!*p)
		return cb_error_fail(err, EPROTO, "empty WWW-Authenticate header");
	while (*p) {
		reg_challenge_t c = {0};
		bool bad = false;
		const char *next = parse_one(p, &c, &bad);
		if (bad || next == p) {
			reg_challenge_release(&c);
			reg_challenge_release(&best);
			return cb_error_fail(err, EPROTO, "malformed WWW-Authenticate header '%s'",
					    hdr);
		}
		bool better = best.scheme == REG_AUTH_NONE ||
			      (c.scheme == REG_AUTH_BEARER && best.scheme != REG_AUTH_BEARER) ||
			      (c.scheme == REG_AUTH_BASIC && best.scheme == REG_AUTH_OTHER);
		if (better) {
			reg_challenge_release(&best);
			best = c;
		} else {
			reg_challenge_release(&c);
		}
		p = skip_ws(next);
	}
	if (best.scheme == REG_AUTH_BEARER && !best.realm) {
		reg_challenge_release(&best);
		return cb_error_fail(err, EPROTO, "bearer challenge without realm in '%s'", hdr);
	}
	*out = best;
	return 0;
}

/* ---- URLs ---- */

char *reg_url_resolve(const char *base, const char *location, cb_error_t *err)
{
	CURLU *u = curl_url();
	char *res = NULL;
	if (!u)
		CB_BUG("curl_url: out of memory");
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, base, 0);
	if (!rc)
		rc = curl_url_set(u, CURLUPART_URL, location, 0);
	if (!rc)
		rc = curl_url_get(u, CURLUPART_URL, &res, 0);
	curl_url_cleanup(u);
	if (rc) {
		cb_error_fail(err, EPROTO, "bad Location '%s': %s", location, curl_url_strerror(rc));
		return NULL;
	}
	char *out = cb_xstrdup(res);
	curl_free(res);
	return out;
}

char *reg_url_add_query(const char *url, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	if (!esc)
		CB_BUG("curl_easy_escape: out of memory");
	/* Drop a fragment, which no registry sends but which would swallow the query. */
	size_t n = strcspn(url, "#");
	char *out = cb_asprintf("%.*s%c%s=%s", (int)n, url, memchr(url, '?', n) ? '&' : '?', key,
				esc);
	curl_free(esc);
	return out;
}

/* ---- Retry-After ---- */

int64_t reg_retry_after_ms(const char *value, time_t now)
{
	if (!value)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	if (!*value)
		return -1;
	if (isdigit((unsigned char)*value)) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(value, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || *end)
			return -1;
		if (s > 86400ull * 365)
			s = 86400ull * 365;
		return (int64_t)s * 1000;
	}
	time_t t = curl_getdate(value, NULL);
	if (t == (time_t)-1)
		return -1;
	return t <= now ? 0 : (int64_t)(t - now) * 1000;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *reg_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = cb_xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i = 0;
	for (; i + 2 < len; i += 3) {
		*o++ = b64[in[i] >> 2];
		*o++ = b64[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = b64[(in[i + 1] & 15) << 2];
		} else {
			*o++ = b64[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *reg_base64_decode(const char *s, size_t *out_len)
{
	size_t n = strlen(s);
	char *out = cb_xmalloc(n / 4 * 3 + 4);
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	size_t pad = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		const char *p = s[i] ? strchr(b64, s[i]) : NULL;
		if (!p || pad) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || (n % 4 && pad)) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return out;
}

int reg_status_errno(long status)
{
	if (status == 401 || status == 403)
		return EACCES;
	if (status == 404)
		return ENOENT;
	return status == 429 ? EAGAIN : EIO;
}

int reg_transfer_error(const char *method, const char *url, const char *curl_text,
		       long os_errno, cb_error_t *err)
{
	/* an EIO of ours printed after curl's text would read as a cause it
	 * is not; the socket's errno is one */
	if (os_errno > 0)
		return cb_error_set(err, (int)os_errno, "%s '%s': %s", method, url, curl_text);
	return cb_error_fail(err, EIO, "%s '%s': %s", method, url, curl_text);
}
