/*
 * registry/client.c - HTTP client for one registry repository: scheme
 * choice, TLS material, Basic/Bearer auth with a per-scope token cache,
 * and the curl-multi transfer engine with bounded retries. See client.h.
 */
#include "registry/client_int.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cancel.h"
#include "common/fs.h"
#include "registry/wire.h"

#define MAX_ATTEMPTS 6        /* a transfer is tried at most this often */
#define BACKOFF_BASE_MS 250   /* doubled per attempt */
#define BACKOFF_MAX_MS 8000
#define RETRY_AFTER_MAX_MS 60000
#define CA_MAX (8u << 20)
#define BIG_BUFFER (512L * 1024)
#define BIG_BODY (1u << 20)

#ifndef CBUILD_VERSION
#define CBUILD_UA_VERSION "0.1"
#else
#define CBUILD_UA_VERSION CBUILD_VERSION
#endif

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void *warm_up_main(void *arg)
{
	(void)arg;
	pthread_once(&curl_once, curl_init_once);
	return NULL;
}

/* Joinable, not detached: a detached thread cannot be waited for, and the
 * process must not exit while it is inside curl_global_init. */
static pthread_t warm_thread;
static bool warm_started;

void reg_warm_up(void)
{
	if (warm_started)
		return;
	/* if no thread can be had, the first transfer loads libcurl itself */
	warm_started = pthread_create(&warm_thread, NULL, warm_up_main, NULL) == 0;
}

void reg_warm_up_join(void)
{
	if (!warm_started || pthread_equal(warm_thread, pthread_self()))
		return;
	pthread_join(warm_thread, NULL);
	warm_started = false;
}

int64_t reg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- transfers ---- */

static void response_reset(reg_xfer_t *xf)
{
	free(xf->location);
	free(xf->www_auth);
	free(xf->retry_after);
	free(xf->content_type);
	free(xf->docker_digest);
	free(xf->content_range);
	free(xf->oci_chunk_min);
	free(xf->effective_url);
	xf->location = xf->www_auth = xf->retry_after = xf->content_type = NULL;
	xf->docker_digest = xf->content_range = xf->oci_chunk_min = xf->effective_url = NULL;
	xf->content_length = -1;
	xf->status = 0;
	cb_buf_reset(&xf->resp);
}

void reg_xfer_init(reg_xfer_t *xf, const char *method, char *url_owned)
{
	memset(xf, 0, sizeof(*xf));
	xf->method = method;
	xf->url = url_owned;
	xf->body_fd = -1;
	xf->content_length = -1;
	cb_buf_init(&xf->resp);
}

void reg_xfer_release(reg_xfer_t *xf)
{
	if (!xf)
		return;
	response_reset(xf);
	cb_buf_release(&xf->resp);
	free(xf->url);
	xf->url = NULL;
	curl_slist_free_all(xf->headers);
	xf->headers = NULL;
	if (xf->easy)
		curl_easy_cleanup(xf->easy);
	xf->easy = NULL;
	curl_slist_free_all(xf->attempt_headers);
	xf->attempt_headers = NULL;
	cb_error_release(&xf->sink_err);
}

void reg_xfer_rearm(reg_xfer_t *xf, const char *method, char *url_owned)
{
	free(xf->url);
	xf->url = url_owned;
	xf->method = method;
	curl_slist_free_all(xf->headers);
	xf->headers = NULL;
	xf->body_fd = -1;
	xf->body_off = 0;
	xf->body_mem = NULL;
	xf->body_size = 0;
	xf->body_read = NULL;
	xf->has_body = false;
	xf->range_from = 0;
	xf->attempts = 0;
	xf->auth_retried = false;
}

void reg_xfer_add_header(reg_xfer_t *xf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *h = cb_vasprintf(fmt, ap);
	va_end(ap);
	xf->headers = curl_slist_append(xf->headers, h);
	free(h);
	if (!xf->headers)
		CB_BUG("curl_slist_append: out of memory");
}

/* ---- error text ---- */

