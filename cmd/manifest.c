/*
 * cmd/manifest.c - `cbuild manifest create|add|annotate|remove|inspect|push|rm`,
 * as podman has them: a manifest list (an OCI image index, or a Docker
 * manifest list) is kept in the store as a tag naming the index blob, so
 * that images built on separate native runners (or with --platform) can be
 * joined into one multi-platform image and pushed: the children first,
 * then the list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "cmd/reg_common.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/image.h"
#include "store/index.h"

typedef struct mf_opts {
	const char *os, *arch, *variant;
	char **annotations; /* K=V */
	bool all, amend, docker;
	char **args;      /* the operands */
	char **push_args; /* options passed on to push */
} mf_opts_t;

static void mf_release(mf_opts_t *o)
{
	cb_strv_free(o->annotations);
	cb_strv_free(o->args);
	cb_strv_free(o->push_args);
}

enum { O_ALL = CMD_OPT_LONG, O_OS, O_ARCH, O_VARIANT, O_ANNOTATION, O_FORMAT, O_TLS, O_DIGESTFILE };

#define MF_ENTRY_OPTS                                                                              \
	{"os", O_OS, CMD_ARG_REQUIRED, "OS", "the entry's operating system"},                      \
	{"arch", O_ARCH, CMD_ARG_REQUIRED, "ARCH", "the entry's architecture"},                    \
	{"variant", O_VARIANT, CMD_ARG_REQUIRED, "VARIANT", "the entry's architecture variant"},   \
	{"annotation", O_ANNOTATION, CMD_ARG_REQUIRED, "K=V", "an annotation on the entry", CMD_OPT_REPEAT}

static const cmd_opt_t create_opts[] = {
	{"amend", 'a', CMD_ARG_NONE, NULL, "add to the list if it exists"},
	{"all", O_ALL, CMD_ARG_NONE, NULL, "add every platform of a multi-platform image"},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "oci|docker", "the list's media type (default oci)"},
	{0}};
static const cmd_opt_t add_opts[] = {
	{"all", O_ALL, CMD_ARG_NONE, NULL, "add every platform of a multi-platform image"},
	MF_ENTRY_OPTS,
	{0}};
static const cmd_opt_t annotate_opts[] = {MF_ENTRY_OPTS, {0}};
static const cmd_opt_t push_opts[] = {
	{"tls-verify", O_TLS, CMD_ARG_NONE, NULL, "verify the registry's TLS certificate"},
	{"digestfile", O_DIGESTFILE, CMD_ARG_REQUIRED, "FILE", "write the list's digest to FILE"},
	{0}};

static int parse(cmd_ctx_t *ctx, int argc, char **argv, mf_opts_t *o, cb_error_t *err)
{
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		const char *v = p.arg;
		switch (c) {
		case O_ALL: o->all = p.on; break;
		case 'a': o->amend = p.on; break;
		case O_OS: o->os = v; break;
		case O_ARCH: o->arch = v; break;
		case O_VARIANT: o->variant = v; break;
		case O_ANNOTATION: o->annotations = cb_strv_push(o->annotations, v); break;
		case O_FORMAT:
			if (strcmp(v, "oci") && strcmp(v, "docker") && strcmp(v, "v2s2"))
				return cmd_usage_error(err, "invalid --format '%s' (oci or docker)", v);
			/* a list's type (create); push does not convert an index,
			 * whose children's digests would change */
			o->docker = strcmp(v, "oci") != 0;
			break;
		case O_TLS:
			o->push_args = cb_strv_push(o->push_args, p.on ? "--tls-verify=true" : "--tls-verify=false");
			break;
		case O_DIGESTFILE:
			o->push_args = cb_strv_push(o->push_args, "--digestfile");
			o->push_args = cb_strv_push(o->push_args, v);
			break;
		}
	}
	if (c < 0)
		return c;
	for (int i = 0; i < p.nargs; i++)
		o->args = cb_strv_push(o->args, p.args[i]);
	return 0;
}

