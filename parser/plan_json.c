/*
 * parser/plan_json.c - the plan as JSON (golden files, `cbuild plan
 * --format json`) and as text. Fields at their default (false, null, empty)
 * are left out so that golden files stay readable.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "common/util.h"
#include "parser/internal.h"
#include "parser/plan.h"

typedef struct jw {
	cb_buf_t b;
	int depth;
	bool first; /* no member written yet at this level */
} jw_t;

static void jstr(cb_buf_t *b, const char *s)
{
	cb_buf_addch(b, '"');
	/* Build args come from the command line in any encoding: JSON output
	 * gets them repaired as the image config does (common/utf8.h). */
	_cleanup_free_ char *fixed = NULL;
	s = cb_utf8_or_fixed(s, &fixed);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			cb_buf_addstr(b, "\\\"");
			break;
		case '\\':
			cb_buf_addstr(b, "\\\\");
			break;
		case '\n':
			cb_buf_addstr(b, "\\n");
			break;
		case '\t':
			cb_buf_addstr(b, "\\t");
			break;
		case '\r':
			cb_buf_addstr(b, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				cb_buf_addf(b, "\\u%04x", *p);
			else
				cb_buf_addch(b, (char)*p);
		}
	}
	cb_buf_addch(b, '"');
}

static void indent(jw_t *w)
{
	cb_buf_addch(&w->b, '\n');
	for (int i = 0; i < w->depth; i++)
		cb_buf_addstr(&w->b, "  ");
}

static void key(jw_t *w, const char *k)
{
	if (!w->first)
		cb_buf_addch(&w->b, ',');
	w->first = false;
	indent(w);
	if (k) {
		jstr(&w->b, k);
		cb_buf_addstr(&w->b, ": ");
	}
}

static void open_(jw_t *w, const char *k, char c)
{
	key(w, k);
	cb_buf_addch(&w->b, c);
	w->depth++;
	w->first = true;
}

static void close_(jw_t *w, char c)
{
	w->depth--;
	if (!w->first)
		indent(w);
	cb_buf_addch(&w->b, c);
	w->first = false;
}

static void kstr(jw_t *w, const char *k, const char *v)
{
	if (!v)
		return;
	key(w, k);
	jstr(&w->b, v);
}

static void kint(jw_t *w, const char *k, long long v)
{
	key(w, k);
	cb_buf_addf(&w->b, "%lld", v);
}

static void kbool(jw_t *w, const char *k, bool v)
{
	if (!v)
		return;
	key(w, k);
	cb_buf_addstr(&w->b, "true");
}

/* A string vector on one line when short. */
static void kstrv(jw_t *w, const char *k, char *const *v, bool always)
{
	if (!always && (!v || !v[0]))
		return;
	key(w, k);
	cb_buf_addch(&w->b, '[');
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			cb_buf_addstr(&w->b, ", ");
		jstr(&w->b, v[i]);
	}
	cb_buf_addch(&w->b, ']');
}

static void heredocs(jw_t *w, const char *k, const df_heredoc_t *h, size_t n)
{
	if (!n)
		return;
	open_(w, k, '[');
	for (size_t i = 0; i < n; i++) {
		open_(w, NULL, '{');
		kstr(w, "name", h[i].name);
		kstr(w, "content", h[i].content);
		kbool(w, "expand", h[i].expand);
		kbool(w, "chomp", h[i].chomp);
		close_(w, '}');
	}
	close_(w, ']');
}

