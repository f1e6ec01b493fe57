/*
 * cmd/cmd.h - the cbuild program's command table and shared helpers.
 *
 * Each verb lives in cmd/<verb>.c as
 *
 *     int cmd_<verb>(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err);
 *
 * argv[0] is the verb's name. A verb returns 0 on success, -1 with err set
 * on failure (exit 1), or CMD_USAGE with err set for bad usage (exit 2;
 * main prints the verb's usage line after the error).
 */
#ifndef CB_CMD_CMD_H
#define CB_CMD_CMD_H

#include <stdbool.h>

#include "common/error.h"
#include "store/store.h"

#define CMD_USAGE (-2)

typedef struct cmd_ctx {
	const char *root_override; /* --root, NULL if not given */
	store_t *store;            /* opened lazily by cmd_store() */
	bool debug;
	int exit_code;             /* a verb returning 0 may set cbuild's exit
				    * status here (run, exec: the container's) */
} cmd_ctx_t;

typedef struct cmd_def {
	const char *name;
	int (*fn)(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err);
	const char *usage;   /* "cbuild tag SOURCE TARGET" */
	const char *summary; /* one line for `cbuild --help` */
} cmd_def_t;

/* The store, opened on first use. */
store_t *cmd_store(cmd_ctx_t *ctx, cb_error_t *err);

/* Set a usage error and return CMD_USAGE. */
int cmd_usage_error(cb_error_t *err, const char *fmt, ...) CB_PRINTF(2, 3);

/* True when argv holds -h or --help (before "--"); verbs print their usage. */
bool cmd_wants_help(int argc, char **argv);
void cmd_print_usage(const char *verb);

/* Apply fn to every name (rm, stop, start, rmi): go on past failures, print
 * all but the last as "cbuild: error: ..." and return -1 with the last one
 * in err when any failed. */
typedef int (*cmd_each_fn)(void *opaque, store_t *st, const char *name, cb_error_t *err);
int cmd_each(store_t *st, char *const *names, int n, cmd_each_fn fn, void *opaque,
	     cb_error_t *err);

#define CMD_DECLARE(verb) int cmd_##verb(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)

CMD_DECLARE(version);
CMD_DECLARE(port);
CMD_DECLARE(info);
CMD_DECLARE(build);
CMD_DECLARE(import);
CMD_DECLARE(images);
CMD_DECLARE(tag);
CMD_DECLARE(rmi);
CMD_DECLARE(inspect);
CMD_DECLARE(history);
CMD_DECLARE(prune);
CMD_DECLARE(fsck);
CMD_DECLARE(save);
CMD_DECLARE(load);
CMD_DECLARE(pull);
CMD_DECLARE(push);
CMD_DECLARE(manifest);
CMD_DECLARE(login);
CMD_DECLARE(logout);
CMD_DECLARE(plan);
CMD_DECLARE(run);
CMD_DECLARE(ps);
CMD_DECLARE(logs);
CMD_DECLARE(stop);
CMD_DECLARE(start);
CMD_DECLARE(rm);
CMD_DECLARE(exec);
CMD_DECLARE(diff);
CMD_DECLARE(commit);
CMD_DECLARE(compose);
CMD_DECLARE(network);

#endif
