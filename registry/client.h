/*
 * registry/client.h - registry-internal HTTP client for one repository of
 * one registry: scheme detection, auth (Basic, Bearer tokens cached per
 * scope), TLS settings, and a transfer engine over curl multi that runs
 * many requests in parallel with bounded retries.
 *
 * A transfer (reg_xfer_t) is a small state machine owned by its caller:
 * the caller fills the request, the engine performs it, and on a final
 * (non-retryable) HTTP answer calls xf->done, which either accepts it
 * (return 0), re-arms the transfer with a new request (return 1: e.g.
 * HEAD -> POST -> PUT of a blob upload), or fails (-1 with err). The engine
 * itself retries connection failures, 5xx and 429 (Retry-After honoured)
 * with backoff, and answers one 401 per attempt by fetching a token.
 */
#ifndef CB_REGISTRY_CLIENT_H
#define CB_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry/curl_lazy.h"

#include "common/error.h"
#include "common/util.h"
#include "registry/registry.h"

typedef struct reg_client reg_client_t;
typedef struct reg_xfer reg_xfer_t;

struct reg_xfer {
	/* ---- request: set by the owner (before run, or in done/prepare) ---- */
	const char *method;          /* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" */
	char *url;                   /* owned */
	struct curl_slist *headers;  /* owned: Accept, Content-Type, ... */
	int body_fd;                 /* upload the file (-1: none), body_size bytes */
	uint64_t body_off;           /* from this offset of body_fd */
	const char *body_mem;        /* or upload this memory (borrowed) */
	uint64_t body_size;
	bool has_body;               /* PUT/PATCH/POST carry a body (maybe empty) */
	/* Or a body of unknown length (sent with Transfer-Encoding: chunked):
	 * fills buf with up to len bytes, returns how many, 0 at its end, -1 to
	 * abort the request. Cannot be replayed: set max_attempts to 1. */
	ssize_t (*body_read)(reg_xfer_t *xf, char *buf, size_t len);
	uint64_t range_from;         /* > 0: send "Range: bytes=N-" */
	bool anonymous;              /* do not send Authorization (token realm) */
	int max_attempts;            /* 0 = the default bound */
	bool small;                  /* the answer is known to be small (< 1 MiB):
					libcurl's default buffers, not big ones */

	/* ---- response sink ---- */
	/* Called with body bytes of a 2xx answer; return -1 (err in sink_err)
	 * to abort the transfer for good. NULL: bytes go to resp, at most
	 * resp_max (default REG_MANIFEST_MAX), more is an error. */
	int (*sink)(reg_xfer_t *xf, const char *data, size_t len, cb_error_t *err);
	cb_buf_t resp;
	size_t resp_max;

	/* ---- response, filled by the engine ---- */
	long status;
	char *location, *www_auth, *retry_after, *content_type, *docker_digest, *content_range;
	char *oci_chunk_min;
	int64_t content_length; /* -1 when absent */
	char *effective_url;    /* after redirects */

	/* ---- hooks ---- */
	/* Before every attempt (first, retry, re-arm): reset sinks, set Range. */
	int (*prepare)(reg_xfer_t *xf, cb_error_t *err);
	/* A final answer: 0 accept, 1 re-armed (run again), -1 failed. NULL:
	 * accept 2xx, fail otherwise with reg_http_error(). */
	int (*done)(reg_xfer_t *xf, cb_error_t *err);
	/* Before a retry (after a transient failure): may log progress. */
	void (*on_retry)(reg_xfer_t *xf, const char *why);
	void *ud;

	/* ---- engine state ---- */
	CURL *easy;
	struct curl_slist *attempt_headers; /* the headers sent this attempt */
	int attempts;
	bool auth_retried;
	int64_t not_before; /* monotonic ms */
	uint64_t upload_pos;
	bool sink_failed;
	cb_error_t sink_err;
	char errbuf[CURL_ERROR_SIZE];
	bool finished;
};

void reg_xfer_init(reg_xfer_t *xf, const char *method, char *url_owned);
void reg_xfer_release(reg_xfer_t *xf);
/* Replace the request (keeps hooks and ud): clears headers and body. */
void reg_xfer_rearm(reg_xfer_t *xf, const char *method, char *url_owned);
void reg_xfer_add_header(reg_xfer_t *xf, const char *fmt, ...) CB_PRINTF(2, 3);

/* Open a client for `domain` + repository `repo` ("library/busybox"), ping
 * /v2/ (choosing https or, when allowed, http) and authenticate for the
 * given actions ("pull" or "pull,push"). extra_pull_repos (NULL-terminated,
 * may be NULL) are added to the token scope as "repository:R:pull" (for
 * cross-repository mounts). */
int reg_client_open(const char *domain, const char *repo, const char *actions,
		    char *const *extra_pull_repos, const reg_opts_t *opts, reg_client_t **out,
		    cb_error_t *err);
void reg_client_free(reg_client_t *c);

/* "SCHEME://HOST/v2/REPO/" + suffix (caller frees). */
char *reg_client_url(const reg_client_t *c, const char *fmt, ...) CB_PRINTF(2, 3);
const char *reg_client_domain(const reg_client_t *c);
const char *reg_client_repo(const reg_client_t *c);

/* Run the transfers, at most `parallel` at once (0 = opts->max_parallel).
 * Returns 0 when all are done, -1 at the first failure (the others are
 * stopped). */
int reg_client_run(reg_client_t *c, reg_xfer_t **xs, size_t n, unsigned parallel,
		   cb_error_t *err);
/* One transfer. */
int reg_client_run1(reg_client_t *c, reg_xfer_t *xf, cb_error_t *err);

/* The error for a non-2xx answer: 401/403 EACCES, 404 ENOENT, else EIO;
 * the registry's JSON error message is included. `what` names the subject
 * ("manifest 'app:9'"). */
int reg_http_error(const reg_xfer_t *xf, const char *what, cb_error_t *err);

/* The user name that marks the secret as an identity token (an OAuth2
 * refresh token), as docker's credential helpers use it. */
#define REG_IDENTITY_TOKEN_USER "<token>"

/* Ping and check the credentials: used by login. EACCES when they are
 * refused. With a Bearer realm the OAuth2 password grant (access_type
 * offline) is tried first, then the GET form; when the token server gives
 * a refresh token, *identity_token_out (may be NULL) receives it (caller
 * frees), else it is left alone. */
int reg_client_check_login(const char *domain, const char *user, const char *pass,
			   const reg_opts_t *opts, char **identity_token_out, cb_error_t *err);

/* Report a progress event to opts' callback, unless quiet or none is set
 * (registry/ prints nothing itself: cmd/ draws the display). */
void reg_progress(const reg_opts_t *o, const char *digest, reg_progress_state_t st,
		  uint64_t done, uint64_t total);

#endif
