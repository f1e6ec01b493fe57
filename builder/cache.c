/*
 * The build cache: keys and entries.
 *
 * A key is sha256("cbuild-cache-v1\n" parent "\n" step "\n" inputs) where
 *   parent  the previous step's key, or the base image's ID (config
 *           digest), or "scratch";
 *   step    the canonical JSON of the expanded step (bld_step_canonical):
 *           kind, arguments, and what it runs with (env, args, user,
 *           workdir, shell, mounts, network);
 *   inputs  ADD/COPY: the checksum of the selected files (names, types,
 *           modes, contents, link targets; never mtimes, inodes or paths
 *           outside the context); COPY --from: the source stage's key,
 *           or, when that misses, "files:" and the checksum of the files
 *           it copies, owners included (the second key, BuildKit's
 *           content key); the steps after a COPY --from chain from
 *           "layer:" and the diff ID of the layer it added, the same
 *           whichever key hit.
 * Nothing in a key depends on the machine, the store root or the time, so
 * the same Dockerfile and context give the same keys everywhere.
 *
 * An entry is a reference the store keeps (store/keep.h, kind cache, named
 * KEYHEX): the intermediate image the step made, with the step's text as
 * its note. It is written after the image, renamed into place, so a crash
 * leaves no entry pointing at nothing.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builder/internal.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/json.h"
#include "store/keep.h"

void bld_cache_key(const char *parent_key, const char *step_text, const char *inputs,
		   char out[DIGEST_STR_LEN + 1])
{
	digest_ctx_t *d = digest_new();
	static const char magic[] = "cbuild-cache-v1\n";
	digest_update(d, magic, sizeof(magic) - 1);
	digest_update(d, parent_key, strlen(parent_key));
	digest_update(d, "\n", 1);
	digest_update(d, step_text, strlen(step_text));
	digest_update(d, "\n", 1);
	if (inputs)
		digest_update(d, inputs, strlen(inputs));
	digest_final(d, out);
	digest_free(d);
}

/* An entry is a reference the store keeps (store/keep.h): the image it
 * names stays while the entry does, and prune drops them together. */
char *bld_cache_lookup(store_t *st, const char *key)
{
	digest_t m;
	cb_error_t e = CB_ERROR_INIT;
	if (store_keep_get(st, STORE_KEEP_CACHE, digest_hex(key), &m, &e) < 0) {
		cb_error_release(&e);
		return NULL;
	}
	return store_has_blob(st, m.s) ? cb_xstrdup(m.s) : NULL;
}

int bld_cache_store(store_t *st, const char *key, const char *manifest_digest,
		    const char *description, cb_error_t *err)
{
	return bld_cache_store_sync(st, key, manifest_digest, description, true, err);
}

int bld_cache_store_sync(store_t *st, const char *key, const char *manifest_digest,
			 const char *description, bool durable, cb_error_t *err)
{
	if (store_keep_set(st, STORE_KEEP_CACHE, digest_hex(key), manifest_digest,
			   description ? description : "", durable, err) < 0)
		return cb_error_wrap(err, "write cache entry");
	return 0;
}

/* ---- canonical step text ---- */

