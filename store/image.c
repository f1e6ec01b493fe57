#include "store/image.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "store/compress_lazy.h"
#include "store/json.h"
#include "store/lease.h"

/* ---- small jansson helpers ---- */

static char *jstr_dup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? cb_xstrdup(s) : NULL;
}

/* A JSON array of strings -> strv; NULL for absent/null; error for other. */
static int jstrv(json_t *o, const char *key, char ***out, cb_error_t *err)
{
	json_t *a = json_object_get(o, key);
	*out = NULL;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return cb_error_fail(err, EBADMSG, "'%s' is not an array", key);
	char **v = cb_xcalloc(json_array_size(a) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (!s) {
			cb_strv_free(v);
			return cb_error_fail(err, EBADMSG, "'%s' holds a non-string", key);
		}
		v[i] = cb_xstrdup(s);
	}
	*out = v;
	return 0;
}

/* The keys of a JSON object ({"80/tcp":{}}) -> sorted strv. */
static char **jkeys(json_t *o, const char *key)
{
	json_t *obj = json_object_get(o, key);
	if (!json_is_object(obj))
		return NULL;
	char **set = cb_xcalloc(1, sizeof(char *));
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) set = oci_strset_add(set, k);
	return set;
}

static json_t *set_to_json(char *const *v)
{
	json_t *o = json_object();
	for (size_t i = 0; v && v[i]; i++)
		oci_json_set(o, v[i], json_object());
	return o;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, oci_json_str(v));
}

static void set_strv(json_t *o, const char *key, char *const *v)
{
	if (v)
		json_object_set_new(o, key, oci_json_strv(v));
}

static char *dumps(json_t *j)
{
	char *s = oci_json_dumps(j, JSON_COMPACT);
	if (!s)
		CB_BUG("json_dumps failed");
	json_decref(j);
	return s;
}

char **oci_strset_add(char **set, const char *s)
{
	size_t n = cb_strv_len(set), i = 0;
	while (i < n && strcmp(set[i], s) < 0)
		i++;
	if (i < n && !strcmp(set[i], s))
		return set;
	set = cb_xreallocarray(set, n + 2, sizeof(char *));
	memmove(set + i + 1, set + i, (n - i + 1) * sizeof(char *));
	set[i] = cb_xstrdup(s);
	return set;
}

bool oci_strset_has(char *const *set, const char *s)
{
	size_t lo = 0, hi = cb_strv_len(set);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(set[mid], s);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- config ---- */

static const char *machine_arch(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	if (!strncmp(u.machine, "arm", 3))
		return "arm";
	if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
		return "386";
	if (!strcmp(u.machine, "ppc64le"))
		return "ppc64le";
	if (!strcmp(u.machine, "s390x"))
		return "s390x";
	return "amd64";
}

oci_config_t *oci_config_new(void)
{
	oci_config_t *c = cb_xcalloc(1, sizeof(*c));
	c->architecture = cb_xstrdup(machine_arch());
	c->os = cb_xstrdup("linux");
	c->diff_ids = cb_xcalloc(1, sizeof(char *));
	return c;
}

void oci_config_free(oci_config_t *c)
{
	if (!c)
		return;
	free(c->architecture);
	free(c->os);
	free(c->variant);
	free(c->created);
	free(c->author);
	free(c->user);
	cb_strv_free(c->exposed_ports);
	cb_strv_free(c->env);
	cb_strv_free(c->entrypoint);
	cb_strv_free(c->cmd);
	cb_strv_free(c->volumes);
	free(c->working_dir);
	json_decref(c->labels);
	free(c->stop_signal);
	cb_strv_free(c->on_build);
	cb_strv_free(c->shell);
	json_decref(c->healthcheck);
	cb_strv_free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++) {
		free(c->history[i].created);
		free(c->history[i].created_by);
		free(c->history[i].author);
		free(c->history[i].comment);
	}
	free(c->history);
	json_decref(c->extra);
	json_decref(c->config_extra);
	free(c);
}