/* The first message of a distribution error body {"errors":[{code,message}]}. */
static char *registry_message(const reg_xfer_t *xf)
{
	if (!xf->resp.len)
		return NULL;
	json_t *j = json_loadb(xf->resp.data, xf->resp.len, 0, NULL);
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	char *out = NULL;
	if (msg && *msg)
		out = cb_xstrdup(msg);
	else if (code)
		out = cb_xstrdup(code);
	json_decref(j);
	return out;
}

int reg_http_error(const reg_xfer_t *xf, const char *what, cb_error_t *err)
{
	_cleanup_free_ char *m = registry_message(xf);
	int code = reg_status_errno(xf->status);
	if (m)
		return cb_error_fail(err, code, "%s: %s (HTTP %ld)", what, m, xf->status);
	return cb_error_fail(err, code, "%s: HTTP %ld", what, xf->status);
}

/* ---- curl callbacks ---- */

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
		return NULL;
	const char *v = line + k + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return cb_xstrndup(v, (size_t)(end - v));
}

static void set_hdr(char **slot, char *v)
{
	if (!v)
		return;
	free(*slot);
	*slot = v;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	reg_xfer_t *xf = ud;
	size_t n = size * nitems;
	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* A new response (after a redirect or 100-continue). */
		response_reset(xf);
		return n;
	}
	set_hdr(&xf->location, header_value(buf, n, "Location"));
	set_hdr(&xf->www_auth, header_value(buf, n, "WWW-Authenticate"));
	set_hdr(&xf->retry_after, header_value(buf, n, "Retry-After"));
	set_hdr(&xf->content_type, header_value(buf, n, "Content-Type"));
	set_hdr(&xf->docker_digest, header_value(buf, n, "Docker-Content-Digest"));
	set_hdr(&xf->content_range, header_value(buf, n, "Content-Range"));
	set_hdr(&xf->oci_chunk_min, header_value(buf, n, "OCI-Chunk-Min-Length"));
	char *cl = header_value(buf, n, "Content-Length");
	if (cl) {
		xf->content_length = strtoll(cl, NULL, 10);
		free(cl);
	}
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	reg_xfer_t *xf = ud;
	size_t n = size * nmemb;
	if (xf->sink_failed)
		return 0;
	if (!xf->status)
		curl_easy_getinfo(xf->easy, CURLINFO_RESPONSE_CODE, &xf->status);
	/* Only 2xx bodies go to the sink; error bodies are kept for messages. */
	if (xf->sink && xf->status >= 200 && xf->status < 300) {
		if (xf->sink(xf, data, n, &xf->sink_err) < 0) {
			xf->sink_failed = true;
			return 0;
		}
		return n;
	}
	size_t max = xf->resp_max ? xf->resp_max : REG_MANIFEST_MAX;
	if (xf->resp.len + n > max) {
		xf->sink_failed = true;
		cb_error_fail(&xf->sink_err, EFBIG, "response from '%s' larger than %zu bytes",
			     xf->url, max);
		return 0;
	}
	cb_buf_add(&xf->resp, data, n);
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	reg_xfer_t *xf = ud;
	size_t want = size * nitems;
	if (xf->body_read) {
		ssize_t n = xf->body_read(xf, buf, want);
		if (n < 0)
			return CURL_READFUNC_ABORT;
		xf->upload_pos += (uint64_t)n;
		return (size_t)n;
	}
	uint64_t left = xf->body_size - xf->upload_pos;
	if (want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	if (xf->body_mem) {
		memcpy(buf, xf->body_mem + xf->upload_pos, want);
	} else {
		ssize_t r = pread(xf->body_fd, buf, want, (off_t)(xf->body_off + xf->upload_pos));
		if (r <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)r;
	}
	xf->upload_pos += want;
	return want;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	reg_xfer_t *xf = ud;
	if (xf->body_read) /* a stream: only where it is */
		return origin == SEEK_SET && off >= 0 && (uint64_t)off == xf->upload_pos
			       ? CURL_SEEKFUNC_OK
			       : CURL_SEEKFUNC_CANTSEEK;
	if (origin != SEEK_SET || off < 0 || (uint64_t)off > xf->body_size)
		return CURL_SEEKFUNC_CANTSEEK;
	xf->upload_pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/* ---- TLS material ---- */

static bool host_is_local(const char *domain)
{
	_cleanup_free_ char *h = NULL;
	if (domain[0] == '[') {
		const char *e = strchr(domain, ']');
		h = cb_xstrndup(domain + 1, e ? (size_t)(e - domain - 1) : strlen(domain));
	} else {
		h = cb_xstrndup(domain, strcspn(domain, ":"));
	}
	return !strcmp(h, "localhost") || cb_str_has_prefix(h, "127.") || !strcmp(h, "::1");
}

static void add_certs_from(reg_client_t *c, const char *dir, cb_buf_t *ca, bool *have_ca)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		_cleanup_free_ char *p = cb_path_join(dir, e->d_name);
		if (cb_str_has_suffix(e->d_name, ".crt")) {
			char *data = NULL;
			size_t len = 0;
			cb_error_t ignore = CB_ERROR_INIT;
			if (cb_read_file(p, CA_MAX, &data, &len, &ignore) == 0) {
				cb_buf_add(ca, data, len);
				cb_buf_addch(ca, '\n');
				*have_ca = true;
				free(data);
			}
			cb_error_release(&ignore);
		} else if (cb_str_has_suffix(e->d_name, ".cert") && !c->client_cert) {
			/* docker's convention: client.cert goes with client.key */
			_cleanup_free_ char *key =
				cb_asprintf("%.*s.key", (int)(strlen(p) - 5), p);
			if (cb_path_exists(key)) {
				c->client_cert = cb_steal_pointer(&p);
				c->client_key = cb_steal_pointer(&key);
			}
		}
	}
	closedir(d);
}

