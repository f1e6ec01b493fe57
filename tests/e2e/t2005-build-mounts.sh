#!/usr/bin/env bash
# RUN --mount: a cache directory that persists and stays out of layers; a
# secret that never reaches a layer or the history.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
cb build -q -t cm:1 "$BUILDS/cachemount" >/dev/null; ok $? "cache mount build"
cb build -q -t cm:1 --no-cache "$BUILDS/cachemount" >/dev/null; ok $? "second build (no step cache)"
unpack cm:1 "$T/u"
is "$(cat "$T/u/rootfs/runs-seen" | tr -d ' ')" "2" "the cache directory persisted across builds"
[ ! -e "$T/u/rootfs/var/cache/app/runs" ]; ok $? "its content is not in the image"

echo -n "s3cr3t-value-123" > "$T/token"
cb build -q -t sec:1 --secret id=token,src="$T/token" "$BUILDS/secret" >/dev/null; ok $? "secret build"
unpack sec:1 "$T/u"
is "$(cat "$T/u/rootfs/token-length" | tr -d ' ')" "16" "the secret was readable in RUN"
is "$(cat "$T/u/rootfs/secret-ok")" "ok" "secret at a custom target"
found=0
for b in "$ROOT"/blobs/sha256/*; do
	if zcat -f "$b" 2>/dev/null | grep -q "s3cr3t-value-123"; then found=1; fi
done
is "$found" 0 "the secret is in no blob (layers, configs, history)"
[ ! -e "$T/u/rootfs/run/secrets/token" ] || [ ! -s "$T/u/rootfs/run/secrets/token" ]; ok $? "no secret file left in the image"
err=$(cb build -q -t sec:2 --no-cache "$BUILDS/secret" 2>&1); is $? 1 "missing secret: exit 1"
done_testing
