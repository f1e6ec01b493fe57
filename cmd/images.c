/* cbuild images [-q] [--digests] [--no-trunc] [-a] [--all-platforms] [--format F]
 *               [--filter dangling=true|false] [REPOSITORY[:TAG]]
 *
 * Untagged images are `<none> <none>` rows; one that another image here is
 * built on only with -a, as docker shows its intermediate images.
 *
 * A tag naming an index (a multi-platform image) is one row, showing the
 * image of this machine's platform, as docker does; --all-platforms gives
 * one row per platform in the store and a PLATFORM column. */
#include <fnmatch.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/format.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/find.h"

typedef struct images_opts {
	bool quiet, digests, no_trunc, all_platforms, all;
	int dangling; /* --filter dangling=: -1 not given, 0 false, 1 true */
	const char *filter;
	char **references; /* --filter reference=PATTERN (ORed) */
	const char *format;
	cmd_fmt_t *fmt; /* --format */
} images_opts_t;

enum { F_REPO, F_TAG, F_DIGEST, F_ID, F_SINCE, F_AT, F_SIZE, F_PLATFORM, NFIELDS };
static const cmd_fmt_field_t fields[NFIELDS] = {
	[F_REPO] = {"Repository", "REPOSITORY"},  [F_TAG] = {"Tag", "TAG"},
	[F_DIGEST] = {"Digest", "DIGEST"},         [F_ID] = {"ID", "IMAGE ID"},
	[F_SINCE] = {"CreatedSince", "CREATED"},   [F_AT] = {"CreatedAt", "CREATED AT"},
	[F_SIZE] = {"Size", "SIZE"},               [F_PLATFORM] = {"Platform", "PLATFORM"},
};

/* docker's --filter KEY=VALUE: dangling= and reference=. */
static int parse_filter(const char *f, images_opts_t *o, cb_error_t *err)
{
	if (!strcmp(f, "dangling=true") || !strcmp(f, "dangling=1"))
		o->dangling = 1;
	else if (!strcmp(f, "dangling=false") || !strcmp(f, "dangling=0"))
		o->dangling = 0;
	else if (cb_str_has_prefix(f, "dangling="))
		return cmd_usage_error(err, "invalid filter 'dangling=%s'", f + 9);
	else if (cb_str_has_prefix(f, "reference="))
		o->references = cb_strv_push(o->references, f + 10);
	else
		return cmd_usage_error(err, "unsupported filter '%s' (dangling=, reference=)", f);
	return 0;
}

enum { O_DIGESTS = CMD_OPT_LONG, O_NO_TRUNC, O_ALL_PLATFORMS, O_FORMAT };

const cmd_opt_t cmd_images_opts[] = {
	{"all", 'a', CMD_ARG_NONE, NULL, "show untagged images too"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only image IDs"},
	{"digests", O_DIGESTS, CMD_ARG_NONE, NULL, "show digests"},
	{"no-trunc", O_NO_TRUNC, CMD_ARG_NONE, NULL, "do not truncate IDs"},
	{"all-platforms", O_ALL_PLATFORMS, CMD_ARG_NONE, NULL, "a row per platform of multi-platform images"},
	{"filter", 'f', CMD_ARG_REQUIRED, "KEY=VALUE", "dangling=true|false, reference=PATTERN",
	 CMD_OPT_REPEAT},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "TEMPLATE", "Go-template subset, table or json"},
	{0}};

static int parse_images_args(cmd_ctx_t *ctx, int argc, char **argv, images_opts_t *o, cb_error_t *err)
{
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	o->dangling = -1;
	while ((c = cmd_opts_next(&p, err)) > 0) {
		switch (c) {
		case 'q': o->quiet = true; break;
		case O_DIGESTS: o->digests = true; break;
		case O_NO_TRUNC: o->no_trunc = true; break;
		case 'a': o->all = true; break;
		case 'f':
			if (parse_filter(p.arg, o, err) < 0)
				return -1;
			break;
		case O_ALL_PLATFORMS: o->all_platforms = true; break;
		case O_FORMAT: o->format = p.arg; break;
		}
	}
	if (c < 0)
		return c;
	if (p.nargs > 1)
		return cmd_nargs(ctx, p.nargs, 0, 1, err);
	o->filter = p.nargs ? p.args[0] : NULL;
	return 0;
}