static void load_tls(reg_client_t *c)
{
	const char *dirs[4];
	size_t n = 0;
	const char *env = getenv("CBUILD_CERTS_DIR");
	if (c->opts.certs_dir)
		dirs[n++] = c->opts.certs_dir;
	else if (env && *env)
		dirs[n++] = env;
	dirs[n++] = "/etc/containers/certs.d";
	dirs[n++] = "/etc/docker/certs.d";
	cb_buf_t ca;
	cb_buf_init(&ca);
	bool have = false;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *d = cb_path_join(dirs[i], c->domain);
		add_certs_from(c, d, &ca, &have);
	}
	if (have) {
		/* CAINFO_BLOB replaces the system bundle: keep it in. */
		char *sys = NULL;
		size_t len = 0;
		cb_error_t ignore = CB_ERROR_INIT;
		if (cb_read_file("/etc/ssl/certs/ca-certificates.crt", CA_MAX, &sys, &len,
				 &ignore) == 0) {
			cb_buf_add(&ca, sys, len);
			free(sys);
		}
		cb_error_release(&ignore);
		c->ca_blob = cb_buf_detach(&ca, &c->ca_len);
		cb_buf_release(&ca);
	} else {
		cb_buf_release(&ca);
	}
}

static void setup_tls(reg_client_t *c, CURL *e)
{
	if (!c->opts.tls_verify) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->ca_blob) {
		struct curl_blob b = {.data = c->ca_blob, .len = c->ca_len, .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->client_cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key);
	}
}

static void setup_common(reg_client_t *c, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_USERAGENT, "cbuild/" CBUILD_UA_VERSION);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer (under 1 KiB/s for 60 s) counts as a dropped one. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	/* Headers set with CURLOPT_HTTPHEADER (our Authorization) are sent to
	 * the original host only: libcurl drops them when a redirect leaves
	 * it (>= 7.58), which is what blob storage redirects (S3, GCS) need. */
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
	setup_tls(c, e);
}


/* ---- the engine ---- */

