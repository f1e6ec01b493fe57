/*
 * registry/reference.h - image references, parsed and normalized as Docker
 * does (distribution/reference):
 *
 *   app                     -> docker.io/library/app:latest
 *   user/app:7              -> docker.io/user/app:7
 *   localhost:5000/app@sha256:...  keeps its host, no default tag
 *   ghcr.io/o/app:1@sha256:...     tag and digest both kept
 *
 * The familiar (short) form drops "docker.io/" and "library/" again, as
 * docker's output does. Strings in reg_ref_t are owned by it.
 */
#ifndef CB_REGISTRY_REFERENCE_H
#define CB_REGISTRY_REFERENCE_H

#include <stdbool.h>

#include "common/error.h"

#define REG_DEFAULT_DOMAIN "docker.io"

typedef struct reg_ref {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* "library/app", "user/app" */
	char *tag;    /* NULL when absent (and no default was added) */
	char *digest; /* "sha256:..." or NULL */
} reg_ref_t;

enum {
	REG_REF_NO_DEFAULT_TAG = 1 << 0, /* do not add ":latest" */
	REG_REF_NAME_ONLY = 1 << 1,      /* refuse a tag or digest */
};

/* Parse and normalize s. Errors say what is wrong: "invalid reference
 * 'a:b:c': invalid reference format", "... repository name must be
 * lowercase". */
int reg_ref_parse(const char *s, unsigned flags, reg_ref_t *out, cb_error_t *err);
void reg_ref_release(reg_ref_t *r);

/* "domain/path[:tag][@digest]" (caller frees). */
char *reg_ref_full(const reg_ref_t *r);
/* "domain/path" */
char *reg_ref_repo(const reg_ref_t *r);
/* Familiar forms: "app:1", "user/app:7", "localhost:5000/app:1". */
char *reg_ref_familiar(const reg_ref_t *r);
char *reg_ref_familiar_repo(const reg_ref_t *r);

/* Normalize a reference string to its full form in one call (NULL + err on
 * a bad reference). */
char *reg_ref_normalize(const char *s, cb_error_t *err);

/* Familiar form of an already-full reference string (no validation; the
 * input is returned copied when it does not parse). */
char *reg_ref_shorten(const char *full);

#endif
