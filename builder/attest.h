/*
 * builder/attest.h - SBOM and provenance attestations of a build
 * (builder/attest.c, builder/provenance.c). Not a public API: cmd/ asks
 * for them through bld_opts_t.sbom and .provenance.
 */
#ifndef CB_BUILDER_ATTEST_H
#define CB_BUILDER_ATTEST_H

#include <jansson.h>

#include "builder/steps.h"

/* After the bases are resolved: remember "REF@DIGEST" of each. */
void bld_attest_note_bases(build_t *b);

/* When the options ask for attestations: write them and the index that
 * holds the final image and them; digest (the final image manifest's on
 * entry) becomes the index's. Else a no-op. */
int bld_attest(build_t *b, const bld_state_t *final, char digest[DIGEST_STR_LEN + 1],
	       cb_error_t *err);

/* The same for one platform of a multi-platform build: the statements and
 * the attestation manifest of final's image are written, *entry gets the
 * manifest's index entry as JSON text (NULL when none is asked for). */
int bld_attest_entry(build_t *b, const bld_state_t *final, char **entry, cb_error_t *err);

/* The SLSA provenance v1 predicate of this build (a new reference). */
json_t *bld_provenance(build_t *b, const char *version);

#endif