static const char *const known_top[] = {"architecture", "os", "variant", "created", "author",
					"config", "rootfs", "history"};
static const char *const known_cfg[] = {"User", "ExposedPorts", "Env", "Entrypoint", "Cmd",
					"Volumes", "WorkingDir", "Labels", "StopSignal",
					"OnBuild", "Shell", "Healthcheck", "ArgsEscaped"};

static bool is_known(const char *k, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k, list[i]))
			return true;
	return false;
}

static json_t *unknown_keys(json_t *o, const char *const *list, size_t n)
{
	json_t *extra = NULL;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		if (is_known(k, list, n))
			continue;
		if (!extra)
			extra = json_object();
		json_object_set(extra, k, v);
	}
	return extra;
}

static int parse_runtime(oci_config_t *c, json_t *cfg, cb_error_t *err)
{
	if (!json_is_object(cfg))
		return 0;
	c->user = jstr_dup(cfg, "User");
	c->working_dir = jstr_dup(cfg, "WorkingDir");
	c->stop_signal = jstr_dup(cfg, "StopSignal");
	c->exposed_ports = jkeys(cfg, "ExposedPorts");
	c->volumes = jkeys(cfg, "Volumes");
	if (jstrv(cfg, "Env", &c->env, err) < 0 || jstrv(cfg, "Entrypoint", &c->entrypoint, err) < 0 ||
	    jstrv(cfg, "Cmd", &c->cmd, err) < 0 || jstrv(cfg, "OnBuild", &c->on_build, err) < 0 ||
	    jstrv(cfg, "Shell", &c->shell, err) < 0)
		return -1;
	json_t *labels = json_object_get(cfg, "Labels");
	if (json_is_object(labels))
		c->labels = json_deep_copy(labels);
	json_t *hc = json_object_get(cfg, "Healthcheck");
	if (json_is_object(hc))
		c->healthcheck = json_deep_copy(hc);
	c->args_escaped = json_is_true(json_object_get(cfg, "ArgsEscaped"));
	c->config_extra = unknown_keys(cfg, known_cfg, CB_ARRAY_SIZE(known_cfg));
	return 0;
}

static void parse_history(oci_config_t *c, json_t *hist)
{
	size_t n = json_array_size(hist);
	if (!n)
		return;
	c->history = cb_xcalloc(n, sizeof(oci_history_t));
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(hist, i);
		oci_history_t *e = &c->history[c->n_history++];
		e->created = jstr_dup(h, "created");
		e->created_by = jstr_dup(h, "created_by");
		e->author = jstr_dup(h, "author");
		e->comment = jstr_dup(h, "comment");
		e->empty_layer = json_is_true(json_object_get(h, "empty_layer"));
	}
}

oci_config_t *oci_config_from_json(const char *data, size_t len, cb_error_t *err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		cb_error_fail(err, EBADMSG, "image config is not a JSON object: %s",
			     j ? "wrong type" : je.text);
		return NULL;
	}
	oci_config_t *c = cb_xcalloc(1, sizeof(*c));
	c->architecture = jstr_dup(j, "architecture");
	c->os = jstr_dup(j, "os");
	c->variant = jstr_dup(j, "variant");
	c->created = jstr_dup(j, "created");
	c->author = jstr_dup(j, "author");
	json_t *rootfs = json_object_get(j, "rootfs");
	if (parse_runtime(c, json_object_get(j, "config"), err) < 0 ||
	    jstrv(rootfs, "diff_ids", &c->diff_ids, err) < 0) {
		json_decref(j);
		oci_config_free(c);
		cb_error_wrap(err, "image config");
		return NULL;
	}
	if (!c->diff_ids)
		c->diff_ids = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; c->diff_ids[i]; i++) {
		if (!digest_is_valid(c->diff_ids[i])) {
			cb_error_fail(err, EBADMSG, "image config: invalid diff_id '%s'",
				     c->diff_ids[i]);
			json_decref(j);
			oci_config_free(c);
			return NULL;
		}
	}
	parse_history(c, json_object_get(j, "history"));
	c->extra = unknown_keys(j, known_top, CB_ARRAY_SIZE(known_top));
	json_decref(j);
	return c;
}

