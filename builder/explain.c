/*
 * --explain-cache: say why a step missed the cache. Each executed step
 * leaves a record of what its key was made of (parent, canonical text,
 * inputs, and for ADD/COPY a signature per selected file); a later miss at
 * the same position is explained by comparing with it:
 *   "src/main.c changed", "build arg FLAVOR changed", "ENV PATH changed",
 *   "CMD changed", "a step before it changed", "the command changed",
 *   "first build of this step".
 */
#include <stdlib.h>
#include <string.h>

#include "builder/steps.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/json.h"
#include "store/places.h"

#define SHOW_FILES 3

static char *record_path(build_t *b, int stage, size_t index)
{
	char *abs = realpath(b->o->context_dir, NULL);
	_cleanup_free_ char *id = cb_asprintf("%s%c%s%c%d%c%zu", abs ? abs : b->o->context_dir, 0,
					      b->o->dockerfile_name, 0, stage, 0, index);
	size_t idlen = strlen(abs ? abs : b->o->context_dir) + 1 + strlen(b->o->dockerfile_name) + 1;
	idlen += strlen(id + idlen) + 1;
	idlen += strlen(id + idlen);
	free(abs);
	char d[DIGEST_STR_LEN + 1];
	digest_buffer(id, idlen, d);
	return store_place_explain(b->st, d);
}

char *bld_explain_text(const bld_step_id_t *id)
{
	json_t *j = json_pack("{s:s, s:o, s:o}", "parent", id->parent_key, "canonical",
			      oci_json_str(id->canonical), "inputs",
			      oci_json_str(id->inputs ? id->inputs : ""));
	if (id->files)
		json_object_set(j, "files", id->files);
	char *text = oci_json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

void bld_explain_write(build_t *b, int stage, size_t index, const char *text)
{
	if (!text)
		return;
	_cleanup_free_ char *p = record_path(b, stage, index);
	cb_error_t e = CB_ERROR_INIT;
	/* not fsynced (two journal commits a step): a record lost in a crash
	 * only leaves a later miss unexplained */
	if (cb_write_file_replace(p, NULL, text, strlen(text), 0644, false, &e) < 0)
		cb_error_release(&e); /* only an aid */
}

void bld_explain_record(build_t *b, int stage, size_t index, const bld_step_id_t *id)
{
	_cleanup_free_ char *text = bld_explain_text(id);
	bld_explain_write(b, stage, index, text);
}

/* Which files differ between two signature maps, as "a changed, b added". */
static char *files_diff(json_t *old, json_t *now)
{
	cb_buf_t b;
	cb_buf_init(&b);
	size_t shown = 0, more = 0;
	const char *k;
	json_t *v;
	json_object_foreach(now, k, v)
	{
		json_t *o = json_object_get(old, k);
		const char *what = !o ? "added" : !json_equal(o, v) ? "changed" : NULL;
		if (!what)
			continue;
		if (shown++ < SHOW_FILES)
			cb_buf_addf(&b, "%s%s %s", b.len ? ", " : "", k, what);
		else
			more++;
	}
	json_object_foreach(old, k, v)
	{
		if (json_object_get(now, k))
			continue;
		if (shown++ < SHOW_FILES)
			cb_buf_addf(&b, "%s%s removed", b.len ? ", " : "", k);
		else
			more++;
	}
	if (more)
		cb_buf_addf(&b, ", and %zu more", more);
	return b.len ? cb_buf_detach(&b, NULL) : (cb_buf_release(&b), NULL);
}

/* jansson's json_equal(NULL, NULL) is false: a field absent from both texts
 * (metadata steps carry no args, env, user or workdir) is not a change. */
static bool same(json_t *a, json_t *b)
{
	return (!a && !b) || json_equal(a, b);
}

/* A step's name=value list as an object: "K=V" strings (args, env) or
 * [key, value] pairs (ENV, LABEL, ARG kvs). */
static json_t *kv_object(json_t *list)
{
	json_t *o = json_object();
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		if (json_is_array(e)) {
			const char *k = json_string_value(json_array_get(e, 0));
			if (k)
				json_object_set(o, k, json_array_get(e, 1));
			continue;
		}
		const char *kv = json_string_value(e);
		if (!kv)
			continue;
		size_t n = strcspn(kv, "=");
		_cleanup_free_ char *k = cb_xstrndup(kv, n);
		json_object_set_new(o, k, kv[n] ? json_string(kv + n + 1) : json_null());
	}
	return o;
}

/* The names whose value differs between two name=value lists, as
 * "A, B" (NULL when only the order differs). */
static char *kv_names_diff(json_t *old, json_t *now)
{
	json_t *o = kv_object(old), *n = kv_object(now);
	cb_buf_t b;
	cb_buf_init(&b);
	const char *k;
	json_t *v;
	json_object_foreach(n, k, v)
	{
		if (!same(json_object_get(o, k), v))
			cb_buf_addf(&b, "%s%s", b.len ? ", " : "", k);
	}
	json_object_foreach(o, k, v)
	{
		if (!json_object_get(n, k))
			cb_buf_addf(&b, "%s%s", b.len ? ", " : "", k);
	}
	json_decref(o);
	json_decref(n);
	return b.len ? cb_buf_detach(&b, NULL) : (cb_buf_release(&b), NULL);
}

