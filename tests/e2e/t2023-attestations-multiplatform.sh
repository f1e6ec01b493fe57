#!/usr/bin/env bash
# build --platform A,B --sbom: one index lists every platform's image and,
# after them, one attestation manifest per image (BuildKit's layout); each
# platform's SBOM describes that platform's image; the index pushes, skopeo
# and buildah read it, and inspect --platform picks each platform's SBOM.
. "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
C=$T/ctx
mkdir -p "$C/fs/var/lib/dpkg" "$C/fs/etc"
printf 'ID=debian\nVERSION_ID="12"\n' >"$C/fs/etc/os-release"
cat >"$C/Dockerfile" <<'EOF2'
FROM scratch
ARG TARGETARCH
COPY fs/ /
COPY status-${TARGETARCH} /var/lib/dpkg/status
EOF2
for a in amd64 arm64; do
	printf 'Package: only-%s\nStatus: install ok installed\nArchitecture: %s\nVersion: 1.0\n' $a $a >"$C/status-$a"
done
cb build -q -t mp:1 --platform linux/amd64,linux/arm64 --sbom "$C" >/dev/null; ok $? "a two-platform build with --sbom"
cb inspect --raw mp:1 >"$T/index.json"
python3 - "$T/index.json" <<'PY'
import json, sys
ix = json.load(open(sys.argv[1]))
assert ix["mediaType"] == "application/vnd.oci.image.index.v1+json", ix["mediaType"]
ms = ix["manifests"]
assert [m["platform"].get("architecture") for m in ms] == ["amd64", "arm64", "unknown", "unknown"], ms
imgs = {m["digest"] for m in ms[:2]}
refs = {m["annotations"]["vnd.docker.reference.digest"] for m in ms[2:]}
assert imgs == refs, (imgs, refs)
assert all(m["annotations"]["vnd.docker.reference.type"] == "attestation-manifest" for m in ms[2:])
PY
ok $? "the index: both images, then an attestation manifest for each"
for a in amd64 arm64; do
	out=$(cb inspect --sbom --platform linux/$a mp:1)
	like "$out" "pkg:deb/debian/only-$a@1.0" "the $a SBOM lists the $a image's packages"
done
out=$(cb inspect --provenance --platform linux/arm64 mp:1); ok $? "and each has provenance"

R2=$T/root2
"$CBUILD" --root "$R2" build -q -t mp:1 --platform linux/amd64,linux/arm64 --sbom "$C" >/dev/null
d1=$(cb images --digests | awk '$1=="mp" {print $3}')
d2=$("$CBUILD" --root "$R2" images --digests | awk '$1=="mp" {print $3}')
is "$d2" "$d1" "same SOURCE_DATE_EPOCH, same index digest"

# save/load carry the index whole: every platform, every attestation
cb save -o "$T/mp.tar" mp:1; ok $? "save the attested index"
R4=$T/root4
"$CBUILD" --root "$R4" load -i "$T/mp.tar" >/dev/null; ok $? "load it into a fresh store"
is "$("$CBUILD" --root "$R4" images --digests | awk '$1=="mp" {print $3}')" "$d1" "the name holds the same index"
like "$("$CBUILD" --root "$R4" inspect --sbom --platform linux/arm64 mp:1)" "only-arm64" "the arm64 SBOM came with it"
cb save --platform linux/amd64 -o "$T/one.tar" mp:1 && tar -xOf "$T/one.tar" index.json >"$T/one.json"
like "$(cat "$T/one.json")" '"application/vnd.oci.image.manifest.v1\+json"' "save --platform: that image alone"

if start_registry; then
	cb push -q mp:1 "$REG/mp:1" >/dev/null; ok $? "push the index"
	raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/mp:1")
	is "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)" "$d1" "the registry has the index, byte for byte"
	skopeo copy -q --all --src-tls-verify=false "docker://$REG/mp:1" "oci:$T/oci:mp" >/dev/null 2>&1
	ok $? "skopeo copy --all fetches every manifest and blob"
	if command -v buildah >/dev/null; then
		B=(buildah --root "$T/bs" --runroot "$T/br" --storage-driver vfs)
		"${B[@]}" pull -q --tls-verify=false --platform linux/arm64 "docker://$REG/mp:1" >/dev/null 2>&1
		ok $? "buildah pulls the arm64 image"
	fi
	"$CBUILD" --root "$T/root3" pull -q --all-platforms "$REG/mp:1" >/dev/null; ok $? "pull --all-platforms into a fresh store"
	out=$("$CBUILD" --root "$T/root3" inspect --sbom --platform linux/arm64 "$REG/mp:1"); ok $? "the arm64 SBOM came with it"
	like "$out" "only-arm64" "and it is arm64's"
	"$CBUILD" --root "$T/root5" pull -q "$REG/mp:1" >/dev/null; ok $? "a plain pull (this machine's image only)"
	out=$("$CBUILD" --root "$T/root5" inspect --sbom "$REG/mp:1"); ok $? "brings that image's SBOM along"
	like "$out" "only-$(dpkg --print-architecture)" "the one of this machine's image"
	is "$("$CBUILD" --root "$T/root5" inspect --format '{{.Architecture}}' "$REG/mp:1")" "$(dpkg --print-architecture)" \
		"and the name still gives this machine's image"
	# docker pull (a private dockerd, as MACHINE-NOTES says): it picks the
	# image of its platform and passes over the unknown/unknown entries
	if dockerd_has; then
		dockerd_start || diag "$WHY"
		dk pull -q "$REG/mp:1" >/dev/null 2>"$T/dkerr"; ok $? "docker pull of the attested index works"
		[ -s "$T/dkerr" ] && diag "$(cat "$T/dkerr")"
		is "$(dk image inspect --format '{{.Architecture}}' "$REG/mp:1" 2>/dev/null)" \
			"$(dpkg --print-architecture)" \
			"docker took the image of its platform"
		dk load -i "$T/mp.tar" >/dev/null 2>"$T/dkerr"; ok $? "docker load reads the saved index's archive"
		[ -s "$T/dkerr" ] && diag "$(cat "$T/dkerr")"
		dockerd_stop "$DD"
	fi
fi
done_testing
