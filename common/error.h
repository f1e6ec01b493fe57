/*
 * common/error.h - the one error type of cbuild.
 *
 * Every function that can fail takes `cb_error_t *err` as its last argument,
 * returns a negative value (or NULL) on failure and sets *err exactly once.
 * On success it returns 0 (or a pointer) and leaves *err untouched.
 *
 * The error carries an errno-style code (0 when there is none) and an
 * allocated message. Callers add context by wrapping:
 *
 *     if (store_open(path, &st, err) < 0)
 *         return cb_error_wrap(err, "open store '%s'", path);
 *
 * which turns "read 'x': No such file" into "open store '/r': read 'x': ...".
 * Only cmd/ prints an error (cb_error_print), once. Code that goes on after a
 * failure calls cb_error_release() to drop it.
 *
 * Messages are lower-case, have no final period, say what failed first and
 * quote their subject in single quotes. The strerror() text of `code` is
 * appended when printing, so messages do not repeat it.
 */
#ifndef CB_COMMON_ERROR_H
#define CB_COMMON_ERROR_H

#include <stdarg.h>
#include <stdio.h>

typedef struct cb_error {
	int code;  /* errno value, 0 when the failure has none */
	char *msg; /* owned; NULL while no error is set */
	int plain; /* 1: the message says it all, print no strerror(code) */
} cb_error_t;

#define CB_ERROR_INIT {0, NULL, 0}

#if defined(__GNUC__)
#define CB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CB_PRINTF(a, b)
#endif

/* Set *err to code + formatted message. Returns -1 so that
 * `return cb_error_set(err, ENOENT, "...")` is one statement. err may be
 * NULL (the error is then dropped). Setting an already-set error is a bug. */
int cb_error_set(cb_error_t *err, int code, const char *fmt, ...) CB_PRINTF(3, 4);
int cb_error_setv(cb_error_t *err, int code, const char *fmt, va_list ap);

/* A failure that is not a system call's (a missing image, a bad
 * reference): the message says it all, and `code` only classifies it for
 * callers (ENOENT, EINVAL, EACCES...); no strerror text is appended. */
int cb_error_fail(cb_error_t *err, int code, const char *fmt, ...) CB_PRINTF(3, 4);

/* Same as cb_error_set, with code = errno (read before anything else runs). */
int cb_error_errno(cb_error_t *err, const char *fmt, ...) CB_PRINTF(2, 3);

/* Prefix the message of an already-set error with context: "CTX: old".
 * Returns -1. If err is not set (a callee broke the convention) it sets a
 * generic message so that nothing is lost. */
int cb_error_wrap(cb_error_t *err, const char *fmt, ...) CB_PRINTF(2, 3);

/* Move src into *dst (dst must be unset); src is left empty. */
void cb_error_move(cb_error_t *dst, cb_error_t *src);

/* Free the message and reset to "no error". NULL-safe. */
void cb_error_release(cb_error_t *err);

/* True when an error is set. */
static inline int cb_error_is_set(const cb_error_t *err) { return err && err->msg; }

/* The full text "msg: strerror(code)" into buf (always NUL-terminated). */
const char *cb_error_format(const cb_error_t *err, char *buf, size_t len);

/* Print "PROG: error: MSG[: strerror]" on fp. */
void cb_error_print(FILE *fp, const char *prog, const cb_error_t *err);

/* A programmer mistake: print where and abort. */
#define CB_BUG(...) cb_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void cb_bug(const char *file, int line, const char *fmt, ...) CB_PRINTF(3, 4);

/* Warnings go to stderr as "cbuild: warning: ..."; used by loops that go on
 * past a failure. cb_warn_error() prints and releases an error. */
void cb_warn(const char *fmt, ...) CB_PRINTF(1, 2);
void cb_warn_error(cb_error_t *err);

#endif
