/*
 * cmd/reg_common.h - options shared by pull, push, login and logout.
 */
#ifndef CB_CMD_REG_COMMON_H
#define CB_CMD_REG_COMMON_H

#include "common/error.h"
#include "registry/registry.h"

/* If argv[*i] is a registry option (--tls-verify[=BOOL], --authfile F,
 * --creds U[:P], --cert-dir D, -q/--quiet), apply it to o, advance *i past
 * its value and return 1; 0 when it is not one; CMD_USAGE on a bad value. */
int cmd_reg_option(reg_opts_t *o, int argc, char **argv, int *i, cb_error_t *err);

/* The value of "--name VALUE" or "--name=VALUE" at argv[*i] (advancing
 * *i), or NULL when argv[*i] is not that option. Sets *missing when the
 * value is absent. */
const char *cmd_opt_value(const char *name, int argc, char **argv, int *i, bool *missing);

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
