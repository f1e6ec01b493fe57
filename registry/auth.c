/*
 * registry/auth.c - the registry auth protocol (distribution's token
 * specification): Basic credentials, Bearer tokens from a challenge's realm
 * (GET with Basic, the OAuth2 password and refresh-token grants), a token
 * cache per scope, and the answer to a 401. Credentials themselves (files,
 * helpers) are registry/credentials.c's. See client_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "registry/client_int.h"

#define TOKEN_MAX (256u << 10)

static char *basic_header(const char *user, const char *pass)
{
	_cleanup_free_ char *up = cb_asprintf("%s:%s", user, pass);
	_cleanup_free_ char *b = reg_base64_encode(up, strlen(up));
	return cb_asprintf("Authorization: Basic %s", b);
}

void reg_auth_set_creds(reg_client_t *c, const char *user, const char *pass)
{
	free(c->user);
	free(c->pass);
	free(c->basic_header);
	free(c->refresh_token);
	c->refresh_token = NULL;
	if (cb_streq(user, REG_IDENTITY_TOKEN_USER)) {
		/* docker's convention: the secret is an identity (refresh) token */
		c->refresh_token = pass ? cb_xstrdup(pass) : NULL;
		c->user = c->pass = c->basic_header = NULL;
		return;
	}
	c->user = user ? cb_xstrdup(user) : NULL;
	c->pass = pass ? cb_xstrdup(pass) : NULL;
	c->basic_header = user ? basic_header(user, pass ? pass : "") : NULL;
}

static const token_t *cached_token(reg_client_t *c, const char *scope)
{
	int64_t now = reg_now_ms();
	for (size_t i = 0; i < c->ntokens; i++)
		if (cb_streq(c->tokens[i].scope, scope) && c->tokens[i].expires > now)
			return &c->tokens[i];
	return NULL;
}

static void cache_token(reg_client_t *c, const char *scope, const char *tok, int64_t ttl_s)
{
	/* Renew 10 s (or a third of a short lifetime) before expiry. */
	int64_t margin = ttl_s > 30 ? 10 : ttl_s / 3;
	token_t t = {.scope = cb_xstrdup(scope ? scope : ""),
		     .header = cb_asprintf("Authorization: Bearer %s", tok),
		     .expires = reg_now_ms() + (ttl_s - margin) * 1000};
	for (size_t i = 0; i < c->ntokens; i++) {
		if (cb_streq(c->tokens[i].scope, t.scope)) {
			free(c->tokens[i].scope);
			free(c->tokens[i].header);
			c->tokens[i] = t;
			return;
		}
	}
	c->tokens = cb_xreallocarray(c->tokens, c->ntokens + 1, sizeof(*c->tokens));
	c->tokens[c->ntokens++] = t;
}

/* The token answer: {"token"|"access_token": ..., "expires_in": N}. */
static int parse_token(reg_client_t *c, const char *scope, const reg_xfer_t *xf, cb_error_t *err)
{
	json_error_t je;
	json_t *j = json_loadb(xf->resp.data, xf->resp.len, 0, &je);
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok) {
		json_decref(j);
		return cb_error_fail(err, EPROTO, "token server '%s' sent no token", c->chal.realm);
	}
	const char *rt = json_string_value(json_object_get(j, "refresh_token"));
	if (rt && *rt) {
		free(c->refresh_token);
		c->refresh_token = cb_xstrdup(rt);
	}
	json_int_t ttl = json_integer_value(json_object_get(j, "expires_in"));
	/* The distribution spec's default, and its minimum. */
	if (ttl < 60)
		ttl = 60;
	cache_token(c, scope, tok, (int64_t)ttl);
	json_decref(j);
	return 0;
}

static int token_done(reg_xfer_t *xf, cb_error_t *err) { return 0; }

