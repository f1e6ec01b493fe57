#include "store/archive.h"

#include "store/archive_lazy.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"
#include "store/image.h"
#include "store/json.h"
#include "store/layer.h"
#include "store/lease.h"

/* ---- writing ---- */

#define SAVE_EPOCH 0

typedef struct saver {
	struct archive *a;
	store_t *st;
	char **written; /* blob digests already in the archive */
} saver_t;

static int add_entry(saver_t *s, const char *name, mode_t type, int64_t size, cb_error_t *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	if (type == AE_IFREG)
		archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, SAVE_EPOCH, 0);
	int rc = archive_write_header(s->a, e) == ARCHIVE_OK
			 ? 0
			 : cb_error_fail(err, EIO, "write '%s': %s", name, archive_error_string(s->a));
	archive_entry_free(e);
	return rc;
}

static int add_bytes(saver_t *s, const char *name, const void *data, size_t len, cb_error_t *err)
{
	if (add_entry(s, name, AE_IFREG, (int64_t)len, err) < 0)
		return -1;
	if (len && archive_write_data(s->a, data, len) != (la_ssize_t)len)
		return cb_error_fail(err, EIO, "write '%s': %s", name, archive_error_string(s->a));
	return 0;
}

static int add_json(saver_t *s, const char *name, json_t *j, cb_error_t *err)
{
	_cleanup_free_ char *text = oci_json_dumps(j, JSON_COMPACT);
	return add_bytes(s, name, text, strlen(text), err);
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
	if (add_entry(s, name, AE_IFREG, sb.st_size, err) < 0)
		return -1;
	static char buf[1 << 17];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(s->a, buf, (size_t)n) != n)
			return cb_error_fail(err, EIO, "write blob '%s': %s", digest,
					     archive_error_string(s->a));
	if (n < 0)
		return cb_error_errno(err, "read blob '%s'", digest);
	s->written = cb_strv_push(s->written, digest);
	return 0;
}

/* True when every manifest the index lists is in the store. */
static bool index_complete(store_t *st, const oci_index_t *ix)
{
	for (size_t i = 0; i < ix->n_manifests; i++)
		if (!store_has_blob(st, ix->manifests[i].digest))
			return false;
	return ix->n_manifests > 0 && !ix->n_invalid;
}

