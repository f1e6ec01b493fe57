/*
 * builder/copy_select.h - selecting, walking and reading the entries a
 * COPY/ADD names under a source root (copy_select.c), shared by the
 * checksum there and the copy in copy.c. Internal to builder/.
 *
 * Paths are relative to the source root ("" = the root itself); strings
 * and vectors returned belong to the caller.
 */
#ifndef CB_BUILDER_COPY_SELECT_H
#define CB_BUILDER_COPY_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "builder/internal.h"
#include "common/error.h"

/* Read and copy buffer size. */
#define COPY_BUF (1 << 17)

typedef struct bld_match {
	char *rel;    /* relative to the source root, "" = the root itself */
	size_t pivot; /* COPY --parents: rel + pivot is the path kept under dest */
} bld_match_t;

typedef struct bld_matches {
	bld_match_t *v;
	size_t n;
} bld_matches_t;

/* Called by bld_walk for each entry (parentfd + name), depth 0 = the
 * selected entry itself. */
typedef int (*bld_visit_fn)(void *ctx, int parentfd, const char *name, const char *rel,
			    const struct stat *sb, int depth, cb_error_t *err);
typedef int (*bld_chunk_fn)(void *opaque, const char *data, size_t len, cb_error_t *err);

/* open rel inside rootfd, never leaving it; -1 and errno on failure. */
int bld_open_in_root(int rootfd, const char *rel, int flags);
/* "./a/../b/" -> "b"; NULL when it leaves the root. */
char *bld_clean_rel(const char *src);
/* .dockerignore (context only) and COPY --exclude both hide entries. */
bool bld_src_hidden(const bld_source_t *src, const char *rel);
/* A directory that the patterns skip as a whole. */
bool bld_src_hidden_dir(const bld_source_t *src, const char *rel);
/* Sorted entries of a directory (no . and ..), NULL on failure; free with
 * cb_strv_free. */
char **bld_list_dir(int dirfd_in);
/* "a/b/c" -> {"a", "b", "c", NULL}; free with cb_strv_free. */
char **bld_split_path(const char *rel);

/* The entries sources name (wildcards expanded, hidden ones left out)
 * into m; *multi tells whether they may be several (the destination must
 * then be a directory). */
int bld_select_sources(const bld_source_t *src, char *const *sources, bld_matches_t *m,
		       bool *multi, cb_error_t *err);
void bld_matches_free(bld_matches_t *m);
/* Visit the entries of directory dirfd_in (at rel) in name order, skipping
 * hidden ones and recursing into directories; fn sees each with depth, and
 * a directory once more with -(depth + 1) (parentfd -1) when it is left. */
int bld_walk(const bld_source_t *src, int dirfd_in, const char *rel, int depth, bld_visit_fn fn,
	     void *ctx, cb_error_t *err);

/* Read fd to its end in COPY_BUF chunks, handing each to sink. */
int bld_read_chunks(int fd, bld_chunk_fn sink, void *opaque, cb_error_t *err);
/* A bld_chunk_fn writing to the fd *fdp points to. */
int bld_write_chunk(void *fdp, const char *data, size_t len, cb_error_t *err);

#endif