static const char *mount_type(df_mount_type_t t)
{
	static const char *const n[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
	return n[t];
}

static void run_json(jw_t *w, const df_step_t *s)
{
	const df_run_t *r = &s->u.run;
	kstrv(w, "argv", r->argv, true);
	kbool(w, "exec_form", r->exec_form);
	heredocs(w, "heredocs", r->heredocs, r->n_heredocs);
	if (r->n_files) {
		open_(w, "files", '[');
		for (size_t i = 0; i < r->n_files; i++) {
			open_(w, NULL, '{');
			kstr(w, "path", r->files[i].path);
			kstr(w, "content", r->files[i].content);
			key(w, "mode");
			cb_buf_addf(&w->b, "\"%04o\"", r->files[i].mode);
			close_(w, '}');
		}
		close_(w, ']');
	}
	if (r->n_mounts) {
		open_(w, "mounts", '[');
		for (size_t i = 0; i < r->n_mounts; i++) {
			const df_mount_t *m = &r->mounts[i];
			static const char *const sh[] = {"shared", "private", "locked"};
			open_(w, NULL, '{');
			kstr(w, "type", mount_type(m->type));
			kstr(w, "target", m->target);
			kstr(w, "source", m->source);
			kstr(w, "from", m->from);
			if (m->from_stage >= 0)
				kint(w, "from_stage", m->from_stage);
			kstr(w, "id", m->id);
			kstr(w, "env", m->env);
			if (m->type == DF_MOUNT_CACHE)
				kstr(w, "sharing", sh[m->sharing]);
			if (m->mode >= 0) {
				key(w, "mode");
				cb_buf_addf(&w->b, "\"%04o\"", m->mode);
			}
			if (m->uid >= 0)
				kint(w, "uid", m->uid);
			if (m->gid >= 0)
				kint(w, "gid", m->gid);
			kbool(w, "readonly", m->readonly);
			kbool(w, "required", m->required);
			if (m->size)
				kint(w, "size", m->size);
			close_(w, '}');
		}
		close_(w, ']');
	}
	if (r->network != DF_NETWORK_DEFAULT)
		kstr(w, "network", r->network == DF_NETWORK_NONE ? "none" : "host");
	kbool(w, "insecure", r->insecure);
	kstrv(w, "env", s->env, false);
	kstrv(w, "args_env", s->args_env, false);
}

static void copy_json(jw_t *w, const df_step_t *s)
{
	const df_copy_t *c = &s->u.copy;
	kstrv(w, "sources", c->sources, true);
	heredocs(w, "inline_files", c->inline_files, c->n_inline_files);
	kstr(w, "dest", c->dest);
	kstr(w, "from", c->from);
	if (c->from_stage >= 0)
		kint(w, "from_stage", c->from_stage);
	kstr(w, "chown", c->chown);
	kstr(w, "chmod", c->chmod);
	kbool(w, "link", c->link);
	kbool(w, "parents", c->parents);
	kstrv(w, "exclude", c->exclude, false);
	kstr(w, "checksum", c->checksum);
	kbool(w, "git", c->git);
	kbool(w, "keep_git_dir", c->keep_git_dir);
	kbool(w, "unpack", c->unpack);
}

static bool default_shell(char *const *sh)
{
	return sh && sh[0] && sh[1] && !sh[2] && !strcmp(sh[0], "/bin/sh") && !strcmp(sh[1], "-c");
}

static void step_json(jw_t *w, const df_step_t *s)
{
	open_(w, NULL, '{');
	kint(w, "number", s->number);
	kint(w, "line", s->line);
	kstr(w, "kind", df_kind_name(s->kind));
	kstr(w, "original", s->original);
	kbool(w, "from_onbuild", s->from_onbuild);
	kstr(w, "workdir", s->workdir);
	if (!default_shell(s->shell))
		kstrv(w, "shell", s->shell, true);
	switch (df_instruction(s->kind)->shape) {
	case DF_SHAPE_RUN:
		run_json(w, s);
		break;
	case DF_SHAPE_COPY:
		copy_json(w, s);
		break;
	case DF_SHAPE_KV:
		open_(w, "pairs", '[');
		for (size_t i = 0; i < s->u.kv.n_kvs; i++) {
			/* one pair per line: {"key": "k", "value": "v"} */
			key(w, NULL);
			cb_buf_addstr(&w->b, "{\"key\": ");
			jstr(&w->b, s->u.kv.kvs[i].key);
			if (s->u.kv.kvs[i].value) {
				cb_buf_addstr(&w->b, ", \"value\": ");
				jstr(&w->b, s->u.kv.kvs[i].value);
			}
			cb_buf_addch(&w->b, '}');
		}
		close_(w, ']');
		break;
	case DF_SHAPE_LIST:
		kstrv(w, "list", s->u.list, true);
		break;
	case DF_SHAPE_VALUE:
		kstr(w, "value", s->u.value);
		break;
	case DF_SHAPE_CMDLINE:
		kstrv(w, "argv", s->u.cmd.argv, true);
		kbool(w, "exec_form", s->u.cmd.exec_form);
		break;
	case DF_SHAPE_HEALTH: {
		const df_healthcheck_t *h = &s->u.health;
		kstrv(w, "test", h->test, true);
		if (h->interval_ns)
			kint(w, "interval_ns", h->interval_ns);
		if (h->timeout_ns)
			kint(w, "timeout_ns", h->timeout_ns);
		if (h->start_period_ns)
			kint(w, "start_period_ns", h->start_period_ns);
		if (h->start_interval_ns)
			kint(w, "start_interval_ns", h->start_interval_ns);
		if (h->retries)
			kint(w, "retries", h->retries);
		break;
	}
	case DF_SHAPE_NONE:
		break;
	}
	close_(w, '}');
}

char *df_plan_to_json(const df_plan_t *p)
{
	jw_t w = {.first = true};
	cb_buf_init(&w.b);
	cb_buf_addch(&w.b, '{');
	w.depth = 1;
	kint(&w, "target", p->target);
	kint(&w, "total_steps", p->total_steps);
	kint(&w, "stages_in_file", p->n_total_stages);
	kstrv(&w, "global_args", p->global_args, true);
	open_(&w, "stages", '[');
	for (size_t i = 0; i < p->n_stages; i++) {
		const df_stage_t *st = &p->stages[i];
		open_(&w, NULL, '{');
		kint(&w, "index", st->index);
		kstr(&w, "name", st->name);
		kint(&w, "number", st->number);
		kint(&w, "line", st->line);
		kstr(&w, "original", st->original);
		switch (st->base_kind) {
		case DF_BASE_SCRATCH:
			kstr(&w, "base", "scratch");
			break;
		case DF_BASE_IMAGE:
			kstr(&w, "base_image", st->base_image);
			break;
		case DF_BASE_STAGE:
			kint(&w, "base_stage", st->base_stage);
			break;
		}
		kstr(&w, "platform", st->platform);
		if (st->n_deps) {
			key(&w, "deps");
			cb_buf_addch(&w.b, '[');
			for (size_t k = 0; k < st->n_deps; k++)
				cb_buf_addf(&w.b, "%s%d", k ? ", " : "", st->deps[k]);
			cb_buf_addch(&w.b, ']');
		}
		kstrv(&w, "onbuild", st->onbuild, false);
		open_(&w, "steps", '[');
		for (size_t k = 0; k < st->n_steps; k++)
			step_json(&w, &st->steps[k]);
		close_(&w, ']');
		close_(&w, '}');
	}
	close_(&w, ']');
	w.depth = 0;
	cb_buf_addstr(&w.b, "\n}\n");
	return df_buf_take(&w.b, NULL);
}

static void one_line(cb_buf_t *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n') {
			cb_buf_addstr(b, "\\n");
		} else {
			cb_buf_addch(b, *s);
		}
	}
}