/* The list named `name`: its full reference and its index JSON. */
static int load_list(store_t *st, const char *name, char **full, oci_index_t **index,
		     cb_error_t *err)
{
	*full = reg_ref_normalize(name, err);
	if (!*full)
		return -1;
	store_ref_t r = {0};
	if (store_get_ref(st, *full, &r, err) < 0)
		return cb_error_wrap(err, "manifest list '%s'", name);
	int rc = 0;
	if (!oci_media_type_is_index(r.media_type))
		rc = cb_error_fail(err, EINVAL, "'%s' is an image, not a manifest list", name);
	else
		rc = image_index_load(st, r.digest, index, err);
	store_ref_release(&r);
	return rc;
}

static int save_list(store_t *st, const char *full, oci_index_t *index, cb_error_t *err)
{
	_cleanup_free_ char *digest = NULL;
	int64_t size = 0;
	if (image_index_write(st, index, &digest, &size, err) < 0 ||
	    store_set_ref(st, full, digest, image_index_media_type(index), size, err) < 0)
		return -1;
	printf("%s\n", digest);
	return 0;
}

static int set_annotations(oci_descriptor_t *entry, char *const *kv, cb_error_t *err)
{
	for (size_t i = 0; kv && kv[i]; i++) {
		const char *eq = strchr(kv[i], '=');
		if (!eq || eq == kv[i])
			return cmd_usage_error(err, "invalid --annotation '%s' (KEY=VALUE)", kv[i]);
		if (!entry->annotations)
			entry->annotations = json_object();
		json_t *ann = entry->annotations;
		_cleanup_free_ char *k = cb_xstrndup(kv[i], (size_t)(eq - kv[i]));
		json_object_set_new(ann, k, json_string(eq + 1));
	}
	return 0;
}

/* --os/--arch/--variant over what the image's config says (normalized:
 * --arch aarch64 is arm64), then the annotations. */
static int apply_entry_opts(oci_descriptor_t *entry, const mf_opts_t *o, cb_error_t *err)
{
	if (!entry->platform)
		entry->platform = json_object();
	json_t *pf = entry->platform;
	if (o->os || o->arch || o->variant) {
		const char *os = o->os ? o->os : json_string_value(json_object_get(pf, "os"));
		const char *arch =
			o->arch ? o->arch : json_string_value(json_object_get(pf, "architecture"));
		const char *var = o->variant ? o->variant
					     : json_string_value(json_object_get(pf, "variant"));
		_cleanup_free_ char *s = oci_platform_string(os ? os : "linux", arch ? arch : "amd64",
							     var);
		oci_platform_t p;
		cb_error_t e = CB_ERROR_INIT;
		if (oci_platform_parse(s, &p, &e) < 0) {
			int r = cmd_usage_error(err, "%s", e.msg);
			cb_error_release(&e);
			return r;
		}
		json_decref(entry->platform);
		entry->platform = image_index_platform_json(&p);
	}
	return set_annotations(entry, o->annotations, err);
}

/* Add image `what` (a local name or ID; an index: this machine's image of
 * it, or every image with --all) to the list. */
static int add_image(store_t *st, oci_index_t *index, const char *what, const mf_opts_t *o,
		     cb_error_t *err)
{
	_cleanup_free_ char *md = NULL;
	if (cmd_find_image(st, what, &md, NULL, err) < 0)
		return -1;
	image_child_t *kids = NULL;
	size_t n = 0;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	bool is_index = oci_media_type_is_index(oci_document_media_type(data, len));
	if (is_index && o->all) {
		if (image_index_children(st, md, &kids, &n, err) < 0)
			return -1;
	} else if (is_index) {
		char *child = NULL;
		if (image_resolve(st, md, NULL, &child, err) < 0)
			return cb_error_wrap(err, "'%s'", what);
		kids = cb_xcalloc(1, sizeof(*kids));
		kids[0].digest = child;
		kids[0].present = true;
		n = 1;
	} else {
		kids = cb_xcalloc(1, sizeof(*kids));
		kids[0].digest = cb_xstrdup(md);
		kids[0].present = true;
		n = 1;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		oci_descriptor_t entry = {0};
		if (!kids[i].present)
			continue; /* --all of a partly pulled index: what is here */
		rc = image_index_entry(st, kids[i].digest, &entry, err);
		if (rc == 0)
			rc = apply_entry_opts(&entry, o, err);
		if (rc == 0)
			image_index_put_entry(index, &entry);
		oci_descriptor_release(&entry);
	}
	image_children_free(kids, n);
	return rc;
}

