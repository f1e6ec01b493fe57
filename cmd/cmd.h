/*
 * cmd/cmd.h - the cbuild program's command table and shared helpers.
 *
 * Each verb lives in cmd/<verb>.c as
 *
 *     int cmd_<verb>(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err);
 *
 * argv[0] is the verb's name; its options are parsed with its table by
 * cmd/opts.h (ctx->verb). A verb returns 0 on success, -1 with err set on
 * failure (exit 1), CMD_USAGE with err set for bad usage (exit 2; main
 * prints the verb's usage line after the error), or CMD_HELP after its
 * --help. Docker's run says 125 for both (CMD_OPTS_EXIT_125), exec for
 * usage (CMD_OPTS_USAGE_125); a verb may set ctx->fail_code (126, 127).
 *
 * A new verb: its file, a CMD_DECLARE and CMD_OPTS line below, and a line in
 * main.c's table (name, function, usage, summary, option table, flags).
 */
#ifndef CB_CMD_CMD_H
#define CB_CMD_CMD_H

#include <stdbool.h>

#include "cmd/opts.h"
#include "common/error.h"
#include "store/store.h"

typedef struct cmd_ctx {
	const char *root_override; /* --root, NULL if not given */
	store_t *store;            /* opened lazily by cmd_store() */
	bool debug;
	int exit_code;             /* a verb returning 0 may set cbuild's exit
				    * status here (run, exec: the container's) */
	const cmd_def_t *verb;     /* the verb being run: its options table */
	int fail_code;             /* a verb failing may set its exit status
				    * here (run, exec: 126, 127 as docker) */
} cmd_ctx_t;

/* A verb made of subcommands (ctx->verb->subs, a table ending with {0};
 * entries without a summary are aliases, not listed): argv[1] names one,
 * which runs
 * with ctx->verb set to it, so that its own option table parses and its
 * usage is printed. No subcommand or --help: the list (CMD_HELP). */
int cmd_group(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err);
extern const cmd_def_t cmd_network_subs[], cmd_image_subs[], cmd_container_subs[],
	cmd_manifest_subs[], cmd_compose_subs[], cmd_volume_subs[], cmd_system_subs[];

/* The command table (for the docs and completions cmd/doc.c writes). */
const cmd_def_t *cmd_table(size_t *n);

/* The verb called name in the command table, or NULL. */
const cmd_def_t *cmd_find(const char *name);

/* The store, opened on first use. */
store_t *cmd_store(cmd_ctx_t *ctx, cb_error_t *err);

/* Set a usage error and return CMD_USAGE. */
int cmd_usage_error(cb_error_t *err, const char *fmt, ...) CB_PRINTF(2, 3);

/* What a verb does once its options are read: check the operand count
 * (min..max; max -1: no bound) as docker does (cmd_nargs); then, when st
 * is not NULL, open the store into *st. 0, CMD_NARGS or -1 (err set). */
int cmd_operands(cmd_ctx_t *ctx, const cmd_opts_t *p, int min, int max, store_t **st,
		 cb_error_t *err);

/* Docker's check of a verb's operand count: 0 when min <= n and (max < 0
 * or n <= max); else err holds docker's sentence ("\"cbuild rm\" requires
 * at least 1 argument.", "... accepts no arguments.", "... requires
 * exactly 2 arguments.", "... requires at most 1 argument.", "... requires
 * at least 1 and at most 2 arguments.") and CMD_NARGS is returned: main
 * prints it as docker does, with the help pointer, the usage and the
 * summary, and exits 1. */
int cmd_nargs(cmd_ctx_t *ctx, int n, int min, int max, cb_error_t *err);

/* Follow c (a->in_fd: the caller's terminal, or a pipe) as attach and
 * run -it do: a tty container from a terminal gets it in raw mode (keys
 * one by one: the detach keys, Ctrl-C as a byte) and its size, restored
 * after. rt_ctr_attach's results. */
struct rt_attach;
struct rt_ctr;
int cmd_attach_terminal(store_t *st, struct rt_ctr *c, struct rt_attach *a, int *code,
			cb_error_t *err);

/* prune -a: the names of images no container uses go (docker's image
 * prune -a), the images then dangling; "untagged: NAME" lines (never
 * NULL). */
char **cmd_untag_unused(store_t *st, cb_error_t *err);

/* docker's "Are you sure you want to continue? [y/N]" after warning, on
 * stderr; true for an answer starting with y or Y on stdin. */
bool cmd_confirm(const char *warning);

/* Apply fn to every name (rm, stop, start, rmi): go on past failures, print
 * all but the last as "cbuild: error: ..." and return -1 with the last one
 * in err when any failed. */
typedef int (*cmd_each_fn)(void *opaque, store_t *st, const char *name, cb_error_t *err);
int cmd_each(store_t *st, char *const *names, int n, cmd_each_fn fn, void *opaque,
	     cb_error_t *err);
/* The whole of a verb without options of its own over CONTAINER... (start,
 * pause, unpause, wait): its options parsed, one name at least, fn on each
 * (opaque NULL). */
int cmd_each_name(cmd_ctx_t *ctx, int argc, char **argv, cmd_each_fn fn, cb_error_t *err);

#define CMD_DECLARE(verb) int cmd_##verb(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
#define CMD_OPTS(verb) extern const cmd_opt_t cmd_##verb##_opts[]

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
CMD_DECLARE(kill);
CMD_DECLARE(wait);
CMD_DECLARE(rename);
CMD_DECLARE(restart);
CMD_DECLARE(cp);
CMD_DECLARE(pause);
CMD_DECLARE(unpause);
CMD_DECLARE(top);
CMD_DECLARE(stats);
CMD_DECLARE(attach);
CMD_OPTS(restart);
CMD_OPTS(kill);
CMD_OPTS(wait);
CMD_OPTS(rename);
CMD_OPTS(cp);
CMD_OPTS(pause);
CMD_OPTS(unpause);
CMD_OPTS(top);
CMD_OPTS(stats);
CMD_OPTS(attach);
CMD_DECLARE(container_prune); /* container prune (cmd/system.c) */
CMD_OPTS(container_prune);
CMD_DECLARE(image);
CMD_DECLARE(container);
CMD_DECLARE(__doc); /* hidden: man pages and completions (cmd/doc.c) */

CMD_OPTS(build);
CMD_OPTS(plan);
CMD_OPTS(run);
CMD_OPTS(ps);
CMD_OPTS(logs);
CMD_OPTS(exec);
CMD_OPTS(stop);
CMD_OPTS(start);
CMD_OPTS(rm);
CMD_OPTS(diff);
CMD_OPTS(port);
CMD_OPTS(commit);
CMD_OPTS(images);
CMD_OPTS(pull);
CMD_OPTS(push);
CMD_OPTS(login);
CMD_OPTS(logout);
CMD_OPTS(tag);
CMD_OPTS(rmi);
CMD_OPTS(inspect);
CMD_OPTS(history);
CMD_OPTS(save);
CMD_OPTS(load);
CMD_OPTS(import);
CMD_OPTS(prune);
CMD_OPTS(fsck);
CMD_OPTS(info);
CMD_OPTS(version);
CMD_OPTS(compose);

#endif
