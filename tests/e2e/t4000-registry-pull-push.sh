#!/bin/bash
# Pull and push against a real plain-HTTP registry (Debian's docker-registry),
# with skopeo and buildah as the independent peers and checkers.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"

L=$T/layout
mkimage "$L" app --tar "$ROOTFS_TAR" --random 64K --gzip >/dev/null
to_store "$L" app "$REG/app:1"

# push: the digest printed is the manifest's, and skopeo reads what we wrote
out=$(cb push -q "$REG/app:1" --digestfile "$T/digest" 2>"$T/err"); ok $? "push to a plain-HTTP registry on 127.0.0.1"
want=$(skopeo inspect --format '{{.Digest}}' "oci:$ROOT:$REG/app:1")
is "$out" "$want" "push prints the manifest digest"
is "$(cat "$T/digest")" "$want" "--digestfile holds it"
is "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/app:1")" "$want" \
	"skopeo inspect sees the pushed manifest"
skopeo copy -q --src-tls-verify=false "docker://$REG/app:1" "oci:$T/copy:x" >/dev/null
ok $? "skopeo copy reads every pushed blob"

# pull into a fresh root: same manifest, same image ID
R2=$T/root2
id=$("$CBUILD" --root "$R2" pull "$REG/app:1" 2>"$T/pull.err"); ok $? "pull into a fresh store"
is "$id" "$(skopeo inspect --format '{{.ConfigDigest}}' "oci:$ROOT:$REG/app:1" 2>/dev/null ||
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' \
	"$L/blobs/sha256/${want#sha256:}")" "pull prints the same image ID"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$R2:$REG/app:1")" "$want" "the pulled tag points at the same manifest"
blobs_ok "$R2"; ok $? "every pulled blob matches its digest"
like "$(cat "$T/pull.err")" "Digest: $want" "pull reports the digest on stderr"
"$CBUILD" --root "$R2" pull -q "$REG/app:1" >/dev/null 2>"$T/pull2.err"
ok $? "a second pull succeeds"
unlike "$(cat "$T/pull2.err")" "done" "a second pull fetches no blob again"
ls "$R2/layers/sha256" 2>/dev/null | grep -q . && fail "pull unpacked layers" || pass "pull does not unpack layers"

# pull by digest
"$CBUILD" --root "$R2" pull -q "$REG/app@$want" >/dev/null 2>&1; ok $? "pull by digest"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$R2:$REG/app@$want" 2>/dev/null)" "$want" "tagged by its digest"

# cbuild pulls what skopeo pushed
mkimage "$L" sk --random 32K --random 16K --gzip --seed 7 >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$L:sk" "docker://$REG/fromskopeo:2" >/dev/null
"$CBUILD" --root "$R2" pull -q "$REG/fromskopeo:2" >/dev/null 2>&1; ok $? "pull an image pushed by skopeo"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$R2:$REG/fromskopeo:2")" \
	"$(skopeo inspect --format '{{.Digest}}' "oci:$L:sk")" "same manifest as skopeo pushed"

