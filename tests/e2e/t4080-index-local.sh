#!/bin/bash
# A tag that names an image index (pull --all-platforms) is an image like
# any other: images, inspect, history, run, FROM and save use the image of
# this machine's platform, or of the one --platform names; tag copies the
# index; rmi and the GC keep exactly what the remaining tags and containers
# need. Images are made without cbuild (mkimage.py), pushed by skopeo.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
case $(uname -m) in
x86_64) HOST=amd64 OTHER=arm64 OVAR=v8 ;;
aarch64) HOST=arm64 OTHER=amd64 OVAR= ;;
*) skip_all "no second platform chosen for $(uname -m)" ;;
esac
OTHERP=linux/$OTHER${OVAR:+/$OVAR}
quiet_registry || skip_all "cannot start docker-registry"

# Both images are the busybox rootfs (runnable here) plus /plat naming the
# platform they claim; the other platform is listed first, and a BuildKit
# style attestation (unknown/unknown) rides along.
L=$T/l
for p in $HOST $OTHER; do
	mkdir -p "$T/p-$p" && echo "$p" >"$T/p-$p/plat" && tar -C "$T/p-$p" -cf "$T/$p.tar" plat
done
other=$(mkimage "$L" other --tar "$ROOTFS_TAR" --tar "$T/$OTHER.tar" --arch $OTHER ${OVAR:+--variant $OVAR} --gzip)
host=$(mkimage "$L" host --tar "$ROOTFS_TAR" --tar "$T/$HOST.tar" --arch $HOST --gzip)
att=$(mkimage "$L" att --random 1K --os unknown --arch unknown --seed 5 --gzip)
python3 - "$L" "$host" <<'PY'
import hashlib, json, os, sys
L, host = sys.argv[1:]
idx = json.load(open(os.path.join(L, "index.json")))
by = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
kids = []
for t in ("other", "host", "att"):
    d = dict(by[t])
    d.pop("annotations")
    if t == "att":
        d["annotations"] = {"vnd.docker.reference.type": "attestation-manifest",
                            "vnd.docker.reference.digest": host}
    kids.append(d)
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": kids}, separators=(",", ":")).encode()
h = hashlib.sha256(body).hexdigest()
open(os.path.join(L, "blobs", "sha256", h), "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + h,
                         "size": len(body), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(os.path.join(L, "index.json"), "w"))
