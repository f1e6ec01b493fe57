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

/* ---- the loader (compose.c, compose_service.c) ---- */

typedef struct seen_port {
	unsigned port;
	char *proto, *ip, *service, *where;
} seen_port_t;

typedef struct ld {
	const df_compose_opts_t *o;
	df_compose_project_t *p;
	const cn_t *services; /* the merged services map */
	const cn_t *secrets;  /* top-level secrets map or NULL */
	char **warned;        /* keys of warnings already given */
	seen_port_t *ports;
	size_t n_ports;
} ld_t;

/* Getters: each checks the node's kind and says what it wanted ("what"). */
int cn_want_kind(const cn_t *n, cn_kind_t k, const char *what, cb_error_t *err);
int cn_parse_uint(const char *s, unsigned max, unsigned *out);
void cn_warn(ld_t *ld, const char *once_key, const cn_t *at, const char *fmt, ...) CB_PRINTF(4, 5);
int cn_get_duration(const cn_t *n, const char *what, int64_t *ns, cb_error_t *err);
int cn_get_strv(const cn_t *n, const char *what, char ***out, cb_error_t *err);
int cn_get_bool(const cn_t *n, const char *what, bool *out, cb_error_t *err);
int cn_get_str(const cn_t *n, const char *what, char **out, cb_error_t *err);
int cn_get_kv(ld_t *ld, const cn_t *n, const char *what, bool from_env, char ***out,
	      cb_error_t *err);
int cn_get_int(const cn_t *n, const char *what, int *out, cb_error_t *err);
int cn_get_command(const cn_t *n, const char *what, char ***out, bool *set, cb_error_t *err);
/* compose_network.c: the top-level networks (before the services), a
 * service's networks: and network_mode, and the check that ties them. */
int cn_parse_networks(ld_t *ld, const cn_t *n, cb_error_t *err);
int cn_get_service_networks(ld_t *ld, df_compose_service_t *s, const cn_t *n, cb_error_t *err);
int cn_finish_networks(ld_t *ld, cb_error_t *err);
void cn_networks_free(df_compose_project_t *p);
void cn_service_networks_free(df_compose_service_t *s);
int cn_parse_service(ld_t *ld, df_compose_service_t *s, const cn_t *key, const cn_t *n,
		     cb_error_t *err);

#endif
