/*
 * cbuild load [-i FILE] [-q]
 *
 * Reads what `docker save`, `podman save`, `skopeo copy docker-archive:` or
 * `oci-archive:` and `cbuild save` write. The archive is unpacked into the
 * store's tmp/ (securely: no entry can leave it), then
 *   - an OCI layout inside (index.json + blobs/) is copied blob by blob,
 *     every digest verified, so manifests keep their digests;
 *   - else the classic manifest.json: the config is kept byte for byte (the
 *     image ID does not change) and each layer tar becomes a layer blob.
 */
#include "store/archive_lazy.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/image.h"
#include "store/layer.h"

static int extract(const char *file, const char *dir, cb_error_t *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	struct archive *w = archive_write_disk_new();
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						  ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						  ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	_cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0, r;
	int opened = strcmp(file, "-") ? archive_read_open_filename(a, file, 1 << 16)
				       : archive_read_open_fd(a, 0, 1 << 16);
	if (opened != ARCHIVE_OK) {
		rc = cb_error_fail(err, EINVAL, "open '%s': %s", file, archive_error_string(a));
		goto out;
	}
	if (chdir(dir) < 0) {
		rc = cb_error_errno(err, "enter '%s'", dir);
		goto out;
	}
	struct archive_entry *e;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		mode_t type = archive_entry_filetype(e);
		if (type != AE_IFREG && type != AE_IFDIR)
			continue; /* archives of images hold nothing else */
		if (archive_write_header(w, e) < ARCHIVE_WARN) {
			rc = cb_error_fail(err, EINVAL, "'%s': bad entry '%s': %s", file,
					   archive_entry_pathname(e), archive_error_string(w));
			break;
		}
		const void *buf;
		size_t len;
		la_int64_t off;
		while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(w, buf, len, off) != ARCHIVE_OK) {
				r = ARCHIVE_FATAL;
				break;
			}
		if (r != ARCHIVE_EOF) {
			rc = cb_error_fail(err, EIO, "'%s': %s", file, archive_error_string(w));
			break;
		}
		archive_write_finish_entry(w);
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = cb_error_fail(err, EINVAL, "'%s' is not a readable image archive: %s", file,
				   archive_error_string(a));
out:
	if (cwd >= 0 && fchdir(cwd) < 0 && rc == 0)
		rc = cb_error_errno(err, "return to working directory");
	archive_write_free(w);
	archive_read_free(a);
	return rc;
}

/* Copy DIR/blobs/sha256/HEX into the store, checking its digest. */
static int copy_blob(store_t *st, const char *dir, const char *digest, cb_error_t *err)
{
	if (digest_validate(digest, err) < 0)
		return -1;
	if (store_has_blob(st, digest))
		return 0;
	_cleanup_free_ char *p = cb_asprintf("%s/blobs/sha256/%s", dir, digest_hex(digest));
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "archive lacks blob '%s'", digest);
	store_blob_writer_t *w = store_blob_writer_new(st, err);
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

static const char *machine_arch(void)
{
	oci_config_t *c = oci_config_new();
	static char arch[32];
	snprintf(arch, sizeof(arch), "%s", c->architecture);
	oci_config_free(c);
	return arch;
}

/* From an index in the archive, the manifest for this machine. */
static json_t *pick_platform(json_t *index)
{
	json_t *arr = json_object_get(index, "manifests");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *pf = json_object_get(json_array_get(arr, i), "platform");
		if (cb_streq(json_string_value(json_object_get(pf, "architecture")), machine_arch()) &&
		    cb_streq(json_string_value(json_object_get(pf, "os")), "linux"))
			return json_array_get(arr, i);
	}
	return json_array_get(arr, 0);
}

static int load_manifest(store_t *st, const char *dir, const char *md, int depth, char **chosen,
			 cb_error_t *err)
{
	if (depth > 2)
		return cb_error_fail(err, EINVAL, "indexes nested too deeply");
	if (copy_blob(st, dir, md, err) < 0)
		return -1;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	json_t *j = json_loadb(data, len, 0, NULL);
	if (json_is_array(json_object_get(j, "manifests"))) {
		json_t *pick = pick_platform(j);
		const char *child = json_string_value(json_object_get(pick, "digest"));
		int rc = child ? load_manifest(st, dir, child, depth + 1, chosen, err)
			       : cb_error_fail(err, EINVAL, "empty index '%s'", md);
		json_decref(j);
		return rc;
	}
	json_decref(j);
	oci_manifest_t *m = oci_manifest_from_json(data, len, err);
	if (!m)
		return -1;
	int rc = copy_blob(st, dir, m->config.digest, err);
	for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
		rc = copy_blob(st, dir, m->layers[i].digest, err);
	oci_manifest_free(m);
	if (rc == 0)
		*chosen = cb_xstrdup(md);
	return rc;
}

/* The full reference an index entry names, or NULL (untagged). */
static char *entry_name(json_t *desc)
{
	json_t *ann = json_object_get(desc, "annotations");
	const char *n = json_string_value(json_object_get(ann, "io.containerd.image.name"));
	if (!n)
		n = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
	if (!n || !strpbrk(n, "/:"))
		return NULL; /* a bare tag names no repository */
	cb_error_t e = CB_ERROR_INIT;
	char *full = reg_ref_normalize(n, &e);
	cb_error_release(&e);
	return full;
}

static int tag_loaded(store_t *st, const char *name, const char *md, bool quiet, cb_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return -1;
	oci_manifest_t *m = oci_manifest_from_json(data, len, err);
	if (!m)
		return -1;
	int rc = store_set_ref(st, name, md, m->media_type, (int64_t)len, err);
	/* docker load -q hides progress only: the names are its result */
	(void)quiet;
	if (rc == 0) {
		if (name) {
			_cleanup_free_ char *shown = reg_ref_shorten(name);
			printf("Loaded image: %s\n", shown);
		} else {
			printf("Loaded image ID: %s\n", m->config.digest);
		}
	}
	oci_manifest_free(m);
	return rc;
}