/* What changed in the instruction itself, said the way it reads in the
 * Dockerfile: "ENV PATH changed", "CMD changed", "the command changed". */
static char *instruction_diff(json_t *o, json_t *n)
{
	const char *kind = json_string_value(json_object_get(n, "kind"));
	if (!kind || !cb_streq(kind, json_string_value(json_object_get(o, "kind"))))
		return cb_xstrdup("the instruction changed");
	if (json_object_get(n, "kvs")) { /* ENV, LABEL, ARG */
		_cleanup_free_ char *names =
			kv_names_diff(json_object_get(o, "kvs"), json_object_get(n, "kvs"));
		return names ? cb_asprintf("%s %s changed", kind, names)
			     : cb_asprintf("the order in %s changed", kind);
	}
	if (cb_streq(kind, "RUN")) {
		if (!same(json_object_get(o, "argv"), json_object_get(n, "argv")))
			return cb_xstrdup("the command changed");
		if (!same(json_object_get(o, "heredocs"), json_object_get(n, "heredocs")))
			return cb_xstrdup("its heredoc changed");
		if (!same(json_object_get(o, "mounts"), json_object_get(n, "mounts")))
			return cb_xstrdup("its --mount options changed");
		return cb_xstrdup("its options changed");
	}
	if (cb_streq(kind, "COPY") || cb_streq(kind, "ADD")) {
		if (!same(json_object_get(o, "dest"), json_object_get(n, "dest")))
			return cb_xstrdup("the destination changed");
		if (!same(json_object_get(o, "sources"), json_object_get(n, "sources")))
			return cb_xstrdup("the sources changed");
		if (!same(json_object_get(o, "inline"), json_object_get(n, "inline")))
			return cb_xstrdup("its heredoc changed");
		return cb_xstrdup("its options changed");
	}
	return cb_asprintf("%s changed", kind); /* CMD, EXPOSE, HEALTHCHECK, ... */
}

/* First differing part of two canonical step texts (JSON objects). */
static char *canonical_diff(const char *old, const char *now)
{
	json_t *o = json_loads(old, 0, NULL), *n = json_loads(now, 0, NULL);
	json_t *oa = json_object_get(o, "args"), *na = json_object_get(n, "args");
	json_t *oe = json_object_get(o, "env"), *ne = json_object_get(n, "env");
	char *why = NULL, *names = NULL;
	if (!same(oa, na)) {
		names = kv_names_diff(oa, na);
		why = names ? cb_asprintf("build arg %s changed", names) : cb_xstrdup("build args changed");
	} else if (!same(oe, ne)) {
		names = kv_names_diff(oe, ne);
		why = names ? cb_asprintf("its environment (ENV %s) changed", names)
			    : cb_xstrdup("its environment (ENV) changed");
	} else if (!same(json_object_get(o, "user"), json_object_get(n, "user"))) {
		why = cb_xstrdup("USER changed");
	} else if (!same(json_object_get(o, "workdir"), json_object_get(n, "workdir"))) {
		why = cb_xstrdup("WORKDIR changed");
	} else {
		why = instruction_diff(o, n);
	}
	free(names);
	json_decref(o);
	json_decref(n);
	return why;
}

char *bld_explain_miss(build_t *b, int stage, size_t index, const bld_step_id_t *id)
{
	_cleanup_free_ char *p = record_path(b, stage, index);
	json_t *rec = json_load_file(p, 0, NULL);
	char *why = NULL;
	const char *parent = json_string_value(json_object_get(rec, "parent"));
	const char *canon = json_string_value(json_object_get(rec, "canonical"));
	const char *inputs = json_string_value(json_object_get(rec, "inputs"));
	if (!rec || !parent || !canon)
		why = cb_xstrdup("first build of this step");
	else if (strcmp(parent, id->parent_key))
		why = cb_xstrdup("a step before it changed");
	else if (strcmp(canon, id->canonical))
		why = canonical_diff(canon, id->canonical);
	else if (!cb_streq(inputs, id->inputs ? id->inputs : ""))
		why = id->files ? files_diff(json_object_get(rec, "files"), id->files) : NULL;
	else
		why = cb_xstrdup("its cached result was removed");
	if (!why)
		why = cb_xstrdup("its source files changed");
	json_decref(rec);
	return why;
}

void bld_explain_record_remote(build_t *b, int stage, size_t index, const df_step_t *step,
			       const char *parent, const char *canonical, const char *inputs)
{
	json_t *files = NULL;
	char *const *src = step->u.copy.sources;
	bool context_copy = (step->kind == DF_COPY || step->kind == DF_ADD) && !step->u.copy.from &&
			    src && src[0] && !strstr(src[0], "://"); /* no URL download */
	if (context_copy) {
		files = json_object();
		_cleanup_free_ char *again = NULL;
		cb_error_t e = CB_ERROR_INIT;
		if (bld_step_inputs(b, step, NULL, &again, files, &e) < 0) {
			cb_error_release(&e);
			json_decref(files);
			files = NULL;
		}
	}
	bld_step_id_t id = {parent, canonical, inputs, files};
	bld_explain_record(b, stage, index, &id);
	json_decref(files);
}