oci_config_t *oci_config_dup(const oci_config_t *c)
{
	char *js = oci_config_to_json(c);
	cb_error_t err = CB_ERROR_INIT;
	oci_config_t *d = oci_config_from_json(js, strlen(js), &err);
	if (!d)
		CB_BUG("config round trip failed: %s", err.msg);
	free(js);
	return d;
}

static json_t *runtime_to_json(const oci_config_t *c)
{
	json_t *o = json_object();
	set_str(o, "User", c->user);
	if (c->exposed_ports)
		json_object_set_new(o, "ExposedPorts", set_to_json(c->exposed_ports));
	set_strv(o, "Env", c->env);
	set_strv(o, "Entrypoint", c->entrypoint);
	set_strv(o, "Cmd", c->cmd);
	if (c->volumes)
		json_object_set_new(o, "Volumes", set_to_json(c->volumes));
	set_str(o, "WorkingDir", c->working_dir);
	if (c->labels)
		json_object_set(o, "Labels", c->labels);
	set_str(o, "StopSignal", c->stop_signal);
	set_strv(o, "OnBuild", c->on_build);
	set_strv(o, "Shell", c->shell);
	if (c->healthcheck)
		json_object_set(o, "Healthcheck", c->healthcheck);
	if (c->args_escaped)
		json_object_set_new(o, "ArgsEscaped", json_true());
	if (c->config_extra)
		json_object_update_missing(o, c->config_extra);
	return o;
}

char *oci_config_to_json(const oci_config_t *c)
{
	json_t *j = json_object();
	set_str(j, "created", c->created);
	set_str(j, "author", c->author);
	set_str(j, "architecture", c->architecture);
	set_str(j, "variant", c->variant);
	set_str(j, "os", c->os);
	json_object_set_new(j, "config", runtime_to_json(c));
	json_object_set_new(j, "rootfs", json_pack("{s:s, s:o}", "type", "layers", "diff_ids",
						   oci_json_strv(c->diff_ids)));
	json_t *hist = json_array();
	for (size_t i = 0; i < c->n_history; i++) {
		const oci_history_t *h = &c->history[i];
		json_t *e = json_object();
		set_str(e, "created", h->created);
		set_str(e, "created_by", h->created_by);
		set_str(e, "author", h->author);
		set_str(e, "comment", h->comment);
		if (h->empty_layer)
			json_object_set_new(e, "empty_layer", json_true());
		json_array_append_new(hist, e);
	}
	json_object_set_new(j, "history", hist);
	if (c->extra)
		json_object_update_missing(j, c->extra);
	return dumps(j);
}

const char *oci_config_getenv(const oci_config_t *c, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (!strncmp(c->env[i], key, kl) && c->env[i][kl] == '=')
			return c->env[i] + kl + 1;
	return NULL;
}

void oci_config_setenv(oci_config_t *c, const char *key, const char *value)
{
	size_t kl = strlen(key);
	char *kv = cb_asprintf("%s=%s", key, value);
	for (size_t i = 0; c->env && c->env[i]; i++) {
		if (!strncmp(c->env[i], key, kl) && c->env[i][kl] == '=') {
			free(c->env[i]);
			c->env[i] = kv;
			return;
		}
	}
	c->env = cb_strv_push_take(c->env, kv);
}

void oci_config_add_history(oci_config_t *c, const char *created, const char *created_by,
			    const char *comment, bool empty_layer)
{
	c->history = cb_xreallocarray(c->history, c->n_history + 1, sizeof(oci_history_t));
	oci_history_t *h = &c->history[c->n_history++];
	memset(h, 0, sizeof(*h));
	h->created = created ? cb_xstrdup(created) : NULL;
	h->created_by = created_by ? cb_xstrdup(created_by) : NULL;
	h->comment = comment ? cb_xstrdup(comment) : NULL;
	h->empty_layer = empty_layer;
}