static int do_create(store_t *st, const mf_opts_t *o, cb_error_t *err)
{
	size_t n = cb_strv_len(o->args);
	if (n < 1)
		return cmd_usage_error(err, "manifest create needs a list name");
	_cleanup_free_ char *full = reg_ref_normalize(o->args[0], err);
	if (!full)
		return -1;
	oci_index_t *index = NULL;
	store_ref_t r = {0};
	if (store_get_ref(st, full, &r, NULL) == 0) {
		bool is_list = oci_media_type_is_index(r.media_type);
		int rc = is_list && o->amend ? image_index_load(st, r.digest, &index, err) : -1;
		store_ref_release(&r);
		if (rc < 0 && !is_list)
			return cb_error_fail(err, EEXIST, "'%s' names an image already", o->args[0]);
		if (rc < 0 && !o->amend)
			return cb_error_fail(err, EEXIST,
					     "manifest list '%s' exists (--amend to add to it)",
					     o->args[0]);
		if (rc < 0)
			return -1;
	} else {
		index = oci_index_new(o->docker);
	}
	int rc = 0;
	for (size_t i = 1; i < n && rc == 0; i++)
		rc = add_image(st, index, o->args[i], o, err);
	if (rc == 0)
		rc = save_list(st, full, index, err);
	oci_index_free(index);
	return rc;
}

static int do_add(store_t *st, const mf_opts_t *o, cb_error_t *err)
{
	if (cb_strv_len(o->args) != 2)
		return cmd_usage_error(err, "manifest add needs a list and an image");
	_cleanup_free_ char *full = NULL;
	oci_index_t *index = NULL;
	if (load_list(st, o->args[0], &full, &index, err) < 0)
		return -1;
	int rc = add_image(st, index, o->args[1], o, err);
	if (rc == 0)
		rc = save_list(st, full, index, err);
	oci_index_free(index);
	return rc;
}

/* The list entry an operand names: a digest in the list, or a local image
 * whose manifest is in it. -1 when none. */
static int find_entry(store_t *st, const oci_index_t *index, const char *what)
{
	_cleanup_free_ char *md = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (cmd_find_image(st, what, &md, NULL, &e) < 0)
		cb_error_release(&e);
	for (size_t i = 0; i < index->n_manifests; i++) {
		const char *d = index->manifests[i].digest;
		if (cb_streq(d, what) || cb_streq(d, md))
			return (int)i;
	}
	return -1;
}

static int do_annotate_or_remove(store_t *st, const mf_opts_t *o, bool remove,
				 cb_error_t *err)
{
	if (cb_strv_len(o->args) != 2)
		return cmd_usage_error(err, "manifest %s needs a list and an image digest",
				       remove ? "remove" : "annotate");
	_cleanup_free_ char *full = NULL;
	oci_index_t *index = NULL;
	if (load_list(st, o->args[0], &full, &index, err) < 0)
		return -1;
	int i = find_entry(st, index, o->args[1]);
	int rc = 0;
	if (i < 0)
		rc = cb_error_fail(err, ENOENT, "'%s' is not in manifest list '%s'", o->args[1],
				   o->args[0]);
	else if (remove)
		oci_index_remove(index, (size_t)i, NULL);
	else
		rc = apply_entry_opts(&index->manifests[i], o, err);
	if (rc == 0)
		rc = save_list(st, full, index, err);
	oci_index_free(index);
	return rc;
}

