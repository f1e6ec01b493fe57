#!/usr/bin/env bash
# Issue 23.10: `cbuild fsck` finds what is broken in a store (a line each,
# exit 1) and `--repair` removes it.
. "$(dirname "$0")/lib.sh"
import_busybox
cb import -c 'CMD ["true"]' "$ROOTFS_TAR" other:1 > /dev/null
cb run --rm busybox true; ok $? "unpack busybox's layer"
out=$(cb fsck); ok $? "a fresh store is clean"
like "$out" "no problems" "and says so"

# break one thing of each kind
mdig() { python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name","").endswith(sys.argv[2])][0])' "$ROOT/index.json" "$1"; }
other=$(mdig other:1)
cfg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$ROOT/blobs/sha256/${other#sha256:}")
printf 'garbage' >> "$ROOT/blobs/sha256/${cfg#sha256:}"          # a corrupt blob
echo 'sha256:0000000000000000000000000000000000000000000000000000000000000001' \
	> "$ROOT/refs/cache/$(printf 'a%.0s' $(seq 1 64))"               # a dangling cache entry
lay=$(ls "$ROOT/layers/sha256" | head -1)
rm -rf "$ROOT/layers/sha256/$lay/bin"                              # a half-deleted layer
mkdir -p "$ROOT/tmp/L-1-2-deadbeef" && echo x > "$ROOT/tmp/L-1-2-deadbeef/blob-x" # a dead writer's
echo "pid 1" > "$ROOT/leases/1-2-cafe"                             # a lease without owner

out=$(cb fsck 2>&1); is $? 1 "fsck exits 1"
diag "$out"
like "$out" "corrupt blob '$cfg'" "it names the corrupt blob"
like "$out" "image 'docker.io/library/other:1': config '$cfg'" "and the image it breaks"
like "$out" "cache entry 'a{64}': manifest 'sha256:0+1' is missing" "the dangling cache entry"
like "$out" "unpacked layer 'sha256:$lay' is incomplete" "the incomplete layer"
[ ! -e "$ROOT/tmp/L-1-2-deadbeef" ] && [ ! -e "$ROOT/leases/1-2-cafe" ]
ok $? "a dead writer's tmp/ directory and lease are gone (every command cleans them)"

out=$(cb fsck --repair 2>&1); ok $? "fsck --repair exits 0"
like "$out" "repaired" "it says what it repaired"
out=$(cb fsck 2>&1); ok $? "then fsck is clean"; diag "$out"
cb run --rm busybox ls /bin/ls > /dev/null; ok $? "the busybox image works again (its layer unpacked anew)"
cb images | grep -q other; [ $? -ne 0 ]; ok $? "the broken image's tag is gone"
cb import -c 'CMD ["true"]' "$ROOTFS_TAR" other:1 > /dev/null; ok $? "and can be imported again"
cb fsck > /dev/null; ok $? "clean"
done_testing
