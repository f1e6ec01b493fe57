/*
 * store/json.h - jansson with the two holes closed.
 *
 * json_string() returns NULL for text that is not UTF-8, and
 * json_object_set_new / json_array_append_new then drop the field without a
 * word (an ENV from a Latin-1 --build-arg vanished from the config), while
 * json_dumps() of such a value returns NULL (a crash in strlen). Every string
 * cbuild puts in JSON goes through oci_json_str, which repairs it as Go's
 * encoding/json does (each bad byte becomes U+FFFD, see common/utf8.h), so
 * configs match BuildKit's; every dump goes through oci_json_dumps, which
 * cannot return NULL.
 */
#ifndef CB_STORE_JSON_H
#define CB_STORE_JSON_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/utf8.h"

/* A new JSON string holding s, repaired if it is not UTF-8; NULL only for
 * s == NULL (as json_string). */
static inline json_t *oci_json_str(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (cb_utf8_valid(s, n))
		return json_stringn(s, n);
	size_t m;
	char *fixed = cb_utf8_fix(s, n, &m);
	json_t *j = json_stringn(fixed, m);
	free(fixed);
	return j;
}

/* A new JSON array of v's strings (NULL: empty), each through oci_json_str. */
static inline json_t *oci_json_strv(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, oci_json_str(v[i]));
	return a;
}

/* json_object_set_new with the key repaired as oci_json_str repairs
 * values (labels, exposed ports and volumes come from users too). */
static inline int oci_json_set(json_t *o, const char *key, json_t *v)
{
	size_t n = strlen(key);
	if (cb_utf8_valid(key, n))
		return json_object_set_new(o, key, v);
	char *fixed = cb_utf8_fix(key, n, NULL);
	int r = json_object_set_new(o, fixed, v);
	free(fixed);
	return r;
}

/* json_dumps that never returns NULL: every string in j came through
 * oci_json_str or a parsed document, so a failure is a bug (or no memory,
 * which the x-allocators treat the same way). Caller frees. */
static inline char *oci_json_dumps(const json_t *j, size_t flags)
{
	char *s = j ? json_dumps(j, flags) : NULL;
	if (!s)
		CB_BUG("json_dumps failed");
	return s;
}

#endif
