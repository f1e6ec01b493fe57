#!/usr/bin/env bash
# -f - (Dockerfile on stdin), CONTEXT - (a tar on stdin), --iidfile, -q,
# the no-verb form and --dry-run.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
id=$(printf 'FROM busybox\nCOPY data.txt /d\n' | cb build -q -t in:1 -f - "$BUILDS/course"); ok $? "Dockerfile from stdin"
unpack in:1 "$T/u"
is "$(cat "$T/u/rootfs/d")" "hello data" "it used the context given"
id2=$(tar -C "$BUILDS/course" -cf - . | cb build -q -t in:2 -); ok $? "context tar from stdin"
unpack in:2 "$T/u"
is "$(cat "$T/u/rootfs/tmp/data.txt")" "hello data" "the tar context was used"
out=$(cd "$BUILDS/course" && "$CBUILD" --root "$ROOT" -q -t noverb:1 --iidfile "$T/iid" .); ok $? "cbuild -t NAME . (no verb)"
is "$(cat "$T/iid")" "$out" "--iidfile holds the image ID"
like "$(cb images)" "noverb +1" "the image is tagged"
before=$(ls "$ROOT/blobs/sha256" | wc -l)
plan=$(cb build --dry-run -t dry:1 "$BUILDS/course"); ok $? "--dry-run"
like "$plan" "STEP 7/7: CMD" "--dry-run prints the numbered plan"
is "$(ls "$ROOT/blobs/sha256" | wc -l)" "$before" "--dry-run writes no blob"
unlike "$(cb images)" "dry" "--dry-run tags nothing"
done_testing
