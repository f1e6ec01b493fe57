/*
 * common/cancel.c - see cancel.h.
 */
#include "common/cancel.h"

#include <errno.h>
#include <signal.h>

static volatile int cancel_sig; /* accessed with __atomic builtins */

void cb_cancel_request(int sig)
{
	__atomic_store_n(&cancel_sig, sig ? sig : -1, __ATOMIC_SEQ_CST);
}

void cb_cancel_reset(void) { __atomic_store_n(&cancel_sig, 0, __ATOMIC_SEQ_CST); }

bool cb_cancelled(void) { return __atomic_load_n(&cancel_sig, __ATOMIC_RELAXED) != 0; }

int cb_cancel_check(cb_error_t *err)
{
	int sig = __atomic_load_n(&cancel_sig, __ATOMIC_RELAXED);
	if (!sig)
		return 0;
	if (sig == SIGINT || sig == SIGTERM)
		return cb_error_set(err, EINTR, "interrupted (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return cb_error_set(err, EINTR, "interrupted");
}
