#include "common/error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int cb_error_setv(cb_error_t *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	if (err->msg)
		CB_BUG("error set twice: '%s'", err->msg);
	err->code = code;
	err->plain = 0;
	err->msg = cb_vasprintf(fmt, ap);
	return -1;
}

int cb_error_set(cb_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cb_error_setv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int cb_error_fail(cb_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cb_error_setv(err, code, fmt, ap);
	va_end(ap);
	if (err)
		err->plain = 1;
	return -1;
}

int cb_error_errno(cb_error_t *err, const char *fmt, ...)
{
	int code = errno;
	va_list ap;
	va_start(ap, fmt);
	cb_error_setv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int cb_error_wrap(cb_error_t *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = cb_vasprintf(fmt, ap);
	va_end(ap);
	char *old = err->msg;
	err->msg = cb_asprintf("%s: %s", ctx, old ? old : "unknown failure");
	free(ctx);
	free(old);
	return -1;
}

void cb_error_move(cb_error_t *dst, cb_error_t *src)
{
	if (dst && dst->msg)
		CB_BUG("error moved onto a set error");
	if (dst)
		*dst = *src;
	else
		free(src->msg);
	src->code = 0;
	src->msg = NULL;
	src->plain = 0;
}

void cb_error_release(cb_error_t *err)
{
	if (!err)
		return;
	free(err->msg);
	err->msg = NULL;
	err->code = 0;
	err->plain = 0;
}

/* Whether the strerror text of the code goes after the message: not for a
 * plain failure, and not when the message already ends with it (a cause
 * said once). */
static bool wants_strerror(const cb_error_t *err)
{
	if (!err || !err->code || err->plain || !err->msg)
		return false;
	const char *s = strerror(err->code);
	size_t ls = strlen(s), lm = strlen(err->msg);
	return !(lm >= ls && !strcmp(err->msg + lm - ls, s) &&
		 (lm == ls || (lm >= ls + 2 && !strncmp(err->msg + lm - ls - 2, ": ", 2))));
}

const char *cb_error_format(const cb_error_t *err, char *buf, size_t len)
{
	if (!len)
		return buf;
	const char *msg = err && err->msg ? err->msg : "unknown failure";
	if (wants_strerror(err))
		snprintf(buf, len, "%s: %s", msg, strerror(err->code));
	else
		snprintf(buf, len, "%s", msg);
	return buf;
}

void cb_error_print(FILE *fp, const char *prog, const cb_error_t *err)
{
	const char *msg = err && err->msg ? err->msg : "unknown failure";
	if (wants_strerror(err))
		fprintf(fp, "%s: error: %s: %s\n", prog, msg, strerror(err->code));
	else
		fprintf(fp, "%s: error: %s\n", prog, msg);
	fflush(fp);
}

void cb_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "cbuild: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void cb_warn(const char *fmt, ...)
{
	va_list ap;
	fputs("cbuild: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cb_warn_error(cb_error_t *err)
{
	char buf[4096];
	cb_warn("%s", cb_error_format(err, buf, sizeof(buf)));
	cb_error_release(err);
}
