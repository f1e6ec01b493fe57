/*
 * parser/internal.h - helpers shared by the parser's .c files (not API).
 */
#ifndef CB_PARSER_INTERNAL_H
#define CB_PARSER_INTERNAL_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

#include "common/error.h"
#include "parser/dockerfile.h"

/* True for a known instruction keyword in lower case. */
bool df_is_instruction(const char *lower);

/* Line and column of byte `off` of a logical (continued) line. */
void df_pos_of(const void *logical, size_t off, int *line, int *col);

/* 1 = JSON array of strings into *out, 0 = not JSON, -1 = non-string items. */
int df_parse_json_array(const char *s, char ***out, size_t *n_out);

/* BuildKit's parseWords: blanks split, quotes kept. New vector. */
char **df_parse_words(const char *rest, char esc, size_t *n_out);

/* Whether `word` is a heredoc marker as BuildKit reads one:
 * `^(\d*)<<(-?)\s*(rest)$` where rest holds no '<' and is one shell word.
 * 1 = yes (*name: new string, quotes removed; *expand false when quoted;
 * *chomp for <<-; each out-param may be NULL), 0 = no, -1 = a quote left
 * open (*open_quote = the quote character). */
int df_heredoc_marker(const char *word, char **name, bool *expand, bool *chomp, char *open_quote);

size_t df_edit_distance(const char *a, const char *b);

/* df_error_at with a va_list. Returns -1. */
int df_error_atv(const df_tree_t *t, int line, int col, cb_error_t *err, const char *fmt,
		 va_list ap);

/* Go's unicode.IsSpace for ASCII, as BuildKit's parser uses it. */
static inline bool df_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

/* Go's path.Clean. New string. */
char *df_path_clean(const char *p);

/* Look a KEY up in a KEY=VAL vector, last one wins; NULL if absent. */
const char *df_env_get(char *const *env, const char *key, size_t keylen);

/* Put KEY=VAL (key's first klen bytes) in v, replacing an earlier KEY in
 * its place; returns v, grown. */
char **df_kv_set(char **v, const char *key, size_t klen, const char *val);

/* Detach a buffer's string and release the buffer. */
#include "common/util.h"
static inline char *df_buf_take(cb_buf_t *b, size_t *len)
{
	char *s = cb_buf_detach(b, len);
	cb_buf_release(b);
	return s;
}

#endif
