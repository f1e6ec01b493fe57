/*
 * cmd/reg_common.h - options shared by pull, push, login and logout.
 */
#ifndef CB_CMD_REG_COMMON_H
#define CB_CMD_REG_COMMON_H

#include "cmd/opts.h"
#include "common/error.h"
#include "registry/registry.h"

/* The registry options as table entries (pull, push, login, logout put
 * CMD_REG_OPTS in their tables) and their keys, far above a verb's own. */
enum { CMD_O_TLS_VERIFY = CMD_OPT_LONG + 200, CMD_O_AUTHFILE, CMD_O_CERT_DIR, CMD_O_CREDS };
#define CMD_REG_OPTS                                                                               \
	{"tls-verify", CMD_O_TLS_VERIFY, CMD_ARG_NONE, NULL,                                       \
	 "verify the registry's TLS certificate (--tls-verify=false: also plain HTTP)"},           \
	{"authfile", CMD_O_AUTHFILE, CMD_ARG_REQUIRED, "FILE",                                     \
	 "credentials file (default ~/.docker/config.json)"},                                      \
	{"cert-dir", CMD_O_CERT_DIR, CMD_ARG_REQUIRED, "DIR", "CA certificates for the registry"}, \
	{"creds", CMD_O_CREDS, CMD_ARG_REQUIRED, "USER[:PASS]", "credentials for this command only"}

/* Apply the registry option `key` (p's current option) to o: 1 when it was
 * one, 0 when not. -q (o->quiet) is one: each registry verb has it, its
 * table says in its own words what it leaves out. */
int cmd_reg_apply(reg_opts_t *o, const cmd_opts_t *p, int key);

/* reg_opts_init, with the progress display below (-q turns it off). */
void cmd_reg_opts_init(reg_opts_t *o);
/* The display of registry progress events on stderr (cmd/reg_progress.c):
 * a live line on a terminal, one line per blob otherwise. A
 * reg_progress_fn; ctx is unused. */
void cmd_reg_progress(void *ctx, const char *digest, reg_progress_state_t st, uint64_t done,
		      uint64_t total);

/* Until the process exits, Ctrl-C and SIGTERM ask the transfer loops to
 * stop (common/cancel.h) instead of killing the process: a pull or push
 * waiting on a hung registry fails at once with "interrupted", its lease
 * released and its tmp/ files gone, and the store is as before. A second
 * signal of the same kind kills (the handler is one-shot). */
void cmd_catch_interrupts(void);

#endif
