/* cmd/opts.c - the option parser and help printer (see opts.h). Written
 * instead of getopt_long because it must accept pflag's `--flag=false`,
 * mix options and operands without getopt's global state, and know each
 * option's help text. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/opts.h"

#define HELP_WIDTH 30 /* widest left column before it wraps */

const cmd_opt_t cmd_no_opts[] = {{0}};

static const cmd_opt_t help_opt = {"help", 'h', CMD_ARG_NONE, NULL, "print this help", 0};

int cmd_opts_parse_bool(const char *s, bool *out)
{
	/* Go's strconv.ParseBool, which docker's flags use */
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	return -1;
}

static bool is_short(int key)
{
	return key > 0 && key < 128 && isalnum(key);
}

static bool table_has_short(const cmd_opt_t *opts, int key)
{
	for (const cmd_opt_t *o = opts; o && o->name; o++)
		if (o->key == key)
			return true;
	return false;
}

void cmd_opts_init(cmd_opts_t *p, const cmd_def_t *def, int argc, char **argv)
{
	*p = (cmd_opts_t){.def = def, .argc = argc, .argv = argv, .i = 1};
}

const char *cmd_opts_name(const cmd_opts_t *p)
{
	static char buf[96];
	const cmd_opt_t *o = p->opt;
	if (!o)
		return "";
	if (is_short(o->key))
		snprintf(buf, sizeof(buf), "-%c, --%s", o->key, o->name);
	else
		snprintf(buf, sizeof(buf), "--%s", o->name);
	return buf;
}

