/*
 * parser/plan_copy.c - COPY and ADD: flags, sources, inline files.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "parser/internal.h"
#include "parser/plan_internal.h"

/* ---- COPY / ADD ---- */

static bool valid_chmod(const char *v)
{
	if (!*v)
		return false;
	bool octal = true;
	for (const char *p = v; *p; p++)
		if (*p < '0' || *p > '7')
			octal = false;
	if (octal)
		return strlen(v) <= 4;
	/* symbolic: [ugoa]*[+-=][rwxXst]* , ... */
	const char *p = v;
	for (;;) {
		while (*p && strchr("ugoa", *p))
			p++;
		if (!*p || !strchr("+-=", *p))
			return false;
		while (*p && strchr("+-=", *p)) {
			p++;
			while (*p && strchr("rwxXst", *p))
				p++;
		}
		if (!*p)
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

static const df_heredoc_t *heredoc_for(const df_node_t *n, const char *word)
{
	_cleanup_free_ char *name = NULL;
	if (df_heredoc_marker(word, &name, NULL, NULL, NULL) != 1)
		return NULL;
	/* the last body of that name, as BuildKit's map of them keeps */
	for (size_t i = n->n_heredocs; i-- > 0;)
		if (!strcmp(n->heredocs[i].name, name))
			return &n->heredocs[i];
	return NULL;
}

static char *chomp_content(const char *s, bool chomp)
{
	(void)chomp; /* the lexer already stripped the tabs */
	return cb_xstrdup(s);
}

bool df_is_git_source(const char *src)
{
	if (cb_str_has_prefix(src, "git://") || cb_str_has_prefix(src, "ssh://") ||
	    cb_str_has_prefix(src, "git@"))
		return true;
	if (!cb_str_has_prefix(src, "http://") && !cb_str_has_prefix(src, "https://"))
		return false;
	size_t end = strcspn(src, "?#");
	return end >= 4 && !strncmp(src + end - 4, ".git", 4);
}

/* ADD <git URL>: one repository, alone, without --checksum (BuildKit
 * checks a commit that way; not done here). */
static int git_source(nctx_t *nc, df_copy_t *cp, size_t nsrc)
{
	bool any = false;
	for (size_t i = 0; i < nsrc; i++)
		any = any || df_is_git_source(cp->sources[i]);
	if (!any) /* --keep-git-dir is ignored then, as in BuildKit */
		return 0;
	if (nsrc != 1 || cp->n_inline_files)
		return nerr(nc, "a git repository must be the only source of ADD");
	if (cp->checksum)
		return nerr(nc, "ADD --checksum of a git repository is not supported");
	cp->git = true;
	return 0;
}

/* One flag of COPY or ADD, used: its value expanded and checked. */
static int copy_flag(struct df_parse_ctx *pc, const fdef_t *x, char *const *env)
{
	PC_LOCALS(pc);
	df_copy_t *cp = &s->u.copy;
	if (!strcmp(x->name, "from")) {
		if (df_xword(b, nc, x->value, env, 0, &cp->from) < 0)
			return -1;
		if (!*cp->from)
			return df_nerr_col(nc, x->col, "%s --from requires a stage name or image",
					   df_upper_cmd(nc->n));
		if (df_resolve_from(b, nc, cp->from, x->col, &cp->from_stage) < 0)
			return -1;
		if (cp->from_stage >= 0)
			df_stage_add_dep(pc->st, cp->from_stage);
	} else if (!strcmp(x->name, "chown")) {
		return df_xword(b, nc, x->value, env, 0, &cp->chown);
	} else if (!strcmp(x->name, "chmod")) {
		if (df_xword(b, nc, x->value, env, 0, &cp->chmod) < 0)
			return -1;
		if (!valid_chmod(cp->chmod))
			return df_nerr_col(nc, x->col, "invalid chmod parameter \"%s\"", cp->chmod);
	} else if (!strcmp(x->name, "link")) {
		cp->link = df_flag_true(x);
	} else if (!strcmp(x->name, "parents")) {
		cp->parents = df_flag_true(x);
	} else if (!strcmp(x->name, "exclude")) {
		for (size_t k = 0; x->values[k]; k++) {
			char *e = NULL;
			if (df_xword(b, nc, x->values[k], env, 0, &e) < 0)
				return -1;
			cp->exclude = cb_strv_push_take(cp->exclude, e);
		}
	} else if (!strcmp(x->name, "checksum")) {
		if (df_xword(b, nc, x->value, env, 0, &cp->checksum) < 0)
			return -1;
		const char *colon = strchr(cp->checksum, ':');
		if (!colon || colon == cp->checksum || !colon[1])
			return df_nerr_col(nc, x->col, "invalid checksum digest format \"%s\"",
					   cp->checksum);
	} else if (!strcmp(x->name, "keep-git-dir")) {
		cp->keep_git_dir = df_flag_true(x);
	} else if (!strcmp(x->name, "unpack")) {
		cp->unpack = df_flag_true(x);
	}
	return 0;
}

/* COPY <<EOF: the heredoc as an inline file (its body final). */
static int inline_file(nctx_t *nc, df_copy_t *cp, const df_heredoc_t *h, char *const *env)
{
	cp->inline_files = cb_xreallocarray(cp->inline_files, cp->n_inline_files + 1,
					    sizeof(df_heredoc_t));
	df_heredoc_t *d = &cp->inline_files[cp->n_inline_files++];
	memset(d, 0, sizeof(*d));
	d->name = cb_xstrdup(h->name);
	d->expand = h->expand;
	d->chomp = h->chomp;
	d->line = h->line;
	if (!h->expand) {
		d->content = chomp_content(h->content, h->chomp);
		return 0;
	}
	/* BuildKit: the body expands with '\' and quotes kept as is */
	cb_error_t e = CB_ERROR_INIT;
	if (df_expand(h->content, env, DF_EXPAND_SKIP_QUOTES, &d->content, &e) < 0) {
		nerr(nc, "%s", e.msg);
		cb_error_release(&e);
		return -1;
	}
	return 0;
}

/* The sources (expanded) and inline files; *nsrc: how many sources. */
static int copy_sources(struct df_parse_ctx *pc, char *const *env, size_t *nsrc)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	df_copy_t *cp = &s->u.copy;
	cp->sources = cb_xcalloc(1, sizeof(char *));
	*nsrc = 0;
	for (size_t i = 0; i + 1 < n->n_args; i++) {
		const df_heredoc_t *h = n->json ? NULL : heredoc_for(n, n->args[i]);
		if (h) {
			if (inline_file(nc, cp, h, env) < 0)
				return -1;
			continue;
		}
		char *v = NULL;
		if (df_xword(b, nc, n->args[i], env, 0, &v) < 0)
			return -1;
		cp->sources = cb_xreallocarray(cp->sources, *nsrc + 2, sizeof(char *));
		cp->sources[(*nsrc)++] = v;
		cp->sources[*nsrc] = NULL;
	}
	return 0;
}

int df_parse_copy(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	bool add = s->kind == DF_ADD;
	_cleanup_free_ char **env = df_step_env(b);
	df_copy_t *cp = &s->u.copy;
	cp->from_stage = -1;
	if (n->n_args < 2)
		return nerr(nc,
			    "%s requires at least two arguments, but only one was provided. "
			    "Destination could not be determined",
			    df_upper_cmd(n));
	for (size_t i = 0; i < pc->nf; i++)
		if (pc->f[i].used && copy_flag(pc, &pc->f[i], env) < 0)
			return -1;
	if (add && !df_flag_named(pc->f, pc->nf, "unpack")->used)
		cp->unpack = true;
	if (!n->json && df_heredoc_marker(n->args[n->n_args - 1], NULL, NULL, NULL, NULL) == 1)
		return nerr(nc, "%s cannot accept a heredoc as a destination", add ? "ADD" : "COPY");
	if (df_xword(b, nc, n->args[n->n_args - 1], env, 0, &cp->dest) < 0)
		return -1;
	size_t nsrc = 0;
	if (copy_sources(pc, env, &nsrc) < 0)
		return -1;
	if (cp->checksum && nsrc != 1)
		return nerr(nc, "checksum can't be specified for multiple sources");
	if (add && git_source(nc, cp, nsrc) < 0)
		return -1;
	return 0;
}
