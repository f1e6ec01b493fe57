#!/bin/bash
# Multi-platform images: pull --all-platforms keeps the whole index, push
# sends every platform's manifest then the index; skopeo checks both ways.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"

# an index of two platforms, made without cbuild, pushed by skopeo
L=$T/l
amd=$(mkimage "$L" amd --random 8K --random 4K --seed 21 --gzip)
arm=$(mkimage "$L" arm --random 8K --seed 22 --arch arm64 --variant v8 --gzip)
python3 - "$L" <<'PY'
import hashlib, json, os, sys
L = sys.argv[1]
idx = json.load(open(os.path.join(L, "index.json")))
kids = []
for m in idx["manifests"]:
    d = dict(m)
    d.pop("annotations", None)
    kids.append(d)
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": kids}, separators=(",", ":")).encode()
h = hashlib.sha256(body).hexdigest()
open(os.path.join(L, "blobs", "sha256", h), "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + h,
                         "size": len(body), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(os.path.join(L, "index.json"), "w"))
PY
skopeo copy -q --all --dest-tls-verify=false "oci:$L:multi" "docker://$REG/multi:1" >/dev/null
ok $? "skopeo pushed a two-platform index"
skopeo inspect --raw --tls-verify=false "docker://$REG/multi:1" > "$T/index.raw"
want="sha256:$(sha256sum < "$T/index.raw" | cut -d' ' -f1)"

# pull --all-platforms
out=$(cb pull -q --all-platforms "$REG/multi:1" 2>"$T/err"); ok $? "pull --all-platforms"
is "$out" "$want" "it prints the index digest"
is "$(skopeo inspect --raw "oci:$ROOT:$REG/multi:1" | sha256sum | cut -d' ' -f1)" "${want#sha256:}" \
	"the tag names the index, byte for byte"
for d in $amd $arm; do
	[ -f "$ROOT/blobs/sha256/${d#sha256:}" ] || fail "manifest $d missing"
done
pass "both platforms' manifests are in the store"
skopeo copy -q --override-arch arm64 --override-variant v8 "oci:$ROOT:$REG/multi:1" "oci:$T/x:arm" >/dev/null 2>&1
ok $? "skopeo reads the arm64 image from the store (all its blobs are there)"
blobs_ok "$ROOT"; ok $? "every pulled blob matches its digest"

# push the index elsewhere: children first, then the index
out=$(cb push -q "$REG/multi:1" "$REG/copy:2" 2>"$T/err"); ok $? "push an index"
is "$out" "$want" "push prints the index digest"
skopeo inspect --raw --tls-verify=false "docker://$REG/copy:2" > "$T/copy.raw"
cmp -s "$T/index.raw" "$T/copy.raw"; ok $? "skopeo inspect --raw shows the same index"
skopeo copy -q --src-tls-verify=false --override-arch arm64 --override-variant v8 "docker://$REG/copy:2" "oci:$T/back:arm" >/dev/null 2>&1
ok $? "skopeo pulls the arm64 image back (every blob was pushed)"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$T/back:arm")" "$arm" "the arm64/v8 manifest, unchanged"
skopeo copy -q --src-tls-verify=false --override-arch amd64 "docker://$REG/copy:2" "oci:$T/back:amd" >/dev/null 2>&1
is "$(skopeo inspect --format '{{.Digest}}' "oci:$T/back:amd")" "$amd" "and the amd64 one"
if command -v buildah >/dev/null; then
	B=(buildah --root "$T/bs" --runroot "$T/br" --storage-driver vfs)
	"${B[@]}" pull -q --tls-verify=false --arch arm64 --variant v8 "docker://$REG/copy:2" >/dev/null 2>&1
	ok $? "buildah pulls a chosen platform back"
fi

# into an OCI layout
cb push -q "$REG/multi:1" "oci:$T/od:m" >/dev/null; ok $? "push an index to oci:DIR:TAG"
is "$(skopeo inspect --raw "oci:$T/od:m" | sha256sum | cut -d' ' -f1)" "${want#sha256:}" "the layout holds the index"
skopeo copy -q --all "oci:$T/od:m" "oci:$T/od2:m" >/dev/null 2>&1; ok $? "with every manifest and blob"

# other commands live with a tag naming an index
cb images >"$T/images" 2>"$T/images.err"; ok $? "images lists a store holding an index tag"
is "$(grep -c "^$REG/multi " "$T/images")" 1 "the index tag once (t4080 checks the rest)"
is "$(cat "$T/images.err")" "" "without a warning"
cb rmi "$REG/multi:1" >/dev/null 2>"$T/rmi.err"; ok $? "rmi removes the index tag"

# a plain pull keeps one platform: pushing what it tagged is one image
R2=$T/r2
"$CBUILD" --root "$R2" pull -q "$REG/multi:1" >/dev/null 2>&1; ok $? "plain pull of the index"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$R2:$REG/multi:1")" "$amd" "tags this machine's platform"
done_testing