void oci_config_add_diff_id(oci_config_t *c, const char *diff_id)
{
	c->diff_ids = cb_strv_push(c->diff_ids, diff_id);
}

void oci_config_set_label(oci_config_t *c, const char *key, const char *value)
{
	if (!c->labels)
		c->labels = json_object();
	oci_json_set(c->labels, key, oci_json_str(value));
}

/* ---- descriptors and manifests ---- */

void oci_descriptor_release(oci_descriptor_t *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->digest);
	json_decref(d->annotations);
	json_decref(d->platform);
	json_decref(d->as_read);
	memset(d, 0, sizeof(*d));
}

void oci_descriptor_copy(oci_descriptor_t *dst, const oci_descriptor_t *src)
{
	dst->media_type = src->media_type ? cb_xstrdup(src->media_type) : NULL;
	dst->digest = src->digest ? cb_xstrdup(src->digest) : NULL;
	dst->size = src->size;
	dst->annotations = src->annotations ? json_deep_copy(src->annotations) : NULL;
	dst->platform = src->platform ? json_deep_copy(src->platform) : NULL;
	dst->as_read = src->as_read ? json_deep_copy(src->as_read) : NULL;
}

int oci_descriptor_from_json(json_t *j, oci_descriptor_t *d, cb_error_t *err)
{
	const char *digest = json_string_value(json_object_get(j, "digest"));
	json_t *size = json_object_get(j, "size");
	if (!json_is_object(j) || !digest_is_valid(digest) || !json_is_integer(size) ||
	    json_integer_value(size) < 0)
		return cb_error_fail(err, EBADMSG, "invalid descriptor (digest '%s')",
				    digest ? digest : "");
	d->media_type = jstr_dup(j, "mediaType");
	d->digest = cb_xstrdup(digest);
	d->size = json_integer_value(size);
	json_t *ann = json_object_get(j, "annotations");
	d->annotations = json_is_object(ann) ? json_deep_copy(ann) : NULL;
	json_t *pf = json_object_get(j, "platform");
	d->platform = json_is_object(pf) ? json_deep_copy(pf) : NULL;
	return 0;
}

oci_manifest_t *oci_manifest_new(const char *media_type)
{
	oci_manifest_t *m = cb_xcalloc(1, sizeof(*m));
	m->media_type = cb_xstrdup(media_type);
	return m;
}

void oci_manifest_free(oci_manifest_t *m)
{
	if (!m)
		return;
	free(m->media_type);
	oci_descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		oci_descriptor_release(&m->layers[i]);
	free(m->layers);
	json_decref(m->annotations);
	free(m);
}

oci_manifest_t *oci_manifest_from_json(const char *data, size_t len, cb_error_t *err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		cb_error_fail(err, EBADMSG, "manifest is not a JSON object: %s",
			     j ? "wrong type" : je.text);
		return NULL;
	}
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	if (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)) {
		cb_error_fail(err, EMEDIUMTYPE, "unsupported manifest media type '%s'", mt);
		json_decref(j);
		return NULL;
	}
	oci_manifest_t *m = oci_manifest_new(mt ? mt : MT_OCI_MANIFEST);
	json_t *layers = json_object_get(j, "layers");
	if (oci_descriptor_from_json(json_object_get(j, "config"), &m->config, err) < 0 ||
	    !json_is_array(layers)) {
		if (!cb_error_is_set(err))
			cb_error_fail(err, EBADMSG, "manifest has no layers array");
		goto fail;
	}
	m->layers = cb_xcalloc(json_array_size(layers) + 1, sizeof(oci_descriptor_t));
	for (size_t i = 0; i < json_array_size(layers); i++) {
		if (oci_descriptor_from_json(json_array_get(layers, i), &m->layers[i], err) < 0)
			goto fail;
		m->n_layers++;
	}
	json_t *ann = json_object_get(j, "annotations");
	m->annotations = json_is_object(ann) ? json_deep_copy(ann) : NULL;
	json_decref(j);
	return m;
fail:
	json_decref(j);
	oci_manifest_free(m);
	cb_error_wrap(err, "manifest");
	return NULL;
}

