/*
 * registry/sources.h - registry-internal record of where pulled blobs came
 * from (ROOT/registry-sources.json: {"sha256:HEX": ["host/repo", ...]}),
 * so that push can mount a blob from a sibling repository instead of
 * uploading it. A hint only: failures to read or write it are ignored.
 */
#ifndef CB_REGISTRY_SOURCES_H
#define CB_REGISTRY_SOURCES_H

#include <stddef.h>

#include "store/store.h"

/* Record that digests[0..n) are available in repository `repo_full`
 * ("host:port/path"). */
void reg_sources_add(store_t *st, const char *const *digests, size_t n, const char *repo_full);

/* The repositories a blob is known in (NULL-terminated; caller frees with
 * cb_strv_free), or NULL. */
char **reg_sources_get(store_t *st, const char *digest);

#endif