/* The realm URL with service=, one scope= per scope and account=. */
static char *token_get_url(reg_client_t *c, const char *scope)
{
	char *url = cb_xstrdup(c->chal.realm);
	if (c->chal.service) {
		char *u = reg_url_add_query(url, "service", c->chal.service);
		free(url);
		url = u;
	}
	if (scope && *scope) {
		/* one scope= parameter per space-separated scope */
		_cleanup_free_ char *copy = cb_xstrdup(scope);
		char *save = NULL;
		for (char *s = strtok_r(copy, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
			char *u = reg_url_add_query(url, "scope", s);
			free(url);
			url = u;
		}
	}
	if (c->user) {
		char *u = reg_url_add_query(url, "account", c->user);
		free(url);
		url = u;
	}
	return url;
}

/* The OAuth2 form (RFC 6749): the refresh-token grant (6) when we hold a
 * refresh token, else the password grant (4.3) asking for one
 * (access_type=offline, as docker does). */
static char *token_form(reg_client_t *c, const char *scope, bool refresh)
{
	char *es = curl_easy_escape(NULL, c->chal.service ? c->chal.service : "", 0);
	char *sc = curl_easy_escape(NULL, scope ? scope : "", 0);
	char *form;
	if (refresh) {
		char *et = curl_easy_escape(NULL, c->refresh_token, 0);
		form = cb_asprintf("grant_type=refresh_token&client_id=cbuild&refresh_token=%s"
				   "&service=%s&scope=%s",
				   et, es, sc);
		curl_free(et);
	} else {
		char *eu = curl_easy_escape(NULL, c->user, 0);
		char *ep = curl_easy_escape(NULL, c->pass ? c->pass : "", 0);
		form = cb_asprintf("grant_type=password&client_id=cbuild&access_type=offline"
				   "&username=%s&password=%s&service=%s&scope=%s",
				   eu, ep, es, sc);
		curl_free(eu), curl_free(ep);
	}
	curl_free(es), curl_free(sc);
	return form;
}

static void token_post(reg_xfer_t *xf, reg_client_t *c, const char *form)
{
	reg_xfer_rearm(xf, "POST", cb_xstrdup(c->chal.realm));
	reg_xfer_add_header(xf, "Content-Type: application/x-www-form-urlencoded");
	xf->has_body = true;
	xf->body_mem = form;
	xf->body_size = strlen(form);
}

/* Ask the realm for a token; on return xf holds the final answer (r == 0
 * whatever its status). */
static int token_request(reg_client_t *c, CURLM *m, reg_xfer_t *xf, const char *scope,
			 cb_error_t *err)
{
	_cleanup_free_ char *form = NULL;
	int r;
	if (c->refresh_token) {
		form = token_form(c, scope, true);
		token_post(xf, c, form);
		r = reg_client_run_on(c, m, (reg_xfer_t *[]){xf}, 1, 1, err);
		if (r < 0 || xf->status == 200 || !c->user)
			return r;
		/* Refused (expired, revoked): the password still works. */
		free(c->refresh_token);
		c->refresh_token = NULL;
		free(form);
		form = NULL;
	}
	if (c->user && c->force_oauth) {
		form = token_form(c, scope, false);
		token_post(xf, c, form);
		r = reg_client_run_on(c, m, (reg_xfer_t *[]){xf}, 1, 1, err);
		/* Servers without the OAuth2 endpoint: the GET form (docker
		 * falls back the same way). */
		if (r < 0 || xf->status == 200 || xf->status == 401 || xf->status == 403)
			return r;
	}
	reg_xfer_rearm(xf, "GET", token_get_url(c, scope));
	if (c->user)
		xf->headers = curl_slist_append(NULL, c->basic_header);
	r = reg_client_run_on(c, m, (reg_xfer_t *[]){xf}, 1, 1, err);
	if (r == 0 && (xf->status == 404 || xf->status == 405) && c->user && !c->force_oauth) {
		/* GET refused: the OAuth2 password grant. */
		free(form);
		form = token_form(c, scope, false);
		token_post(xf, c, form);
		r = reg_client_run_on(c, m, (reg_xfer_t *[]){xf}, 1, 1, err);
	}
	return r;
}

int reg_auth_fetch_token(reg_client_t *c, const char *scope, cb_error_t *err)
{
	const token_t *t = cached_token(c, scope ? scope : "");
	if (t) {
		free(c->auth_header);
		c->auth_header = cb_xstrdup(t->header);
		return 0;
	}
	CURLM *m = curl_multi_init();
	reg_xfer_t xf;
	reg_xfer_init(&xf, "GET", cb_xstrdup(c->chal.realm));
	xf.anonymous = true;
	xf.resp_max = TOKEN_MAX;
	xf.done = token_done;
	bool had_refresh = c->refresh_token && !c->user;
	int r = token_request(c, m, &xf, scope, err);
	if (r == 0 && xf.status != 200) {
		if (xf.status == 401 || xf.status == 403 || (had_refresh && xf.status == 400))
			r = cb_error_fail(err, EACCES, "unauthorized: %s",
					  had_refresh ? "the saved token was refused: log in again"
					  : c->user   ? "incorrect username or password"
						      : "authentication required");
		else
			r = reg_http_error(&xf, "token request", err);
		cb_error_wrap(err, "get token from '%s'", c->chal.realm);
	}
	if (r == 0)
		r = parse_token(c, scope ? scope : "", &xf, err);
	reg_xfer_release(&xf);
	curl_multi_cleanup(m);
	if (r < 0)
		return -1;
	t = cached_token(c, scope ? scope : "");
	free(c->auth_header);
	c->auth_header = t ? cb_xstrdup(t->header) : NULL;
	return 0;
}

/* Answer a 401: a Bearer challenge may name a wider scope than ours. */
int reg_auth_challenge(reg_client_t *c, const char *www_auth, cb_error_t *err)
{
	reg_challenge_t ch = {0};
	if (reg_challenge_parse(www_auth, &ch, err) < 0)
		return -1;
	int r = 0;
	if (ch.scheme == REG_AUTH_BEARER) {
		reg_challenge_release(&c->chal);
		c->chal = ch;
		memset(&ch, 0, sizeof(ch));
		if (c->chal.scope && (!c->scope || !strstr(c->scope, c->chal.scope))) {
			char *s = c->scope ? cb_asprintf("%s %s", c->scope, c->chal.scope)
					   : cb_xstrdup(c->chal.scope);
			free(c->scope);
			c->scope = s;
		}
		/* The cached token was refused: drop it. */
		for (size_t i = 0; i < c->ntokens; i++)
			c->tokens[i].expires = 0;
		r = reg_auth_fetch_token(c, c->scope, err);
	} else if (ch.scheme == REG_AUTH_BASIC && c->user && !c->auth_header) {
		c->auth_header = cb_xstrdup(c->basic_header);
	} else {
		r = cb_error_fail(err, EACCES, "authentication required%s",
				  c->user ? ": credentials refused" : "");
	}
	reg_challenge_release(&ch);
	return r;
}

int reg_auth_start(reg_client_t *c, cb_error_t *err)
{
	if (c->chal.scheme == REG_AUTH_BEARER)
		return reg_auth_fetch_token(c, c->scope, err);
	if (c->chal.scheme == REG_AUTH_BASIC && c->user)
		c->auth_header = cb_xstrdup(c->basic_header);
	return 0;
}

void reg_auth_release(reg_client_t *c)
{
	for (size_t i = 0; i < c->ntokens; i++) {
		free(c->tokens[i].scope);
		free(c->tokens[i].header);
	}
	free(c->tokens);
	c->tokens = NULL;
	c->ntokens = 0;
	reg_challenge_release(&c->chal);
	free(c->scope);
	free(c->user);
	free(c->pass);
	free(c->refresh_token);
	free(c->basic_header);
	free(c->auth_header);
	c->scope = c->user = c->pass = c->refresh_token = c->basic_header = c->auth_header = NULL;
}