char *oci_manifest_to_json(const oci_manifest_t *m)
{
	json_t *j = json_pack("{s:i, s:s}", "schemaVersion", 2, "mediaType", m->media_type);
	json_object_set_new(j, "config", oci_descriptor_to_json(&m->config));
	json_t *layers = json_array();
	for (size_t i = 0; i < m->n_layers; i++)
		json_array_append_new(layers, oci_descriptor_to_json(&m->layers[i]));
	json_object_set_new(j, "layers", layers);
	if (m->annotations)
		json_object_set(j, "annotations", m->annotations);
	return dumps(j);
}

void oci_manifest_add_layer(oci_manifest_t *m, const char *media_type, const char *digest,
			    int64_t size)
{
	m->layers = cb_xreallocarray(m->layers, m->n_layers + 1, sizeof(oci_descriptor_t));
	oci_descriptor_t *d = &m->layers[m->n_layers++];
	memset(d, 0, sizeof(*d));
	d->media_type = cb_xstrdup(media_type);
	d->digest = cb_xstrdup(digest);
	d->size = size;
}

/* ---- indexes (platforms: store/platform.c) ---- */

bool oci_media_type_is_index(const char *mt)
{
	return cb_streq(mt, MT_OCI_INDEX) || cb_streq(mt, MT_DOCKER_LIST);
}

/* Known media types as static strings, so callers need not free them. */
static const char *const known_mt[] = {MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_LIST,
				       MT_DOCKER_MANIFEST};

const char *oci_document_media_type(const char *data, size_t len)
{
	json_t *j = json_loadb(data, len, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	const char *res = json_is_array(json_object_get(j, "manifests")) ? MT_OCI_INDEX
									 : MT_OCI_MANIFEST;
	for (size_t i = 0; mt && i < CB_ARRAY_SIZE(known_mt); i++)
		if (!strcmp(mt, known_mt[i]))
			res = known_mt[i];
	json_decref(j);
	return res;
}

void image_children_free(image_child_t *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].digest);
		free(c[i].media_type);
		free(c[i].os);
		free(c[i].arch);
		free(c[i].variant);
		free(c[i].platform);
	}
	free(c);
}

/* BuildKit's provenance and SBOM manifests ride in the index as images of
 * platform unknown/unknown, annotated with what they describe: never an
 * image to run. */
static bool is_attestation(const oci_descriptor_t *e)
{
	const char *os = json_string_value(json_object_get(e->platform, "os"));
	return json_object_get(e->annotations, "vnd.docker.reference.type") ||
	       cb_streq(os, "unknown");
}

static bool child_entry(const oci_descriptor_t *e, image_child_t *c)
{
	const char *mt = e->media_type;
	json_t *pf = e->platform;
	if (!pf || is_attestation(e) ||
	    (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)))
		return false;
	memset(c, 0, sizeof(*c));
	c->digest = cb_xstrdup(e->digest);
	c->media_type = cb_xstrdup(mt ? mt : MT_OCI_MANIFEST);
	c->size = e->size > 0 ? e->size : 0;
	c->os = jstr_dup(pf, "os");
	c->arch = jstr_dup(pf, "architecture");
	c->variant = jstr_dup(pf, "variant");
	c->platform = oci_platform_string(c->os, c->arch, c->variant);
	return true;
}

int image_index_children(store_t *st, const char *index_digest, image_child_t **out, size_t *n,
			 cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, index_digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	cb_error_t e = CB_ERROR_INIT;
	oci_index_t *ix = oci_index_from_json(data, len, &e);
	if (!ix) {
		cb_error_release(&e);
		return cb_error_fail(err, EBADMSG, "'%s' is not an image index", index_digest);
	}
	image_child_t *kids = cb_xcalloc(ix->n_manifests + 1, sizeof(*kids));
	size_t nk = 0;
	for (size_t i = 0; i < ix->n_manifests; i++) {
		if (!child_entry(&ix->manifests[i], &kids[nk]))
			continue;
		kids[nk].present = store_has_blob(st, kids[nk].digest);
		nk++;
	}
	oci_index_free(ix);
	*out = kids;
	*n = nk;
	return 0;
}