/* A filter "app" matches every tag of app; "app:1" just that one. */
static bool filter_matches(const char *filter, const reg_ref_t *r)
{
	if (!filter)
		return true;
	reg_ref_t f;
	cb_error_t e = CB_ERROR_INIT;
	if (reg_ref_parse(filter, REG_REF_NO_DEFAULT_TAG, &f, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	bool ok = !strcmp(f.domain, r->domain) && !strcmp(f.path, r->path) &&
		  (!f.tag || cb_streq(f.tag, r->tag));
	reg_ref_release(&f);
	return ok;
}

/* reference=PATTERN: a glob on the familiar "repo:tag", or on "repo" (as
 * docker's reference.FamiliarMatch); an untagged image matches none. */
static bool reference_matches(char *const *patterns, const reg_ref_t *r, bool named)
{
	if (!patterns)
		return true;
	if (!named)
		return false;
	_cleanup_free_ char *repo = reg_ref_familiar_repo(r);
	_cleanup_free_ char *full = cb_asprintf("%s:%s", repo, r->tag ? r->tag : "latest");
	for (size_t i = 0; patterns[i]; i++)
		if (!fnmatch(patterns[i], full, 0) || !fnmatch(patterns[i], repo, 0))
			return true;
	return false;
}

static void print_row(store_t *st, const images_opts_t *o, const store_ref_t *ref,
		      const image_t *img)
{
	char id[13], size[32], created[64];
	cmd_short_id(img->config_digest, id);
	if (o->quiet) {
		printf("%s\n", o->no_trunc ? img->config_digest : id);
		return;
	}
	reg_ref_t r = {0};
	cb_error_t e = CB_ERROR_INIT;
	_cleanup_free_ char *repo = NULL;
	const char *tag = "<none>";
	if (ref->name && reg_ref_parse(ref->name, REG_REF_NO_DEFAULT_TAG, &r, &e) == 0) {
		repo = reg_ref_familiar_repo(&r);
		if (r.tag)
			tag = r.tag;
	} else {
		cb_error_release(&e);
	}
	cmd_human_size(image_unpacked_size(st, img), size, sizeof(size));
	_cleanup_free_ char *platform = oci_platform_string(
		img->config->os, img->config->architecture, img->config->variant);
	time_t t = (time_t)oci_time_parse(img->config->created);
	cmd_human_ago(t, created, sizeof(created));
	struct tm tm;
	char at[64];
	gmtime_r(&t, &tm);
	strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	const char *v[NFIELDS] = {
		[F_REPO] = repo ? repo : "<none>", [F_TAG] = tag, [F_DIGEST] = ref->digest,
		[F_ID] = o->no_trunc ? img->config_digest : id, [F_SINCE] = created,
		[F_AT] = at, [F_SIZE] = size, [F_PLATFORM] = platform};
	cmd_fmt_row(o->fmt, v);
	reg_ref_release(&r);
}

/* docker's default table (its columns sized to their contents, as docker's
 * tabwriter does), with DIGEST and PLATFORM when asked for. */
static const char *default_table(const images_opts_t *o)
{
	static const char *const tables[2][2] = {
		{"table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
		 "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
		 "{{.Platform}}"},
		{"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t"
		 "{{.Size}}",
		 "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t"
		 "{{.Size}}\t{{.Platform}}"},
	};
	return tables[o->digests][o->all_platforms];
}

/* The image a tag shows: for an index, this machine's image of it, else
 * (an index pulled for other platforms only) its first image in the store,
 * so that the tag is listed rather than hidden. */
static image_t *listed_image(store_t *st, const char *digest, cb_error_t *err)
{
	cb_error_t e = CB_ERROR_INIT;
	image_t *img = image_load(st, digest, &e);
	if (img || e.code != ENOENT) {
		if (!img)
			cb_error_move(err, &e);
		return img;
	}
	image_child_t *kids = NULL;
	size_t n = 0;
	if (image_index_children(st, digest, &kids, &n, NULL) == 0) {
		for (size_t i = 0; !img && i < n; i++)
			if (kids[i].present)
				img = image_load(st, kids[i].digest, NULL);
		image_children_free(kids, n);
	}
	if (img) {
		img->index_digest = cb_xstrdup(digest);
		cb_error_release(&e);
	} else {
		cb_error_move(err, &e);
	}
	return img;
}

static void list_image(store_t *st, const images_opts_t *o, const store_ref_t *ref,
		       const image_t *img, char ***seen)
{
	for (size_t k = 0; o->quiet && *seen && (*seen)[k]; k++)
		if (!strcmp((*seen)[k], img->config_digest))
			return;
	print_row(st, o, ref, img);
	*seen = cb_strv_push(*seen, img->config_digest);
}

/* --all-platforms: a row for each image of the index in the store, its
 * DIGEST that image's manifest. */
static void list_platforms(store_t *st, const images_opts_t *o, const store_ref_t *ref,
			   char ***seen)
{
	image_child_t *kids = NULL;
	size_t n = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (image_index_children(st, ref->digest, &kids, &n, &e) < 0) {
		cb_warn_error(&e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		image_t *img = kids[i].present ? image_load(st, kids[i].digest, &e) : NULL;
		if (!img) {
			cb_error_release(&e);
			continue;
		}
		store_ref_t kid = *ref;
		kid.digest = kids[i].digest;
		list_image(st, o, &kid, img, seen);
		image_free(img);
	}
	image_children_free(kids, n);
}

/* An untagged entry is a `<none>` row unless the image has a name after
 * all; an image others are built on (docker's intermediate image) only
 * with -a, and never for dangling=true (docker lists only heads then). */
static bool untagged_shown(store_t *st, const images_opts_t *o, const image_t *img)
{
	char **names = store_image_names(st, img->config_digest, NULL);
	bool named = !names || names[0];
	cb_strv_free(names);
	if (named)
		return false;
	size_t kids = 0;
	if (store_image_children(st, img, &kids, NULL) < 0)
		return false;
	return kids == 0 || (o->all && o->dangling != 1);
}

int cmd_images(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	images_opts_t o = {0};
	int rc = parse_images_args(ctx, argc, argv, &o, err);
	_cleanup_strv_ char **patterns = o.references; /* freed however we leave */
	if (rc)
		return rc;
	if (!o.quiet && cmd_fmt_new(o.format ? o.format : default_table(&o), default_table(&o),
				    fields, NFIELDS, &o.fmt, err) < 0)
		return CMD_USAGE;
	store_t *st = cmd_store(ctx, err);
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (!st || store_list_refs(st, &refs, &n, err) < 0) {
		cmd_fmt_free(o.fmt);
		return -1;
	}
	char **seen = NULL; /* -q prints each image once */
	for (size_t i = 0; i < n; i++) {
		reg_ref_t r = {0};
		cb_error_t e = CB_ERROR_INIT;
		if (refs[i].name && reg_ref_parse(refs[i].name, REG_REF_NO_DEFAULT_TAG, &r, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		bool match = refs[i].name ? filter_matches(o.filter, &r) && o.dangling != 1
					  : !o.filter && o.dangling != 0;
		match = match && reference_matches(o.references, &r, refs[i].name != NULL);
		reg_ref_release(&r);
		if (!match)
			continue;
		if (o.all_platforms && oci_media_type_is_index(refs[i].media_type)) {
			list_platforms(st, &o, &refs[i], &seen);
			continue;
		}
		image_t *img = listed_image(st, refs[i].digest, &e);
		if (!img) {
			cb_warn_error(&e);
			continue;
		}
		if (refs[i].name || untagged_shown(st, &o, img))
			list_image(st, &o, &refs[i], img, &seen);
		image_free(img);
	}
	cb_strv_free(seen);
	store_refs_free(refs, n);
	if (o.fmt) {
		cmd_fmt_print(o.fmt, stdout);
		cmd_fmt_free(o.fmt);
	}
	return 0;
}
