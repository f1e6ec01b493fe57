/*
 * registry/wire.h - registry-internal pieces of the distribution protocol
 * that need no network: media types, WWW-Authenticate challenges, Location
 * resolution, Retry-After, base64 (platforms are store/image.h's
 * oci_platform_*). Pure functions, unit-tested in
 * tests/unit/test_registry_wire.c. Not for use outside registry/.
 */
#ifndef CB_REGISTRY_WIRE_H
#define CB_REGISTRY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"
#include "store/mediatype.h"

/* registry/'s short spellings of two of them */
#define MT_OCI_LAYER_GZ MT_OCI_LAYER_GZIP
#define MT_DOCKER_LAYER_GZ MT_DOCKER_LAYER_GZIP

/* Largest manifest or index accepted (as containerd and distribution do). */
#define REG_MANIFEST_MAX (4u << 20)

bool reg_mt_is_index(const char *mt);
bool reg_mt_is_manifest(const char *mt);

/* ---- WWW-Authenticate ---- */

typedef enum { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER, REG_AUTH_OTHER } reg_auth_scheme_t;

typedef struct reg_challenge {
	reg_auth_scheme_t scheme;
	char *realm;   /* owned, NULL when absent */
	char *service; /* owned, NULL when absent */
	char *scope;   /* owned, NULL when absent */
	char *error;   /* owned, e.g. "insufficient_scope" */
} reg_challenge_t;

/* Parse one WWW-Authenticate value (RFC 7235: scheme, then
 * key=value or key="quoted, \"escaped\"" pairs). A header carrying several
 * challenges yields the first Bearer one, else the first Basic one. */
int reg_challenge_parse(const char *hdr, reg_challenge_t *out, cb_error_t *err);
void reg_challenge_release(reg_challenge_t *c);

/* ---- URLs ---- */

/* Resolve a Location header against the URL of the request that returned
 * it (absolute, scheme-relative "//h/p", absolute-path "/p", relative).
 * Returns an owned URL, or NULL + err on garbage. */
char *reg_url_resolve(const char *base, const char *location, cb_error_t *err);

/* Append "?k=v" or "&k=v" (v is URL-escaped). Returns a new string. */
char *reg_url_add_query(const char *url, const char *key, const char *value);

/* ---- Retry-After ---- */

/* Delta-seconds or an HTTP-date, relative to `now`. Returns the delay in
 * milliseconds (0 for a date in the past), or -1 when unparseable. */
int64_t reg_retry_after_ms(const char *value, time_t now);

/* ---- errors ---- */

/* The errno class of an HTTP failure status: 401/403 EACCES, 404 ENOENT,
 * 429 EAGAIN, else EIO. */
int reg_status_errno(long status);
/* A transfer that failed below HTTP: "METHOD 'URL': CURL_TEXT", plain (the
 * text is the cause), or followed by strerror(os_errno) when the system
 * gave one (a refused or unreachable connect: that is the cause). -1. */
int reg_transfer_error(const char *method, const char *url, const char *curl_text,
		       long os_errno, cb_error_t *err);

/* ---- base64 (standard alphabet, padded) ---- */

char *reg_base64_encode(const void *data, size_t len);
/* Returns the decoded bytes NUL-terminated (len in *out_len), or NULL on
 * bad input. */
char *reg_base64_decode(const char *s, size_t *out_len);

#endif
