/*
 * common/cancel.h - one process-wide "stop now" flag for long loops.
 *
 * A build catches SIGINT and SIGTERM (builder/build.c) and its handler
 * calls cb_cancel_request; every loop that can run for long (copying,
 * extracting, hashing, writing and compressing layers) calls
 * cb_cancel_check once per block or entry and unwinds with EINTR, so that a
 * cancelled build stops within a block, not 63 s later after tagging. The
 * modules that own those loops (builder, store) know nothing of signals.
 */
#ifndef CB_COMMON_CANCEL_H
#define CB_COMMON_CANCEL_H

#include <stdbool.h>

#include "common/error.h"

/* Async-signal-safe: ask every loop to stop (sig: the signal, for messages). */
void cb_cancel_request(int sig);
/* Forget a request (a new build in the same process). */
void cb_cancel_reset(void);
bool cb_cancelled(void);
/* 0, or -1 with err set to EINTR "interrupted by signal N" when cancelled. */
int cb_cancel_check(cb_error_t *err);

#endif
