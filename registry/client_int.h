/*
 * registry/client_int.h - what registry/client.c (the transfer engine) and
 * registry/auth.c (the auth protocol) share about a client. Private to
 * those two files: the rest of registry/ uses client.h.
 *
 * A client holds its credentials, the registry's last challenge and the
 * Bearer tokens it was given (cached per scope); auth.c fills and frees
 * them, client.c sends c->auth_header with every request that is not
 * anonymous.
 */
#ifndef CB_REGISTRY_CLIENT_INT_H
#define CB_REGISTRY_CLIENT_INT_H

#include "registry/client.h"
#include "registry/wire.h"

typedef struct token {
	char *scope;
	char *header;    /* "Authorization: Bearer ..." */
	int64_t expires; /* monotonic ms */
} token_t;

struct reg_client {
	char *domain; /* as in the reference: "docker.io", "localhost:5000" */
	char *host;   /* the API host: "registry-1.docker.io" for docker.io */
	char *repo;   /* "library/busybox", NULL for a login check */
	const char *scheme;
	reg_opts_t opts;
	char *user, *pass;
	/* OAuth2 refresh token: from a password grant with access_type=offline,
	 * or saved by login (an identity token). Used instead of the password
	 * for later tokens. */
	char *refresh_token;
	bool force_oauth; /* login: try the POST password grant first, as docker does */
	reg_challenge_t chal;
	char *scope; /* "repository:R:pull,push repository:S:pull" */
	token_t *tokens;
	size_t ntokens;
	char *auth_header;  /* current Authorization header line, or NULL */
	char *basic_header; /* "Authorization: Basic ..." from user/pass */
	CURLM *multi;
	char *ca_blob;
	size_t ca_len;
	char *client_cert, *client_key;
};

/* Monotonic milliseconds. */
int64_t reg_now_ms(void);
/* reg_client_run on another multi handle (a token request runs while the
 * client's own transfers are in flight). */
int reg_client_run_on(reg_client_t *c, CURLM *multi, reg_xfer_t **xs, size_t n,
		      unsigned parallel, cb_error_t *err);

/* ---- auth.c ---- */

/* Take user and password (copied; NULL user: anonymous). The user
 * REG_IDENTITY_TOKEN_USER makes the password a refresh token. */
void reg_auth_set_creds(reg_client_t *c, const char *user, const char *pass);
/* After the ping: a token for c->scope (Bearer), or the Basic header. */
int reg_auth_start(reg_client_t *c, cb_error_t *err);
/* Set c->auth_header to a token for `scope` (NULL: none), from the cache
 * or the challenge's realm. EACCES when refused. */
int reg_auth_fetch_token(reg_client_t *c, const char *scope, cb_error_t *err);
/* Answer a 401's WWW-Authenticate (its scope may be wider than ours). */
int reg_auth_challenge(reg_client_t *c, const char *www_auth, cb_error_t *err);
/* Free the credentials, challenge, scope and tokens. */
void reg_auth_release(reg_client_t *c);

#endif
