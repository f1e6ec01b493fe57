/* cmd/inspect_attest.h - inspect --sbom / --provenance (cmd/inspect_attest.c). */
#ifndef CB_CMD_INSPECT_ATTEST_H
#define CB_CMD_INSPECT_ATTEST_H

#include <stdbool.h>

#include "common/error.h"
#include "store/store.h"

/* Print the SBOM (sbom) or provenance predicate of image `what`. ENOENT
 * when the image has none. */
int cmd_print_attestation(store_t *st, const char *what, const char *platform, bool sbom,
			  cb_error_t *err);

#endif
