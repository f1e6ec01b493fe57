#!/bin/bash
# Never another platform's image without a word (issue 28): a local base of
# another platform is not used for a --platform build (the registry's image
# for the platform is pulled, or the build fails naming both platforms);
# pulling one platform never re-points a tag that names an index, so a
# build --pull --platform linux/arm64 does not turn the next plain build
# into arm64; run --platform of an image lacking that platform fails as
# docker's does; running a foreign image warns as docker does.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
[ "$(uname -m)" = x86_64 ] || skip_all "the test's images assume an x86_64 host"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
ARM_TAR=$ROOTFS_CACHE/busybox-rootfs-arm64.tar
if [ ! -s "$ARM_TAR" ]; then
	"$TOP/testdata/mkrootfs-arch.sh" arm64 "$ARM_TAR.$$" >&2 && mv "$ARM_TAR.$$" "$ARM_TAR"
fi
[ -s "$ARM_TAR" ] || skip_all "no arm64 busybox rootfs (testdata/mkrootfs-arch.sh arm64)"
quiet_registry || skip_all "cannot start docker-registry"

plat_of() {
	cb inspect "$@" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["Os"]+"/"+d["Architecture"])'
}
ref_mt() { # the media type index.json records for a tag of store $1
	python3 -c 'import json,sys; print([m["mediaType"] for m in json.load(open(sys.argv[1]+"/index.json"))["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name")==sys.argv[2]][0])' "$@"
}
INDEX_MT=application/vnd.oci.image.index.v1+json

# The registry: base:1 an index of amd64 and arm64 (no RUN: no emulator
# needed), amd64only:1 a single amd64 image.
C=$T/ctx
mkdir -p "$C"
cp "$ROOTFS_TAR" "$C/rootfs-amd64.tar"
cp "$ARM_TAR" "$C/rootfs-arm64.tar"
printf 'FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\nCMD ["sh"]\n' >"$C/Dockerfile"
cb build -q --platform linux/amd64,linux/arm64 -t base:1 "$C" >/dev/null 2>&1 &&
	cb push -q base:1 "$REG/base:1" >/dev/null 2>&1; ok $? "an index base:1 in the registry"
cb build -q --platform linux/amd64 -t amd64only:1 "$C" >/dev/null 2>&1 &&
	cb push -q amd64only:1 "$REG/amd64only:1" >/dev/null 2>&1; ok $? "a single-platform amd64only:1"

D=$T/dctx
mkdir -p "$D"

# ---- a local single-platform base of another platform ----
R=$T/r1
c1() { "$CBUILD" --root "$R" "$@"; }
c1 pull -q "$REG/amd64only:1" >/dev/null 2>&1
printf 'FROM %s\nLABEL x=1\n' "$REG/amd64only:1" >"$D/Dockerfile"
c1 build -q --platform linux/arm64 "$D" >/dev/null 2>"$T/err"
is "$?" 1 "an arm64 build from a local amd64-only base fails"
like "$(cat "$T/err")" "its platform \(linux/amd64\) does not match the specified platform \(linux/arm64\)" \
	"... naming both platforms"

# a local amd64 image whose registry repository has an index: the arm64
# image is pulled instead of the amd64 one being used
c1 pull -q "$REG/base:1" >/dev/null 2>&1
is "$(ref_mt "$R" "$REG/base:1")" application/vnd.oci.image.manifest.v1+json \
	"a plain pull of an index tags this machine's image (as docker)"
printf 'FROM %s\nLABEL x=1\n' "$REG/base:1" >"$D/Dockerfile"
c1 build -q --platform linux/arm64 -t out:arm64 "$D" >/dev/null 2>"$T/err"
ok $? "an arm64 build from a local amd64 base whose registry has arm64" || diag "$(cat "$T/err")"
is "$(c1 inspect out:arm64 | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["Os"]+"/"+d["Architecture"])')" \
	linux/arm64 "... is built on the arm64 image"
# the arm64 pull tags the index (both images now here): the tag's image
# for this machine is still the amd64 one
is "$(ref_mt "$R" "$REG/base:1")" "$INDEX_MT" "... the base tag now names the index"
is "$("$CBUILD" --root "$R" inspect "$REG/base:1" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["Os"]+"/"+d["Architecture"])')" \
	linux/amd64 "... whose image for this machine is still amd64"

# ---- build --pull --platform linux/arm64, then a plain build ----
R=$T/r2
c1 build -q --pull --platform linux/arm64 -t out:arm64 "$D" >/dev/null 2>"$T/err"
ok $? "build --pull --platform linux/arm64 in a fresh store" || diag "$(cat "$T/err")"
is "$(ref_mt "$R" "$REG/base:1")" "$INDEX_MT" "the base tag names the index, not the arm64 image"
c1 build -q -t out:plain "$D" >/dev/null 2>"$T/err"
ok $? "a plain build afterwards" || diag "$(cat "$T/err")"
is "$(c1 inspect out:plain | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["Os"]+"/"+d["Architecture"])')" \
	linux/amd64 "... is amd64 (this machine's), not arm64"
unlike "$(cat "$T/err")" WARNING "... without a warning"
is "$(ref_mt "$R" "$REG/base:1")" "$INDEX_MT" "the base tag still names the index"
c1 pull -q --platform linux/arm64 "$REG/base:1" >/dev/null 2>&1
is "$(ref_mt "$R" "$REG/base:1")" "$INDEX_MT" "pull --platform of a tag that names an index keeps the index"

# ---- run ----
ROOT=$T/r3
cb import -q --platform linux/arm64 "$ARM_TAR" armonly:1 >/dev/null 2>&1 ||
	cb import --platform linux/arm64 "$ARM_TAR" armonly:1 >/dev/null
cb tag amd64only:1 "$REG/nothere:1" 2>/dev/null
cb import "$ROOTFS_TAR" "$REG/nothere:1" >/dev/null
cb run --rm --platform linux/arm64 "$REG/nothere:1" true >/dev/null 2>"$T/err"
[ $? != 0 ]; ok $? "run --platform linux/arm64 of an amd64-only image fails"
like "$(cat "$T/err")" "was found but its platform \(linux/amd64\) does not match the specified platform \(linux/arm64\)" \
	"... with docker's message"
cb run --rm armonly:1 true >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "^WARNING: The requested image's platform \(linux/arm64\) does not match the detected host platform \(linux/amd64\) and no specific platform was requested" \
	"running an arm64 image warns as docker does"
cb run --rm "$REG/nothere:1" true >/dev/null 2>"$T/err"
unlike "$(cat "$T/err")" WARNING "running this machine's image does not warn"
done_testing
