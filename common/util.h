/*
 * common/util.h - allocation, cleanup attributes, small string helpers.
 *
 * x-allocators abort on out-of-memory: cbuild cannot do anything useful
 * without memory and checking every small allocation hides real errors.
 *
 * Owning locals use the cleanup attributes and are initialised to NULL/-1:
 *
 *     _cleanup_free_ char *path = cb_asprintf("%s/x", root);
 *     _cleanup_close_ int fd = -1;
 *     ...
 *     return cb_steal_pointer(&path);   // caller now owns it
 */
#ifndef CB_COMMON_UTIL_H
#define CB_COMMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

void *cb_xmalloc(size_t n);
void *cb_xcalloc(size_t nmemb, size_t n);
void *cb_xrealloc(void *p, size_t n);
/* reallocarray that aborts on overflow or OOM */
void *cb_xreallocarray(void *p, size_t nmemb, size_t n);
char *cb_xstrdup(const char *s);
char *cb_xstrndup(const char *s, size_t n);
char *cb_asprintf(const char *fmt, ...) CB_PRINTF(1, 2);
char *cb_vasprintf(const char *fmt, va_list ap);

/* n bytes that belong to the calling thread until it exits (then they are
 * freed). For per-thread scratch buffers kept in a `static __thread char *`
 * pointer, allocated on first use: a `static __thread char buf[128 KiB]`
 * instead is static TLS, which every thread of the process zeroes when it
 * starts and needs room for on its stack, whether it uses it or not. */
void *cb_thread_alloc(size_t n);

/* n_bytes from getrandom as 2 * n_bytes lowercase hex digits + NUL in out
 * (IDs of containers and networks). */
void cb_random_hex(char *out, size_t n_bytes);

/* The current time as RFC 3339 UTC with nanoseconds,
 * "2026-11-29T05:18:46.123456789Z" (log lines, network records). */
#define CB_RFC3339_LEN 31
void cb_rfc3339_now(char out[CB_RFC3339_LEN]);

/* Cleanup helpers. */
void cb_freep(void *p);       /* free(*(void **)p) */
void cb_closep(int *fd);      /* close(*fd) if >= 0, keeps errno */
void cb_fclosep(FILE **fp);   /* fclose(*fp) if non-NULL */
void cb_strv_freep(char ***v);

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cb_freep)
#define _cleanup_close_ _cleanup_(cb_closep)
#define _cleanup_fclose_ _cleanup_(cb_fclosep)
#define _cleanup_strv_ _cleanup_(cb_strv_freep)

/* Take ownership out of a cleanup variable, leaving NULL / -1 behind. */
static inline void *cb_steal_ptr_(void *pp)
{
	void **p = (void **)pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define cb_steal_pointer(pp) cb_steal_ptr_((void *)(pp))
static inline int cb_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#define CB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Strings. */
bool cb_str_has_prefix(const char *s, const char *prefix);
bool cb_str_has_suffix(const char *s, const char *suffix);
bool cb_streq(const char *a, const char *b); /* NULL-safe */

/* NULL-terminated string vectors (char **). NULL is the empty vector. */
size_t cb_strv_len(char *const *v);
void cb_strv_free(char **v);
char **cb_strv_dup(char *const *v);
/* Append a copy of s; returns the (possibly moved) vector. */
char **cb_strv_push(char **v, const char *s);
/* Append s, taking ownership of it. */
char **cb_strv_push_take(char **v, char *s);

/* Growable byte buffer, always NUL-terminated (git's strbuf in spirit).
 * Embedded: cb_buf_init / cb_buf_release. buf.data is never NULL after init. */
typedef struct cb_buf {
	char *data;
	size_t len;
	size_t cap;
} cb_buf_t;

void cb_buf_init(cb_buf_t *b);
void cb_buf_release(cb_buf_t *b);
void cb_buf_grow(cb_buf_t *b, size_t extra);
void cb_buf_add(cb_buf_t *b, const void *data, size_t len);
void cb_buf_addstr(cb_buf_t *b, const char *s);
void cb_buf_addch(cb_buf_t *b, char c);
void cb_buf_addf(cb_buf_t *b, const char *fmt, ...) CB_PRINTF(2, 3);
void cb_buf_reset(cb_buf_t *b);
/* Hand the data to the caller (free() it); b is left empty and owns no
 * memory (releasing it or adding to it again are both fine). */
char *cb_buf_detach(cb_buf_t *b, size_t *len);

#endif