char *df_plan_to_text(const df_plan_t *p)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; i < p->n_stages; i++) {
		const df_stage_t *st = &p->stages[i];
		cb_buf_addf(&b, "# stage %d", st->index);
		if (st->name)
			cb_buf_addf(&b, " (%s)", st->name);
		switch (st->base_kind) {
		case DF_BASE_SCRATCH:
			cb_buf_addstr(&b, ": from scratch");
			break;
		case DF_BASE_IMAGE:
			cb_buf_addf(&b, ": from image %s", st->base_image);
			break;
		case DF_BASE_STAGE:
			cb_buf_addf(&b, ": from stage %d", st->base_stage);
			break;
		}
		if (st->platform)
			cb_buf_addf(&b, " for %s", st->platform);
		if (st->index == p->target)
			cb_buf_addstr(&b, " [target]");
		cb_buf_addch(&b, '\n');
		cb_buf_addf(&b, "STEP %d/%d: ", st->number, p->total_steps);
		one_line(&b, st->original);
		cb_buf_addch(&b, '\n');
		for (size_t k = 0; k < st->n_steps; k++) {
			const df_step_t *s = &st->steps[k];
			cb_buf_addf(&b, "STEP %d/%d: ", s->number, p->total_steps);
			if (s->from_onbuild)
				cb_buf_addstr(&b, "(onbuild) ");
			one_line(&b, s->original);
			cb_buf_addch(&b, '\n');
		}
	}
	return df_buf_take(&b, NULL);
}
