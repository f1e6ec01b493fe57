/*
 * common/utf8.c - see utf8.h.
 */
#include "common/utf8.h"

#include <string.h>

#include "common/util.h"

size_t cb_utf8_seq_len(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

bool cb_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = cb_utf8_seq_len(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

char *cb_utf8_fix(const char *s, size_t n, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	cb_buf_t b;
	cb_buf_init(&b);
	size_t i = 0;
	while (i < n) {
		size_t l = p[i] < 0x80 ? 1 : cb_utf8_seq_len(p + i, n - i);
		if (l) {
			cb_buf_add(&b, p + i, l);
			i += l;
		} else {
			cb_buf_add(&b, "\xEF\xBF\xBD", 3);
			i++;
		}
	}
	if (out_len)
		*out_len = b.len;
	return b.data;
}

const char *cb_utf8_or_fixed(const char *s, char **owned)
{
	*owned = NULL;
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (cb_utf8_valid(s, n))
		return s;
	*owned = cb_utf8_fix(s, n, NULL);
	return *owned;
}
