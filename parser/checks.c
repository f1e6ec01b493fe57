/*
 * parser/checks.c - the build checks' frame (configuration, warnings,
 * output) and the rules about the file's shape: stage names, casing, forms
 * of instructions, instructions repeated or deprecated.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "parser/checks_internal.h"

typedef struct rule {
	const char *name;
	bool experimental;
} rule_t;

/* BuildKit's rules first, then cbuild's own (all experimental: opt-in). */
static const rule_t rules[] = {
	{"StageNameCasing", false},
	{"FromAsCasing", false},
	{"NoEmptyContinuation", false},
	{"ConsistentInstructionCasing", false},
	{"DuplicateStageName", false},
	{"ReservedStageName", false},
	{"JSONArgsRecommended", false},
	{"MaintainerDeprecated", false},
	{"UndefinedArgInFrom", false},
	{"WorkdirRelativePath", false},
	{"UndefinedVar", false},
	{"MultipleInstructionsDisallowed", false},
	{"LegacyKeyValueFormat", false},
	{"InvalidBaseImagePlatform", false},
	{"SecretsUsedInArgOrEnv", false},
	{"InvalidDefaultArgInFrom", false},
	{"FromPlatformFlagConstDisallowed", false},
	{"CopyIgnoredFile", true},
	{"AptNoInstallRecommends", true},
	{"AptListsNotCleaned", true},
	{"PipeToShellWithoutChecksum", true},
};

static const rule_t *find_rule(const char *name)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(rules); i++)
		if (!strcmp(rules[i].name, name))
			return &rules[i];
	return NULL;
}

const char *df_check_rule_name(const char *name)
{
	const rule_t *r = find_rule(name);
	return r ? r->name : NULL;
}

bool ck_strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* ---- configuration ---- */

void df_check_config_init(df_check_config_t *c)
{
	memset(c, 0, sizeof(*c));
}

void df_check_config_release(df_check_config_t *c)
{
	cb_strv_free(c->skip);
	cb_strv_free(c->experimental);
	memset(c, 0, sizeof(*c));
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* "A, B" -> each name pushed onto v; "all" sets *all. */
static char **add_names(char **v, char *list, bool *all)
{
	char *save = NULL;
	for (char *r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
		r = trim(r);
		if (!strcmp(r, "all"))
			*all = true;
		else if (*r && !ck_strv_has(v, r))
			v = cb_strv_push(v, r);
	}
	return v;
}

/* Go's strconv.ParseBool, as BuildKit reads error=. */
static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
			*out = !strcmp(v, yes[i]);
			return 0;
		}
	}
	return -1;
}

int df_check_config_parse(const char *s, df_check_config_t *c, cb_error_t *err)
{
	if (!s)
		return 0;
	_cleanup_free_ char *copy = cb_xstrdup(s);
	char *save = NULL;
	for (char *p = strtok_r(copy, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(p, '=');
		if (!eq) {
			if (!*trim(p))
				continue;
			return cb_error_fail(err, EINVAL, "invalid check option '%s'", trim(p));
		}
		*eq = '\0';
		char *k = trim(p), *v = trim(eq + 1);
		if (!strcmp(k, "skip")) {
			c->skip = add_names(c->skip, v, &c->skip_all);
		} else if (!strcmp(k, "experimental")) {
			c->experimental = add_names(c->experimental, v, &c->experimental_all);
		} else if (!strcmp(k, "error")) {
			if (parse_bool(v, &c->error) < 0)
				return cb_error_fail(err, EINVAL, "invalid check option 'error=%s' (true or false)", v);
		} else {
			return cb_error_fail(err, EINVAL, "invalid check option '%s'", k);
		}
	}
	return 0;
}

bool df_check_enabled(const df_check_config_t *c, const char *rule)
{
	const rule_t *r = find_rule(rule);
	if (!r || c->skip_all || ck_strv_has(c->skip, rule))
		return false;
	return !r->experimental || c->experimental_all || ck_strv_has(c->experimental, rule);
}

/* ---- warnings ---- */

void df_check_add(df_check_list_t *l, const df_check_config_t *c, const char *rule, int line,
		  int col, char *fix, const char *fmt, ...)
{
	const rule_t *r = find_rule(rule);
	if (!r)
		CB_BUG("unknown check rule '%s'", rule);
	if (!df_check_enabled(c, rule)) {
		free(fix);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = cb_vasprintf(fmt, ap);
	va_end(ap);
	/* kept in line order: rules run stage by stage, not line by line */
	size_t at = l->n;
	while (at > 0 && l->v[at - 1].line > line)
		at--;
	l->v = cb_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(*l->v));
	l->v[at] = (df_check_warning_t){r->name, msg, fix, line, col};
	l->n++;
}

void df_check_list_release(df_check_list_t *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].message);
		free(l->v[i].fix);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

