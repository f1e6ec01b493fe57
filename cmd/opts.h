/*
 * cmd/opts.h - the one option parser of every verb, and the help it prints.
 *
 * A verb describes its options in a table; the same table parses argv,
 * prints `cbuild VERB --help`, and feeds the man pages and the shell
 * completions (`cbuild __doc`), so the help cannot drift from the parser.
 *
 * Syntax accepted, as docker's (pflag) CLI: `--name VALUE`, `--name=VALUE`,
 * `-n VALUE`, `-nVALUE`, bundled flags `-dit`, `--flag=true|false` for
 * flags, `--` ends the options. Options and operands may be mixed (`rm c1
 * -f`) unless the verb sets CMD_OPTS_STOP_AT_ARG (run, exec: what follows
 * the image is the command's). `--help` (and `-h`, unless the table gives
 * -h another meaning) prints the help and makes the verb return CMD_HELP.
 *
 * How to write a verb with it:
 *
 *     enum { O_RM = CMD_OPT_LONG, O_NAME };      // keys of long-only options
 *     const cmd_opt_t cmd_foo_opts[] = {
 *         {"detach", 'd', CMD_ARG_NONE, NULL, "run in the background"},
 *         {"name", O_NAME, CMD_ARG_REQUIRED, "NAME", "the container's name"},
 *         {"time", 't', CMD_ARG_REQUIRED, "SECONDS", "wait this long"},
 *         {0}};
 *
 *     int cmd_foo(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
 *     {
 *         cmd_opts_t p;
 *         int o;
 *         cmd_opts_init(&p, ctx->verb, argc, argv);
 *         while ((o = cmd_opts_next(&p, err)) > 0) {
 *             switch (o) {
 *             case 'd': detach = p.on; break;   // false for --detach=false
 *             case O_NAME: name = p.arg; break;
 *             case 't':
 *                 if (cmd_opts_int(&p, 0, 86400, &secs, err) < 0)
 *                     return CMD_USAGE;
 *                 break;
 *             }
 *         }
 *         if (o < 0)
 *             return o;                      // CMD_USAGE (err set) or CMD_HELP
 *         // operands: p.args[0 .. p.nargs-1]
 *     }
 *
 * then the table in cmd/main.c gets {"foo", cmd_foo, "cbuild foo [OPTIONS]
 * ARG...", "one line", cmd_foo_opts, flags} and cmd.h a CMD_DECLARE(foo)
 * and CMD_OPTS(foo). A verb with subcommands (network create) describes
 * each subcommand with its own cmd_def_t and parses with that.
 *
 * Keys: a printable ASCII letter is also the option's short form; long-only
 * options use keys from CMD_OPT_LONG up. Two entries with one key are
 * aliases (the CMD_OPT_HIDDEN one is not listed in the help).
 */
#ifndef CB_CMD_OPTS_H
#define CB_CMD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

#define CMD_USAGE (-2) /* bad usage, err set: exit 2 (125 for run/exec) */
#define CMD_HELP (-3)  /* the help was printed: exit 0 */
/* an unknown flag, a flag without its value or with a bad one, err set:
 * exit 125 for every verb, as docker's flag parser does (its other usage
 * errors, a wrong argument count, exit 1: cbuild's CMD_USAGE is still 2) */
#define CMD_BAD_FLAG (-4)
/* a wrong number of operands, err set with docker's words (cmd_nargs):
 * exit 1 as docker's, its usage and summary printed after */
#define CMD_NARGS (-5)

#define CMD_OPT_LONG 256

/* Option and verb tables name only the fields an entry needs (most options
 * have no flags, most verbs no `more`): the rest are zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct cmd_ctx;

typedef enum cmd_arg_kind {
	CMD_ARG_NONE,     /* a flag: --rm, --rm=true, --rm=false (p.on) */
	CMD_ARG_REQUIRED, /* --name VALUE (p.arg) */
	CMD_ARG_OPTIONAL, /* --sbom or --sbom=VALUE only (p.arg NULL or VALUE) */
} cmd_arg_kind_t;

enum {
	CMD_OPT_HIDDEN = 1 << 0, /* parsed, not listed (aliases, old spellings) */
	CMD_OPT_REPEAT = 1 << 1, /* may be given more than once (help says so) */
};

typedef struct cmd_opt {
	const char *name;    /* long name without "--"; NULL ends the table */
	int key;             /* short letter, or >= CMD_OPT_LONG */
	cmd_arg_kind_t kind;
	const char *metavar; /* the argument's name in the help ("NAME") */
	const char *help;    /* one line, lower-case, no final period */
	unsigned flags;      /* CMD_OPT_* */
} cmd_opt_t;

enum {
	CMD_OPTS_STOP_AT_ARG = 1 << 0, /* options end at the first operand */
	CMD_OPTS_EXIT_125 = 1 << 1,    /* docker run's 125 for usage and own errors */
	CMD_OPTS_USAGE_125 = 1 << 2,   /* docker exec's 125 for usage errors */
};

typedef struct cmd_def {
	const char *name;
	int (*fn)(struct cmd_ctx *ctx, int argc, char **argv, cb_error_t *err);
	const char *usage;     /* "cbuild tag SOURCE TARGET" */
	const char *summary;   /* one line for `cbuild --help` */
	const cmd_opt_t *opts; /* NULL: the verb has no options but --help */
	unsigned flags;        /* CMD_OPTS_* */
	const char *more;      /* optional paragraph printed after the options */
	const struct cmd_def *subs; /* a group's subcommands ({0}-ended; cmd_group) */
} cmd_def_t;

typedef struct cmd_opts {
	const cmd_def_t *def;
	int argc;
	char **argv;
	int i;              /* next argv element */
	const char *bundle; /* rest of a "-dit" being read */
	int nargs;          /* operands so far (moved to argv[1..]) */
	char **args;        /* the operands once cmd_opts_next returned 0 */
	const char *arg;    /* the current option's argument */
	bool on;            /* the current flag's value (false for --x=false) */
	const cmd_opt_t *opt; /* the current option's entry */
} cmd_opts_t;

/* An empty table: a verb with no options but --help. */
extern const cmd_opt_t cmd_no_opts[];

/* Start parsing argv (argv[0] is the verb). The operands are moved to the
 * front of argv as they are found: argv is changed. */
void cmd_opts_init(cmd_opts_t *p, const cmd_def_t *def, int argc, char **argv);

/* The next option's key (> 0), 0 at the end (p->args and p->nargs then hold
 * the operands), CMD_USAGE with err set for a bad option, or CMD_HELP after
 * printing the help to stdout. */
int cmd_opts_next(cmd_opts_t *p, cb_error_t *err);

/* p->arg as an integer in [min, max]; a usage error names the option. */
int cmd_opts_int(const cmd_opts_t *p, long long min, long long max, long long *out,
		 cb_error_t *err);

/* s as Go's ParseBool reads it (true, 1, t, ...): 0, or -1 for neither. */
int cmd_opts_parse_bool(const char *s, bool *out);

/* "-t, --time" of the current option, for messages. */
const char *cmd_opts_name(const cmd_opts_t *p);

/* Print `def`'s help (usage, summary, every option with its meaning). */
void cmd_opts_print_help(const cmd_def_t *def, FILE *fp);

/* One line of the option's left column ("-t, --time SECONDS") into buf. */
void cmd_opts_format(const cmd_opt_t *o, char *buf, size_t size);

#endif
