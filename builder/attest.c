/*
 * builder/attest.c - the attestations of a build (--sbom, --provenance):
 * in-toto statements about the final image, stored with it as BuildKit
 * stores them (store/attest.h), so the tag names an index.
 *
 * Nothing is attached unless asked for: a local `docker build` keeps no
 * attestations in docker's image store either (BuildKit attaches its
 * default min provenance only when it exports to a registry or an OCI
 * layout), and an index instead of a plain manifest changes the digest
 * that `images --digests` and pushes show. --sbom alone brings min
 * provenance with it, as buildx does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/attest.h"
#include "builder/internal.h"
#include "builder/sbom.h"
#include "builder/steps.h"
#include "store/attest.h"

#ifndef CBUILD_VERSION
#define CBUILD_VERSION "0.1"
#endif

void bld_attest_note_bases(build_t *b)
{
	for (size_t pos = 0; pos < b->plan->n_stages; pos++) {
		const df_stage_t *st = &b->plan->stages[pos];
		const bld_state_t *s = &b->bases[st->index];
		if (st->base_kind == DF_BASE_IMAGE && s->manifest_digest[0])
			b->base_refs = cb_strv_push_take(b->base_refs, cb_asprintf("%s@%s", st->base_image,
										   s->manifest_digest));
	}
}

/* pkg:docker/NAME?platform=linux%2Famd64 for every tag (BuildKit's subject
 * names), all with the image manifest's digest. */
static json_t *subjects(build_t *b, const bld_state_t *final)
{
	json_t *v = json_array();
	const char *hex = digest_hex(final->manifest_digest);
	_cleanup_free_ char *plat = oci_platform_string(final->config->os, final->config->architecture,
						       final->config->variant);
	cb_buf_t enc;
	cb_buf_init(&enc);
	for (const char *p = plat; *p; p++)
		if (*p == '/')
			cb_buf_addstr(&enc, "%2F");
		else
			cb_buf_addch(&enc, *p);
	size_t n = cb_strv_len(b->o->tags);
	for (size_t i = 0; i < (n ? n : 1); i++)
		json_array_append_new(
			v, json_pack("{s:o, s:{s:s}}", "name",
				     json_sprintf("pkg:docker/%s?platform=%s", n ? b->o->tags[i] : "image",
						  enc.data),
				     "digest", "sha256", hex));
	cb_buf_release(&enc);
	return v;
}

static json_t *statement(build_t *b, const bld_state_t *final, const char *type, json_t *predicate)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "_type", "https://in-toto.io/Statement/v0.1",
			 "predicateType", type, "subject", subjects(b, final), "predicate", predicate);
}

static char **stage_names(const df_plan_t *p)
{
	char **v = NULL;
	for (size_t i = 0; i < p->n_stages; i++)
		v = cb_strv_push_take(v, p->stages[i].name ? cb_xstrdup(p->stages[i].name)
							    : cb_asprintf("%d", p->stages[i].index));
	return v;
}

static int scan_image(build_t *b, const bld_state_t *final, bld_pkgs_t *pkgs, cb_error_t *err)
{
	if (!final->n_layers)
		return 0;
	bld_snap_t snap = {0};
	if (bld_snap_open(b->st, final, true, &snap, err) < 0)
		return cb_error_wrap(err, "sbom: mount the image");
	int rc = 0;
	int fd = open(snap.merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		rc = cb_error_errno(err, "sbom: open '%s'", snap.merged);
	else
		rc = bld_sbom_scan(fd, pkgs, err);
	if (fd >= 0)
		close(fd);
	bld_snap_close(&snap);
	return rc;
}

static int sbom_statement(build_t *b, const bld_state_t *final, char **out, cb_error_t *err)
{
	bld_pkgs_t pkgs = {0};
	if (scan_image(b, final, &pkgs, err) < 0) {
		bld_pkgs_release(&pkgs);
		return -1;
	}
	_cleanup_strv_ char **stages = stage_names(b->plan);
	bld_sbom_meta_t m = {.image_name = b->o->tags ? b->o->tags[0] : NULL,
			     .created = b->created,
			     .tool = "Tool: cbuild-" CBUILD_VERSION,
			     .bases = b->base_refs,
			     .stages = stages};
	json_t *st = statement(b, final, PREDICATE_SPDX, bld_sbom_spdx(&pkgs, &m));
	*out = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(st);
	bld_log(b, "SBOM: %zu packages\n", pkgs.n);
	bld_pkgs_release(&pkgs);
	return 0;
}

/* The statements the options ask for (a[i].statement: the caller frees). */
static int statements(build_t *b, const bld_state_t *final, store_attestation_t a[2], size_t *n,
		      cb_error_t *err)
{
	*n = 0;
	if (b->o->sbom) {
		char *sbom = NULL;
		if (sbom_statement(b, final, &sbom, err) < 0)
			return -1;
		a[(*n)++] = (store_attestation_t){PREDICATE_SPDX, sbom, strlen(sbom)};
	}
	if (b->o->provenance != BLD_PROVENANCE_NONE) {
		json_t *st = statement(b, final, PREDICATE_SLSA1, bld_provenance(b, CBUILD_VERSION));
		char *prov = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(st);
		a[(*n)++] = (store_attestation_t){PREDICATE_SLSA1, prov, strlen(prov)};
	}
	return 0;
}

static void statements_release(store_attestation_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)a[i].statement);
}

int bld_attest(build_t *b, const bld_state_t *final, char digest[DIGEST_STR_LEN + 1],
	       cb_error_t *err)
{
	store_attestation_t a[2];
	size_t n = 0;
	if (statements(b, final, a, &n, err) < 0)
		return -1;
	int64_t size = 0;
	int rc = n ? store_attest_index(b->st, final->manifest_digest, a, n, digest, &size, err) : 0;
	statements_release(a, n);
	return rc;
}

int bld_attest_entry(build_t *b, const bld_state_t *final, char **entry, cb_error_t *err)
{
	store_attestation_t a[2];
	size_t n = 0;
	json_t *desc = NULL;
	*entry = NULL;
	if (statements(b, final, a, &n, err) < 0)
		return -1;
	int rc = n ? store_attest_manifest(b->st, final->manifest_digest, a, n, &desc, err) : 0;
	statements_release(a, n);
	if (desc)
		*entry = json_dumps(desc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(desc);
	return rc;
}
