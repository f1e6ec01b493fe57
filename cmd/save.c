/*
 * cbuild save [-o FILE] [--platform os/arch[/variant]] IMAGE...
 *
 * Writes what modern `docker save` writes: an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...) plus the classic manifest.json and
 * repositories files pointing into blobs/, so that `docker load`,
 * `podman load`, `skopeo copy docker-archive:` and OCI tools all read it.
 * Blobs stream from the store into the tar; the file appears only when
 * complete (written beside it, then renamed).
 *
 * A name of an index saves one image, the platform's (this machine's by
 * default), as the classic `docker save` does: manifest.json has room for
 * one image per tag.
 */
#include "store/archive_lazy.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/save.h"

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/json.h"

#define SAVE_EPOCH 0

typedef struct saver {
	struct archive *a;
	store_t *st;
	const char *platform; /* for names of indexes; NULL = this machine's */
	char **written;       /* blob digests already in the archive */
} saver_t;

static int add_bytes(saver_t *s, const char *name, const void *data, size_t len, cb_error_t *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, SAVE_EPOCH, 0);
	int rc = 0;
	if (archive_write_header(s->a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(s->a, data, len) != (la_ssize_t)len))
		rc = cb_error_fail(err, EIO, "write '%s': %s", name, archive_error_string(s->a));
	archive_entry_free(e);
	return rc;
}

static int add_dir(saver_t *s, const char *name, cb_error_t *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0755);
	archive_entry_set_mtime(e, SAVE_EPOCH, 0);
	int rc = archive_write_header(s->a, e) == ARCHIVE_OK
			 ? 0
			 : cb_error_fail(err, EIO, "write '%s': %s", name, archive_error_string(s->a));
	archive_entry_free(e);
	return rc;
}

static int add_blob(saver_t *s, const char *digest, cb_error_t *err)
{
	for (size_t i = 0; s->written && s->written[i]; i++)
		if (!strcmp(s->written[i], digest))
			return 0;
	if (store_blob_ensure(s->st, digest, err) < 0)
		return -1;
	_cleanup_close_ int fd = store_open_blob(s->st, digest, err);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0)
		return fd < 0 ? -1 : cb_error_errno(err, "stat blob '%s'", digest);
	_cleanup_free_ char *name = cb_asprintf("blobs/sha256/%s", digest_hex(digest));
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, sb.st_size);
	archive_entry_set_mtime(e, SAVE_EPOCH, 0);
	int rc = archive_write_header(s->a, e) == ARCHIVE_OK ? 0 : -1;
	archive_entry_free(e);
	static char buf[1 << 17];
	ssize_t n;
	while (rc == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(s->a, buf, (size_t)n) != n)
			rc = -1;
	if (rc < 0)
		return cb_error_fail(err, EIO, "write blob '%s': %s", digest, archive_error_string(s->a));
	s->written = cb_strv_push(s->written, digest);
	return 0;
}

/* One image: its blobs, its manifest.json entry and its index.json entry.
 * as_ref (may be NULL) replaces the image's own name; oci_tag (may be NULL)
 * replaces the tag in org.opencontainers.image.ref.name. */
static int save_image(saver_t *s, const char *what, const char *as_ref, const char *oci_tag,
		      json_t *manifests, json_t *index, json_t *repos, char **digest_out,
		      cb_error_t *err)
{
	_cleanup_free_ char *md = NULL, *full = NULL;
	if (cmd_find_image(s->st, what, &md, &full, err) < 0)
		return -1;
	if (as_ref) {
		free(full);
		if (!(full = reg_ref_normalize(as_ref, err)))
			return -1;
	}
	image_t *img = image_load_platform(s->st, md, s->platform, err);
	if (!img)
		return cb_error_wrap(err, "image '%s'", what);
	/* from here on, the image manifest (an index's child) */
	free(md);
	md = cb_xstrdup(img->manifest_digest);
	int rc = add_blob(s, md, err);
	rc = rc ? rc : add_blob(s, img->config_digest, err);
	json_t *layers = json_array();
	for (size_t i = 0; rc == 0 && i < img->manifest->n_layers; i++) {
		rc = add_blob(s, img->manifest->layers[i].digest, err);
		json_array_append_new(layers, json_sprintf("blobs/sha256/%s",
							   digest_hex(img->manifest->layers[i].digest)));
	}
	json_t *tags = json_array();
	json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", img->manifest->media_type, "digest",
				 md, "size", (json_int_t)img->manifest_size);
	if (full) {
		reg_ref_t r;
		if (reg_ref_parse(full, 0, &r, NULL) == 0) {
			_cleanup_free_ char *fam = reg_ref_familiar(&r);
			_cleanup_free_ char *repo = reg_ref_familiar_repo(&r);
			json_array_append_new(tags, oci_json_str(fam));
			json_object_set_new(desc, "annotations",
					    json_pack("{s:s, s:s}", "io.containerd.image.name", full,
						      "org.opencontainers.image.ref.name",
						      oci_tag ? oci_tag : r.tag ? r.tag : "latest"));
			json_t *tagmap = json_object_get(repos, repo);
			if (!tagmap)
				json_object_set_new(repos, repo, tagmap = json_object());
			json_object_set_new(tagmap, r.tag ? r.tag : "latest",
					    oci_json_str(digest_hex(img->config_digest)));
			reg_ref_release(&r);
		}
	}
	json_array_append_new(manifests,
			      json_pack("{s:s+, s:o, s:o}", "Config", "blobs/sha256/",
					digest_hex(img->config_digest), "RepoTags", tags, "Layers",
					layers));
	if (!full && oci_tag)
		json_object_set_new(desc, "annotations",
				    json_pack("{s:s}", "org.opencontainers.image.ref.name", oci_tag));
	json_array_append_new(index, desc);
	image_free(img);
	if (rc == 0 && digest_out)
		*digest_out = cb_steal_pointer(&md);
	return rc;
}

