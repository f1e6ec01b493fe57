/*
 * parser/ignore.h - .dockerignore patterns and matching.
 *
 * Semantics of moby/patternmatcher as used by BuildKit's context transfer:
 * one pattern per line, '#' lines are comments, blank lines skipped, each
 * pattern is trimmed and cleaned (filepath.Clean: "./a//b/../c" -> "a/c",
 * leading and trailing '/' dropped); '!' starts an exception. Patterns use
 * Go's filepath.Match ('*', '?', '[...]' with ranges and '^' negation,
 * '\\' escapes) plus '**' matching any number of path components. A path is
 * matched when the pattern matches it or one of its parent directories
 * ("node_modules" excludes "node_modules/a/b"). The last pattern that
 * matches decides: an exclusion excludes, an exception re-includes.
 *
 *     df_ignore_t *ig = NULL;
 *     if (df_ignore_parse(bytes, len, &ig, err) < 0) ...
 *     if (df_ignore_skip_dir(ig, "node_modules")) ... do not descend
 *     if (df_ignore_match(ig, "src/a.o")) ... leave it out
 *     df_ignore_free(ig);
 *
 * Paths given to the matcher are relative to the context root, '/'
 * separated, without a leading "./" or '/'. Pure: no I/O.
 */
#ifndef CB_PARSER_IGNORE_H
#define CB_PARSER_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

typedef struct df_ignore df_ignore_t;

/* Parse a .dockerignore file's bytes. Errors: a malformed pattern
 * ("bad pattern '[a': syntax error in pattern", as Go reports). */
int df_ignore_parse(const char *data, size_t len, df_ignore_t **out, cb_error_t *err);

/* The same from a vector of pattern lines (NULL = match nothing). */
int df_ignore_from_patterns(char *const *patterns, df_ignore_t **out, cb_error_t *err);

void df_ignore_free(df_ignore_t *ig);

/* True when `path` is excluded from the context. NULL ig matches nothing. */
bool df_ignore_match(const df_ignore_t *ig, const char *path);

/* True when directory `dir` is excluded AND no exception pattern could
 * re-include anything below it: the walker may skip the whole subtree. */
bool df_ignore_skip_dir(const df_ignore_t *ig, const char *dir);

/* Number of patterns (exclusions + exceptions). */
size_t df_ignore_count(const df_ignore_t *ig);

/* Where the Dockerfile-specific ignore file lives: for
 * "app/Dockerfile.dev" -> "app/Dockerfile.dev.dockerignore". BuildKit uses
 * it instead of CONTEXT/.dockerignore when it exists. New string. */
char *df_ignore_dockerfile_specific(const char *dockerfile_path);

#endif
