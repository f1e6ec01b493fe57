#!/bin/bash
# Issue 29: push makes the gzip of a plain layer (commit's, store/variant.h)
# on a thread while the image's other blobs upload, then puts the manifest
# naming it: the same manifest as when the variant was made before (also
# with --format docker), and when the gzip fails the push fails with no
# manifest put, the other blobs having gone already.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"
import_busybox

layer_types() { python3 -c 'import json,sys; [print(l["mediaType"]) for l in json.load(sys.stdin)["layers"]]'; }
layer_digest() { # layer_digest N: the N-th layer's digest of the manifest on stdin
	python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][int(sys.argv[1])]["digest"])' "$1"
}
local_manifest() { skopeo inspect --raw "oci:$ROOT:$1"; }
status() { curl -s -o /dev/null -I -w '%{http_code}' "http://$REG/v2/$1"; }

cb run --name ov1-$$ busybox sh -c 'seq 1 200000 > /num' >/dev/null; ok $? "a container writes a file"
cb commit ov1-$$ "$REG/ov:1" >/dev/null; ok $? "commit it"
diffid=$(local_manifest "$REG/ov:1" | layer_digest -1)
[ ! -e "$ROOT/variants/sha256/${diffid#sha256:}" ] || grep -qx gzip "$ROOT/variants/sha256/${diffid#sha256:}"
ok $? "no gzip variant made yet"

# first push, --format docker: base uploaded while the variant is made
cb push -q --format docker "$REG/ov:1" --digestfile "$T/d1" >/dev/null 2>"$T/p1.err"
ok $? "first push (the variant made during the upload)" || diag "$(cat "$T/p1.err")"
raw=$(skopeo inspect --tls-verify=false --raw "docker://$REG/ov:1")
is "$(echo "$raw" | layer_types | sort -u)" "application/vnd.docker.image.rootfs.diff.tar.gzip" \
	"every layer is a Docker gzip layer"
is "$(cat "$T/d1")" "sha256:$(printf %s "$raw" | sha256sum | cut -d' ' -f1)" "the manifest put is the one named"
gz=$(echo "$raw" | layer_digest -1)
is "$(status "ov/blobs/$gz")" 200 "the registry has the variant"
# made before (reused): the same manifest
cb push -q --format docker "$REG/ov:1" "$REG/ov2:1" --digestfile "$T/d2" >/dev/null 2>&1
ok $? "push again, the variant reused"
is "$(cat "$T/d2")" "$(cat "$T/d1")" "the same manifest digest as when the gzip overlapped the upload"
skopeo copy -q --src-tls-verify=false "docker://$REG/ov:1" "oci:$T/sk:x" >/dev/null; ok $? "skopeo reads every blob"

# the gzip fails (the plain blob no longer hashes to its name): no manifest
cb run --name ov2-$$ busybox sh -c 'seq 1 100000 > /num2' >/dev/null
cb commit ov2-$$ "$REG/bad:1" >/dev/null; ok $? "commit another"
bdiff=$(local_manifest "$REG/bad:1" | layer_digest -1)
base=$(local_manifest "$REG/bad:1" | layer_digest 0)
p=$ROOT/blobs/sha256/${bdiff#sha256:}
chmod u+w "$p" && printf x | dd of="$p" bs=1 seek=5000 conv=notrunc 2>/dev/null
cb push -q "$REG/bad:1" >/dev/null 2>"$T/bad.err"
isnt $? 0 "a push whose gzip fails fails"
like "$(cat "$T/bad.err")" "does not hash to its digest" "and says why"
is "$(status "bad/manifests/1")" 404 "no manifest was put"
is "$(status "bad/blobs/$base")" 200 "the base layer went while the gzip ran"
cb rm -f "ov1-$$" "ov2-$$" >/dev/null 2>&1
done_testing