static int arm(reg_client_t *c, reg_xfer_t *xf, cb_error_t *err)
{
	response_reset(xf);
	xf->upload_pos = 0;
	xf->sink_failed = false;
	cb_error_release(&xf->sink_err);
	xf->errbuf[0] = '\0';
	if (xf->prepare && xf->prepare(xf, err) < 0)
		return -1;
	if (!xf->easy) {
		xf->easy = curl_easy_init();
		if (!xf->easy)
			CB_BUG("curl_easy_init failed");
	} else {
		curl_easy_reset(xf->easy);
	}
	CURL *e = xf->easy;
	setup_common(c, e);
	curl_easy_setopt(e, CURLOPT_URL, xf->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, xf);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, xf->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, xf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, xf);
	/* Big buffers: fewer callbacks and syscalls on blob streams. Each
	 * handle has its own, and small answers (manifests, small layers)
	 * would only pay for the page faults of touching them. */
	if (xf->sink && !xf->small)
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, BIG_BUFFER);
	if (xf->has_body && xf->body_size >= BIG_BODY)
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, BIG_BUFFER);
	bool get_like = !strcmp(xf->method, "GET") || !strcmp(xf->method, "HEAD");
	/* Follow redirects for reads (blob storage); an upload redirect is
	 * unusual and must not replay a body to an unknown host. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, get_like ? 1L : 0L);
	if (!strcmp(xf->method, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (xf->has_body) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, xf);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, xf);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
				 xf->body_read ? (curl_off_t)-1 : (curl_off_t)xf->body_size);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, xf->method);
	} else if (!strcmp(xf->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(xf->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, xf->method);
	}
	if (xf->range_from) {
		char r[48];
		snprintf(r, sizeof(r), "%llu-", (unsigned long long)xf->range_from);
		curl_easy_setopt(e, CURLOPT_RANGE, r);
	}
	/* Headers: the owner's, plus Authorization for this attempt. */
	struct curl_slist *h = NULL;
	for (struct curl_slist *s = xf->headers; s; s = s->next)
		h = curl_slist_append(h, s->data);
	if (c->auth_header && !xf->anonymous)
		h = curl_slist_append(h, c->auth_header);
	/* Expect: 100-continue costs a round trip per upload for nothing. */
	if (xf->has_body)
		h = curl_slist_append(h, "Expect:");
	curl_slist_free_all(xf->attempt_headers);
	xf->attempt_headers = h;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	xf->finished = false;
	return curl_multi_add_handle(c->multi, e) == CURLM_OK ? 0 : cb_error_fail(err, EIO, "curl_multi_add_handle failed");
}

static bool curl_transient(CURLcode r)
{
	switch (r) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_READ_ERROR:
		return true;
	default:
		return false;
	}
}

