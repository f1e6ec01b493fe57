/*
 * common/utf8.h - UTF-8 checks and the one repair rule.
 *
 * Text cbuild did not write (Dockerfiles, --build-arg and -e values, labels,
 * file names) may hold any byte. JSON (image configs, cache keys, inspect
 * output) must be UTF-8, and jansson refuses other strings by returning NULL.
 * The repair is Go's, so that images match BuildKit's: every byte that does
 * not start a valid sequence becomes U+FFFD on its own ("\xe9\xe8" gives two
 * replacement characters). Overlong forms, surrogates and code points past
 * U+10FFFF are invalid, as in Go and jansson.
 */
#ifndef CB_COMMON_UTF8_H
#define CB_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the valid sequence at s[0..n), or 0 if s[0] starts none. */
size_t cb_utf8_seq_len(const unsigned char *s, size_t n);

/* true if the n bytes at s are valid UTF-8 (NUL counts as valid). */
bool cb_utf8_valid(const char *s, size_t n);

/* s[0..n) repaired as above, NUL-terminated, caller frees; *out_len (if not
 * NULL) gets its length. Valid input comes back as a plain copy. */
char *cb_utf8_fix(const char *s, size_t n, size_t *out_len);

/* The NUL-terminated s if it is valid (returned as is, *owned = NULL), else
 * a repaired copy stored in *owned for the caller to free. For call sites
 * that hand a string straight to jansson. */
const char *cb_utf8_or_fixed(const char *s, char **owned);

#endif
