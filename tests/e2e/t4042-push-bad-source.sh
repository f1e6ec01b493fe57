#!/bin/bash
# push of a source that is no image: a missing local image, a blob of the
# store that is JSON but no manifest. Each fails with the one error line and
# exit 1, nothing else (under make asan, a leak exits 23 and a use after
# free prints a report: both were there).
. "$(dirname "$0")/lib.sh"
import_busybox

err=$(cb push "localhost:1/nothere-$$:1" 2>&1); rc=$?
is "$rc" 1 "pushing a missing local image exits 1"
is "$err" "cbuild: error: push 'localhost:1/nothere-$$:1': image not known: 'localhost:1/nothere-$$:1'" \
	"with the one error line"

# a blob of the store that is JSON with a mediaType of no manifest
mt=application/vnd.example.not-a-manifest.v$$+json
printf '{"mediaType":"%s"}' "$mt" > "$T/blob"
d=$(sha256sum < "$T/blob" | cut -d' ' -f1)
cp "$T/blob" "$ROOT/blobs/sha256/$d"
err=$(cb push "sha256:$d" "oci:$T/out" 2>&1); rc=$?
is "$rc" 1 "pushing a blob that is no manifest exits 1"
is "$err" "cbuild: error: push 'sha256:$d': 'sha256:$d' is not an image manifest ($mt)" \
	"the error names its media type"
done_testing
