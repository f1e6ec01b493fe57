/*
 * parser/compose_internal.h - the compose loader's YAML tree (not API).
 *
 * libyaml's document is turned into this small tree: aliases are copied,
 * `<<` merge keys applied, every scalar value interpolated, each node
 * remembering the file and position it came from so that errors after a
 * merge of several files still point at the right line.
 */
#ifndef CB_PARSER_COMPOSE_INTERNAL_H
#define CB_PARSER_COMPOSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

typedef enum cn_kind { CN_SCALAR, CN_MAP, CN_SEQ } cn_kind_t;

enum { CN_TAG_NONE = 0, CN_TAG_RESET, CN_TAG_OVERRIDE };

typedef struct cn {
	cn_kind_t kind;
	char *str;        /* CN_SCALAR: the text, interpolated for values */
	bool plain;       /* unquoted scalar: null, booleans and numbers apply */
	int tag;          /* CN_TAG_* */
	const char *file; /* borrowed from the loader */
	int line, col;    /* 1-based */
	size_t n;
	struct cn **keys; /* CN_MAP: scalar key nodes */
	struct cn **vals; /* CN_MAP values, CN_SEQ items */
} cn_t;

void cn_free(cn_t *n);
cn_t *cn_copy(const cn_t *n);
cn_t *cn_new_scalar(const char *s, const cn_t *pos);

/* A map's value for key, or NULL. */
cn_t *cn_get(const cn_t *map, const char *key);
/* Append key/value to a map (taking ownership of both). */
void cn_map_add(cn_t *map, cn_t *key, cn_t *val);
void cn_seq_add(cn_t *seq, cn_t *item);

/* A plain null scalar: "", "~", "null". */
bool cn_is_null(const cn_t *n);

/* Parse one file into a tree (NULL for an empty document: *out = NULL and
 * return 0). Scalars are interpolated from env; unset variables are
 * pushed onto *unset. */
int cn_load(const char *file, const char *data, size_t len, char *const *env, char ***unset,
	    cn_t **out, cb_error_t *err);

/* Merge `over` (a later file's top-level map) into `base`; over is
 * consumed. */
void cn_merge_top(cn_t *base, cn_t *over);

/* "FILE:LINE:COL: fmt" as an error. Returns -1. */
int cn_error(cb_error_t *err, const cn_t *at, const char *fmt, ...) CB_PRINTF(3, 4);
/* "FILE:LINE:COL: " prefix (new string). */
char *cn_where(const cn_t *at);

#endif
