/*
 * builder/platform.c - builds for other platforms: one build per platform
 * of `--platform P1,P2` joined into one image index, and the check that a
 * RUN for a foreign platform has an emulator to run under.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/internal.h"
#include "common/fs.h"
#include "common/util.h"
#include "runtime/isolation.h"
#include "store/index.h"

/* ---- RUN for a foreign platform ---- */

#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"

/* qemu's name for an architecture (qemu-aarch64, qemu-arm, ...). */
static const char *qemu_name(const char *arch)
{
	static const struct {
		const char *arch, *qemu;
	} m[] = {
		{"arm64", "aarch64"}, {"arm", "arm"},       {"386", "i386"},
		{"amd64", "x86_64"},  {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
		{"riscv64", "riscv64"}, {"mips64le", "mips64el"}, {"mips64", "mips64"},
		{"loong64", "loongarch64"},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(m); i++)
		if (!strcmp(m[i].arch, arch))
			return m[i].qemu;
	return arch;
}

typedef enum { EMU_NONE, EMU_NO_F_FLAG, EMU_OK } emu_state_t;

/* A binfmt_misc entry naming qemu-NAME as interpreter: enabled, and with
 * the F flag (the interpreter opened when registered), which a RUN needs
 * because its root has no /usr/bin/qemu-*-static of its own. */
static emu_state_t binfmt_entry(const char *dir, const char *name, const char *qemu)
{
	_cleanup_free_ char *path = cb_asprintf("%s/%s", dir, name);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(path, 1 << 16, &text, &len, &e) < 0) {
		cb_error_release(&e);
		return EMU_NONE;
	}
	/* qemu-user-static's is /usr/libexec/qemu-binfmt/aarch64-binfmt-P,
	 * others' /usr/bin/qemu-aarch64-static: the entry's name or its
	 * interpreter names the architecture */
	_cleanup_free_ char *byname = cb_asprintf("qemu-%s", qemu);
	_cleanup_free_ char *wrapper = cb_asprintf("/%s-binfmt", qemu);
	const char *interp = strstr(text, "interpreter ");
	size_t il = interp ? strcspn(interp, "\n") : 0;
	_cleanup_free_ char *iline = interp ? cb_xstrndup(interp, il) : NULL;
	if (strncmp(text, "enabled", 7) ||
	    (strcmp(name, byname) && (!iline || (!strstr(iline, byname) && !strstr(iline, wrapper)))))
		return EMU_NONE;
	const char *flags = strstr(text, "flags: ");
	if (!flags)
		return EMU_NO_F_FLAG;
	flags += 7;
	size_t fl = strcspn(flags, "\n");
	return memchr(flags, 'F', fl) ? EMU_OK : EMU_NO_F_FLAG;
}

static emu_state_t find_emulator(const char *qemu)
{
	DIR *d = opendir(BINFMT_DIR);
	if (!d)
		return EMU_NONE;
	emu_state_t best = EMU_NONE;
	struct dirent *de;
	while ((de = readdir(d)) && best != EMU_OK) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "status") ||
		    !strcmp(de->d_name, "register"))
			continue;
		emu_state_t s = binfmt_entry(BINFMT_DIR, de->d_name, qemu);
		if (s > best)
			best = s;
	}
	closedir(d);
	return best;
}

/* Why a RUN for platform ps cannot run here, or NULL when an emulator is
 * ready (or it is this machine's platform). */
static char *emulator_missing(const oci_config_t *c)
{
	oci_platform_t p = {0};
	_cleanup_free_ char *ps = oci_config_platform(c);
	if (oci_platform_parse(ps, &p, NULL) < 0 || oci_platform_is_native(&p))
		return NULL;
	oci_platform_t host;
	oci_platform_host(&host);
	_cleanup_free_ char *hs = oci_platform_format(&host);
	const char *q = qemu_name(p.arch);
	switch (find_emulator(q)) {
	case EMU_OK:
		return NULL;
	case EMU_NO_F_FLAG:
		return cb_asprintf("a RUN for platform '%s' on this %s machine: qemu-%s is "
				   "registered with binfmt_misc without the F flag, so it cannot run "
				   "inside the build's root (install qemu-user-static, whose "
				   "registration has it: apt-get install qemu-user-static "
				   "binfmt-support; update-binfmts --enable qemu-%s)",
				   ps, hs, q, q);
	default:
		return cb_asprintf("a RUN for platform '%s' on this %s machine needs an emulator: "
				   "apt-get install qemu-user-static binfmt-support, then register "
				   "it with the F flag: mount -t binfmt_misc binfmt_misc " BINFMT_DIR
				   " (if not mounted); update-binfmts --enable qemu-%s",
				   ps, hs, q);
	}
}

int bld_run_platform_hint(const oci_config_t *c, int rc, cb_error_t *err)
{
	if (rc == 0 || !err || !err->msg)
		return rc;
	_cleanup_free_ char *why = emulator_missing(c);
	if (!why && rt_isolation_get() == RT_ISO_NONE && err->code == ECHILD)
		/* what differs from a Docker build there, when a step fails */
		why = cb_xstrdup("this RUN ran without namespaces (see `cbuild info`): /proc "
				 "was empty, /dev held only null, zero, full, random, urandom "
				 "and tty");
	if (!why)
		return rc;
	cb_error_t e = CB_ERROR_INIT;
	cb_error_move(&e, err);
	char buf[1024];
	cb_error_fail(err, ENOEXEC, "%s (%s)", cb_error_format(&e, buf, sizeof(buf)), why);
	cb_error_release(&e);
	return -1;
}

