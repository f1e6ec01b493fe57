/*
 * cmd/fetch.h - HTTP(S) downloads for ADD URL (libcurl): follows
 * redirects, fails on HTTP errors, streams into a file descriptor.
 */
#ifndef CB_CMD_FETCH_H
#define CB_CMD_FETCH_H

#include "common/error.h"

/* A bld_fetcher_t callback (ctx unused). */
int cmd_fetch_url(void *ctx, const char *url, int out_fd, cb_error_t *err);

#endif