static int load_oci_layout(store_t *st, const char *dir, json_t *index, bool quiet,
			   cb_error_t *err)
{
	json_t *arr = json_object_get(index, "manifests");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *desc = json_array_get(arr, i);
		_cleanup_free_ char *chosen = NULL, *name = entry_name(desc);
		if (load_manifest(st, dir, json_string_value(json_object_get(desc, "digest")), 0,
				  &chosen, err) < 0 ||
		    tag_loaded(st, name, chosen, quiet, err) < 0)
			return -1;
	}
	return 0;
}

/* Classic docker-archive: Config + Layers paths relative to the archive. */
static int load_docker_entry(store_t *st, const char *dir, json_t *entry, bool quiet,
			     cb_error_t *err)
{
	const char *cfg = json_string_value(json_object_get(entry, "Config"));
	json_t *layers = json_object_get(entry, "Layers");
	if (!cfg || !json_is_array(layers) || strstr(cfg, ".."))
		return cb_error_fail(err, EINVAL, "manifest.json: an entry lacks Config or Layers");
	_cleanup_free_ char *cpath = cb_path_join(dir, cfg);
	_cleanup_free_ char *cdata = NULL;
	size_t clen = 0;
	char cdigest[DIGEST_STR_LEN + 1];
	if (cb_read_file(cpath, IMAGE_JSON_MAX, &cdata, &clen, err) < 0 ||
	    store_put_blob(st, cdata, clen, NULL, cdigest, err) < 0)
		return -1;
	oci_config_t *config = oci_config_from_json(cdata, clen, err);
	if (!config)
		return -1;
	oci_manifest_t *m = oci_manifest_new(MT_OCI_MANIFEST);
	m->config.media_type = cb_xstrdup(MT_OCI_CONFIG);
	m->config.digest = cb_xstrdup(cdigest);
	m->config.size = (int64_t)clen;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < json_array_size(layers); i++) {
		const char *lp = json_string_value(json_array_get(layers, i));
		_cleanup_free_ char *path = lp && !strstr(lp, "..") ? cb_path_join(dir, lp) : NULL;
		_cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		layer_opts_t lo = LAYER_OPTS_INIT;
		layer_result_t res;
		if (fd < 0) {
			rc = cb_error_fail(err, ENOENT, "archive lacks layer '%s'", lp ? lp : "?");
		} else if ((rc = layer_write_tar(st, fd, &lo, &res, err)) == 0) {
			if (!cb_streq(config->diff_ids[i], res.diff_id))
				rc = cb_error_fail(err, EBADMSG, "layer '%s' does not match the config's "
								 "diff_id '%s'",
						   lp, config->diff_ids[i] ? config->diff_ids[i] : "");
			else
				oci_manifest_add_layer(m, res.media_type, res.digest, res.size);
		}
	}
	char mdigest[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *mjson = rc == 0 ? oci_manifest_to_json(m) : NULL;
	if (rc == 0)
		rc = store_put_blob(st, mjson, strlen(mjson), NULL, mdigest, err);
	json_t *tags = json_object_get(entry, "RepoTags");
	for (size_t i = 0; rc == 0 && i < json_array_size(tags); i++) {
		_cleanup_free_ char *full = reg_ref_normalize(json_string_value(json_array_get(tags, i)),
							      err);
		rc = full ? tag_loaded(st, full, mdigest, quiet, err) : -1;
	}
	if (rc == 0 && json_array_size(tags) == 0)
		rc = tag_loaded(st, NULL, mdigest, quiet, err);
	oci_manifest_free(m);
	oci_config_free(config);
	return rc;
}

static int load_dir(store_t *st, const char *dir, bool quiet, cb_error_t *err)
{
	_cleanup_free_ char *ip = cb_path_join(dir, "index.json");
	_cleanup_free_ char *mp = cb_path_join(dir, "manifest.json");
	json_t *index = json_load_file(ip, 0, NULL);
	int rc;
	if (json_is_array(json_object_get(index, "manifests"))) {
		rc = load_oci_layout(st, dir, index, quiet, err);
	} else {
		json_t *man = json_load_file(mp, 0, NULL);
		if (!json_is_array(man)) {
			rc = cb_error_fail(err, EINVAL, "not an image archive: no index.json or "
							"manifest.json inside");
		} else {
			rc = 0;
			for (size_t i = 0; rc == 0 && i < json_array_size(man); i++)
				rc = load_docker_entry(st, dir, json_array_get(man, i), quiet, err);
		}
		json_decref(man);
	}
	json_decref(index);
	return rc;
}

const cmd_opt_t cmd_load_opts[] = {
	{"input", 'i', CMD_ARG_REQUIRED, "FILE", "read from FILE instead of standard input"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print less"},
	{0}};

int cmd_load(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *in = "-";
	bool quiet = false;
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'i')
			in = p.arg;
		else if (c == 'q')
			quiet = true;
	}
	if (c < 0)
		return c;
	if (p.nargs != 0)
		return cmd_usage_error(err, "'load' takes no arguments (use -i FILE)");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	_cleanup_free_ char *dir = store_mkdtemp(st, "load-", err);
	if (!dir)
		return -1;
	int rc = extract(in, dir, err);
	if (rc == 0)
		rc = load_dir(st, dir, quiet, err);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(dir, &e) < 0)
		cb_warn_error(&e);
	return rc < 0 ? cb_error_wrap(err, "load '%s'", in) : 0;
}
