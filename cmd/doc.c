/* cmd/doc.c - `cbuild __doc man VERB | man-list | bash | zsh`: the man pages
 * and shell completions, written from the same tables that parse the options
 * and print --help (make install runs it), so they cannot drift apart. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

#ifndef CBUILD_VERSION
#define CBUILD_VERSION "0.1"
#endif

/* roff: a leading '.' or '\'' would be a request, '-' must be \- to be
 * a minus that man -k and copy-paste keep, '\' is the escape. */
static void roff(FILE *fp, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", fp);
	for (; *s; s++) {
		if (*s == '-' || *s == '\\')
			fputc('\\', fp);
		fputc(*s == '\\' ? 'e' : *s, fp);
	}
}

static void man_options(FILE *fp, const cmd_opt_t *opts)
{
	for (const cmd_opt_t *o = opts; o && o->name; o++) {
		if (o->flags & CMD_OPT_HIDDEN)
			continue;
		char buf[128];
		cmd_opts_format(o, buf, sizeof(buf));
		const char *b = buf;
		while (*b == ' ')
			b++;
		fputs(".TP\n.B ", fp);
		roff(fp, b);
		fputc('\n', fp);
		roff(fp, o->help);
		fputs((o->flags & CMD_OPT_REPEAT) ? " (repeatable)\n" : "\n", fp);
	}
	fputs(".TP\n.B \\-h, \\-\\-help\nprint the help\n", fp);
}

/* "cbuild network create" -> "cbuild-network-create" */
static void page_name(const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s", path);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '-';
}

static void man_page(FILE *fp, const char *path, const cmd_def_t *d)
{
	char name[128], upper[128];
	page_name(path, name, sizeof(name));
	size_t i = 0;
	for (; name[i] && i + 1 < sizeof(upper); i++)
		upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	upper[i] = 0;
	fprintf(fp, ".TH %s 1 \"\" \"cbuild %s\" \"cbuild manual\"\n.SH NAME\n", upper,
		CBUILD_VERSION);
	roff(fp, name);
	fputs(" \\- ", fp);
	roff(fp, d->summary ? d->summary : "");
	fputs("\n.SH SYNOPSIS\n.B ", fp);
	roff(fp, d->usage);
	fputs("\n", fp);
	if (d->subs) {
		fputs(".SH COMMANDS\n", fp);
		for (const cmd_def_t *s = d->subs; s->name; s++) {
			if (!s->summary)
				continue;
			fprintf(fp, ".TP\n.B %s\n", s->name);
			roff(fp, s->summary);
			fputc('\n', fp);
		}
	}
	fputs(".SH OPTIONS\n", fp);
	man_options(fp, d->opts);
	if (d->more) {
		fputs(".SH DESCRIPTION\n", fp);
		roff(fp, d->more);
		fputc('\n', fp);
	}
	fputs(".SH SEE ALSO\n.BR cbuild (1)\n", fp);
}

static void man_main(FILE *fp, const cmd_def_t *t, size_t n)
{
	fprintf(fp, ".TH CBUILD 1 \"\" \"cbuild %s\" \"cbuild manual\"\n.SH NAME\n"
		    "cbuild \\- a daemonless OCI image builder and container tool\n"
		    ".SH SYNOPSIS\n.B cbuild [\\-\\-root DIR] COMMAND [OPTIONS] [ARGS]\n"
		    ".br\n.B cbuild [build] [\\-t NAME[:TAG]]... CONTEXT\n.SH COMMANDS\n",
		CBUILD_VERSION);
	for (size_t i = 0; i < n; i++) {
		fprintf(fp, ".TP\n.BR cbuild\\-%s (1)\n", t[i].name);
		roff(fp, t[i].summary);
		fputc('\n', fp);
	}
	fputs(".SH OPTIONS\n.TP\n.B \\-\\-root DIR\nthe store root (default $CBUILD_ROOT, "
	      "/var/lib/cbuild as root)\n.TP\n.B \\-\\-version\nprint the version\n", fp);
}

/* Every option of d as words: "-d --detach --name ..." */
static void option_words(FILE *fp, const cmd_opt_t *opts)
{
	for (const cmd_opt_t *o = opts; o && o->name; o++) {
		if (o->key > 0 && o->key < 128)
			fprintf(fp, "-%c ", o->key);
		fprintf(fp, "--%s ", o->name);
	}
	fputs("--help", fp);
}

static void bash_completion(FILE *fp, const cmd_def_t *t, size_t n)
{
	fputs("# bash completion for cbuild (written by `cbuild __doc bash`)\n"
	      "_cbuild() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} verb= sub= i opts=\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in\n"
	      "\t\t--root) ((i++)) ;;\n"
	      "\t\t-*) ;;\n"
	      "\t\t*) if [ -z \"$verb\" ]; then verb=${COMP_WORDS[i]}; elif [ -z \"$sub\" ]; then "
	      "sub=${COMP_WORDS[i]}; fi ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tif [ -z \"$verb\" ]; then\n\t\tCOMPREPLY=($(compgen -W \"",
	      fp);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s ", t[i].name);
	fputs("--root --help --version\" -- \"$cur\"))\n\t\treturn\n\tfi\n\tcase $verb in\n", fp);
	for (size_t i = 0; i < n; i++) {
		if (t[i].subs) {
			fprintf(fp, "\t%s)\n\t\tcase $sub in\n", t[i].name);
			for (const cmd_def_t *s = t[i].subs; s->name; s++) {
				fprintf(fp, "\t\t%s) opts=\"", s->name);
				option_words(fp, s->opts);
				fputs("\" ;;\n", fp);
			}
			fputs("\t\t\"\") COMPREPLY=($(compgen -W \"", fp);
			for (const cmd_def_t *s = t[i].subs; s->name; s++)
				fprintf(fp, "%s ", s->name);
			fputs("\" -- \"$cur\")); return ;;\n\t\tesac ;;\n", fp);
			continue;
		}
		fprintf(fp, "\t%s) opts=\"", t[i].name);
		option_words(fp, t[i].opts);
		fputs("\" ;;\n", fp);
	}
	fputs("\tesac\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\telse\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\tfi\n"
	      "}\n"
	      "complete -F _cbuild cbuild\n",
	      fp);
}

