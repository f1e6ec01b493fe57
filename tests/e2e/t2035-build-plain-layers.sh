#!/usr/bin/env bash
# Issue 29: every layer step of a build keeps its layer as a plain tar,
# marked to be gzipped at push (store/variant.h): a build gzips nothing, as
# BuildKit's and buildah's do not. The choice is fixed, not by timing: two
# builds (with and without the committer, on two roots) give the same
# manifest; the pushed gzip is byte for byte the blob a build that must
# gzip (--cache-to) writes for the same layer (one gzip level for both);
# the pushed image pulls and runs; a kill -9 while a build that gzips
# compresses behind the steps leaves a store that fsck finds whole.
# No timing is asserted.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"
import_busybox

mdigest() { skopeo inspect --raw "oci:${2:-$ROOT}:$1" | sha256sum | cut -d' ' -f1; }

a=$T/a b=$T/b
mkdir -p "$a" "$b"
echo hi > "$a/a.txt"
cp "$a/a.txt" "$b/a.txt"
# a: the RUN is the last layer step; b: the same RUN, then one more layer
printf 'FROM busybox\nCOPY a.txt /a.txt\nRUN seq 1 60000 > /num\nCMD ["sh"]\n' > "$a/Dockerfile"
printf 'FROM busybox\nCOPY a.txt /a.txt\nRUN seq 1 60000 > /num\nRUN echo b > /b\n' > "$b/Dockerfile"

cb build -q --timestamp 0 -t "$REG/pa:1" "$a" >/dev/null; ok $? "build a"
types() { layers "$@" | cut -d' ' -f1 | sed 's/.*layer.v1.//' | tr '\n' ' '; }
is "$(types "$REG/pa:1")" "tar+gzip tar tar " "the base's layer stays gzip, the COPY's and the RUN's are plain tars"
diffid=$(layers "$REG/pa:1" | tail -1 | cut -d' ' -f2)
is "$(cat "$ROOT/variants/sha256/${diffid#sha256:}")" "gzip" "marked to be gzipped at push"

R2=$T/root2
# the same base image (an import's history has the time of the import)
skopeo copy -q "oci:$ROOT:docker.io/library/busybox:latest" "oci:$R2:docker.io/library/busybox:latest" >/dev/null
CBUILD_SYNC_COMMIT=1 "$CBUILD" --root "$R2" build -q --timestamp 0 -t "$REG/pa:1" "$a" >/dev/null
ok $? "build a again on another root, every blob written before the next step"
is "$(mdigest "$REG/pa:1" "$R2")" "$(mdigest "$REG/pa:1")" "same manifest digest"

# (--no-cache: a's steps are in the cache, its plain layer with them)
cb build -q --no-cache --timestamp 0 -t "$REG/pb:1" "$b" >/dev/null; ok $? "build b (the RUN is not last)"
is "$(types "$REG/pb:1")" "tar+gzip tar tar tar " "there the RUN's layer is plain too, and b's last"
# a build that must be all gzip when it ends (--cache-to) gzips as it goes
R4=$T/root4
skopeo copy -q "oci:$ROOT:docker.io/library/busybox:latest" "oci:$R4:docker.io/library/busybox:latest" >/dev/null
"$CBUILD" --root "$R4" build -q --timestamp 0 --cache-to "$REG/cache:gz" -t "$REG/pg:1" "$b" >/dev/null 2>&1
ok $? "build b with --cache-to on another root"
is "$(layers "$REG/pg:1" "$R4" | sed -n 3p | cut -d' ' -f1)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"there the RUN's layer is gzip"
built_gz=$(layers "$REG/pg:1" "$R4" | sed -n 3p | cut -d' ' -f2)

cb push -q "$REG/pa:1" >/dev/null 2>"$T/push.err"; ok $? "push a" || diag "$(cat "$T/push.err")"
is "$(pushed "$REG/pa:1" | cut -d' ' -f1 | sort -u)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"every pushed layer is gzip"
is "$(pushed "$REG/pa:1" | tail -1 | cut -d' ' -f2)" "$built_gz" \
	"the pushed gzip is the blob the gzip build wrote for the same layer"

R3=$T/root3
"$CBUILD" --root "$R3" pull -q "$REG/pa:1" >/dev/null 2>&1; ok $? "pull into a fresh store"
is "$("$CBUILD" --root "$R3" run --rm "$REG/pa:1" tail -1 /num)" "60000" "the pulled image runs"

# an image that goes into an index (here: with an attestation) keeps every
# layer gzip: the index names its manifest by digest, and push must not
# rewrite it; its steps hit a's cache, plain last layer included, which the
# build then replaces by its gzip variant
cb build -q --provenance=min -t "$REG/pi:1" "$a" >/dev/null; ok $? "build --provenance=min (from a's cache)"
child=$(skopeo inspect --raw "oci:$ROOT:$REG/pi:1" |
	python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["os"] != "unknown"][0])')
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][-1]["mediaType"])' "$ROOT/blobs/sha256/${child#sha256:}")" \
	"application/vnd.oci.image.layer.v1.tar+gzip" "the index's image has its last layer as gzip"
