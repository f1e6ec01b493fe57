/*
 * store/digest.h - sha256 digests (OpenSSL EVP) and digest strings.
 *
 * A digest string is "sha256:" + 64 lower-case hex characters. Streaming:
 *
 *     digest_ctx_t *d = digest_new();
 *     digest_update(d, buf, n);  ...
 *     digest_final(d, out);      // out: char[DIGEST_STR_LEN + 1]
 *     digest_free(d);
 */
#ifndef CB_STORE_DIGEST_H
#define CB_STORE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

typedef struct digest_ctx digest_ctx_t;

digest_ctx_t *digest_new(void);
void digest_update(digest_ctx_t *d, const void *data, size_t len);
/* Write "sha256:HEX" into out (DIGEST_STR_LEN + 1 bytes). The context can
 * be reused after digest_reset(). */
void digest_final(digest_ctx_t *d, char out[DIGEST_STR_LEN + 1]);
void digest_reset(digest_ctx_t *d);
void digest_free(digest_ctx_t *d);

/* One-shot digest of a buffer. */
void digest_buffer(const void *data, size_t len, char out[DIGEST_STR_LEN + 1]);

/* Digest of a file's contents (streamed). */
int digest_file(const char *path, char out[DIGEST_STR_LEN + 1], cb_error_t *err);

/* True for "sha256:" + 64 lower-case hex. Other algorithms are refused
 * with a clear message by digest_validate. */
bool digest_is_valid(const char *s);
int digest_validate(const char *s, cb_error_t *err);

/* The hex part of a valid digest string (borrowed pointer into s). */
const char *digest_hex(const char *s);

/* A checked digest: s holds "sha256:" + 64 lower-case hex, NUL-terminated.
 * It is made by digest_parse (or by digest_final / digest_buffer writing
 * into .s), so code that is handed one need not validate it again, and it
 * is a value: no allocation, copied by assignment. */
typedef struct digest {
	char s[DIGEST_STR_LEN + 1];
} digest_t;

/* Check s (digest_validate's errors) and copy it into *out. */
int digest_parse(const char *s, digest_t *out, cb_error_t *err);

#endif