char *df_check_format(const df_tree_t *t, const df_check_warning_t *w)
{
	cb_buf_t b;
	cb_buf_init(&b);
	const char *name = t && t->name ? t->name : "Dockerfile";
	cb_buf_addf(&b, "%s:%d:%d: warning: %s: %s\n", name, w->line, w->col > 0 ? w->col : 1,
		    w->rule, w->message);
	int width = snprintf(NULL, 0, "%d", w->line);
	if (t && w->line > 0 && (size_t)w->line <= t->n_lines)
		cb_buf_addf(&b, " %d | %s\n", w->line, t->lines[w->line - 1]);
	if (w->fix)
		cb_buf_addf(&b, " %*s = fix: %s\n", width, "", w->fix);
	return cb_buf_detach(&b, NULL);
}

char *df_check_summary(const df_check_list_t *l)
{
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addstr(&b, "lint violation found for rules: ");
	_cleanup_strv_ char **seen = NULL;
	for (size_t i = 0; i < l->n; i++) {
		if (ck_strv_has(seen, l->v[i].rule))
			continue;
		cb_buf_addf(&b, "%s%s", seen ? ", " : "", l->v[i].rule);
		seen = cb_strv_push(seen, l->v[i].rule);
	}
	return cb_buf_detach(&b, NULL);
}

/* ---- the tree as the rules read it ---- */

char *ck_keyword(const df_node_t *n)
{
	const char *s = n->original ? n->original : n->cmd;
	while (isspace((unsigned char)*s))
		s++;
	size_t len = 0;
	while (s[len] && !isspace((unsigned char)s[len]))
		len++;
	return cb_xstrndup(s, len);
}

static bool all_case(const char *s, int (*is)(int))
{
	for (; *s; s++)
		if (isalpha((unsigned char)*s) && !is((unsigned char)*s))
			return false;
	return true;
}

static bool is_upper_word(const char *s)
{
	return all_case(s, isupper);
}

static bool is_lower_word(const char *s)
{
	return all_case(s, islower);
}

static char *lower_dup(const char *s)
{
	char *d = cb_xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static char *upper_dup(const char *s)
{
	char *d = cb_xstrdup(s);
	for (char *p = d; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return d;
}

static int find_stage(const ck_t *ck, size_t before, const char *name)
{
	for (size_t i = before; i-- > 0;)
		if (ck->stages[i].name && !strcasecmp(ck->stages[i].name, name))
			return (int)i;
	return -1;
}

static void split_stages(ck_t *ck)
{
	const df_tree_t *t = ck->t;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const df_node_t *n = &t->nodes[i];
		if (strcmp(n->cmd, "from"))
			continue;
		if (ck->n_stages)
			ck->stages[ck->n_stages - 1].end = i;
		ck->stages = cb_xreallocarray(ck->stages, ck->n_stages + 1, sizeof(*ck->stages));
		ck_stage_t *s = &ck->stages[ck->n_stages];
		memset(s, 0, sizeof(*s));
		s->from = i;
		s->end = t->n_nodes;
		s->parent = -1;
		if (n->n_args >= 3 && !strcasecmp(n->args[1], "as"))
			s->name = n->args[2];
		if (n->n_args >= 1) {
			s->scratch = !strcasecmp(n->args[0], "scratch");
			s->parent = find_stage(ck, ck->n_stages, n->args[0]);
		}
		ck->n_stages++;
	}
}

/* ---- rules on FROM ---- */

static void from_rules(ck_t *ck, size_t si)
{
	ck_stage_t *s = &ck->stages[si];
	const df_node_t *n = &ck->t->nodes[s->from];
	if (n->n_args >= 3 && !strcasecmp(n->args[1], "as")) {
		_cleanup_free_ char *from = ck_keyword(n);
		const char *as = n->args[1];
		if ((is_upper_word(from) && !is_upper_word(as)) ||
		    (is_lower_word(from) && !is_lower_word(as)))
			ck_add(ck, "FromAsCasing", n->line, n->column,
			       cb_asprintf("write '%s' in the case of '%s'",
					   is_upper_word(from) ? "AS" : "as", from),
			       "'%s' and '%s' keywords' casing do not match", as, from);
	}
	if (s->name && !is_lower_word(s->name)) {
		_cleanup_free_ char *low = lower_dup(s->name);
		ck_add(ck, "StageNameCasing", n->line, n->column,
		       cb_asprintf("name the stage '%s'", low),
		       "Stage name '%s' should be lowercase", s->name);
	}
	if (s->name && find_stage(ck, si, s->name) >= 0)
		ck_add(ck, "DuplicateStageName", n->line, n->column,
		       cb_asprintf("give this stage a name no other stage has"),
		       "Duplicate stage name \"%s\", stage names should be unique", s->name);
	if (s->name && (!strcasecmp(s->name, "scratch") || !strcasecmp(s->name, "context")))
		ck_add(ck, "ReservedStageName", n->line, n->column,
		       cb_asprintf("rename the stage: 'scratch' and 'context' have a meaning of their own"),
		       "Stage name should not use the same name as reserved stage \"%s\"", s->name);
	for (size_t f = 0; n->flags && n->flags[f]; f++) {
		const char *v = n->flags[f];
		if (strncmp(v, "--platform=", 11))
			continue;
		v += 11;
		if (strchr(v, '$'))
			continue;
		/* BuildKit lets a stage named for its platform pin it
		 * (FROM --platform=linux/arm64 x AS build-arm64) */
		const char *arch = strrchr(v, '/');
		arch = arch ? arch + 1 : v;
		if (s->name && *arch && strcasestr(s->name, arch))
			continue;
		ck_add(ck, "FromPlatformFlagConstDisallowed", n->line, n->flag_cols ? n->flag_cols[f] : n->column,
		       cb_asprintf("drop --platform, or use a variable such as $BUILDPLATFORM"),
		       "FROM --platform flag should not use constant value \"%s\"", v);
	}
}

/* ---- rules on the instructions of a stage ---- */

static char *json_suggestion(const char *kw, const char *cmd)
{
	/* words split on blanks, unless the shell would have done more */
	if (strpbrk(cmd, "|&;<>$`*?'\"\\(){}~"))
		return cb_asprintf("use the exec form, e.g. %s [\"/bin/sh\", \"-c\", \"exec ...\"], "
				   "or set SHELL explicitly",
				   kw);
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addf(&b, "use the exec form: %s [", kw);
	_cleanup_free_ char *copy = cb_xstrdup(cmd);
	char *save = NULL;
	bool first = true;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		cb_buf_addf(&b, "%s\"%s\"", first ? "" : ", ", w);
		first = false;
	}
	cb_buf_addch(&b, ']');
	return cb_buf_detach(&b, NULL);
}