cb push -q "$REG/pi:1" --digestfile "$T/pi.d" >/dev/null 2>"$T/pi.err"; ok $? "push the index" || diag "$(cat "$T/pi.err")"
is "$(cat "$T/pi.d")" "sha256:$(mdigest "$REG/pi:1")" "the pushed index is the local one"
skopeo copy -q --src-tls-verify=false "docker://$REG/pi:1" "oci:$T/pil:x" >/dev/null 2>&1
ok $? "skopeo copies it whole"

# a build whose cache is exported keeps every layer gzip too (another
# runner's hit has no mark): the runner's push sends gzip layers only.
# Its steps hit a's cache, plain last layer included: the hit takes the
# gzip variant, and the exported entries name that image.
cb build -q --cache-to "$REG/cache:a" -t "$REG/pc:1" "$a" >/dev/null 2>"$T/pc.err"
ok $? "build --cache-to (from a's cache)" || diag "$(cat "$T/pc.err")"
is "$(grep -c 'warning' "$T/pc.err")" 0 "no warning"
is "$(layers "$REG/pc:1" | cut -d' ' -f1 | sort -u)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"its layers are gzip"
R5=$T/root5
skopeo copy -q "oci:$ROOT:docker.io/library/busybox:latest" "oci:$R5:docker.io/library/busybox:latest" >/dev/null
"$CBUILD" --root "$R5" build -q --cache-from "$REG/cache:a" -t "$REG/pc:2" "$a" >/dev/null 2>&1
ok $? "another store builds it from that cache"
"$CBUILD" --root "$R5" push -q "$REG/pc:2" >/dev/null 2>&1; ok $? "and pushes it"
is "$(pushed "$REG/pc:2" | cut -d' ' -f1 | sort -u)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"every layer it pushed is gzip"
# b shares a's steps but the last: the runner hits a's RUN entry
"$CBUILD" --root "$R5" build -q --cache-from "$REG/cache:a" -t "$REG/pc:3" "$b" >/dev/null 2>&1
ok $? "the other store builds b from that cache"
"$CBUILD" --root "$R5" push -q "$REG/pc:3" >/dev/null 2>&1; ok $? "and pushes it"
is "$(pushed "$REG/pc:3" | cut -d' ' -f1 | sort -u)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"every layer of that push is gzip, the hit RUN's too"

# another gzip level: the last layer is gzipped by the build, at that level
cb build -q --no-cache --compression-level 9 -t "$REG/p9:1" "$a" >/dev/null; ok $? "build --compression-level 9"
is "$(layers "$REG/p9:1" | tail -1 | cut -d' ' -f1)" "application/vnd.oci.image.layer.v1.tar+gzip" \
	"its last layer is gzip already"

# an explicit --compress none build marks nothing
cb build -q --no-cache --compress none -t "$REG/pn:1" "$a" >/dev/null; ok $? "build --compress none"
cb push -q "$REG/pn:1" >/dev/null 2>&1; ok $? "push it"
is "$(pushed "$REG/pn:1" | tail -1 | cut -d' ' -f1)" "application/vnd.oci.image.layer.v1.tar" \
	"its last layer leaves uncompressed"

# kill -9 while a big earlier layer is compressed behind the later steps
# (a build that gzips: its cache is exported)
k=$T/k
mkdir -p "$k"
printf 'FROM busybox\nRUN yes t2035-kill | head -c 200000000 > /big\nRUN sleep 2; echo x > /x\n' > "$k/Dockerfile"
"$CBUILD" --root "$ROOT" build --no-cache --cache-to "$REG/cache:k" -t kill:1 "$k" >"$T/k.log" 2>&1 &
pid=$!
wait_line "$pid" "$T/k.log" '^--> '
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
cb fsck >"$T/fsck.out" 2>&1; rc=$?; ok $rc "fsck after kill -9 during background compression"
[ $rc = 0 ] || diag "$(cat "$T/fsck.out")"
blobs_ok "$ROOT"; ok $? "every blob matches its digest"
cb build -q -t kill:1 "$k" >/dev/null 2>&1; ok $? "the build completes afterwards"
is "$(layers docker.io/library/kill:1 | tail -1 | cut -d' ' -f1)" "application/vnd.oci.image.layer.v1.tar" \
	"its last layer plain"
done_testing