/* "linux/amd64, linux/arm64/v8" of the children in the store. */
static char *available(const image_child_t *kids, size_t n)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (!kids[i].present)
			continue;
		if (b.len)
			cb_buf_addstr(&b, ", ");
		cb_buf_addstr(&b, kids[i].platform);
	}
	if (!b.len)
		cb_buf_addstr(&b, "none");
	return cb_buf_detach(&b, NULL);
}

static int resolve_index(store_t *st, const char *digest, const char *platform, char **out,
			 cb_error_t *err)
{
	oci_platform_t want;
	if (oci_platform_parse(platform, &want, err) < 0)
		return -1;
	image_child_t *kids = NULL;
	size_t n = 0;
	if (image_index_children(st, digest, &kids, &n, err) < 0)
		return -1;
	int best = -1, best_score = 0, absent_score = 0;
	for (size_t i = 0; i < n; i++) {
		int s = oci_platform_score(&want, kids[i].os, kids[i].arch, kids[i].variant);
		if (!kids[i].present)
			absent_score = s > absent_score ? s : absent_score;
		else if (s > best_score)
			best = (int)i, best_score = s;
	}
	_cleanup_free_ char *wanted = oci_platform_string(want.os, want.arch, want.variant);
	int rc = 0;
	if (best >= 0 && best_score >= absent_score) {
		*out = cb_xstrdup(kids[best].digest);
	} else if (absent_score > 0) {
		rc = cb_error_fail(err, ENOENT,
				   "the image for platform '%s' of index %.19s is not in the store "
				   "(pull the index with --all-platforms)",
				   wanted, digest);
	} else {
		_cleanup_free_ char *have = available(kids, n);
		rc = cb_error_fail(err, ENOENT,
				   "index %.19s has no image for platform '%s' (available: %s)",
				   digest, wanted, have);
	}
	image_children_free(kids, n);
	return rc;
}

int image_resolve(store_t *st, const char *digest, const char *platform, char **manifest_digest,
		  cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	if (!oci_media_type_is_index(oci_document_media_type(data, len))) {
		*manifest_digest = cb_xstrdup(digest);
		return 0;
	}
	return resolve_index(st, digest, platform, manifest_digest, err);
}

/* ---- images in the store ---- */

void image_free(image_t *img)
{
	if (!img)
		return;
	free(img->manifest_digest);
	free(img->index_digest);
	free(img->config_digest);
	oci_manifest_free(img->manifest);
	oci_config_free(img->config);
	free(img);
}

/* An image from its manifest's bytes: parse, then load the config. */
static image_t *image_from_manifest(store_t *st, const char *digest, const char *mdata,
				    size_t mlen, cb_error_t *err)
{
	_cleanup_free_ char *cdata = NULL;
	size_t clen = 0;
	oci_manifest_t *m = oci_manifest_from_json(mdata, mlen, err);
	if (!m)
		return NULL;
	if (store_read_blob(st, m->config.digest, IMAGE_JSON_MAX, &cdata, &clen, err) < 0) {
		oci_manifest_free(m);
		return NULL;
	}
	oci_config_t *c = oci_config_from_json(cdata, clen, err);
	if (!c) {
		oci_manifest_free(m);
		return NULL;
	}
	image_t *img = cb_xcalloc(1, sizeof(*img));
	img->manifest_digest = cb_xstrdup(digest);
	img->manifest_size = (int64_t)mlen;
	img->manifest = m;
	img->config_digest = cb_xstrdup(m->config.digest);
	img->config = c;
	return img;
}