/* ENV k v / LABEL k v: the first word after the keyword has no '='. */
static bool legacy_kv(const df_node_t *n)
{
	const char *s = n->original;
	while (isspace((unsigned char)*s))
		s++;
	while (*s && !isspace((unsigned char)*s))
		s++;
	while (isspace((unsigned char)*s))
		s++;
	size_t w = strcspn(s, " \t");
	return *s && !memchr(s, '=', w);
}

static void kv_rules(ck_t *ck, const df_node_t *n)
{
	if (!legacy_kv(n) || n->n_args < 2)
		return;
	_cleanup_free_ char *kw = upper_dup(n->cmd);
	bool quote = strpbrk(n->args[1], " \t") && n->args[1][0] != '"';
	ck_add(ck, "LegacyKeyValueFormat", n->line, n->column,
	       cb_asprintf("write %s %s=%s%s%s", kw, n->args[0], quote ? "\"" : "", n->args[1],
			   quote ? "\"" : ""),
	       "\"%s key=value\" should be used instead of legacy \"%s key value\" format", kw, kw);
}

/* COPY/ADD sources from the context that .dockerignore leaves out. */
static void copy_ignored(ck_t *ck, const df_node_t *n)
{
	if (!ck->in->ignore || n->n_args < 2)
		return;
	for (size_t f = 0; n->flags && n->flags[f]; f++)
		if (!strncmp(n->flags[f], "--from", 6))
			return;
	_cleanup_free_ char *kw = upper_dup(n->cmd);
	for (size_t i = 0; i + 1 < n->n_args; i++) {
		const char *src = n->args[i];
		if (!strncmp(src, "<<", 2) || strstr(src, "://") || strpbrk(src, "$*?["))
			continue;
		while (!strncmp(src, "./", 2))
			src += 2;
		while (*src == '/')
			src++;
		_cleanup_free_ char *path = cb_xstrdup(src);
		size_t len = strlen(path);
		while (len > 1 && path[len - 1] == '/')
			path[--len] = '\0';
		if (!*path || !strcmp(path, ".") || !df_ignore_match(ck->in->ignore, path))
			continue;
		ck_add(ck, "CopyIgnoredFile", n->line, n->column,
		       cb_asprintf("remove '%s' from .dockerignore, or do not %s it", path, kw),
		       "Attempting to %s file \"%s\" that is excluded by .dockerignore", kw, n->args[i]);
	}
}