/* Join one platform's cache artifact into the whole build's: entries by
 * key and layers by digest, each once. */
static int merge_artifact(bld_cache_artifact_t *all, const bld_cache_artifact_t *one,
			  cb_error_t *err)
{
	if (!one->config)
		return 0;
	json_t *oj = json_loads(one->config, 0, NULL);
	json_t *aj = all->config ? json_loads(all->config, 0, NULL) : json_incref(oj);
	if (!oj || !aj) {
		json_decref(oj);
		json_decref(aj);
		return cb_error_fail(err, EBADMSG, "a cache artifact is not JSON");
	}
	json_t *ae = json_object_get(aj, "entries");
	if (aj != oj) {
		size_t i, k;
		json_t *e, *f;
		json_array_foreach(json_object_get(oj, "entries"), i, e)
		{
			bool dup = false;
			json_array_foreach(ae, k, f)
			{
				dup = dup || json_equal(json_object_get(e, "key"), json_object_get(f, "key"));
			}
			if (!dup)
				json_array_append(ae, e);
		}
	}
	free(all->config);
	all->config = json_dumps(aj, JSON_COMPACT);
	all->config_len = strlen(all->config);
	all->n_entries = json_array_size(ae);
	json_decref(oj);
	json_decref(aj);
	for (size_t i = 0; i < one->n_layers; i++) {
		bool dup = false;
		for (size_t k = 0; k < all->n_layers && !dup; k++)
			dup = !strcmp(all->layers[k].digest, one->layers[i].digest);
		if (dup)
			continue;
		all->layers = cb_xreallocarray(all->layers, all->n_layers + 1, sizeof(oci_descriptor_t));
		oci_descriptor_t *d = &all->layers[all->n_layers++];
		memset(d, 0, sizeof(*d));
		d->media_type = cb_xstrdup(one->layers[i].media_type);
		d->digest = cb_xstrdup(one->layers[i].digest);
		d->size = one->layers[i].size;
	}
	return 0;
}

/* ---- several platforms, one index ---- */

/* The attestation manifest's index entry the build made (JSON text),
 * written as it came. */
static int add_attestation(oci_index_t *list, const char *text, cb_error_t *err)
{
	json_t *j = json_loads(text, 0, NULL);
	oci_descriptor_t d = {0};
	bool ok = oci_index_entry_from_json(j, &d);
	json_decref(j);
	if (!ok)
		return cb_error_fail(err, EBADMSG, "attestation entry without a digest");
	oci_index_append(list, &d);
	return 0;
}

int bld_build_platforms(store_t *st, const bld_opts_t *opts, const oci_platform_t *plats,
			size_t n, bld_result_t *res, cb_error_t *err)
{
	oci_index_t *index = oci_index_new(opts->docker_format);
	oci_index_t *attestations = oci_index_new(false); /* after the images, as BuildKit lists them */
	int rc = 0;
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < n && rc == 0; i++) {
		_cleanup_free_ char *ps = oci_platform_format(&plats[i]);
		bld_opts_t o = *opts;
		o.platform = ps;
		o.tags = NULL;
		o.index_child = true;
		if (o.log && o.progress != BLD_PROGRESS_QUIET)
			fprintf(o.log, "[%s] building (%zu/%zu)\n", ps, i + 1, n);
		bld_result_t one;
		memset(&one, 0, sizeof(one));
		rc = bld_build(st, &o, &one, err);
		oci_descriptor_t entry = {0};
		if (rc == 0)
			rc = image_index_entry(st, one.manifest_digest, &entry, err);
		if (rc == 0) {
			/* the platform built for, whatever the final stage's base
			 * said (FROM --platform=$BUILDPLATFORM), as BuildKit does */
			json_decref(entry.platform);
			entry.platform = image_index_platform_json(&plats[i]);
			image_index_put_entry(index, &entry);
		}
		if (rc == 0 && one.attestation)
			rc = add_attestation(attestations, one.attestation, err);
		if (rc == 0 && opts->cache_to) /* the artifacts of every platform */
			rc = merge_artifact(&res->cache, &one.cache, err);
		bld_result_release(&one);
		if (rc < 0)
			cb_error_wrap(err, "platform '%s'", ps);
	}
	_cleanup_free_ char *digest = NULL;
	int64_t size = 0;
	for (size_t k = 0; k < attestations->n_manifests; k++)
		image_index_put_entry(index, &attestations->manifests[k]);
	if (attestations->n_manifests) { /* attestations are OCI's: BuildKit's rule too */
		free(index->media_type);
		index->media_type = cb_xstrdup(MT_OCI_INDEX);
	}
	oci_index_free(attestations);
	if (rc == 0)
		rc = image_index_write(st, index, &digest, &size, err);
	const char *mt = image_index_media_type(index);
	for (size_t i = 0; rc == 0 && opts->tags && opts->tags[i]; i++)
		rc = store_set_ref(st, opts->tags[i], digest, mt, size, err);
	if (rc == 0 && (!opts->tags || !opts->tags[0]))
		rc = store_set_ref(st, NULL, digest, mt, size, err);
	if (rc == 0) {
		snprintf(res->image_id, sizeof(res->image_id), "%s", digest);
		snprintf(res->manifest_digest, sizeof(res->manifest_digest), "%s", digest);
	}
	oci_index_free(index);
	return rc;
}