/* The key must tell apart what runs differently: text that is not UTF-8
 * (a Latin-1 --build-arg) is kept whole as {"hex": ...}, a type no plain
 * string can collide with, where repairing it would map "\xe9" and "\xe8"
 * to the same key. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	size_t n = strlen(s);
	if (cb_utf8_valid(s, n))
		return json_stringn(s, n);
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; i < n; i++)
		cb_buf_addf(&b, "%02x", (unsigned char)s[i]);
	json_t *j = json_pack("{s:s}", "hex", b.data);
	cb_buf_release(&b);
	return j;
}

static json_t *jstrv(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

static json_t *jkvs(const df_kv_t *kvs, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("[o,o]", jstr(kvs[i].key), jstr(kvs[i].value)));
	return a;
}

static json_t *jmounts(const df_run_t *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->n_mounts; i++) {
		const df_mount_t *m = &r->mounts[i];
		json_array_append_new(
			a, json_pack("{s:i,s:o,s:o,s:o,s:o,s:i,s:I,s:I,s:b}", "type", (int)m->type,
				     "target", jstr(m->target), "source", jstr(m->source), "from",
				     jstr(m->from), "id", jstr(m->id), "mode", m->mode, "uid",
				     (json_int_t)m->uid, "gid", (json_int_t)m->gid, "ro", m->readonly));
	}
	return a;
}

static json_t *jheredocs(const df_heredoc_t *h, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("[o,o]", jstr(h[i].name), jstr(h[i].content)));
	return a;
}

static void add_kind_fields(json_t *j, const df_step_t *s)
{
	switch (df_instruction(s->kind)->shape) {
	case DF_SHAPE_RUN:
		json_object_set_new(j, "argv", jstrv(s->u.run.argv));
		json_object_set_new(j, "heredocs", jheredocs(s->u.run.heredocs, s->u.run.n_heredocs));
		json_object_set_new(j, "mounts", jmounts(&s->u.run));
		json_object_set_new(j, "network", json_integer(s->u.run.network));
		break;
	case DF_SHAPE_COPY:
		json_object_set_new(j, "sources", jstrv(s->u.copy.sources));
		json_object_set_new(j, "inline", jheredocs(s->u.copy.inline_files,
							   s->u.copy.n_inline_files));
		json_object_set_new(j, "dest", jstr(s->u.copy.dest));
		json_object_set_new(j, "chown", jstr(s->u.copy.chown));
		json_object_set_new(j, "chmod", jstr(s->u.copy.chmod));
		json_object_set_new(j, "exclude", jstrv(s->u.copy.exclude));
		json_object_set_new(j, "parents", json_boolean(s->u.copy.parents));
		json_object_set_new(j, "checksum", jstr(s->u.copy.checksum));
		break;
	case DF_SHAPE_KV:
		json_object_set_new(j, "kvs", jkvs(s->u.kv.kvs, s->u.kv.n_kvs));
		break;
	case DF_SHAPE_LIST:
		json_object_set_new(j, "list", jstrv(s->u.list));
		break;
	case DF_SHAPE_CMDLINE:
		json_object_set_new(j, "argv", jstrv(s->u.cmd.argv));
		break;
	case DF_SHAPE_HEALTH:
		json_object_set_new(j, "test", jstrv(s->u.health.test));
		json_object_set_new(j, "timing",
				    json_pack("[I,I,I,I,i]", (json_int_t)s->u.health.interval_ns,
					      (json_int_t)s->u.health.timeout_ns,
					      (json_int_t)s->u.health.start_period_ns,
					      (json_int_t)s->u.health.start_interval_ns,
					      s->u.health.retries));
		break;
	case DF_SHAPE_VALUE:
	case DF_SHAPE_NONE:
		json_object_set_new(j, "value", jstr(s->u.value));
		break;
	}
}

char *bld_step_canonical(const df_step_t *s, const oci_config_t *config)
{
	json_t *j = json_object();
	json_object_set_new(j, "kind", oci_json_str(df_kind_name(s->kind)));
	add_kind_fields(j, s);
	unsigned key = df_instruction(s->kind)->cache_key;
	if (key & DF_KEY_RUNENV) {
		/* what the command runs with */
		json_object_set_new(j, "env", jstrv(s->env));
		json_object_set_new(j, "args", jstrv(s->args_env));
		json_object_set_new(j, "user", jstr(config->user));
		json_object_set_new(j, "workdir", jstr(s->workdir ? s->workdir : config->working_dir));
	}
	if (key & DF_KEY_WORKDIR)
		json_object_set_new(j, "workdir", jstr(s->workdir ? s->workdir : config->working_dir));
	char *text = oci_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return text;
}

/* ---- history text, as BuildKit writes it ---- */

static void add_argv(cb_buf_t *b, char *const *argv)
{
	cb_buf_addch(b, '[');
	for (size_t i = 0; argv && argv[i]; i++) {
		json_t *s = oci_json_str(argv[i]);
		char *q = oci_json_dumps(s, JSON_ENCODE_ANY);
		cb_buf_addf(b, "%s%s", i ? " " : "", q);
		free(q);
		json_decref(s);
	}
	cb_buf_addch(b, ']');
}

char *bld_step_history(const df_step_t *s)
{
	cb_buf_t b;
	cb_buf_init(&b);
	switch (s->kind) {
	case DF_RUN:
		cb_buf_addstr(&b, "RUN ");
		for (size_t i = 0; s->u.run.argv && s->u.run.argv[i]; i++)
			cb_buf_addf(&b, "%s%s", i ? " " : "", s->u.run.argv[i]);
		cb_buf_addstr(&b, " # buildkit");
		break;
	case DF_CMD:
	case DF_ENTRYPOINT:
	case DF_SHELL:
		cb_buf_addf(&b, "%s ", df_kind_name(s->kind));
		add_argv(&b, s->u.cmd.argv);
		break;
	case DF_COPY:
	case DF_ADD:
		cb_buf_addf(&b, "%s ", df_kind_name(s->kind));
		for (size_t i = 0; s->u.copy.sources && s->u.copy.sources[i]; i++)
			cb_buf_addf(&b, "%s ", s->u.copy.sources[i]);
		for (size_t i = 0; i < s->u.copy.n_inline_files; i++)
			cb_buf_addf(&b, "%s ", s->u.copy.inline_files[i].name);
		cb_buf_addf(&b, "%s # buildkit", s->u.copy.dest);
		break;
	case DF_EXPOSE:
		cb_buf_addstr(&b, "EXPOSE map[");
		for (size_t i = 0; s->u.list && s->u.list[i]; i++)
			cb_buf_addf(&b, "%s%s:{}", i ? " " : "", s->u.list[i]);
		cb_buf_addch(&b, ']');
		break;
	case DF_ENV:
	case DF_LABEL:
		cb_buf_addf(&b, "%s", df_kind_name(s->kind));
		for (size_t i = 0; i < s->u.kv.n_kvs; i++)
			cb_buf_addf(&b, " %s=%s", s->u.kv.kvs[i].key,
				    s->u.kv.kvs[i].value ? s->u.kv.kvs[i].value : "");
		break;
	default:
		cb_buf_addstr(&b, s->original);
		break;
	}
	return cb_buf_detach(&b, NULL);
}
