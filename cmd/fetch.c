#include "cmd/fetch.h"

#include "registry/curl_lazy.h"
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

#ifndef CBUILD_VERSION
#define CBUILD_VERSION "0.1"
#endif

typedef struct sink {
	int fd;
	cb_error_t *err;
	int failed;
} sink_t;

static size_t on_data(char *data, size_t size, size_t n, void *opaque)
{
	sink_t *s = opaque;
	size_t len = size * n;
	if (cb_write_all(s->fd, data, len, s->failed ? NULL : s->err) < 0) {
		s->failed = 1;
		return 0;
	}
	return len;
}

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int cmd_fetch_url(void *ctx, const char *url, int out_fd, cb_error_t *err)
{
	(void)ctx;
	/* stages build on threads: initialise libcurl exactly once */
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, curl_init_once);
	CURL *c = curl_easy_init();
	if (!c)
		return cb_error_fail(err, ENOMEM, "ADD '%s': curl init failed", url);
	sink_t s = {out_fd, err, 0};
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cbuild/" CBUILD_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (s.failed)
		return cb_error_wrap(err, "ADD '%s'", url);
	if (rc != CURLE_OK)
		return cb_error_fail(err, EIO, "ADD '%s': %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
	if (status >= 400)
		return cb_error_fail(err, status == 404 ? ENOENT : EIO, "ADD '%s': HTTP %ld", url, status);
	return 0;
}