image_t *image_load_platform(store_t *st, const char *digest, const char *platform,
			     cb_error_t *err)
{
	_cleanup_free_ char *data = NULL, *child = NULL;
	size_t len = 0;
	/* the image is about to be used (a build's base, a cache hit, a
	 * container's image): leased first, it stays while we live; gc keeps
	 * what a leased manifest or index reaches */
	cb_error_t le = CB_ERROR_INIT;
	if (store_lease_add(st, LEASE_BLOB, digest, &le) < 0)
		cb_error_release(&le); /* a store we cannot write: no gc of ours */
	if (store_read_blob(st, digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return NULL;
	if (!oci_media_type_is_index(oci_document_media_type(data, len)))
		return image_from_manifest(st, digest, data, len, err);
	if (resolve_index(st, digest, platform, &child, err) < 0)
		return NULL;
	free(data);
	data = NULL;
	if (store_read_blob(st, child, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return NULL;
	image_t *img = image_from_manifest(st, child, data, len, err);
	if (img)
		img->index_digest = cb_xstrdup(digest);
	return img;
}

image_t *image_load(store_t *st, const char *manifest_digest, cb_error_t *err)
{
	return image_load_platform(st, manifest_digest, NULL, err);
}

int64_t image_blob_size(const image_t *img)
{
	int64_t n = img->manifest->config.size;
	for (size_t i = 0; i < img->manifest->n_layers; i++)
		n += img->manifest->layers[i].size;
	return n;
}

/* gzip: ISIZE is the last 4 bytes of the member (our layers are one
 * member; a multi-member file is counted by its blob size: mod 2^32 sizes
 * of big layers are caught by the plausibility check). */
static int64_t gzip_size(int fd, int64_t blob)
{
	unsigned char t[4];
	if (blob < 18 || pread(fd, t, 4, blob - 4) != 4)
		return -1;
	int64_t isize = (int64_t)t[0] | (int64_t)t[1] << 8 | (int64_t)t[2] << 16 | (int64_t)t[3] << 24;
	/* a tar compresses to less than itself by far less than 1000x */
	if (isize < blob / 2 || (blob > 0 && isize / blob > 1000))
		return -1;
	return isize;
}

static int64_t zstd_size(int fd)
{
	unsigned char h[18]; /* ZSTD_FRAMEHEADERSIZE_MAX */
	ssize_t n = pread(fd, h, sizeof(h), 0);
	if (n <= 0)
		return -1;
	unsigned long long c = ZSTD_getFrameContentSize(h, (size_t)n);
	return c == ZSTD_CONTENTSIZE_UNKNOWN || c == ZSTD_CONTENTSIZE_ERROR ? -1 : (int64_t)c;
}

int64_t image_layer_unpacked_size(store_t *st, const oci_descriptor_t *d)
{
	int64_t n = -1;
	cb_error_t e = CB_ERROR_INIT;
	int fd = store_open_blob(st, d->digest, &e);
	if (fd < 0) {
		cb_error_release(&e);
	} else {
		const char *mt = d->media_type ? d->media_type : "";
		if (strstr(mt, "gzip"))
			n = gzip_size(fd, d->size);
		else if (strstr(mt, "zstd"))
			n = zstd_size(fd);
		else
			n = d->size;
		close(fd);
	}
	return n >= 0 ? n : d->size;
}

int64_t image_unpacked_size(store_t *st, const image_t *img)
{
	int64_t total = 0;
	for (size_t i = 0; i < img->manifest->n_layers; i++)
		total += image_layer_unpacked_size(st, &img->manifest->layers[i]);
	return total;
}

char *oci_time_now(int64_t epoch)
{
	time_t t;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (epoch >= 0)
		t = (time_t)epoch;
	else if (sde && *sde)
		t = (time_t)strtoll(sde, NULL, 10);
	else
		t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[64];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return cb_xstrdup(buf);
}

int64_t oci_time_parse(const char *s)
{
	if (!s)
		return -1;
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -1;
	while (*rest == '.' || (*rest >= '0' && *rest <= '9'))
		rest++;
	int64_t off = 0;
	if (*rest == '+' || *rest == '-') {
		int h = 0, m = 0;
		if (sscanf(rest + 1, "%d:%d", &h, &m) == 2)
			off = (h * 3600 + m * 60) * (*rest == '+' ? 1 : -1);
	}
	return (int64_t)timegm(&tm) - off;
}
