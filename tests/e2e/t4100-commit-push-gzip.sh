#!/bin/bash
# Issue 29: `commit` keeps its layer uncompressed (no gzip on the critical
# path) and push sends it as gzip, made once and remembered in the store
# (store/variant.h): the pushed layers are gzip, peers pull them, the image
# ID is the local one, two pushes send the same manifest, a kill -9 mid-push
# leaves a consistent store, and gc keeps the variant with its layer.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"
import_busybox

layer_types() { # layer_types MANIFEST-JSON-ON-STDIN: the layers' media types, one a line
	python3 -c 'import json,sys; [print(l["mediaType"]) for l in json.load(sys.stdin)["layers"]]'
}
local_manifest() { skopeo inspect --raw "oci:$ROOT:$1"; }

cb run --name c1 busybox sh -c 'seq 1 30000 > /num; echo hi > /hello' >/dev/null
ok $? "run a container that writes files"
id=$(cb commit c1 "$REG/snap:1"); ok $? "commit it"
is "$(local_manifest "$REG/snap:1" | layer_types | tail -1)" "application/vnd.oci.image.layer.v1.tar" \
	"the committed layer is stored uncompressed"
diffid=$(local_manifest "$REG/snap:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][-1]["digest"])')
is "$(sha256sum < "$ROOT/blobs/sha256/${diffid#sha256:}" | cut -d' ' -f1)" "${diffid#sha256:}" \
	"its blob is the plain tar (digest = diff_id)"

# push: the layer leaves as gzip, the config (image ID) is the local one
cb push -q "$REG/snap:1" --digestfile "$T/d1" >/dev/null 2>"$T/push.err"; ok $? "push"
raw=$(skopeo inspect --tls-verify=false --raw "docker://$REG/snap:1")
is "$(echo "$raw" | layer_types | sort -u)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"every pushed layer is gzip (skopeo inspect --raw)"
is "$(echo "$raw" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')" \
	"$id" "the pushed config is the local image ID"
is "$(cat "$T/d1")" "sha256:$(printf %s "$raw" | sha256sum | cut -d' ' -f1)" \
	"--digestfile names the pushed manifest"
gz=$(echo "$raw" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][-1]["digest"])')
like "$(cat "$ROOT/variants/sha256/${diffid#sha256:}")" "^gzip $gz [0-9]+" "the store remembers the gzip variant"
[ "$(head -c2 "$ROOT/blobs/sha256/${gz#sha256:}" | od -An -tx1 | tr -d ' ')" = 1f8b ]
ok $? "the variant blob is gzip"

# a second push (same and other repository) sends the same bytes
before=$(stat -c %Y.%i "$ROOT/blobs/sha256/${gz#sha256:}")
cb push -q "$REG/snap:1" --digestfile "$T/d2" >/dev/null 2>&1; ok $? "push again"
is "$(cat "$T/d2")" "$(cat "$T/d1")" "two pushes give the same manifest digest"
cb push -q "$REG/snap:1" "$REG/other:1" --digestfile "$T/d3" >/dev/null 2>&1; ok $? "push to another repository"
is "$(cat "$T/d3")" "$(cat "$T/d1")" "same manifest there"
is "$(stat -c %Y.%i "$ROOT/blobs/sha256/${gz#sha256:}")" "$before" "the variant was reused, not made again"

# peers and a fresh store pull it
R2=$T/root2
"$CBUILD" --root "$R2" pull -q "$REG/snap:1" >/dev/null 2>&1; ok $? "pull into a fresh store"
is "$("$CBUILD" --root "$R2" run --rm "$REG/snap:1" cat /hello)" "hi" "the pulled image runs"
skopeo copy -q --src-tls-verify=false "docker://$REG/snap:1" "oci:$T/sk:x" >/dev/null; ok $? "skopeo copy reads every blob"
if command -v umoci >/dev/null; then
	umoci unpack --rootless --image "$T/sk:x" "$T/bundle" >/dev/null 2>&1; ok $? "umoci unpacks it"
	is "$(tail -1 "$T/bundle/rootfs/num")" "30000" "with the committed files"
fi
if command -v buildah >/dev/null; then
	bh pull -q --tls-verify=false "docker://$REG/snap:1" >/dev/null 2>&1; ok $? "buildah pulls it"
	is "$(bh inspect --format '{{.FromImageID}}' "$REG/snap:1" 2>/dev/null)" "${id#sha256:}" \
		"buildah sees the same image ID"
fi

# --format docker: the variant under Docker's gzip layer type
cb push -q --format docker "$REG/snap:1" "$REG/dock:1" >/dev/null 2>&1; ok $? "push --format docker"
is "$(skopeo inspect --tls-verify=false --raw "docker://$REG/dock:1" | layer_types | sort -u)" \
	"application/vnd.docker.image.rootfs.diff.tar.gzip" "its layers are Docker gzip layers"

# push to an OCI layout gzips too
cb push -q "$REG/snap:1" "oci:$T/lay:1" >/dev/null 2>&1; ok $? "push to an oci: layout"
is "$(skopeo inspect --raw "oci:$T/lay:1" | layer_types | tail -1)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"its last layer is gzip"

# save / load of a committed image: its plain layer goes as it is, same image
cb save -o "$T/snap.tar" "$REG/snap:1" >/dev/null 2>&1; ok $? "save the committed image"
"$CBUILD" --root "$T/root3" load -i "$T/snap.tar" >/dev/null 2>&1; ok $? "load it into a fresh store"
is "$("$CBUILD" --root "$T/root3" inspect "$REG/snap:1" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')" "$id" \
	"the loaded image has the committed image's ID"

# gc keeps the variant while the image is kept, and drops it with it
cb prune >/dev/null 2>&1
[ -f "$ROOT/blobs/sha256/${gz#sha256:}" ]; ok $? "prune keeps the variant of a kept layer"

# kill -9 mid-push (a bigger layer, never pushed before): the store stays consistent
cb run --name c2 busybox sh -c 'dd if=/dev/urandom of=/big bs=1M count=48 2>/dev/null' >/dev/null
cb commit c2 "$REG/big:1" >/dev/null; ok $? "commit a 48 MB layer"
"$CBUILD" --root "$ROOT" push -q "$REG/big:1" >/dev/null 2>&1 &
ppid=$!
sleep 0.3
kill -9 "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null
cb fsck >"$T/fsck.out" 2>&1; rc=$?; ok $rc "fsck after kill -9 mid-push"
[ $rc = 0 ] || diag "$(cat "$T/fsck.out")"
cb push -q "$REG/big:1" --digestfile "$T/b1" >/dev/null 2>&1; ok $? "the push completes afterwards"
cb push -q "$REG/big:1" --digestfile "$T/b2" >/dev/null 2>&1
is "$(cat "$T/b2")" "$(cat "$T/b1")" "and gives the same manifest again"
blobs_ok "$ROOT"; ok $? "every blob matches its digest"

# an explicit uncompressed build layer has no mark: pushed as it is
printf 'FROM busybox\nRUN echo x > /x\n' > "$T/Dockerfile"
cb build -q --compress none -t "$REG/plain:1" "$T" >/dev/null 2>&1; ok $? "build --compress none"
cb push -q "$REG/plain:1" >/dev/null 2>&1; ok $? "push it"
is "$(skopeo inspect --tls-verify=false --raw "docker://$REG/plain:1" | layer_types | tail -1)" \
	"application/vnd.oci.image.layer.v1.tar" "an explicit --compress none layer is pushed uncompressed"
# a build on a committed image exports its cache with the layers as stored
# (the entries name the plain digest), so another runner's hit and push work
mkdir -p "$T/ctx2"
printf 'FROM %s/snap:1\nRUN echo built > /built\n' "$REG" > "$T/ctx2/Dockerfile"
cb build -q --cache-to "$REG/cache:c" -t "$REG/onsnap:1" "$T/ctx2" >/dev/null 2>"$T/b1.err"
ok $? "build on the committed image with --cache-to"
R4=$T/root4
"$CBUILD" --root "$R4" build -q --cache-from "$REG/cache:c" -t "$REG/onsnap:2" "$T/ctx2" >/dev/null 2>"$T/b2.err"
ok $? "another store builds it from that cache"
"$CBUILD" --root "$R4" push -q "$REG/onsnap:2" >/dev/null 2>"$T/p2.err"; ok $? "and pushes it" || diag "$(cat "$T/p2.err")"
skopeo copy -q --src-tls-verify=false "docker://$REG/onsnap:2" "oci:$T/sk2:x" >/dev/null 2>&1
ok $? "every blob of that push is readable"
cb rm -f c1 c2 >/dev/null 2>&1

# gc drops the variant records of layers it removed (they piled up before)
mdig=$(local_manifest "$REG/snap:1" | sha256sum | cut -d' ' -f1)
[ -f "$ROOT/variants/manifests/sha256/$mdig" ]; ok $? "push recorded the pushed manifest of snap:1"
cb rmi "$REG/snap:1" >/dev/null 2>&1; ok $? "rmi the committed image"
cb rmi "$REG/onsnap:1" >/dev/null 2>&1; ok $? "and the one built on it"
cb prune >/dev/null 2>&1; ok $? "prune after removing the committed image"
[ ! -e "$ROOT/blobs/sha256/${diffid#sha256:}" ]; ok $? "its plain layer blob is gone"
[ ! -e "$ROOT/variants/sha256/${diffid#sha256:}" ]; ok $? "and so is its layer's variant record"
[ ! -e "$ROOT/variants/manifests/sha256/$mdig" ]; ok $? "and its manifest record"
done_testing