# a multi-platform index made with buildah: the right platform is chosen
if command -v buildah >/dev/null; then
	mkimage "$L" amd --random 8K --seed 11 >/dev/null
	mkimage "$L" arm --random 8K --seed 12 --arch arm64 --variant v8 >/dev/null
	B=(buildah --root "$T/bs" --runroot "$T/br" --storage-driver vfs)
	"${B[@]}" manifest create multi >/dev/null &&
		"${B[@]}" manifest add multi "oci:$L:amd" >/dev/null &&
		"${B[@]}" manifest add multi "oci:$L:arm" >/dev/null &&
		"${B[@]}" manifest push -q --all --tls-verify=false multi "docker://$REG/multi:1" >/dev/null 2>&1
	ok $? "buildah pushed a multi-platform index"
	# buildah may convert the images on push: the index says what is there
	skopeo inspect --raw --tls-verify=false "docker://$REG/multi:1" > "$T/index.json"
	plat_digest() { python3 -c 'import json,sys
for m in json.load(open(sys.argv[1]))["manifests"]:
    if m["platform"]["architecture"] == sys.argv[2]: print(m["digest"])' "$T/index.json" "$1"; }
	amd=$(plat_digest amd64)
	arm=$(plat_digest arm64)
	"$CBUILD" --root "$R2" pull -q --platform linux/amd64 "$REG/multi:1" >/dev/null 2>&1
	ok $? "pull the index for linux/amd64"
	is "$(skopeo inspect --format '{{.Digest}}' "oci:$R2:$REG/multi:1")" "$amd" "the tag points at the amd64 manifest"
	"$CBUILD" --root "$R2" pull -q --platform linux/arm64 "$REG/multi:1" >/dev/null 2>&1
	ok $? "pull the index for linux/arm64"
	# a foreign platform's pull tags the index (issue 28): the next plain
	# use of the tag still gets this machine's image
	like "$(python3 -c 'import json,sys; print([m["mediaType"] for m in json.load(open(sys.argv[1]))["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name")==sys.argv[2]][0])' "$R2/index.json" "$REG/multi:1")" \
		"image.index|manifest.list" "the tag names the index, not the arm64/v8 manifest"
	is "$("$CBUILD" --root "$R2" inspect --raw --platform linux/arm64 "$REG/multi:1" | head -c -1 | sha256sum | cut -d' ' -f1)" \
		"${arm#sha256:}" "whose arm64 image is the arm64/v8 manifest"
	idx=$(sha256sum < "$T/index.json" | cut -d' ' -f1)
	[ -f "$R2/blobs/sha256/$idx" ]; ok $? "the index blob is kept"
	[ "$(uname -m)" = x86_64 ] && {
		"$CBUILD" --root "$R2" pull -q "$REG/multi:1" >/dev/null 2>&1
		is "$("$CBUILD" --root "$R2" inspect "$REG/multi:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Architecture"])')" \
			amd64 "the default platform is this machine's"
		is "$("$CBUILD" --root "$R2" inspect --raw --platform linux/amd64 "$REG/multi:1" | head -c -1 | sha256sum | cut -d' ' -f1)" \
			"${amd#sha256:}" "... the amd64 manifest"
	}
	err=$("$CBUILD" --root "$R2" pull --platform linux/s390x "$REG/multi:1" 2>&1 >/dev/null)
	like "$err" "no image for platform 'linux/s390x'" "a platform missing from the index is a clear error"
fi

# --format docker converts media types; it pulls back
cb push -q --format docker "$REG/app:1" "$REG/dockerfmt:1" >/dev/null 2>&1; ok $? "push --format docker"
raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/dockerfmt:1")
like "$raw" '"mediaType":"application/vnd.docker.distribution.manifest.v2\+json"' "docker manifest type"
like "$raw" 'application/vnd.docker.container.image.v1\+json' "docker config type"
like "$raw" 'application/vnd.docker.image.rootfs.diff.tar.gzip' "docker layer type"
"$CBUILD" --root "$T/root3" pull -q "$REG/dockerfmt:1" >/dev/null 2>&1; ok $? "pull the docker-format image back"

# oci: destination
d=$(cb push -q "$REG/app:1" "oci:$T/ocidir:v1" 2>/dev/null); ok $? "push to oci:DIR:TAG"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$T/ocidir:v1")" "$d" "skopeo reads the layout"

# a second push of an unchanged image sends no blob bodies
start_proxy "$REG"
cb push -q "$REG/app:1" "$PROXY/app:1" >/dev/null 2>&1; ok $? "push through the counting proxy"
: > "$PROXY_LOG"
cb push -q "$REG/app:1" "$PROXY/app:1" >/dev/null 2>&1; ok $? "push again"
is "$(grep -c '^HEAD /v2/app/blobs/' "$PROXY_LOG")" 3 "one HEAD per blob"
is "$(grep -Ec '^(POST|PATCH|PUT) /v2/app/blobs/' "$PROXY_LOG")" 0 "no blob upload at all"
is "$(grep -c '^PUT /v2/app/manifests/1' "$PROXY_LOG")" 1 "only the manifest is put"

# clear errors
err=$(cb pull "$REG/app:9" 2>&1); ok $((! $?)) "pulling a missing tag fails"
like "$err" "manifest unknown: $REG/app:9" "with docker's message"
err=$(cb push "$REG/nothere:1" 2>&1); ok $((! $?)) "pushing a missing local image fails"
like "$err" "image not known" "with a clear message"
err=$(cb pull --platform foo "$REG/app:1" 2>&1); like "$err" "invalid platform" "bad --platform"
# round trip with cbuild's own commands: import, tag, push, rmi, pull: same image ID
id=$(cb import "$ROOTFS_TAR" busybox:rt 2>/dev/null | tail -1)
cb tag busybox:rt "$REG/rt/busybox:1" >/dev/null 2>&1; ok $? "tag an imported image for the registry"
cb push -q "$REG/rt/busybox:1" >/dev/null 2>&1; ok $? "push it"
cb rmi "$REG/rt/busybox:1" busybox:rt >/dev/null 2>&1; ok $? "rmi it"
got=$(cb pull -q "$REG/rt/busybox:1" 2>/dev/null); ok $? "pull it back"
is "$got" "$id" "the image ID is the same after push, rmi and pull"
like "$(cb images --no-trunc 2>/dev/null)" "$REG/rt/busybox +1 +$id" "images lists it"
done_testing
