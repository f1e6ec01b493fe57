/*
 * common/libprefetch.h - read a shared library and the libraries it needs
 * into the page cache before dlopen maps them.
 *
 * dlopen("libcurl.so.4") loads 25 more libraries. For each, ld.so reads
 * the ELF header (one small disk request), maps the file, and the first
 * page fault reads the rest (a second request): ~80 requests, one after
 * the other, for 11 MB. On this machine's virtual disk every request costs
 * ~0.4 ms whatever its size, so a cold dlopen spent 27-40 ms waiting.
 * Asking for every file whole at once (posix_fadvise WILLNEED), level by
 * level of the DT_NEEDED tree, needs one request per file and lets them
 * queue: 20-24 ms for the same files (see bench/registry).
 *
 * Advisory only: a library that is missing, not ELF, or not in the
 * directory libc was loaded from is skipped, and dlopen finds it as it
 * always does. Libraries the process has loaded already are skipped with
 * what they need; when the first file is cached already (a warm start),
 * nothing more is done.
 */
#ifndef CB_COMMON_LIBPREFETCH_H
#define CB_COMMON_LIBPREFETCH_H

#include <stdbool.h>
#include <stddef.h>

/* Start reading SONAME and its DT_NEEDED closure, when SONAME is not in
 * the page cache; returns once every file has been asked for. */
void cb_prefetch_library(const char *soname);

/* The closure itself, for tests: the paths of SONAME and of the libraries
 * it needs, breadth first, looked up in DIR (NULL: libc's directory),
 * without those the process has loaded (unless include_loaded), each file
 * asked for with WILLNEED when prefetch is true. Returns how many paths
 * *paths_out holds (malloc'd, each path too; free with
 * cb_library_closure_free). */
size_t cb_library_closure(const char *dir, const char *soname, bool include_loaded,
			  bool prefetch, char ***paths_out);
void cb_library_closure_free(char **paths, size_t n);

#endif