PY
# config digest (the image ID) of a manifest in the layout
cfg() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$L/blobs/sha256/${1#sha256:}"; }
host_id=$(cfg "$host")
other_id=$(cfg "$other")
skopeo copy -q --all --dest-tls-verify=false "oci:$L:multi" "docker://$REG/multi:1" >/dev/null
ok $? "skopeo pushed a two-platform index (and an attestation)"
M=$REG/multi:1
idx=$(cb pull -q --all-platforms "$M" 2>"$T/err"); ok $? "pull --all-platforms"
[ -f "$ROOT/blobs/sha256/${att#sha256:}" ] && [ -f "$ROOT/blobs/sha256/${other#sha256:}" ]
ok $? "with every manifest, the attestation's too"

# images: the tag once, with this machine's image's ID
cb images --no-trunc >"$T/images" 2>"$T/images.err"; ok $? "images"
is "$(cat "$T/images.err")" "" "without a warning"
is "$(grep -c "^$REG/multi " "$T/images")" 1 "the index tag is listed once"
like "$(grep "^$REG/multi " "$T/images")" "$host_id" "with the ID of the $HOST image"
is "$(cb images -q "$M")" "$(echo "${host_id#sha256:}" | cut -c1-12)" "images -q shows that ID"
like "$(cb images --digests "$M")" "$idx" "images --digests shows the index digest"
cb images --all-platforms "$M" >"$T/all"; ok $? "images --all-platforms"
is "$(grep -c "^$REG/multi " "$T/all")" 2 "one row per platform (an attestation is none)"
like "$(grep " $OTHERP\$" "$T/all")" "${other_id:7:12}" "each with its image's ID"
like "$(head -1 "$T/all")" "SIZE +PLATFORM\$" "under a PLATFORM column"
is "$(cb images --all-platforms --format '{{.Platform}} {{.Digest}}' "$M" | sort)" \
	"$(printf '%s\n' "linux/$HOST $host" "$OTHERP $other" | sort)" "--format {{.Platform}} {{.Digest}}"

# inspect
j=$(cb inspect "$M" 2>"$T/err"); ok $? "inspect an index tag"
jq() { python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(eval(sys.argv[1]))' "$1"; }
is "$(jq 'j["Id"]' <<<"$j")" "$host_id" "inspect shows this machine's image"
is "$(jq 'j["Architecture"]' <<<"$j")" "$HOST" "its architecture"
is "$(jq 'j["ManifestDigest"]' <<<"$j")" "$host" "its manifest"
is "$(jq 'j["RepoTags"][0]' <<<"$j")" "$M" "RepoTags names the tag"
is "$(jq 'j["RepoDigests"][0]' <<<"$j")" "$REG/multi@$idx" "RepoDigests the index, as docker does"
j=$(cb inspect --platform "$OTHERP" "$M"); ok $? "inspect --platform $OTHERP"
is "$(jq 'j["Id"]+" "+j["Architecture"]' <<<"$j")" "$other_id $OTHER" "shows the other image"
is "$(cb inspect --type image --platform linux/$HOST "$REG/multi@$idx" | jq 'j["Id"]')" "$host_id" \
	"inspect NAME@INDEX-DIGEST --platform"
cb inspect --platform linux/s390x "$M" >/dev/null 2>"$T/err"; is $? 1 "inspect of a platform the index lacks fails"
like "$(cat "$T/err")" "no image for platform 'linux/s390x' \(available: $OTHERP, linux/$HOST\)" \
	"naming the platforms there are (not the attestation)"
cb inspect --raw "$M" >"$T/raw"; ok $? "inspect --raw"
is "$(head -c -1 "$T/raw" | sha256sum | cut -d' ' -f1)" "${idx#sha256:}" "shows the index, byte for byte"
is "$(cb inspect --raw --platform "$OTHERP" "$M" | head -c -1 | sha256sum | cut -d' ' -f1)" "${other#sha256:}" \
	"inspect --raw --platform: that platform's manifest"
cb inspect --platform foo "$M" >/dev/null 2>"$T/err"; is $? 2 "a malformed --platform is a usage error"
like "$(cat "$T/err")" "invalid platform 'foo'" "saying so"

# history
is "$(cb history -q "$M")" "$(echo "${host_id#sha256:}" | cut -c1-12)" "history of this machine's image"
is "$(cb history -q --platform "$OTHERP" "$M")" "$(echo "${other_id#sha256:}" | cut -c1-12)" \
	"history --platform"

# an ID names one image, whichever platform it is
is "$(cb inspect "${other_id:7:12}" | jq 'j["Id"]')" "$other_id" "inspect the other platform's image by ID"
is "$(cb run --rm "${other_id:7:12}" cat /plat)" "$OTHER" "run it by ID"

# run
is "$(cb run --rm "$M" cat /plat 2>"$T/err")" "$HOST" "run an index tag: this machine's image"
is "$(cb run --rm --platform "$OTHERP" "$M" cat /plat)" "$OTHER" "run --platform picks the other"
is "$(cb run --rm --platform linux/$OTHER "$M" cat /plat)" "$OTHER" "also without the variant"
cb run --rm --platform linux/s390x "$M" true 2>"$T/err"; is $? 125 "run of a missing platform fails (125: cbuild's own error)"
like "$(cat "$T/err")" "image '$M'.*no image for platform 'linux/s390x'.*available" "clearly"

# FROM
mkdir -p "$T/ctx"
printf 'FROM %s\nRUN cp /plat /seen\n' "$M" >"$T/ctx/Dockerfile"
cb build -q -t from:host "$T/ctx" >/dev/null 2>"$T/err"; ok $? "FROM an index tag builds"
is "$(cb run --rm from:host cat /seen)" "$HOST" "on this machine's image"
cb build -q --platform "$OTHERP" -t from:other "$T/ctx" >/dev/null 2>"$T/err"; ok $? "build --platform $OTHERP"
is "$(cb run --rm from:other cat /seen)" "$OTHER" "FROM resolves to that platform"
printf 'FROM --platform=%s %s\nRUN cp /plat /seen\n' "$OTHERP" "$M" >"$T/ctx/Dockerfile"
cb build -q -t from:flag "$T/ctx" >/dev/null 2>"$T/err"; ok $? "FROM --platform= of an index tag"
is "$(cb run --rm from:flag cat /seen)" "$OTHER" "resolves to that platform"
printf 'FROM --platform=linux/s390x %s\n' "$M" >"$T/ctx/Dockerfile"
cb build -q -t from:none "$T/ctx" >/dev/null 2>"$T/err"; is $? 1 "FROM a platform the index lacks fails"
like "$(cat "$T/err")" "no image for platform 'linux/s390x'" "clearly"

# save: one image, the platform's
cb save -o "$T/h.tar" "$M"; ok $? "save an index tag"
is "$(skopeo inspect --format '{{.Architecture}}' "docker-archive:$T/h.tar")" "$HOST" "holds this machine's image"
cb save --platform "$OTHERP" -o "$T/o.tar" "$M"; ok $? "save --platform"
is "$(skopeo inspect --config "docker-archive:$T/o.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["architecture"])')" \
	"$OTHER" "holds the other image"
is "$(skopeo inspect --format '{{.Digest}}' "oci-archive:$T/o.tar")" "$other" "its manifest, unchanged"

# images built on an index's image keep it as their (untagged) parent, as
# docker keeps a parent (t0060): remove them, so that what follows is about
# tags and containers only
cb rmi from:host from:other from:flag >/dev/null; ok $? "rmi the images built on the index"

# tag copies the index; rmi and GC
cb tag "$M" copy:2; ok $? "tag an index tag"
is "$(skopeo inspect --raw "oci:$ROOT:docker.io/library/copy:2" | sha256sum | cut -d' ' -f1)" "${idx#sha256:}" \
	"the new tag names the index too"
is "$(cb run --rm --platform "$OTHERP" copy:2 cat /plat)" "$OTHER" "and every platform comes with it"
cb push -q copy:2 "$REG/again:1" >"$T/out" 2>"$T/err"; ok $? "push the copy"
is "$(cat "$T/out")" "$idx" "as the same index"
cb rmi "$M" >/dev/null; ok $? "rmi the first tag"
gone=
for d in $host $other $att $idx; do
	[ -f "$ROOT/blobs/sha256/${d#sha256:}" ] || gone="$gone $d"
done
is "$gone" "" "the index and every child are kept for the other tag"
cb run --name keep --platform "$OTHERP" copy:2 true; ok $? "a container of the $OTHER image"
cb rmi copy:2 >/dev/null; ok $? "rmi the last tag"
[ ! -f "$ROOT/blobs/sha256/${idx#sha256:}" ] && [ ! -f "$ROOT/blobs/sha256/${host#sha256:}" ] &&
	[ ! -f "$ROOT/blobs/sha256/${att#sha256:}" ]
ok $? "the index, the $HOST manifest and the attestation are collected"
[ -f "$ROOT/blobs/sha256/${other#sha256:}" ]; ok $? "the manifest a container uses is kept"
is "$(cb inspect keep | jq 'j["Image"]')" "$other_id" "the container records the image it ran"
blobs_ok "$ROOT"; ok $? "every blob left matches its digest"
cb pull -q --all-platforms "$M" >/dev/null 2>&1; ok $? "pull the index again"
cb rm keep >/dev/null # docker refuses an ID a stopped container uses (t0060)
cb rmi "${other_id:7:12}" >"$T/out"; ok $? "rmi by the ID of one platform's image"
is "$(cat "$T/out")" "Untagged: $M
Deleted: $other_id" "untags the index tag that holds it"
done_testing
