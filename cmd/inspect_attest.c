/*
 * cmd/inspect_attest.c - `cbuild inspect --sbom|--provenance IMAGE`: the
 * predicate of the image's SPDX or SLSA provenance attestation (what
 * `docker buildx imagetools inspect --format '{{json .SBOM}}'` shows), as
 * indented JSON. The image is this machine's of the index a name holds, or --platform's.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "cmd/inspect_attest.h"
#include "common/util.h"
#include "store/attest.h"

int cmd_print_attestation(store_t *st, const char *what, const char *platform, bool sbom,
			  cb_error_t *err)
{
	_cleanup_free_ char *digest = NULL, *data = NULL;
	size_t len = 0;
	const char *type = sbom ? PREDICATE_SPDX : PREDICATE_SLSA1;
	if (cmd_find_image(st, what, &digest, NULL, err) < 0)
		return -1;
	if (store_attest_read(st, digest, platform, type, &data, &len, err) < 0)
		return cb_error_wrap(err, "image '%s'", what);
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	json_t *pred = json_object_get(j, "predicate");
	if (!pred) {
		json_decref(j);
		return cb_error_fail(err, EBADMSG, "image '%s': the %s attestation has no predicate",
				     what, sbom ? "SBOM" : "provenance");
	}
	char *s = json_dumps(pred, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}