static int add_json(saver_t *s, const char *name, json_t *j, cb_error_t *err)
{
	_cleanup_free_ char *text = oci_json_dumps(j, JSON_COMPACT);
	return add_bytes(s, name, text, strlen(text), err);
}

static int write_archive(saver_t *s, char *const *images, int n, const char *as_ref,
			 const char *oci_tag, char **digest_out, cb_error_t *err)
{
	json_t *manifests = json_array(), *index_m = json_array(), *repos = json_object();
	int rc = add_dir(s, "blobs", err);
	rc = rc ? rc : add_dir(s, "blobs/sha256", err);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = save_image(s, images[i], as_ref, oci_tag, manifests, index_m, repos,
				digest_out, err);
	json_t *index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
				  "manifests", index_m);
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	rc = rc ? rc : add_bytes(s, "oci-layout", layout, strlen(layout), err);
	rc = rc ? rc : add_json(s, "index.json", index, err);
	rc = rc ? rc : add_json(s, "manifest.json", manifests, err);
	rc = rc ? rc : add_json(s, "repositories", repos, err);
	json_decref(index);
	json_decref(manifests);
	json_decref(repos);
	return rc;
}

/* Write the archive to `out` (beside it, then renamed) or to stdout. */
static int save_to(store_t *st, const char *platform, const char *out, char *const *images, int n,
		   const char *as_ref, const char *oci_tag, char **digest_out, cb_error_t *err)
{
	saver_t s = {.st = st, .platform = platform, .a = archive_write_new()};
	archive_write_set_format_pax_restricted(s.a);
	_cleanup_free_ char *tmp = out ? cb_asprintf("%s.tmp-%d", out, (int)getpid()) : NULL;
	int rc = (tmp ? archive_write_open_filename(s.a, tmp) : archive_write_open_fd(s.a, 1));
	if (rc != ARCHIVE_OK) {
		rc = cb_error_fail(err, EIO, "open '%s': %s", out ? out : "stdout",
				   archive_error_string(s.a));
	} else {
		rc = write_archive(&s, images, n, as_ref, oci_tag, digest_out, err);
		if (archive_write_close(s.a) != ARCHIVE_OK && rc == 0)
			rc = cb_error_fail(err, EIO, "write '%s': %s", out ? out : "stdout",
					   archive_error_string(s.a));
	}
	archive_write_free(s.a);
	cb_strv_free(s.written);
	if (tmp && rc == 0 && rename(tmp, out) < 0)
		rc = cb_error_errno(err, "rename into '%s'", out);
	if (tmp && rc < 0)
		unlink(tmp);
	return rc;
}

int cmd_save_archive(store_t *st, const char *file, const char *image, const char *as_ref,
		     const char *oci_tag, char **digest_out, cb_error_t *err)
{
	char *images[] = {(char *)image};
	_cleanup_free_ char *md = NULL;
	if (save_to(st, NULL, file, images, 1, as_ref, oci_tag, &md, err) < 0)
		return cb_error_wrap(err, "write archive '%s'", file);
	if (digest_out)
		*digest_out = cb_steal_pointer(&md);
	return 0;
}

enum { O_PLATFORM = CMD_OPT_LONG };

const cmd_opt_t cmd_save_opts[] = {
	{"output", 'o', CMD_ARG_REQUIRED, "FILE", "write to FILE instead of standard output"},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]", "save only this platform"},
	{0}};

int cmd_save(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *out = NULL, *platform = NULL;
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'o')
			out = p.arg;
		else if (c == O_PLATFORM && cmd_check_platform(p.arg, err) < 0)
			return CMD_USAGE;
		else if (c == O_PLATFORM)
			platform = p.arg;
	}
	if (c < 0)
		return c;
	if (p.nargs < 1)
		return cmd_usage_error(err, "'save' needs at least 1 image");
	if (out && !*out)
		return cmd_usage_error(err, "invalid output path '': empty (use -o FILE)");
	if (!out && isatty(1))
		return cmd_usage_error(err, "refusing to write an archive to a terminal: use -o FILE");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	return save_to(st, platform, out, p.args, p.nargs, NULL, NULL, NULL, err);
}
