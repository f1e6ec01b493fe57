#include "registry/reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/digest.h"

#define NAME_TOTAL_MAX 255
#define TAG_MAX 128

static int bad(cb_error_t *err, const char *s, const char *why)
{
	return cb_error_fail(err, EINVAL, "invalid reference '%s': %s", s, why);
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_component(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n;) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		if (s[i] == '.') {
			j = i + 1;
		} else if (s[i] == '_') {
			j = i + 1;
			if (j < n && s[j] == '_')
				j++;
		} else if (s[i] == '-') {
			while (j < n && s[j] == '-')
				j++;
		} else {
			return false;
		}
		if (j >= n || !is_lower_alnum(s[j]))
			return false;
		i = j;
	}
	return true;
}

/* host[:port]; host is DNS labels, or an IPv6 address in brackets. */
static bool valid_domain(const char *s)
{
	const char *port = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return false;
	} else {
		const char *colon = strchr(s, ':');
		size_t hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (hlen == 0)
			return false;
		size_t label = 0;
		for (size_t i = 0; i < hlen; i++) {
			char c = s[i];
			if (c == '.') {
				if (label == 0 || s[i - 1] == '-')
					return false;
				label = 0;
			} else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
				label++;
			} else {
				return false;
			}
		}
		if (label == 0 || s[hlen - 1] == '-')
			return false;
		if (colon)
			port = colon + 1;
	}
	if (port) {
		if (!*port || strlen(port) > 5)
			return false;
		for (const char *p = port; *p; p++)
			if (!isdigit((unsigned char)*p))
				return false;
	}
	return true;
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TAG_MAX)
		return false;
	if (!(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isupper((unsigned char)s[i]))
			return true;
	return false;
}

static int parse_path(const char *s, const char *path, cb_error_t *err)
{
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!valid_component(p, n))
			return bad(err, s, has_upper(p, n) ? "repository name must be lowercase"
							   : "invalid reference format");
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

/* Split "name[:tag][@digest]" pieces off the end of a copy of s. */
static int split_tag_digest(const char *s, char *work, char **tag, char **digest, cb_error_t *err)
{
	char *at = strchr(work, '@');
	if (at) {
		*at = '\0';
		if (!digest_is_valid(at + 1))
			return bad(err, s, "invalid digest");
		*digest = cb_xstrdup(at + 1);
	}
	char *last_slash = strrchr(work, '/');
	char *colon = strrchr(last_slash ? last_slash : work, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1))
			return bad(err, s, "invalid reference format");
		*tag = cb_xstrdup(colon + 1);
	}
	return 0;
}

static void split_domain(char *name, char **domain, char **path)
{
	char *slash = strchr(name, '/');
	if (slash) {
		size_t n = (size_t)(slash - name);
		bool looks_like_host = memchr(name, '.', n) || memchr(name, ':', n) ||
				       (n == 9 && !memcmp(name, "localhost", 9));
		if (looks_like_host) {
			*domain = cb_xstrndup(name, n);
			*path = cb_xstrdup(slash + 1);
			return;
		}
	}
	*domain = cb_xstrdup(REG_DEFAULT_DOMAIN);
	*path = cb_xstrdup(name);
}

int reg_ref_parse(const char *s, unsigned flags, reg_ref_t *out, cb_error_t *err)
{
	if (!s || !*s)
		return cb_error_fail(err, EINVAL, "invalid reference '': empty name");
	if (strlen(s) > 1024)
		return bad(err, s, "too long");
	reg_ref_t r = {0};
	_cleanup_free_ char *work = cb_xstrdup(s);
	if (split_tag_digest(s, work, &r.tag, &r.digest, err) < 0)
		goto fail;
	split_domain(work, &r.domain, &r.path);
	if (!valid_domain(r.domain)) {
		bad(err, s, "invalid registry host");
		goto fail;
	}
	if (!strcmp(r.domain, "index.docker.io") || !strcmp(r.domain, "registry-1.docker.io")) {
		free(r.domain);
		r.domain = cb_xstrdup(REG_DEFAULT_DOMAIN);
	}
	if (parse_path(s, r.path, err) < 0)
		goto fail;
	if (!strcmp(r.domain, REG_DEFAULT_DOMAIN) && !strchr(r.path, '/')) {
		char *p = cb_asprintf("library/%s", r.path);
		free(r.path);
		r.path = p;
	}
	if (strlen(r.domain) + 1 + strlen(r.path) > NAME_TOTAL_MAX) {
		bad(err, s, "repository name must not be more than 255 characters");
		goto fail;
	}
	if ((flags & REG_REF_NAME_ONLY) && (r.tag || r.digest)) {
		bad(err, s, "a repository name without tag or digest is expected");
		goto fail;
	}
	if (!r.tag && !r.digest && !(flags & (REG_REF_NO_DEFAULT_TAG | REG_REF_NAME_ONLY)))
		r.tag = cb_xstrdup("latest");
	*out = r;
	return 0;
fail:
	reg_ref_release(&r);
	return -1;
}

void reg_ref_release(reg_ref_t *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static char *with_suffix(char *name, const reg_ref_t *r)
{
	char *out = cb_asprintf("%s%s%s%s%s", name, r->tag ? ":" : "", r->tag ? r->tag : "",
				r->digest ? "@" : "", r->digest ? r->digest : "");
	free(name);
	return out;
}

char *reg_ref_repo(const reg_ref_t *r)
{
	return cb_asprintf("%s/%s", r->domain, r->path);
}

char *reg_ref_full(const reg_ref_t *r)
{
	return with_suffix(reg_ref_repo(r), r);
}

char *reg_ref_familiar_repo(const reg_ref_t *r)
{
	if (strcmp(r->domain, REG_DEFAULT_DOMAIN) != 0)
		return reg_ref_repo(r);
	if (cb_str_has_prefix(r->path, "library/") && !strchr(r->path + 8, '/'))
		return cb_xstrdup(r->path + 8);
	return cb_xstrdup(r->path);
}

char *reg_ref_familiar(const reg_ref_t *r)
{
	return with_suffix(reg_ref_familiar_repo(r), r);
}

char *reg_ref_normalize(const char *s, cb_error_t *err)
{
	reg_ref_t r;
	if (reg_ref_parse(s, 0, &r, err) < 0)
		return NULL;
	char *full = reg_ref_full(&r);
	reg_ref_release(&r);
	return full;
}

char *reg_ref_shorten(const char *full)
{
	reg_ref_t r;
	cb_error_t e = CB_ERROR_INIT;
	if (reg_ref_parse(full, REG_REF_NO_DEFAULT_TAG, &r, &e) < 0) {
		cb_error_release(&e);
		return cb_xstrdup(full);
	}
	char *s = reg_ref_familiar(&r);
	reg_ref_release(&r);
	return s;
}