/* A manifest's blobs: itself, its config, its layers. */
static int add_manifest_tree(saver_t *s, const char *md, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (add_blob(s, md, err) < 0 || store_read_blob(s->st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	oci_manifest_t *m = oci_manifest_from_json(data, len, err);
	if (!m)
		return -1;
	int rc = add_blob(s, m->config.digest, err);
	for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
		rc = add_blob(s, m->layers[i].digest, err);
	oci_manifest_free(m);
	return rc;
}

/* The index a name holds, when complete: its blob and every manifest tree
 * under it. *desc becomes its index.json entry; left NULL when the index
 * is not complete (a pulled one's other platforms): the image alone goes. */
static int add_index_tree(saver_t *s, const char *index_digest, json_t **desc, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(s->st, index_digest, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	oci_index_t *ix = oci_index_from_json(data, len, err);
	if (!ix)
		return -1;
	int rc = 0;
	if (index_complete(s->st, ix)) {
		rc = add_blob(s, index_digest, err);
		for (size_t i = 0; rc == 0 && i < ix->n_manifests; i++)
			rc = add_manifest_tree(s, ix->manifests[i].digest, err);
		if (rc == 0)
			*desc = json_pack("{s:s, s:s, s:I}", "mediaType", ix->media_type, "digest",
					  index_digest, "size", (json_int_t)len);
	}
	oci_index_free(ix);
	return rc;
}

/* One image: its blobs, its manifest.json entry, its index.json entry and
 * its repositories entry. */
static int save_image(saver_t *s, const store_archive_image_t *im, json_t *manifests,
		      json_t *index, json_t *repos, cb_error_t *err)
{
	image_t *img = image_load(s->st, im->manifest_digest, err);
	if (!img)
		return -1;
	int rc = add_blob(s, img->manifest_digest, err);
	rc = rc ? rc : add_blob(s, img->config_digest, err);
	json_t *layers = json_array();
	for (size_t i = 0; rc == 0 && i < img->manifest->n_layers; i++) {
		rc = add_blob(s, img->manifest->layers[i].digest, err);
		json_array_append_new(layers, json_sprintf("blobs/sha256/%s",
							   digest_hex(img->manifest->layers[i].digest)));
	}
	json_t *tags = json_array();
	if (im->repo_tag)
		json_array_append_new(tags, oci_json_str(im->repo_tag));
	json_t *desc = NULL;
	if (rc == 0 && im->index_digest)
		rc = add_index_tree(s, im->index_digest, &desc, err);
	if (!desc)
		desc = json_pack("{s:s, s:s, s:I}", "mediaType", img->manifest->media_type, "digest",
				 img->manifest_digest, "size", (json_int_t)img->manifest_size);
	if (im->full_name)
		json_object_set_new(desc, "annotations",
				    json_pack("{s:s, s:s}", "io.containerd.image.name", im->full_name,
					      "org.opencontainers.image.ref.name",
					      im->ref_name ? im->ref_name : "latest"));
	else if (im->ref_name)
		json_object_set_new(desc, "annotations",
				    json_pack("{s:s}", "org.opencontainers.image.ref.name",
					      im->ref_name));
	if (im->repo && im->tag) {
		json_t *tagmap = json_object_get(repos, im->repo);
		if (!tagmap)
			json_object_set_new(repos, im->repo, tagmap = json_object());
		json_object_set_new(tagmap, im->tag, oci_json_str(digest_hex(img->config_digest)));
	}
	json_array_append_new(manifests,
			      json_pack("{s:s+, s:o, s:o}", "Config", "blobs/sha256/",
					digest_hex(img->config_digest), "RepoTags", tags, "Layers",
					layers));
	json_array_append_new(index, desc);
	image_free(img);
	return rc;
}

static int write_archive(saver_t *s, const store_archive_image_t *images, size_t n,
			 cb_error_t *err)
{
	json_t *manifests = json_array(), *index_m = json_array(), *repos = json_object();
	int rc = add_entry(s, "blobs", AE_IFDIR, 0, err);
	rc = rc ? rc : add_entry(s, "blobs/sha256", AE_IFDIR, 0, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = save_image(s, &images[i], manifests, index_m, repos, err);
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

int store_archive_write(store_t *st, const char *file, const store_archive_image_t *images,
			size_t n, cb_error_t *err)
{
	saver_t s = {.st = st, .a = archive_write_new()};
	archive_write_set_format_pax_restricted(s.a);
	_cleanup_free_ char *tmp = file ? cb_asprintf("%s.tmp-%d", file, (int)getpid()) : NULL;
	int rc = (tmp ? archive_write_open_filename(s.a, tmp) : archive_write_open_fd(s.a, 1));
	if (rc != ARCHIVE_OK) {
		rc = cb_error_fail(err, EIO, "open '%s': %s", file ? file : "stdout",
				   archive_error_string(s.a));
	} else {
		rc = write_archive(&s, images, n, err);
		if (archive_write_close(s.a) != ARCHIVE_OK && rc == 0)
			rc = cb_error_fail(err, EIO, "write '%s': %s", file ? file : "stdout",
					   archive_error_string(s.a));
	}
	archive_write_free(s.a);
	cb_strv_free(s.written);
	if (tmp && rc == 0 && rename(tmp, file) < 0)
		rc = cb_error_errno(err, "rename into '%s'", file);
	if (tmp && rc < 0)
		unlink(tmp);
	return rc;
}

/* ---- reading ---- */

typedef struct loader {
	store_t *st;
	int dirfd; /* the archive, extracted */
	store_archive_loaded_fn fn;
	void *ctx;
} loader_t;

/* A file of the archive, opened inside it: a symlink the archive holds
 * (manifest.json -> /etc/shadow, blobs -> /) resolves inside it too. */
static int open_in(const loader_t *l, const char *rel, cb_error_t *err)
{
	int fd = cb_open_in_root(l->dirfd, rel, O_RDONLY, 0);
	if (fd < 0)
		return cb_error_errno(err, "archive lacks '%s'", rel);
	return fd;
}

static int read_in(const loader_t *l, const char *rel, size_t max, char **data, size_t *len,
		   cb_error_t *err)
{
	_cleanup_close_ int fd = open_in(l, rel, err);
	struct stat sb;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max)
		return cb_error_fail(err, EINVAL, "archive's '%s': not a file of at most %zu bytes",
				     rel, max);
	char *buf = cb_xmalloc((size_t)sb.st_size + 1);
	ssize_t n = cb_read_all(fd, buf, (size_t)sb.st_size, err);
	if (n < 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*data = buf;
	*len = (size_t)n;
	return 0;
}

/* A JSON document of the archive, or NULL. */
static json_t *json_in(const loader_t *l, const char *rel)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (read_in(l, rel, IMAGE_JSON_MAX, &data, &len, &e) < 0) {
		cb_error_release(&e);
		return NULL;
	}
	return json_loadb(data, len, 0, NULL);
}

/* The archive's files, through the extractor that unpacks layers: no chdir,
 * no entry resolved outside dir. Image archives hold only files and
 * directories; whatever else a hostile one holds stays inside dir. */
static int extract(const char *file, const char *dir, cb_error_t *err)
{
	_cleanup_close_ int fd = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (strcmp(file, "-") && fd < 0)
		return cb_error_errno(err, "open '%s'", file);
	if (layer_extract_plain(fd >= 0 ? fd : 0, dir, err) < 0)
		return cb_error_wrap(err, "'%s' is not a readable image archive", file);
	return 0;
}

/* Copy DIR/blobs/sha256/HEX into the store, checking its digest. */
static int copy_blob(loader_t *l, const char *digest, cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	if (store_has_blob(l->st, digest))
		return 0;
	_cleanup_free_ char *p = cb_asprintf("blobs/sha256/%s", digest_hex(digest));
	_cleanup_close_ int fd = cb_open_in_root(l->dirfd, p, O_RDONLY, 0);
	if (fd < 0)
		return cb_error_errno(err, "archive lacks blob '%s'", digest);
	store_blob_writer_t *w = store_blob_writer_new(l->st, err);
	if (!w)
		return -1;
	static char buf[1 << 17];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (store_blob_writer_write(w, buf, (size_t)n, err) < 0) {
			store_blob_writer_abort(w);
			return -1;
		}
	if (n < 0) {
		store_blob_writer_abort(w);
		return cb_error_errno(err, "read '%s'", p);
	}
	return store_blob_writer_commit(w, digest, NULL, err);
}

static bool in_archive(const loader_t *l, const char *digest)
{
	if (digest_validate(digest, NULL) < 0)
		return false;
	_cleanup_free_ char *p = cb_asprintf("blobs/sha256/%s", digest_hex(digest));
	int fd = cb_open_in_root(l->dirfd, p, O_RDONLY, 0);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int load_manifest(loader_t *l, const char *md, int depth, char **chosen, cb_error_t *err)
{
	if (depth > 2)
		return cb_error_fail(err, EINVAL, "indexes nested too deeply");
	if (copy_blob(l, md, err) < 0)
		return -1;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(l->st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	if (oci_media_type_is_index(oci_document_media_type(data, len))) {
		oci_index_t *ix = oci_index_from_json(data, len, err);
		if (!ix)
			return -1;
		const oci_descriptor_t *pick = ix->n_invalid ? NULL : oci_index_pick_native(ix);
		int rc = pick ? load_manifest(l, pick->digest, depth + 1, chosen, err)
			      : cb_error_fail(err, EINVAL, "%s index '%s'",
					      ix->n_invalid ? "invalid" : "empty", md);
		/* the other manifests the archive holds (other platforms,
		 * attestations) come too; the name then holds the index */
		for (size_t i = 0; rc == 0 && i < ix->n_manifests; i++) {
			_cleanup_free_ char *other = NULL;
			if (ix->manifests[i].digest == pick->digest || !in_archive(l, ix->manifests[i].digest))
				continue;
			rc = load_manifest(l, ix->manifests[i].digest, depth + 1, &other, err);
		}
		if (rc == 0 && depth == 0) {
			free(*chosen);
			*chosen = cb_xstrdup(md);
		}
		oci_index_free(ix);
		return rc;
	}
	oci_manifest_t *m = oci_manifest_from_json(data, len, err);
	if (!m)
		return -1;
	int rc = copy_blob(l, m->config.digest, err);
	for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
		rc = copy_blob(l, m->layers[i].digest, err);
	oci_manifest_free(m);
	if (rc == 0)
		*chosen = cb_xstrdup(md);
	return rc;
}

static int load_oci_layout(loader_t *l, const oci_index_t *ix, cb_error_t *err)
{
	if (ix->n_invalid)
		return cb_error_fail(err, EINVAL, "index.json: %zu entries without a valid digest",
				     ix->n_invalid);
	for (size_t i = 0; i < ix->n_manifests; i++) {
		json_t *ann = ix->manifests[i].annotations;
		const char *n = json_string_value(json_object_get(ann, "io.containerd.image.name"));
		if (!n)
			n = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
		_cleanup_free_ char *chosen = NULL;
		if (load_manifest(l, ix->manifests[i].digest, 0, &chosen, err) < 0 ||
		    l->fn(l->ctx, n, false, chosen, err) < 0)
			return -1;
	}
	return 0;
}

/* The layers of a classic entry, each tar written as a layer blob and
 * checked against the config's diff_ids, into m. */
static int load_docker_layers(loader_t *l, json_t *layers, const oci_config_t *config,
			      oci_manifest_t *m, cb_error_t *err)
{
	for (size_t i = 0; i < json_array_size(layers); i++) {
		const char *lp = json_string_value(json_array_get(layers, i));
		_cleanup_close_ int fd = lp ? cb_open_in_root(l->dirfd, lp, O_RDONLY, 0) : -1;
		layer_opts_t lo = LAYER_OPTS_INIT;
		layer_result_t res;
		if (fd < 0)
			return cb_error_fail(err, ENOENT, "archive lacks layer '%s'", lp ? lp : "?");
		if (layer_write_tar(l->st, fd, &lo, &res, err) < 0)
			return -1;
		if (!cb_streq(config->diff_ids[i], res.diff_id))
			return cb_error_fail(err, EBADMSG, "layer '%s' does not match the config's "
							   "diff_id '%s'",
					     lp, config->diff_ids[i] ? config->diff_ids[i] : "");
		oci_manifest_add_layer(m, res.media_type, res.digest, res.size);
	}
	return 0;
}

/* Classic docker-archive: Config + Layers paths relative to the archive. */
static int load_docker_entry(loader_t *l, json_t *entry, cb_error_t *err)
{
	const char *cfg = json_string_value(json_object_get(entry, "Config"));
	json_t *layers = json_object_get(entry, "Layers");
	if (!cfg || !json_is_array(layers) || strstr(cfg, ".."))
		return cb_error_fail(err, EINVAL, "manifest.json: an entry lacks Config or Layers");
	_cleanup_free_ char *cdata = NULL;
	size_t clen = 0;
	char cdigest[DIGEST_STR_LEN + 1];
	if (read_in(l, cfg, IMAGE_JSON_MAX, &cdata, &clen, err) < 0 ||
	    store_put_blob(l->st, cdata, clen, NULL, cdigest, err) < 0)
		return -1;
	oci_config_t *config = oci_config_from_json(cdata, clen, err);
	if (!config)
		return -1;
	oci_manifest_t *m = oci_manifest_new(MT_OCI_MANIFEST);
	m->config.media_type = cb_xstrdup(MT_OCI_CONFIG);
	m->config.digest = cb_xstrdup(cdigest);
	m->config.size = (int64_t)clen;
	int rc = load_docker_layers(l, layers, config, m, err);
	char mdigest[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *mjson = rc == 0 ? oci_manifest_to_json(m) : NULL;
	if (rc == 0)
		rc = store_put_blob(l->st, mjson, strlen(mjson), NULL, mdigest, err);
	json_t *tags = json_object_get(entry, "RepoTags");
	for (size_t i = 0; rc == 0 && i < json_array_size(tags); i++)
		rc = l->fn(l->ctx, json_string_value(json_array_get(tags, i)), true, mdigest, err);
	if (rc == 0 && json_array_size(tags) == 0)
		rc = l->fn(l->ctx, NULL, true, mdigest, err);
	oci_manifest_free(m);
	oci_config_free(config);
	return rc;
}

static int load_dir(loader_t *l, cb_error_t *err)
{
	_cleanup_free_ char *idata = NULL;
	size_t ilen = 0;
	cb_error_t e = CB_ERROR_INIT;
	oci_index_t *index = read_in(l, "index.json", IMAGE_JSON_MAX, &idata, &ilen, &e) == 0
				     ? oci_index_from_json(idata, ilen, &e)
				     : NULL;
	cb_error_release(&e);
	int rc;
	if (index) {
		rc = load_oci_layout(l, index, err);
	} else {
		json_t *man = json_in(l, "manifest.json");
		if (!json_is_array(man)) {
			rc = cb_error_fail(err, EINVAL, "not an image archive: no index.json or "
							"manifest.json inside");
		} else {
			rc = 0;
			for (size_t i = 0; rc == 0 && i < json_array_size(man); i++)
				rc = load_docker_entry(l, json_array_get(man, i), err);
		}
		json_decref(man);
	}
	oci_index_free(index);
	return rc;
}

int store_archive_load(store_t *st, const char *file, store_archive_loaded_fn fn, void *ctx,
		       cb_error_t *err)
{
	_cleanup_free_ char *dir = store_mkdtemp(st, "load-", err);
	if (!dir)
		return -1;
	loader_t l = {.st = st, .dirfd = -1, .fn = fn, .ctx = ctx};
	int rc = extract(file, dir, err);
	if (rc == 0 && (l.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = cb_error_errno(err, "open '%s'", dir);
	if (rc == 0)
		rc = load_dir(&l, err);
	if (l.dirfd >= 0)
		close(l.dirfd);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(dir, &e) < 0)
		cb_warn_error(&e);
	return rc;
}
