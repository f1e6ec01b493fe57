#!/bin/bash
# push to oci-archive: and docker-archive: destinations; skopeo and
# cbuild load read them back.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"

L=$T/layout
mkimage "$L" app --tar "$ROOTFS_TAR" --random 64K --gzip >/dev/null
to_store "$L" app "localhost/app:1"
want=$(skopeo inspect --format '{{.Digest}}' "oci:$ROOT:localhost/app:1")
id=$(cb images -q --no-trunc)

# oci-archive with a tag
out=$(cb push -q localhost/app:1 "oci-archive:$T/o.tar:v2"); ok $? "push to oci-archive:FILE:TAG"
is "$out" "$want" "it prints the manifest digest"
is "$(skopeo inspect --format '{{.Digest}}' "oci-archive:$T/o.tar:v2" 2>&1)" "$want" \
	"skopeo inspect oci-archive:FILE:TAG sees it"
skopeo copy -q "oci-archive:$T/o.tar:v2" "dir:$T/odir" >/dev/null 2>&1; ok $? "skopeo copy oci-archive -> dir"
blobs=$(ls "$T/odir" | grep -c '^[0-9a-f]\{64\}$')
is "$blobs" "3" "the dir holds the config and both layers"

# oci-archive without a tag: the source's tag
cb push -q localhost/app:1 "oci-archive:$T/o2.tar" >/dev/null; ok $? "push to oci-archive:FILE"
is "$(skopeo inspect --format '{{.Digest}}' "oci-archive:$T/o2.tar" 2>&1)" "$want" "skopeo reads the only image"

# docker-archive with a reference
cb push -q localhost/app:1 "docker-archive:$T/d.tar:example.com/other:7" >/dev/null
ok $? "push to docker-archive:FILE:REF"
tar -tf "$T/d.tar" > "$T/list"
grep -qx manifest.json "$T/list" && grep -qx repositories "$T/list"
ok $? "docker-archive has manifest.json and repositories"
is "$(tar -xOf "$T/d.tar" manifest.json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[0]["RepoTags"][0], len(m[0]["Layers"]))')" \
	"example.com/other:7 2" "manifest.json names the reference and both layers"
for f in $(tar -xOf "$T/d.tar" manifest.json | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)[0]["Layers"]))'); do
	tar -xOf "$T/d.tar" "$f" | tar -tzf - >/dev/null 2>&1 || tar -xOf "$T/d.tar" "$f" | tar -tf - >/dev/null 2>&1 ||
		fail "layer $f is not a tar"
done
pass "every layer in manifest.json is a (compressed) tar"
skopeo inspect "docker-archive:$T/d.tar:example.com/other:7" >/dev/null 2>&1; ok $? "skopeo inspect docker-archive:FILE:REF"
skopeo copy -q "docker-archive:$T/d.tar" "dir:$T/ddir" >/dev/null 2>&1; ok $? "skopeo copy docker-archive -> dir"

# both load back into a fresh store with the same image ID
R2=$T/root2
"$CBUILD" --root "$R2" load -q -i "$T/d.tar" >/dev/null; ok $? "cbuild load reads the docker-archive"
is "$("$CBUILD" --root "$R2" images -q --no-trunc)" "$id" "same image ID"
like "$("$CBUILD" --root "$R2" images)" "example.com/other +7" "tagged as the archive's reference"
R3=$T/root3
"$CBUILD" --root "$R3" load -q -i "$T/o.tar" >/dev/null; ok $? "cbuild load reads the oci-archive"
is "$("$CBUILD" --root "$R3" images -q --no-trunc)" "$id" "same image ID"

# docker load reads the docker-archive (a private dockerd, as MACHINE-NOTES says)
if dockerd_has && [ "$(id -u)" = 0 ]; then
	dockerd_start || diag "$WHY"
	out=$(dk load -i "$T/d.tar" 2>&1); ok $? "docker load reads the docker-archive"
	like "$out" "Loaded image: example.com/other:7" "under its reference"
	is "$(dk image inspect --format '{{.Id}}' example.com/other:7 2>/dev/null)" "$id" "same image ID in docker"
	dockerd_stop "$DD"
fi

# refused cleanly
cb push -q localhost/nope:1 "oci-archive:$T/n.tar" 2>"$T/err"; is $? 1 "an unknown image fails"
[ ! -e "$T/n.tar" ]; ok $? "and leaves no archive"
cb push -q --format docker localhost/app:1 "docker-archive:$T/f.tar" 2>/dev/null; is $? 2 "--format with an archive is a usage error"
done_testing
