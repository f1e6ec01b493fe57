/*
 * parser/checks_run.c - cbuild's own opt-in rules on RUN, the two that
 * hadolint users ask for most:
 *
 *   AptNoInstallRecommends   apt-get install without --no-install-recommends
 *                            (hadolint DL3015): the image grows by what
 *                            Recommends pulls in
 *   AptListsNotCleaned       apt-get install without removing
 *                            /var/lib/apt/lists in the same RUN (DL3009):
 *                            the lists stay in the layer, ~20-80 MB
 *   PipeToShellWithoutChecksum  curl/wget ... | sh with no sha256sum/sha512sum
 *                            check in the RUN: whatever the server sends runs
 *
 * They read the shell text (heredoc bodies included) with plain string
 * tests, not a shell parser: good enough for the commands people write,
 * and a false positive is one `# check=skip=` away.
 */
#include <ctype.h>
#include <string.h>

#include "common/util.h"
#include "parser/checks_internal.h"

/* The RUN's shell text: the command line and its heredoc bodies. */
static char *run_text(const df_node_t *n)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; i < n->n_args; i++)
		cb_buf_addf(&b, "%s\n", n->args[i]);
	for (size_t i = 0; i < n->n_heredocs; i++)
		cb_buf_addf(&b, "%s\n", n->heredocs[i].content ? n->heredocs[i].content : "");
	return cb_buf_detach(&b, NULL);
}

static bool has_flag_text(const df_node_t *n, const char *s)
{
	for (size_t i = 0; n->flags && n->flags[i]; i++)
		if (strstr(n->flags[i], s))
			return true;
	return false;
}

static bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);
	return !strncmp(p, w, n) && (!p[n] || isspace((unsigned char)p[n]) || strchr(";&|)", p[n]));
}

/* "apt-get [opts] install" or "apt [opts] install" */
static bool apt_installs(const char *text)
{
	for (const char *p = text; (p = strstr(p, "apt")); p++) {
		if (p > text && !isspace((unsigned char)p[-1]) && !strchr(";&|(", p[-1]))
			continue;
		const char *q = p + (strncmp(p, "apt-get", 7) ? 3 : 7);
		if (*q && !isspace((unsigned char)*q))
			continue;
		/* the next word that is not an option */
		while (*q && *q != '\n' && *q != ';' && *q != '&' && *q != '|') {
			while (isspace((unsigned char)*q) && *q != '\n')
				q++;
			if (*q != '-') {
				if (word_at(q, "install"))
					return true;
				break;
			}
			while (*q && !isspace((unsigned char)*q))
				q++;
		}
	}
	return false;
}

static bool pipes_to_shell(const char *text)
{
	if (!strstr(text, "curl") && !strstr(text, "wget"))
		return false;
	static const char *const shells[] = {"sh", "bash", "zsh", "ash", "dash", "ksh"};
	for (const char *p = text; (p = strchr(p, '|')); p++) {
		if (p[1] == '|') {
			p++;
			continue;
		}
		const char *q = p + 1;
		while (isspace((unsigned char)*q))
			q++;
		if (word_at(q, "sudo")) {
			q += 4;
			while (isspace((unsigned char)*q))
				q++;
		}
		const char *end = q + strcspn(q, " \t\n;&|");
		for (const char *r = q; r < end; r++) /* /bin/sh: its last component */
			if (*r == '/')
				q = r + 1;
		for (size_t i = 0; i < CB_ARRAY_SIZE(shells); i++)
			if (word_at(q, shells[i]))
				return true;
	}
	return false;
}

void ck_run_rules(ck_t *ck, const df_node_t *n)
{
	_cleanup_free_ char *text = run_text(n);
	if (apt_installs(text)) {
		if (!strstr(text, "--no-install-recommends") &&
		    !strstr(text, "Install-Recommends=false") && !strstr(text, "Install-Recommends=0"))
			ck_add(ck, "AptNoInstallRecommends", n->line, n->column,
			       cb_asprintf("add --no-install-recommends to apt-get install"),
			       "apt-get install without --no-install-recommends installs recommended "
			       "packages too");
		/* a cache mount keeps the lists out of the layer anyway */
		if (!strstr(text, "/var/lib/apt/lists") && !has_flag_text(n, "/var/lib/apt"))
			ck_add(ck, "AptListsNotCleaned", n->line, n->column,
			       cb_asprintf("end the RUN with && rm -rf /var/lib/apt/lists/*"),
			       "apt lists are left in the layer: remove /var/lib/apt/lists/* in the "
			       "same RUN");
	}
	if (pipes_to_shell(text) && !strstr(text, "sha256sum") && !strstr(text, "sha512sum"))
		ck_add(ck, "PipeToShellWithoutChecksum", n->line, n->column,
		       cb_asprintf("download to a file, check it with sha256sum -c, then run it (or "
				   "ADD --checksum=sha256:...)"),
		       "A downloaded script is piped to a shell without a checksum check");
}