static int do_inspect(store_t *st, const mf_opts_t *o, cb_error_t *err)
{
	if (cb_strv_len(o->args) != 1)
		return cmd_usage_error(err, "manifest inspect needs one list");
	_cleanup_free_ char *full = NULL;
	oci_index_t *index = NULL;
	if (load_list(st, o->args[0], &full, &index, err) < 0)
		return -1;
	json_t *j = oci_index_to_json_value(index);
	char *s = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(j);
	oci_index_free(index);
	return 0;
}

static int do_rm(store_t *st, const mf_opts_t *o, cb_error_t *err)
{
	if (cb_strv_len(o->args) < 1)
		return cmd_usage_error(err, "manifest rm needs a list");
	for (size_t i = 0; o->args[i]; i++) {
		_cleanup_free_ char *full = NULL;
		oci_index_t *index = NULL;
		if (load_list(st, o->args[i], &full, &index, err) < 0)
			return -1;
		oci_index_free(index);
		if (store_remove_ref(st, full, err) < 0)
			return -1;
		_cleanup_free_ char *shown = reg_ref_shorten(full);
		printf("Untagged: %s\n", shown);
	}
	return 0;
}

static int do_push(cmd_ctx_t *ctx, store_t *st, const mf_opts_t *o, cb_error_t *err)
{
	size_t n = cb_strv_len(o->args);
	if (n < 1 || n > 2)
		return cmd_usage_error(err, "manifest push needs a list and an optional destination");
	_cleanup_free_ char *full = NULL;
	oci_index_t *index = NULL;
	if (load_list(st, o->args[0], &full, &index, err) < 0)
		return -1;
	oci_index_free(index);
	/* push sends an index's images, then the index */
	_cleanup_strv_ char **pv = cb_strv_push(NULL, "push");
	for (size_t i = 0; o->push_args && o->push_args[i]; i++)
		pv = cb_strv_push(pv, o->push_args[i]);
	for (size_t i = 0; i < n; i++)
		pv = cb_strv_push(pv, o->args[i]);
	ctx->verb = cmd_find("push");
	return cmd_push(ctx, (int)cb_strv_len(pv), pv, err);
}

static int manifest_sub(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *sub = ctx->verb->name;
	mf_opts_t o = {0};
	int rc = parse(ctx, argc, argv, &o, err);
	store_t *st = rc == 0 ? cmd_store(ctx, err) : NULL;
	if (rc == 0 && !st)
		rc = -1;
	if (rc < 0) {
	} else if (!strcmp(sub, "create")) {
		rc = do_create(st, &o, err);
	} else if (!strcmp(sub, "add")) {
		rc = do_add(st, &o, err);
	} else if (!strcmp(sub, "annotate")) {
		rc = do_annotate_or_remove(st, &o, false, err);
	} else if (!strcmp(sub, "remove")) {
		rc = do_annotate_or_remove(st, &o, true, err);
	} else if (!strcmp(sub, "inspect")) {
		rc = do_inspect(st, &o, err);
	} else if (!strcmp(sub, "push")) {
		rc = do_push(ctx, st, &o, err);
	} else {
		rc = do_rm(st, &o, err);
	}
	mf_release(&o);
	return rc;
}

const cmd_def_t cmd_manifest_subs[] = {
	{"create", manifest_sub, "cbuild manifest create [OPTIONS] LIST [IMAGE...]",
	 "create a manifest list (a multi-platform image)", create_opts},
	{"add", manifest_sub, "cbuild manifest add [OPTIONS] LIST IMAGE", "add an image to a list",
	 add_opts},
	{"annotate", manifest_sub, "cbuild manifest annotate [OPTIONS] LIST DIGEST",
	 "set an entry's platform and annotations", annotate_opts},
	{"remove", manifest_sub, "cbuild manifest remove LIST DIGEST", "remove an entry from a list",
	 cmd_no_opts},
	{"inspect", manifest_sub, "cbuild manifest inspect LIST", "print a list as JSON", cmd_no_opts},
	{"push", manifest_sub, "cbuild manifest push [OPTIONS] LIST [DEST]",
	 "push a list and its images to a registry", push_opts},
	{"rm", manifest_sub, "cbuild manifest rm LIST...", "remove lists from the store", cmd_no_opts},
	{0}};
