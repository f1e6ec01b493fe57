#!/usr/bin/env bash
# Issue 24.2: what keeps an image alive are references the store keeps
# (refs/KIND/NAME): a build cache entry and a container keep their image
# through a prune that drops everything else, until they are gone; a store
# from before refs/ (cache/KEYHEX.json, containers/ID/config.json) is
# converted at open and keeps its images the same way.
. "$(dirname "$0")/lib.sh"

blob() { [ -f "$ROOT/blobs/sha256/${1#sha256:}" ]; }
mdig() { cb images --digests --no-trunc | awk -v r="$1" -v t="$2" '$1==r && $2==t {print $3}'; }

import_busybox busybox:latest
ctx=$T/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'DF'
FROM busybox
RUN echo built > /built
DF
cb build -q -t app:1 "$ctx" > /dev/null; ok $? "build app:1"
app=$(mdig app 1)
like "$app" '^sha256:[0-9a-f]{64}$' "app:1's manifest"
n=$(ls "$ROOT/refs/cache" | wc -l)
[ "$n" -ge 1 ]; ok $? "the build's cache entries are kept references ($n)"
like "$(head -1 "$ROOT/refs/cache/$(ls "$ROOT/refs/cache" | head -1)")" '^sha256:[0-9a-f]{64}$' \
	"a record's first line is its digest"

# each image its own CMD: two imports in the same second are otherwise one image
cb import -c 'CMD ["true"]' "$ROOTFS_TAR" ctr:1 > /dev/null
ctr=$(mdig ctr 1)
cb run --network none --name keeper ctr:1 true; ok $? "a container of ctr:1 (no network: this is about its image)"
[ -f "$ROOT/refs/containers/$(ls "$ROOT/containers" | head -1)" ]; ok $? "the container is a kept reference"
is "$(head -1 "$ROOT/refs/containers/$(ls "$ROOT/containers" | head -1)")" "$ctr" "naming its image"

cb import -c 'CMD ["gone"]' "$ROOTFS_TAR" gone:1 > /dev/null
cb tag gone:1 gone:2 > /dev/null 2>&1
gone=$(mdig gone 1)
cb rmi app:1 > /dev/null; ok $? "untag app:1 (its cache entry still names it)"
cb rmi -f ctr:1 > /dev/null; ok $? "remove ctr:1 (a stopped container uses it)"
cb rmi gone:1 gone:2 > /dev/null; ok $? "remove gone:1 (nothing else names it)"

cb prune --keep-cache > /dev/null; ok $? "prune, keeping the build cache"
blob "$app"; ok $? "the cache entry's image is kept"
blob "$ctr"; ok $? "the container's image is kept"
! blob "$gone"; ok $? "an image nothing names is dropped"
cb build -t app:1 "$ctx" > /dev/null 2> "$T/log"; ok $? "rebuild"
like "$(cat "$T/log")" "Using cache" "from the kept cache"
cb start keeper > /dev/null 2> "$T/start.err"; ok $? "the container still starts"; diag "$(cat "$T/start.err")"

cb rm -f keeper > /dev/null; ok $? "rm the container"
[ -z "$(ls "$ROOT/refs/containers")" ]; ok $? "its reference goes with it"
cb rmi app:1 > /dev/null
cb prune > /dev/null; ok $? "prune, dropping the build cache"
[ -z "$(ls "$ROOT/refs/cache")" ]; ok $? "the cache entries are gone"
! blob "$ctr"; ok $? "the removed container's image is dropped"
! blob "$app"; ok $? "and the cache entry's image"

# an older store: the records in their old places, no refs/
cb build -q -t app:2 "$ctx" > /dev/null
cb import -c 'CMD ["true", "2"]' "$ROOTFS_TAR" ctr:2 > /dev/null
cb run --network none --name old ctr:2 true
app2=$(mdig app 2); ctr2=$(mdig ctr 2)
for f in "$ROOT"/refs/cache/*; do
	printf '{"manifest":"%s","step":"old"}' "$(head -1 "$f")" > "$ROOT/cache/$(basename "$f").json"
done
rm -rf "$ROOT/refs"
cb rmi app:2 > /dev/null; ok $? "an old store: untag app:2 (opening it converts the records)"
[ -z "$(ls "$ROOT/cache" | grep -E '^[0-9a-f]{64}\.json$')" ]; ok $? "the old cache entries are converted"
cb rmi -f ctr:2 > /dev/null
cb prune --keep-cache > /dev/null; ok $? "prune"
blob "$app2"; ok $? "the old cache entry's image is kept"
blob "$ctr2"; ok $? "the old container's image is kept"
cb fsck > /dev/null; ok $? "fsck is clean"

# a remove killed between the container's directory and its reference
cid=$(ls "$ROOT/containers" | head -1)
rm -rf "$ROOT/containers/$cid"
out=$(cb fsck 2>&1); is $? 1 "fsck finds a reference without its container"
like "$out" "container reference '$cid': no such container" "and names it"
cb fsck --repair > /dev/null 2>&1; ok $? "fsck --repair"
[ ! -e "$ROOT/refs/containers/$cid" ]; ok $? "removes the reference"
cb fsck > /dev/null; ok $? "then fsck is clean"
done_testing
