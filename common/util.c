#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

static _Noreturn void oom(size_t n)
{
	fprintf(stderr, "cbuild: out of memory allocating %zu bytes\n", n);
	abort();
}

void *cb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cb_xcalloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
	if (!p)
		oom(nmemb * n);
	return p;
}

void *cb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *cb_xreallocarray(void *p, size_t nmemb, size_t n)
{
	if (n && nmemb > SIZE_MAX / n)
		oom(SIZE_MAX);
	return cb_xrealloc(p, nmemb * n);
}

char *cb_xstrdup(const char *s)
{
	return cb_xstrndup(s, strlen(s));
}

char *cb_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = cb_xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *cb_vasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		CB_BUG("bad format '%s'", fmt);
	char *p = cb_xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *cb_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = cb_vasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void cb_freep(void *p)
{
	free(*(void **)p);
}

void cb_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

void cb_fclosep(FILE **fp)
{
	if (*fp) {
		int saved = errno;
		fclose(*fp);
		errno = saved;
	}
}

void cb_strv_freep(char ***v)
{
	cb_strv_free(*v);
}

bool cb_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool cb_str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool cb_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

size_t cb_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void cb_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char **cb_strv_dup(char *const *v)
{
	size_t n = cb_strv_len(v);
	char **out = cb_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = cb_xstrdup(v[i]);
	return out;
}

char **cb_strv_push_take(char **v, char *s)
{
	size_t n = cb_strv_len(v);
	v = cb_xreallocarray(v, n + 2, sizeof(char *));
	v[n] = s;
	v[n + 1] = NULL;
	return v;
}

char **cb_strv_push(char **v, const char *s)
{
	return cb_strv_push_take(v, cb_xstrdup(s));
}

void cb_buf_init(cb_buf_t *b)
{
	b->cap = 64;
	b->len = 0;
	b->data = cb_xmalloc(b->cap);
	b->data[0] = '\0';
}

void cb_buf_release(cb_buf_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void cb_buf_grow(cb_buf_t *b, size_t extra)
{
	if (!b->data)
		cb_buf_init(b);
	if (extra > SIZE_MAX - b->len - 1)
		oom(SIZE_MAX);
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap * 2;
	if (cap < need)
		cap = need;
	b->data = cb_xrealloc(b->data, cap);
	b->cap = cap;
}

void cb_buf_add(cb_buf_t *b, const void *data, size_t len)
{
	cb_buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void cb_buf_addstr(cb_buf_t *b, const char *s)
{
	cb_buf_add(b, s, strlen(s));
}

void cb_buf_addch(cb_buf_t *b, char c)
{
	cb_buf_add(b, &c, 1);
}

void cb_buf_addf(cb_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = cb_vasprintf(fmt, ap);
	va_end(ap);
	cb_buf_addstr(b, s);
	free(s);
}

void cb_buf_reset(cb_buf_t *b)
{
	if (!b->data)
		cb_buf_init(b);
	b->len = 0;
	b->data[0] = '\0';
}

char *cb_buf_detach(cb_buf_t *b, size_t *len)
{
	if (!b->data)
		cb_buf_init(b);
	char *d = b->data;
	if (len)
		*len = b->len;
	/* Left empty without memory: callers "take and forget" the buffer, and
	 * re-allocating here leaked 64 bytes per call. Adding to it again
	 * re-initialises it (cb_buf_grow). */
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

/* ---- per-thread allocations ---- */

typedef struct thread_block {
	struct thread_block *next;
	max_align_t data[]; /* what cb_thread_alloc returns */
} thread_block_t;

static pthread_key_t thread_blocks;
static pthread_once_t thread_blocks_once = PTHREAD_ONCE_INIT;

static void free_thread_blocks(void *head)
{
	for (thread_block_t *b = head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
}

static void thread_blocks_init(void)
{
	if (pthread_key_create(&thread_blocks, free_thread_blocks) != 0)
		CB_BUG("pthread_key_create failed");
}

void *cb_thread_alloc(size_t n)
{
	pthread_once(&thread_blocks_once, thread_blocks_init);
	thread_block_t *b = cb_xmalloc(sizeof(*b) + n);
	b->next = pthread_getspecific(thread_blocks);
	if (pthread_setspecific(thread_blocks, b) != 0)
		CB_BUG("pthread_setspecific failed");
	return b->data;
}

void cb_random_hex(char *out, size_t n_bytes)
{
	unsigned char b[64];
	if (n_bytes > sizeof b)
		CB_BUG("cb_random_hex: %zu bytes", n_bytes);
	size_t got = 0;
	while (got < n_bytes) {
		ssize_t n = getrandom(b + got, n_bytes - got, 0);
		if (n < 0 && errno != EINTR)
			CB_BUG("getrandom: %s", strerror(errno));
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < n_bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void cb_rfc3339_now(char out[CB_RFC3339_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, CB_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CB_RFC3339_LEN - n, ".%09ldZ", ts.tv_nsec);
}
