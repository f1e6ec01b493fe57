/*
 * tests/fuzz/fuzz_wire.c - libFuzzer target for what cbuild reads from a
 * registry or a user that is not a Dockerfile: image references, the
 * WWW-Authenticate challenge, Location and Retry-After headers, base64
 * (auth files), image configs and manifests (JSON), platform strings and
 * timestamps (`make fuzz`).
 *
 *   build-fuzz/fuzz/fuzz_wire -max_total_time=300 -max_len=4096 CORPUS_DIR
 *
 * The bytes go, whole and NUL-terminated, to every parser in turn; each
 * result is printed back (to_json, full/familiar forms) so that the
 * writers see what the readers accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "registry/reference.h"
#include "registry/wire.h"
#include "store/image.h"

static void fuzz_reference(const char *s)
{
	static const unsigned flags[] = {0, REG_REF_NO_DEFAULT_TAG, REG_REF_NAME_ONLY};
	cb_error_t err = CB_ERROR_INIT;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		reg_ref_t r;
		if (reg_ref_parse(s, flags[i], &r, &err) < 0) {
			cb_error_release(&err);
			continue;
		}
		char *full = reg_ref_full(&r);
		if (flags[i] == 0) {
			/* a full form must parse again to itself */
			char *again = reg_ref_normalize(full, &err);
			if (!again || strcmp(again, full) != 0)
				abort();
			free(again);
		}
		free(reg_ref_shorten(full));
		free(full);
		free(reg_ref_repo(&r));
		free(reg_ref_familiar(&r));
		free(reg_ref_familiar_repo(&r));
		reg_ref_release(&r);
	}
	free(reg_ref_shorten(s));
}

static void fuzz_headers(const char *s)
{
	cb_error_t err = CB_ERROR_INIT;
	reg_challenge_t c;
	if (reg_challenge_parse(s, &c, &err) == 0)
		reg_challenge_release(&c);
	else
		cb_error_release(&err);
	static const char *const bases[] = {"http://127.0.0.1:5000/v2/a/blobs/uploads/",
					    "https://r.example/v2/", "http://[::1]:80/x?y=1"};
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		char *u = reg_url_resolve(bases[i], s, &err);
		if (u) {
			free(reg_url_add_query(u, "digest", s));
			free(u);
		} else {
			cb_error_release(&err);
		}
	}
	(void)reg_retry_after_ms(s, (time_t)1700000000);
	size_t n = 0;
	char *dec = reg_base64_decode(s, &n);
	if (dec) {
		/* what decodes must encode back to something that decodes the same */
		char *enc = reg_base64_encode(dec, n);
		size_t n2 = 0;
		char *dec2 = reg_base64_decode(enc, &n2);
		if (!dec2 || n2 != n || memcmp(dec, dec2, n) != 0)
			abort();
		free(dec2);
		free(enc);
		free(dec);
	}
}

static void fuzz_documents(const char *data, size_t len)
{
	cb_error_t err = CB_ERROR_INIT;
	oci_config_t *c = oci_config_from_json(data, len, &err);
	if (c) {
		char *j = oci_config_to_json(c);
		/* what we write we must read back */
		oci_config_t *c2 = oci_config_from_json(j, strlen(j), &err);
		if (!c2)
			abort();
		oci_config_free(c2);
		free(j);
		oci_config_free(c);
	} else {
		cb_error_release(&err);
	}
	oci_manifest_t *m = oci_manifest_from_json(data, len, &err);
	if (m) {
		char *j = oci_manifest_to_json(m);
		oci_manifest_t *m2 = oci_manifest_from_json(j, strlen(j), &err);
		if (!m2)
			abort();
		oci_manifest_free(m2);
		free(j);
		oci_manifest_free(m);
	} else {
		cb_error_release(&err);
	}
	(void)oci_document_media_type(data, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = cb_xstrndup((const char *)data, size);
	fuzz_reference(s);
	fuzz_headers(s);
	fuzz_documents((const char *)data, size);
	cb_error_t err = CB_ERROR_INIT;
	oci_platform_t p;
	if (oci_platform_parse(s, &p, &err) == 0)
		free(oci_platform_string(p.os, p.arch, p.variant));
	else
		cb_error_release(&err);
	(void)oci_time_parse(s);
	free(s);
	return 0;
}
