#!/usr/bin/env bash
# build --sbom / --provenance: the SBOM lists what the image's package
# databases list (dpkg-query is the oracle for dpkg), attestations are
# stored as BuildKit stores them (skopeo sees the index, buildah pulls the
# image), the same SOURCE_DATE_EPOCH gives the same index, and a build
# without the flags is unchanged (a plain manifest).
. "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
import_busybox busybox:latest
C=$T/ctx
mkdir -p "$C/fs/var/lib/dpkg" "$C/fs/etc"
# a dpkg database: the host's when there is one (hundreds of real
# stanzas), plus a purged and a config-files package
{ cat /var/lib/dpkg/status 2>/dev/null; printf '\n'; cat <<'ST'
Package: purged-pkg
Status: purge ok not-installed
Architecture: amd64

Package: conf-only
Status: deinstall ok config-files
Priority: optional
Architecture: all
Version: 1.0-1

Package: zz-src
Status: install ok installed
Architecture: amd64
Source: zz (2.0-1)
Version: 2.0-1+b1
Description: a package
 with a description over two lines
ST
} | sed '/./,$!d' >"$C/fs/var/lib/dpkg/status"
printf 'ID=debian\nVERSION_ID="12"\n' >"$C/fs/etc/os-release"
printf 'FROM busybox AS base\nCOPY fs/ /\nFROM base\nCMD ["sh"]\n' >"$C/Dockerfile"

plain=$(cb build -q -t plain:1 "$C") && mt=$(cb inspect --raw plain:1 | python3 -c 'import json,sys; print(json.load(sys.stdin).get("mediaType"))')
is "$mt" "application/vnd.oci.image.manifest.v1+json" "no flags: a plain manifest, as before"
cb inspect --sbom plain:1 >/dev/null 2>&1; is $? 1 "and no SBOM"

cb build -q -t app:1 --sbom "$C" >/dev/null; ok $? "build --sbom"
cb inspect --sbom app:1 >"$T/sbom.json"; ok $? "inspect --sbom"
python3 - "$T/sbom.json" >"$T/sbom.txt" <<'PY'
import json, sys
d = json.load(sys.stdin if sys.argv[1] == "-" else open(sys.argv[1]))
assert d["spdxVersion"] == "SPDX-2.3", d["spdxVersion"]
for p in d["packages"]:
    for r in p.get("externalRefs", []):
        if r["referenceLocator"].startswith("pkg:deb/"):
            print(p["name"], p["versionInfo"])
PY
ok $? "the SBOM is SPDX 2.3"
dpkg-query --admindir="$C/fs/var/lib/dpkg" -W -f '${Package} ${Version}\n' | sort >"$T/dpkg.txt"
sort "$T/sbom.txt" | diff - "$T/dpkg.txt" >"$T/diff"; ok $? "the SBOM lists exactly what dpkg-query -W lists ($(wc -l <"$T/dpkg.txt") packages)"
[ -s "$T/diff" ] && diag "$(head "$T/diff")"
grep -q 'pkg:deb/debian/zz-src@2.0-1+b1?arch=amd64&distro=debian-12' "$T/sbom.json"; ok $? "purls with arch and distro"
grep -q '"name": "busybox"' "$T/sbom.json"; ok $? "the base image is listed"
grep -q '"name": "stage base"' "$T/sbom.json"; ok $? "and the stages"
cb inspect --provenance app:1 >"$T/prov.json"; ok $? "--sbom brings min provenance"
like "$(cat "$T/prov.json")" '"startedOn": "2023-11-14T22:13:20Z"' "provenance times are SOURCE_DATE_EPOCH"

# the index as BuildKit writes it
python3 - <<PY
import json, subprocess
raw = json.loads(subprocess.check_output(["$CBUILD", "--root", "$ROOT", "inspect", "--raw", "app:1"]))
assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json", raw
img, att = raw["manifests"]
assert img["platform"]["os"] == "linux", img
a = att["annotations"]
assert a["vnd.docker.reference.type"] == "attestation-manifest", a
assert a["vnd.docker.reference.digest"] == img["digest"], a
assert att["platform"] == {"architecture": "unknown", "os": "unknown"}, att
PY
ok $? "the tag names an index: image + attestation manifest"
cb run --rm app:1 true; ok $? "run of it still works"

# reproducible: same epoch, another store, same index
R2=$T/root2
"$CBUILD" --root "$R2" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
"$CBUILD" --root "$R2" build -q -t app:1 --sbom "$C" >/dev/null
d1=$(cb images --digests | awk '$1=="app" {print $3}')
d2=$("$CBUILD" --root "$R2" images --digests | awk '$1=="app" {print $3}')
is "$d2" "$d1" "same SOURCE_DATE_EPOCH, same index digest"

# apk
mkdir -p "$C/apk/lib/apk/db"
cat >"$C/apk/lib/apk/db/installed" <<'APK'
C:Q1abc=
P:musl
V:1.2.5-r0
A:x86_64
L:MIT
o:musl

C:Q1def=
P:busybox
V:1.36.1-r29
A:x86_64
L:GPL-2.0-only
o:busybox
APK
printf 'FROM busybox\nCOPY apk/ /\n' >"$C/Dockerfile.apk"
cb build -q -t apk:1 -f "$C/Dockerfile.apk" --sbom --provenance=false "$C" >/dev/null; ok $? "build --sbom of an apk image"
out=$(cb inspect --sbom apk:1)
like "$out" 'pkg:apk/alpine/musl@1.2.5-r0\?arch=x86_64' "apk packages listed"
like "$out" '"licenseDeclared": "GPL-2.0-only"' "with their licenses"
cb inspect --provenance apk:1 >/dev/null 2>&1; is $? 1 "--provenance=false: none"

# max provenance: the steps; never a secret
echo s3cr3t >"$T/secret"
cb build -q -t max:1 --provenance=max --build-arg V=1 --secret id=tok,src="$T/secret" "$C" >/dev/null
out=$(cb inspect --provenance max:1)
like "$out" '"build-arg:V": "1"' "build args recorded"
like "$out" 'COPY fs/ /' "max: the steps"
unlike "$out" 's3cr3t' "secrets never"

# the registry
if start_registry; then
	cb push -q app:1 "$REG/app:1" >/dev/null; ok $? "push the index"
	raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/app:1")
	like "$raw" '"vnd.docker.reference.type":"attestation-manifest"' "skopeo inspect --raw shows the attestation manifest"
	is "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)" "$d1" "the index, byte for byte"
	if command -v buildah >/dev/null; then
		B=(buildah --root "$T/bs" --runroot "$T/br" --storage-driver vfs)
		"${B[@]}" pull -q --tls-verify=false "docker://$REG/app:1" >/dev/null 2>&1
		ok $? "buildah pulls it"
	fi
	cb pull -q --all-platforms "$REG/app:1" >/dev/null; ok $? "pull --all-platforms it back"
	cb inspect --sbom "$REG/app:1" >/dev/null; ok $? "the SBOM came with it"
fi
done_testing