static const cmd_opt_t *find_long(const cmd_def_t *def, const char *name, size_t len)
{
	for (const cmd_opt_t *o = def->opts; o && o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	if (len == 4 && !strncmp(name, "help", 4))
		return &help_opt;
	return NULL;
}

static const cmd_opt_t *find_short(const cmd_def_t *def, char c)
{
	for (const cmd_opt_t *o = def->opts; o && o->name; o++)
		if (o->key == c && is_short(c))
			return o;
	if (c == 'h')
		return &help_opt;
	return NULL;
}

static void add_operand(cmd_opts_t *p, char *a)
{
	/* operands move to argv[1..]: the slot written is never one still to
	 * be read, as at least as many elements were consumed */
	p->argv[1 + p->nargs++] = a;
}

static int finish(cmd_opts_t *p)
{
	while (p->i < p->argc)
		add_operand(p, p->argv[p->i++]);
	p->args = p->argv + 1;
	if (1 + p->nargs < p->argc)
		p->argv[1 + p->nargs] = NULL;
	return 0;
}

/* The flag's value from "=true|false", or the argument's. */
static int take_value(cmd_opts_t *p, const cmd_opt_t *o, const char *eq, const char *shown,
		      cb_error_t *err)
{
	p->opt = o;
	p->arg = NULL;
	p->on = true;
	if (o->kind == CMD_ARG_NONE) {
		if (!eq)
			return 0;
		p->arg = eq;
		if (cmd_opts_parse_bool(eq, &p->on) == 0)
			return 0;
		cb_error_set(err, 0, "invalid argument '%s' for '%s' flag: expected true or false",
			     eq, shown);
		return CMD_BAD_FLAG;
	}
	if (eq || o->kind == CMD_ARG_OPTIONAL) {
		p->arg = eq;
		return 0;
	}
	if (p->i >= p->argc) {
		cb_error_set(err, 0, "flag needs an argument: %s", shown);
		return CMD_BAD_FLAG;
	}
	p->arg = p->argv[p->i++];
	return 0;
}

static int result(cmd_opts_t *p, const cmd_opt_t *o)
{
	if (o != &help_opt)
		return o->key;
	cmd_opts_print_help(p->def, stdout);
	return CMD_HELP;
}

static int next_short(cmd_opts_t *p, cb_error_t *err)
{
	char c = *p->bundle++;
	const cmd_opt_t *o = find_short(p->def, c);
	if (!o) {
		p->bundle = NULL;
		cb_error_set(err, 0, "unknown shorthand flag: '%c' in -%c", c, c);
		return CMD_BAD_FLAG;
	}
	char shown[4] = {'-', c, 0};
	const char *eq = NULL;
	if (o->kind == CMD_ARG_REQUIRED && *p->bundle) {
		eq = *p->bundle == '=' ? p->bundle + 1 : p->bundle; /* -nVALUE, -n=VALUE */
		p->bundle = NULL;
	} else if (o->kind != CMD_ARG_REQUIRED && *p->bundle == '=') {
		eq = p->bundle + 1; /* -d=false */
		p->bundle = NULL;
	}
	if (p->bundle && !*p->bundle)
		p->bundle = NULL;
	int rc = take_value(p, o, eq, shown, err);
	return rc < 0 ? rc : result(p, o);
}

int cmd_opts_next(cmd_opts_t *p, cb_error_t *err)
{
	if (p->bundle)
		return next_short(p, err);
	while (p->i < p->argc) {
		char *a = p->argv[p->i];
		if (!strcmp(a, "--")) {
			p->i++;
			return finish(p);
		}
		if (a[0] != '-' || !a[1]) {
			if (p->def->flags & CMD_OPTS_STOP_AT_ARG)
				return finish(p);
			add_operand(p, a);
			p->i++;
			continue;
		}
		p->i++;
		if (a[1] != '-') {
			p->bundle = a + 1;
			return next_short(p, err);
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const cmd_opt_t *o = find_long(p->def, name, len);
		if (!o) {
			cb_error_set(err, 0, "unknown flag: --%.*s", (int)len, name);
			return CMD_BAD_FLAG;
		}
		char shown[96];
		snprintf(shown, sizeof(shown), "--%s", o->name);
		int rc = take_value(p, o, eq ? eq + 1 : NULL, shown, err);
		return rc < 0 ? rc : result(p, o);
	}
	return finish(p);
}

int cmd_opts_int(const cmd_opts_t *p, long long min, long long max, long long *out,
		 cb_error_t *err)
{
	char *end = NULL;
	errno = 0;
	long long v = p->arg ? strtoll(p->arg, &end, 10) : 0;
	if (!p->arg || errno || end == p->arg || *end || v < min || v > max) {
		cb_error_set(err, 0, "invalid argument '%s' for '%s' flag", p->arg ? p->arg : "",
			     cmd_opts_name(p));
		return CMD_BAD_FLAG;
	}
	*out = v;
	return 0;
}

void cmd_opts_format(const cmd_opt_t *o, char *buf, size_t size)
{
	int n;
	if (is_short(o->key))
		n = snprintf(buf, size, "-%c, --%s", o->key, o->name);
	else
		n = snprintf(buf, size, "    --%s", o->name);
	if (o->kind == CMD_ARG_REQUIRED && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " %s", o->metavar ? o->metavar : "VALUE");
	else if (o->kind == CMD_ARG_OPTIONAL && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "[=%s]", o->metavar ? o->metavar : "VALUE");
}

void cmd_opts_print_help(const cmd_def_t *def, FILE *fp)
{
	fprintf(fp, "usage: %s\n", def->usage);
	if (def->summary)
		fprintf(fp, "\n%c%s\n", toupper((unsigned char)def->summary[0]), def->summary + 1);
	/* the left column is as wide as its widest entry, as docker's is */
	size_t width = 0;
	char buf[128];
	const cmd_opt_t *o;
	for (o = def->opts; o && o->name; o++) {
		cmd_opts_format(o, buf, sizeof(buf));
		if (!(o->flags & CMD_OPT_HIDDEN) && strlen(buf) > width && strlen(buf) <= HELP_WIDTH)
			width = strlen(buf);
	}
	cmd_opts_format(&help_opt, buf, sizeof(buf));
	if (strlen(buf) > width)
		width = strlen(buf);
	fprintf(fp, "\nOptions:\n");
	for (o = def->opts; o && o->name; o++) {
		if (o->flags & CMD_OPT_HIDDEN)
			continue;
		cmd_opts_format(o, buf, sizeof(buf));
		/* a long left column goes on its own line rather than push every
		 * meaning to the right */
		if (strlen(buf) > width)
			fprintf(fp, "  %s\n  %-*s", buf, (int)width, "");
		else
			fprintf(fp, "  %-*s", (int)width, buf);
		fprintf(fp, "   %s%s\n", o->help, (o->flags & CMD_OPT_REPEAT) ? " (repeatable)" : "");
	}
	if (!table_has_short(def->opts, 'h'))
		cmd_opts_format(&help_opt, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "    --help");
	fprintf(fp, "  %-*s   %s\n", (int)width, buf, help_opt.help);
	if (def->subs) {
		fprintf(fp, "\nCommands:\n");
		for (const cmd_def_t *s = def->subs; s->name; s++)
			if (s->summary)
				fprintf(fp, "  %-12s %s\n", s->name, s->summary);
	}
	if (def->more)
		fprintf(fp, "\n%s\n", def->more);
}
