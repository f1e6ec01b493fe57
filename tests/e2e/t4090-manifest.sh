#!/bin/bash
# cbuild manifest (issue 28), as podman's: create a list of two
# single-platform builds (made separately, as on two native runners), add,
# annotate, remove, inspect, push (the images, then the list) and read it
# back with skopeo; rm drops the list and keeps the images.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"

# two single-platform images without RUN: no emulator needed
C=$T/ctx
mkdir -p "$C"
cp "$ROOTFS_TAR" "$C/rootfs.tar"
printf 'FROM scratch\nADD rootfs.tar /\nARG TARGETARCH\nLABEL arch=$TARGETARCH\n' >"$C/Dockerfile"
cb build -q --platform linux/amd64 -t app:amd64 "$C" >/dev/null &&
	cb build -q --platform linux/arm64 -t app:arm64 "$C" >/dev/null
ok $? "two single-platform builds"
mdig() { skopeo inspect --format '{{.Digest}}' "oci:$ROOT:$1"; }
amd=$(mdig docker.io/library/app:amd64) arm=$(mdig docker.io/library/app:arm64)

cb manifest create app:list app:amd64 >/dev/null; ok $? "manifest create LIST IMAGE"
cb manifest add app:list app:arm64 >/dev/null; ok $? "manifest add LIST IMAGE"
cb manifest annotate --annotation org.example.note=hello --variant v8 app:list "$arm" >/dev/null
ok $? "manifest annotate LIST DIGEST"
j=$(cb manifest inspect app:list)
is "$(printf '%s' "$j" | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(d["mediaType"])
for m in d["manifests"]:
    p=m["platform"]; print(m["digest"], p["os"], p["architecture"], p.get("variant",""), m.get("annotations",{}).get("org.example.note",""))')" \
"application/vnd.oci.image.index.v1+json
$amd linux amd64  
$arm linux arm64 v8 hello" "manifest inspect: both images with their platforms and the annotation"
cb manifest create app:list >/dev/null 2>&1
[ $? != 0 ]; ok $? "manifest create of an existing list fails without --amend"
cb manifest create app:amd64 >/dev/null 2>&1
[ $? != 0 ]; ok $? "... and of a name that is an image"
cb manifest add app:amd64 app:arm64 >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "is an image, not a manifest list" "manifest add to an image is refused"

out=$(cb manifest push app:list "$REG/app:list" 2>"$T/err"); ok $? "manifest push" || diag "$(cat "$T/err")"
raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/app:list")
is "$(printf '%s' "$raw" | python3 -c 'import json,sys; print(" ".join(m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"]))')" \
	"amd64 arm64" "skopeo reads the pushed list"
is "$out" "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)" "manifest push prints the list's digest"
# a build keeps its last layer plain until it leaves: the list's images
# leave with gzip layers (as alone), and the list names those manifests
parm=$(printf '%s' "$raw" | python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"] == "arm64"][0])')
is "$(skopeo inspect --raw --tls-verify=false "docker://$REG/app@$parm" | python3 -c 'import json,sys; print(" ".join(sorted(set(l["mediaType"] for l in json.load(sys.stdin)["layers"]))))')" \
	application/vnd.oci.image.layer.v1.tar+gzip "the list's images were pushed with gzip layers"
skopeo copy -q --src-tls-verify=false --override-arch arm64 "docker://$REG/app:list" "oci:$T/arm:x" >/dev/null 2>&1
is "$(skopeo inspect --format '{{.Digest}}' "oci:$T/arm:x")" "$parm" "skopeo copy --override-arch arm64 of the list gets the arm64 image"
is "$(skopeo inspect --config --raw "oci:$T/arm:x" | sha256sum | cut -d' ' -f1)" \
	"$(skopeo inspect --config --raw "oci:$ROOT:docker.io/library/app:arm64" | sha256sum | cut -d' ' -f1)" "... the image built for arm64 (its config)"
cb manifest create --format docker app:dlist app:amd64 >/dev/null
is "$(cb manifest inspect app:dlist | python3 -c 'import json,sys; print(json.load(sys.stdin)["mediaType"])')" \
	application/vnd.oci.image.index.v1+json "create --format docker of an OCI image: an OCI index (a Docker list holds Docker manifests only)"

cb manifest remove app:list "$amd" >/dev/null; ok $? "manifest remove LIST DIGEST"
is "$(cb manifest inspect app:list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["manifests"]))')" 1 "... leaves one image"
cb manifest create --amend app:list app:amd64 >/dev/null; ok $? "manifest create --amend adds to it"
cb manifest rm app:list >/dev/null; ok $? "manifest rm LIST"
cb manifest inspect app:list >/dev/null 2>&1
[ $? != 0 ]; ok $? "the list is gone"
cb inspect app:arm64 >/dev/null; ok $? "its images stay"
done_testing