static void stage_rules(ck_t *ck, size_t si)
{
	const ck_stage_t *s = &ck->stages[si];
	bool shell_set = false;
	/* the last CMD / ENTRYPOINT / HEALTHCHECK of the stage wins */
	static const char *const once[] = {"cmd", "entrypoint", "healthcheck"};
	size_t last[CB_ARRAY_SIZE(once)] = {0};
	for (size_t i = s->from + 1; i < s->end; i++)
		for (size_t k = 0; k < CB_ARRAY_SIZE(once); k++)
			if (!strcmp(ck->t->nodes[i].cmd, once[k]))
				last[k] = i;
	for (size_t i = s->from + 1; i < s->end; i++) {
		const df_node_t *n = &ck->t->nodes[i];
		_cleanup_free_ char *kw = upper_dup(n->cmd);
		if (!strcmp(n->cmd, "shell"))
			shell_set = true;
		if ((!strcmp(n->cmd, "cmd") || !strcmp(n->cmd, "entrypoint")) && !n->json &&
		    !shell_set && n->n_args == 1)
			ck_add(ck, "JSONArgsRecommended", n->line, n->column,
			       json_suggestion(kw, n->args[0]),
			       "JSON arguments recommended for %s to prevent unintended behavior "
			       "related to OS signals",
			       kw);
		for (size_t k = 0; k < CB_ARRAY_SIZE(once); k++)
			if (!strcmp(n->cmd, once[k]) && last[k] != i)
				ck_add(ck, "MultipleInstructionsDisallowed", n->line, n->column,
				       cb_asprintf("remove this %s: only the stage's last one is used", kw),
				       "Multiple %s instructions should not be used in the same stage "
				       "because only the last one will be used",
				       kw);
		if (!strcmp(n->cmd, "maintainer"))
			ck_add(ck, "MaintainerDeprecated", n->line, n->column,
			       cb_asprintf("use LABEL org.opencontainers.image.authors=\"...\""),
			       "Maintainer instruction is deprecated in favor of using label");
		if (!strcmp(n->cmd, "env") || !strcmp(n->cmd, "label"))
			kv_rules(ck, n);
		if (!strcmp(n->cmd, "copy") || !strcmp(n->cmd, "add"))
			copy_ignored(ck, n);
		if (!strcmp(n->cmd, "run"))
			ck_run_rules(ck, n);
	}
}

/* Every instruction in the case most of them are written in (a tie goes to
 * upper case); a keyword of mixed case is always wrong. */
static void casing_rule(ck_t *ck)
{
	size_t upper = 0, lower = 0;
	for (size_t i = 0; i < ck->t->n_nodes; i++) {
		_cleanup_free_ char *kw = ck_keyword(&ck->t->nodes[i]);
		upper += is_upper_word(kw);
		lower += is_lower_word(kw);
	}
	bool want_upper = upper >= lower;
	for (size_t i = 0; i < ck->t->n_nodes; i++) {
		const df_node_t *n = &ck->t->nodes[i];
		_cleanup_free_ char *kw = ck_keyword(n);
		if (want_upper ? is_upper_word(kw) : is_lower_word(kw))
			continue;
		_cleanup_free_ char *good = want_upper ? upper_dup(kw) : lower_dup(kw);
		ck_add(ck, "ConsistentInstructionCasing", n->line, n->column,
		       cb_asprintf("write '%s' as the rest of the file does", good),
		       "Command '%s' should match the case of the command majority (%s)", kw,
		       want_upper ? "uppercase" : "lowercase");
	}
}

static void empty_continuations(ck_t *ck)
{
	/* the parser's "NAME:LINE: empty continuation line" warnings */
	for (size_t i = 0; ck->t->warnings && ck->t->warnings[i]; i++) {
		const char *w = ck->t->warnings[i];
		if (!strstr(w, "mpty continuation"))
			continue;
		const char *colon = strrchr(w, ':');
		int line = 0;
		for (const char *p = w; p < colon; p++) {
			if (*p == ':' && isdigit((unsigned char)p[1])) {
				line = atoi(p + 1);
				break;
			}
		}
		ck_add(ck, "NoEmptyContinuation", line, 0,
		       cb_asprintf("remove the empty line, or end it with a comment"),
		       "Empty continuation line");
	}
}

void df_check_run(const df_check_input_t *in, df_check_list_t *out)
{
	ck_t ck = {.in = in, .t = in->tree, .out = out};
	if (in->tree->escape == '`')
		ck.expand_flags = DF_EXPAND_ESCAPE_BACKTICK;
	split_stages(&ck);
	casing_rule(&ck);
	empty_continuations(&ck);
	ck_globals(&ck);
	for (size_t si = 0; si < ck.n_stages; si++) {
		from_rules(&ck, si);
		ck_from_vars(&ck, si);
		stage_rules(&ck, si);
		ck_stage_vars(&ck, si);
	}
	for (size_t si = 0; si < ck.n_stages; si++)
		cb_strv_free(ck.stages[si].defined);
	free(ck.stages);
	cb_strv_free(ck.global_args);
	cb_strv_free(ck.global_env);
}