static int64_t backoff_ms(int attempt)
{
	int64_t d = BACKOFF_BASE_MS;
	for (int i = 1; i < attempt && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d;
}

typedef enum { FIN_OK, FIN_RETRY, FIN_REARM, FIN_FAIL } fin_t;

/* Decide what a finished attempt means. */
static fin_t finish(reg_client_t *c, reg_xfer_t *xf, CURLcode res, int64_t *delay,
		    cb_error_t *err)
{
	curl_easy_getinfo(xf->easy, CURLINFO_RESPONSE_CODE, &xf->status);
	char *eff = NULL;
	curl_easy_getinfo(xf->easy, CURLINFO_EFFECTIVE_URL, &eff);
	free(xf->effective_url);
	xf->effective_url = eff ? cb_xstrdup(eff) : NULL;
	*delay = 0;
	if (xf->sink_failed) {
		if (cb_error_is_set(&xf->sink_err)) {
			cb_error_move(err, &xf->sink_err);
			return FIN_FAIL;
		}
	}
	xf->attempts++;
	if (res != CURLE_OK) {
		if (curl_transient(res) && xf->attempts < (xf->max_attempts ? xf->max_attempts : MAX_ATTEMPTS)) {
			*delay = backoff_ms(xf->attempts);
			if (xf->on_retry)
				xf->on_retry(xf, curl_easy_strerror(res));
			return FIN_RETRY;
		}
		long os_errno = 0;
		curl_easy_getinfo(xf->easy, CURLINFO_OS_ERRNO, &os_errno);
		reg_transfer_error(xf->method, xf->url,
				   xf->errbuf[0] ? xf->errbuf : curl_easy_strerror(res), os_errno, err);
		return FIN_FAIL;
	}
	if (xf->status == 401 && !xf->anonymous && !xf->auth_retried && xf->www_auth) {
		xf->auth_retried = true;
		xf->attempts--;
		if (reg_auth_challenge(c, xf->www_auth, err) < 0)
			return FIN_FAIL;
		return FIN_RETRY;
	}
	if ((xf->status == 429 || xf->status >= 500) &&
	    xf->attempts < (xf->max_attempts ? xf->max_attempts : MAX_ATTEMPTS)) {
		int64_t ra = reg_retry_after_ms(xf->retry_after, time(NULL));
		*delay = ra >= 0 ? (ra > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : ra)
				 : backoff_ms(xf->attempts);
		if (xf->on_retry) {
			char why[32];
			snprintf(why, sizeof(why), "HTTP %ld", xf->status);
			xf->on_retry(xf, why);
		}
		return FIN_RETRY;
	}
	if (!xf->done) {
		if (xf->status >= 200 && xf->status < 300)
			return FIN_OK;
		reg_http_error(xf, xf->url, err);
		return FIN_FAIL;
	}
	int r = xf->done(xf, err);
	if (r < 0)
		return FIN_FAIL;
	if (r > 0) {
		/* a new request: its own retry budget */
		xf->attempts = 0;
		xf->auth_retried = false;
		return FIN_REARM;
	}
	return FIN_OK;
}

int reg_client_run_on(reg_client_t *c, CURLM *multi, reg_xfer_t **xs, size_t n, unsigned parallel,
		      cb_error_t *err)
{
	CURLM *saved = c->multi;
	c->multi = multi;
	int r = reg_client_run(c, xs, n, parallel, err);
	c->multi = saved;
	return r;
}

int reg_client_run(reg_client_t *c, reg_xfer_t **xs, size_t n, unsigned parallel,
		   cb_error_t *err)
{
	if (!parallel)
		parallel = c->opts.max_parallel ? c->opts.max_parallel : 8;
	size_t next = 0, done = 0, active = 0;
	int64_t *wait_until = cb_xcalloc(n ? n : 1, sizeof(int64_t));
	bool *waiting = cb_xcalloc(n ? n : 1, sizeof(bool));
	int rc = 0;

	while (done < n) {
		/* Ctrl-C or SIGTERM (a build's handler, or pull's and push's):
		 * stop now, whatever a hung registry does; the signal also wakes
		 * curl_multi_poll below (EINTR), so this is reached promptly. */
		if (cb_cancel_check(err) < 0) {
			rc = -1;
			goto out;
		}
		int64_t now = reg_now_ms();
		/* Restart transfers whose backoff is over, then start new ones. */
		for (size_t i = 0; i < next && active < parallel; i++) {
			if (waiting[i] && wait_until[i] <= now) {
				waiting[i] = false;
				if (arm(c, xs[i], err) < 0) {
					rc = -1;
					goto out;
				}
				active++;
			}
		}
		while (next < n && active < parallel) {
			if (arm(c, xs[next], err) < 0) {
				rc = -1;
				goto out;
			}
			next++;
			active++;
		}
		int still = 0;
		CURLMcode mc = curl_multi_perform(c->multi, &still);
		if (mc != CURLM_OK) {
			rc = cb_error_fail(err, EIO, "curl: %s", curl_multi_strerror(mc));
			goto out;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(c->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			reg_xfer_t *xf = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&xf);
			CURLcode res = m->data.result;
			size_t i = 0;
			while (i < n && xs[i] != xf)
				i++;
			curl_multi_remove_handle(c->multi, xf->easy);
			active--;
			int64_t delay = 0;
			fin_t f = finish(c, xf, res, &delay, err);
			if (f == FIN_FAIL) {
				rc = -1;
				goto out;
			} else if (f == FIN_OK) {
				xf->finished = true;
				done++;
			} else {
				waiting[i] = true;
				wait_until[i] = reg_now_ms() + delay;
			}
		}
		if (done >= n)
			break;
		/* Sleep until there is socket activity or a backoff ends. */
		int64_t timeout = 1000;
		now = reg_now_ms();
		for (size_t i = 0; i < next; i++)
			if (waiting[i] && wait_until[i] - now < timeout)
				timeout = wait_until[i] - now < 0 ? 0 : wait_until[i] - now;
		if (timeout > 0 && (active || timeout < 1000))
			curl_multi_poll(c->multi, NULL, 0, (int)timeout, NULL);
	}
out:
	for (size_t i = 0; i < n; i++)
		if (xs[i]->easy)
			curl_multi_remove_handle(c->multi, xs[i]->easy);
	free(wait_until);
	free(waiting);
	return rc;
}

int reg_client_run1(reg_client_t *c, reg_xfer_t *xf, cb_error_t *err)
{
	return reg_client_run(c, &xf, 1, 1, err);
}

/* ---- opening ---- */

static int ping_done(reg_xfer_t *xf, cb_error_t *err) { return 0; }

/* GET /v2/ over `scheme`, at most `attempts` times (0: the default). */
static int ping_at(reg_client_t *c, reg_xfer_t *xf, const char *scheme, int attempts,
		   cb_error_t *err)
{
	reg_xfer_rearm(xf, "GET", cb_asprintf("%s://%s/v2/", scheme, c->host));
	xf->max_attempts = attempts;
	c->scheme = scheme;
	return reg_client_run1(c, xf, err);
}

static bool ping_ok(const reg_xfer_t *xf) { return xf->status == 200 || xf->status == 401; }

/* HTTPS first, then (when allowed) plain HTTP. Returns the HTTPS error
 * when both fail. */
static int ping_https_first(reg_client_t *c, reg_xfer_t *xf, bool http_ok, cb_error_t *err)
{
	cb_error_t e1 = CB_ERROR_INIT;
	int r = ping_at(c, xf, "https", http_ok ? 1 : 0, &e1);
	if (r == 0 || !http_ok) {
		cb_error_move(err, &e1);
		return r;
	}
	cb_error_t e2 = CB_ERROR_INIT;
	r = ping_at(c, xf, "http", 0, &e2);
	/* An HTTPS server answers plain HTTP with 400: then the TLS failure
	 * (an unknown CA, say) is the real story. */
	if (r == 0 && ping_ok(xf)) {
		cb_error_release(&e1);
	} else if (r == 0) {
		r = -1;
		cb_error_move(err, &e1);
	} else {
		cb_error_release(&e1);
		cb_error_move(err, &e2);
	}
	cb_error_release(&e2);
	return r;
}

static int ping(reg_client_t *c, cb_error_t *err)
{
	bool local = host_is_local(c->domain);
	reg_xfer_t xf;
	reg_xfer_init(&xf, "GET", NULL);
	xf.anonymous = true;
	xf.done = ping_done;
	int r = -1;
	bool decided = false;
	if (local) {
		/* A registry on this machine is plain HTTP more often than not
		 * (`docker run registry:2`): ask that first, one attempt. An
		 * HTTPS server answers at once with 400, and a TLS handshake
		 * (a fresh SSL context: ~10 ms) is spent only where needed.
		 * Anything else (no answer, a 5xx) goes the usual way, with
		 * its retries. */
		cb_error_t e = CB_ERROR_INIT;
		r = ping_at(c, &xf, "http", 1, &e);
		cb_error_release(&e);
		if (r == 0 && ping_ok(&xf)) {
			decided = true;
		} else if (r == 0 && xf.status == 400) {
			r = ping_at(c, &xf, "https", 0, err);
			decided = true;
		}
	}
	if (!decided)
		r = ping_https_first(c, &xf, !c->opts.tls_verify || local, err);
	if (r < 0) {
		reg_xfer_release(&xf);
		return cb_error_wrap(err, "ping registry '%s'", c->domain);
	}
	if (xf.status == 401 && xf.www_auth) {
		if (reg_challenge_parse(xf.www_auth, &c->chal, err) < 0) {
			reg_xfer_release(&xf);
			return cb_error_wrap(err, "ping registry '%s'", c->domain);
		}
	}
	reg_xfer_release(&xf);
	return 0;
}

static reg_client_t *client_new(const char *domain, const reg_opts_t *opts)
{
	pthread_once(&curl_once, curl_init_once);
	reg_client_t *c = cb_xcalloc(1, sizeof(*c));
	c->domain = cb_xstrdup(domain);
	/* Docker Hub's API lives on another host than its name. */
	c->host = cb_xstrdup(!strcmp(domain, "docker.io") ? "registry-1.docker.io" : domain);
	if (opts)
		c->opts = *opts;
	else
		reg_opts_init(&c->opts);
	c->multi = curl_multi_init();
	if (!c->multi)
		CB_BUG("curl_multi_init failed");
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	load_tls(c);
	return c;
}

int reg_client_open(const char *domain, const char *repo, const char *actions,
		    char *const *extra_pull_repos, const reg_opts_t *opts, reg_client_t **out,
		    cb_error_t *err)
{
	reg_client_t *c = client_new(domain, opts);
	c->repo = cb_xstrdup(repo);
	cb_buf_t sc;
	cb_buf_init(&sc);
	cb_buf_addf(&sc, "repository:%s:%s", repo, actions);
	for (size_t i = 0; extra_pull_repos && extra_pull_repos[i]; i++)
		cb_buf_addf(&sc, " repository:%s:pull", extra_pull_repos[i]);
	c->scope = cb_buf_detach(&sc, NULL);
	cb_buf_release(&sc);
	if (c->opts.username) {
		reg_auth_set_creds(c, c->opts.username, c->opts.password);
	} else {
		_cleanup_free_ char *u = NULL, *p = NULL;
		if (reg_auth_lookup(domain, c->opts.auth_file, &u, &p, err) < 0) {
			reg_client_free(c);
			return -1;
		}
		if (u)
			reg_auth_set_creds(c, u, p);
	}
	if (ping(c, err) < 0 || reg_auth_start(c, err) < 0) {
		reg_client_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void reg_client_free(reg_client_t *c)
{
	if (!c)
		return;
	reg_auth_release(c);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c->domain);
	free(c->host);
	free(c->repo);
	free(c->ca_blob);
	free(c->client_cert);
	free(c->client_key);
	free(c);
}

char *reg_client_url(const reg_client_t *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *suffix = cb_vasprintf(fmt, ap);
	va_end(ap);
	return cb_asprintf("%s://%s/v2/%s/%s", c->scheme, c->host, c->repo, suffix);
}

const char *reg_client_domain(const reg_client_t *c) { return c->domain; }
const char *reg_client_repo(const reg_client_t *c) { return c->repo; }

int reg_client_check_login(const char *domain, const char *user, const char *pass,
			   const reg_opts_t *opts, char **identity_token_out, cb_error_t *err)
{
	reg_client_t *c = client_new(domain, opts);
	reg_auth_set_creds(c, user, pass);
	c->force_oauth = true;
	int r = ping(c, err);
	if (r == 0 && c->chal.scheme == REG_AUTH_BEARER) {
		r = reg_auth_fetch_token(c, NULL, err);
		if (r == 0 && identity_token_out && c->refresh_token)
			*identity_token_out = cb_steal_pointer(&c->refresh_token);
	} else if (r == 0 && c->chal.scheme == REG_AUTH_BASIC) {
		reg_xfer_t xf;
		reg_xfer_init(&xf, "GET", cb_asprintf("%s://%s/v2/", c->scheme, c->host));
		xf.anonymous = true;
		xf.headers = curl_slist_append(NULL, c->basic_header);
		xf.done = ping_done;
		r = reg_client_run1(c, &xf, err);
		if (r == 0 && (xf.status == 401 || xf.status == 403))
			r = cb_error_fail(err, EACCES, "unauthorized: incorrect username or password");
		else if (r == 0 && (xf.status < 200 || xf.status >= 300))
			r = reg_http_error(&xf, "check credentials", err);
		reg_xfer_release(&xf);
	}
	reg_client_free(c);
	if (r < 0)
		return cb_error_wrap(err, "login to '%s'", domain);
	return 0;
}

void reg_progress(const reg_opts_t *o, const char *digest, reg_progress_state_t st,
		  uint64_t done, uint64_t total)
{
	if (o->progress && !o->quiet)
		o->progress(o->progress_ctx, digest, st, done, total);
}