/* zsh's _arguments spec text: [, ], :, \ and ' need escaping. */
static void zsh_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", fp);
		else if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else
			fputc(*s, fp);
	}
}

static void zsh_args(FILE *fp, const cmd_opt_t *opts, const char *indent)
{
	fprintf(fp, "%s_arguments -s \\\n", indent);
	for (const cmd_opt_t *o = opts; o && o->name; o++) {
		if (o->flags & CMD_OPT_HIDDEN)
			continue;
		const char *rep = (o->flags & CMD_OPT_REPEAT) ? "*" : "";
		const char *val = o->kind == CMD_ARG_REQUIRED ? ":value: " : "";
		if (o->key > 0 && o->key < 128) {
			fprintf(fp, "%s\t'%s-%c[", indent, rep, o->key);
			zsh_text(fp, o->help);
			fprintf(fp, "]%s' \\\n", val);
		}
		fprintf(fp, "%s\t'%s--%s%s[", indent, rep, o->name,
			o->kind == CMD_ARG_OPTIONAL ? "=-" : "");
		zsh_text(fp, o->help);
		fprintf(fp, "]%s' \\\n", val);
	}
	fprintf(fp, "%s\t'--help[print the help]' \\\n%s\t'*:file:_files'\n", indent, indent);
}

static void zsh_describe(FILE *fp, const char *var, const cmd_def_t *t, size_t n, bool end)
{
	fprintf(fp, "\t\tlocal -a %s\n\t\t%s=(\n", var, var);
	for (size_t i = 0; end ? t[i].name != NULL : i < n; i++) {
		if (!t[i].summary)
			continue;
		fprintf(fp, "\t\t\t'%s:", t[i].name);
		zsh_text(fp, t[i].summary);
		fputs("'\n", fp);
	}
	fprintf(fp, "\t\t)\n\t\t_describe 'command' %s\n", var);
}

static void zsh_completion(FILE *fp, const cmd_def_t *t, size_t n)
{
	fputs("#compdef cbuild\n# zsh completion for cbuild (written by `cbuild __doc zsh`)\n"
	      "_cbuild() {\n\tif (( CURRENT == 2 )); then\n", fp);
	zsh_describe(fp, "verbs", t, n, false);
	fputs("\t\treturn\n\tfi\n\tlocal verb=$words[2]\n\tcase $verb in\n", fp);
	for (size_t i = 0; i < n; i++) {
		fprintf(fp, "\t%s)\n", t[i].name);
		if (!t[i].subs) {
			zsh_args(fp, t[i].opts, "\t\t");
			fputs("\t\t;;\n", fp);
			continue;
		}
		fputs("\t\tif (( CURRENT == 3 )); then\n", fp);
		zsh_describe(fp, "subs", t[i].subs, 0, true);
		fputs("\t\t\treturn\n\t\tfi\n\t\tcase $words[3] in\n", fp);
		for (const cmd_def_t *s = t[i].subs; s->name; s++) {
			fprintf(fp, "\t\t%s)\n", s->name);
			zsh_args(fp, s->opts, "\t\t\t");
			fputs("\t\t\t;;\n", fp);
		}
		fputs("\t\tesac\n\t\t;;\n", fp);
	}
	fputs("\tesac\n}\n_cbuild \"$@\"\n", fp);
}

const cmd_opt_t cmd___doc_opts[] = {{0}};

/* __doc man-list: the page names make install writes, one a line. */
int cmd___doc(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	(void)ctx;
	size_t n;
	const cmd_def_t *t = cmd_table(&n);
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "bash")) {
		bash_completion(stdout, t, n);
	} else if (!strcmp(what, "zsh")) {
		zsh_completion(stdout, t, n);
	} else if (!strcmp(what, "man-list")) {
		puts("cbuild");
		for (size_t i = 0; i < n; i++) {
			printf("cbuild-%s\n", t[i].name);
			for (const cmd_def_t *s = t[i].subs; s && s->name; s++)
				if (s->summary)
					printf("cbuild-%s-%s\n", t[i].name, s->name);
		}
	} else if (!strcmp(what, "man") && argc == 3) {
		const char *page = argv[2];
		if (!strcmp(page, "cbuild")) {
			man_main(stdout, t, n);
			return 0;
		}
		for (size_t i = 0; i < n; i++) {
			char path[128];
			snprintf(path, sizeof(path), "cbuild-%s", t[i].name);
			if (!strcmp(page, path)) {
				snprintf(path, sizeof(path), "cbuild %s", t[i].name);
				man_page(stdout, path, &t[i]);
				return 0;
			}
			for (const cmd_def_t *s = t[i].subs; s && s->name; s++) {
				snprintf(path, sizeof(path), "cbuild-%s-%s", t[i].name, s->name);
				if (s->summary && !strcmp(page, path)) {
					snprintf(path, sizeof(path), "cbuild %s %s", t[i].name, s->name);
					man_page(stdout, path, s);
					return 0;
				}
			}
		}
		return cmd_usage_error(err, "no man page '%s'", page);
	} else {
		return cmd_usage_error(err, "__doc man PAGE | man-list | bash | zsh");
	}
	return 0;
}
