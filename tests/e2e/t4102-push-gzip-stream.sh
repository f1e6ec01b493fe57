#!/bin/bash
# Issue 29: the first push of a plain layer (commit's, store/variant.h)
# streams its gzip into the upload as it is made (registry/push_stream.h):
# one chunked PATCH, then PUT ?digest=. The registry's blob is the local
# variant's bytes and the image pulls back the same. Faults in the middle of
# the stream (a hang-up, a 500, bytes changed on the way) fail the push with
# a clear error and leave the store consistent, and the next push works; a
# registry that refuses the streamed PATCH (405) gets the blob as before.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"
import_busybox

layer_digest() { # layer_digest N: the N-th layer's digest of the manifest on stdin
	python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][int(sys.argv[1])]["digest"])' "$1"
}
status() { curl -s -o /dev/null -I -w '%{http_code}' "http://$REG/v2/$1"; }
record() { cat "$ROOT/variants/sha256/${diffid#sha256:}" 2>/dev/null; }
# the variant forgotten, as before a first push
reset_variant() {
	local r; r=$(record)
	set -- $r
	[ -n "$2" ] && rm -f "$ROOT/blobs/sha256/${2#sha256:}"
	echo gzip > "$ROOT/variants/sha256/${diffid#sha256:}"
}
# a record names a whole blob, or none
record_ok() {
	local r; r=$(record)
	set -- $r
	[ -z "$2" ] && return 0
	[ "$(sha256sum < "$ROOT/blobs/sha256/${2#sha256:}" | cut -d' ' -f1)" = "${2#sha256:}" ] &&
		[ "$(stat -c %s "$ROOT/blobs/sha256/${2#sha256:}")" = "$3" ]
}

# 6 MiB that do not compress (more than the ring between gzip and upload)
# and text that does
cb run --name st1-$$ busybox sh -c 'head -c 6291456 /dev/urandom > /rnd; seq 1 300000 > /num' >/dev/null
ok $? "a container writes files"
cb commit st1-$$ "$REG/st:1" >/dev/null; ok $? "commit it"
diffid=$(skopeo inspect --raw "oci:$ROOT:$REG/st:1" | layer_digest -1)
is "$(record)" "gzip" "the layer is marked, its gzip not made"

start_proxy "$REG"
cb push -q "$REG/st:1" "$PROXY/st:1" --digestfile "$T/d1" >/dev/null 2>"$T/p1.err"
ok $? "first push" || diag "$(cat "$T/p1.err")"
set -- $(record)
gz=$2 gzsize=$3
like "$gz" "^sha256:[0-9a-f]{64}$" "the variant is recorded"
grep -E "^PATCH /v2/st/blobs/uploads/[^ ]* 202 $gzsize 0 chunked$" "$PROXY_LOG" >/dev/null
ok $? "its bytes went in one chunked PATCH as they were made" || diag "$(cat "$PROXY_LOG")"
grep -E "^PUT /v2/st/blobs/uploads/[^ ]*digest=${gz/:/%3A}[^ ]* 201 0 " "$PROXY_LOG" >/dev/null ||
	grep -E "^PUT /v2/st/blobs/uploads/[^ ]*digest=$gz[^ ]* 201 0 " "$PROXY_LOG" >/dev/null
ok $? "then an empty PUT ?digest= of the variant"
is "$(curl -s "http://$REG/v2/st/blobs/$gz" | sha256sum | cut -d' ' -f1)" "${gz#sha256:}" \
	"the registry's blob is the local variant's bytes"
raw=$(skopeo inspect --tls-verify=false --raw "docker://$REG/st:1")
is "$(echo "$raw" | layer_digest -1)" "$gz" "the manifest names the variant"
is "$(cat "$T/d1")" "sha256:$(printf %s "$raw" | sha256sum | cut -d' ' -f1)" "the manifest put is the one named"
is "$(curl -s "http://$REG/v2/st/blobs/$gz" | gunzip | sha256sum | cut -d' ' -f1)" "${diffid#sha256:}" \
	"it unpacks to the committed layer"
R2=$T/root-pull
"$CBUILD" --root "$R2" pull -q "$REG/st:1" >/dev/null 2>"$T/pull.err"; ok $? "the image pulls back"
is "$("$CBUILD" --root "$R2" run --rm "$REG/st:1" sh -c 'cat /rnd /num | md5sum')" \
	"$(cb run --rm "$REG/st:1" sh -c 'cat /rnd /num | md5sum')" "with the same files"
cb push -q "$REG/st:1" "$REG/st2:1" --digestfile "$T/d2" >/dev/null 2>&1; ok $? "push again (variant reused)"
is "$(cat "$T/d2")" "$(cat "$T/d1")" "the same manifest"

# faults in the middle of the stream: an error, a consistent store, a retry
# that works
fault_push() { # fault_push NAME FAULT: a first push through a proxy with FAULT
	reset_variant
	start_proxy "$REG" "$2"
	cb push -q "$REG/st:1" "$PROXY/$1:1" >/dev/null 2>"$T/$1.err"
}
fault_push cut "cut:PATCH /v2/cut/blobs/uploads/"
ok $((! $?)) "a registry hanging up mid-stream fails the push"
grep -q "^PATCH /v2/cut/blobs/uploads/.* cut " "$PROXY_LOG"; ok $? "the hang-up happened in the PATCH"
like "$(cat "$T/cut.err")" "upload blob 'sha256:.*streamed" "the error names the streamed upload"
is "$(status "cut/manifests/1")" 404 "no manifest was put"
record_ok; ok $? "the variant record is none or names a whole blob"
cb fsck >/dev/null 2>"$T/fsck.err"; ok $? "fsck is clean" || diag "$(cat "$T/fsck.err")"
cb push -q "$REG/st:1" "$REG/cut:1" --digestfile "$T/d3" >/dev/null 2>"$T/cut2.err"
ok $? "the next push works" || diag "$(cat "$T/cut2.err")"
is "$(cat "$T/d3")" "$(cat "$T/d1")" "with the same manifest"

fault_push e500 "500:PATCH /v2/e500/blobs/uploads/"
ok $((! $?)) "a 500 answer to the stream fails the push"
like "$(cat "$T/e500.err")" "500|injected" "and says what the registry answered"
record_ok; ok $? "the record is consistent after the 500"

fault_push bad "corruptreq:PATCH /v2/bad/blobs/uploads/"
ok $((! $?)) "bytes changed on the way fail the push"
like "$(cat "$T/bad.err")" "[Dd]igest" "with a digest error"
is "$(status "bad/manifests/1")" 404 "no manifest was put"
record_ok; ok $? "the record is consistent after the bad digest"
cb fsck >/dev/null 2>"$T/fsck.err"; ok $? "fsck is clean after the faults" || diag "$(cat "$T/fsck.err")"

# a registry without streamed uploads: today's whole-blob PUT
fault_push mono "405:PATCH /v2/mono/"
ok $? "a registry refusing the streamed PATCH (405) still gets the image" || diag "$(cat "$T/mono.err")"
grep -qE "^PATCH /v2/mono/blobs/uploads/.* 405 " "$PROXY_LOG"; ok $? "the stream was refused"
set -- $(record)
grep -qE "^PUT /v2/mono/blobs/uploads/.* 201 $3 " "$PROXY_LOG"; ok $? "then the variant went in one PUT"
skopeo copy -q --src-tls-verify=false "docker://$REG/mono:1" "oci:$T/sk:x" >/dev/null; ok $? "skopeo reads every blob"
fault_push mono2 "sizeinv:PATCH /v2/mono2/"
ok $? "so does one demanding a Content-Length (400 SIZE_INVALID)" || diag "$(cat "$T/mono2.err")"
grep -qE "^PUT /v2/mono2/blobs/uploads/.* 201 $3 " "$PROXY_LOG"; ok $? "the variant went in one PUT"

# a registry with TLS and a login: the stream's own client authenticates too
REG0=$REG
quiet_registry tls auth || skip_all "cannot start a second docker-registry"
cb login -u testuser -p testpass "$REG" >/dev/null 2>&1; ok $? "login to a TLS registry with auth"
cb tag "$REG0/st:1" "$REG/st:1" >/dev/null; ok $? "tag the image for it"
reset_variant
cb push -q "$REG/st:1" --digestfile "$T/d4" >/dev/null 2>"$T/auth.err"
ok $? "first push there" || diag "$(cat "$T/auth.err")"
is "$(cat "$T/d4")" "$(cat "$T/d1")" "the same manifest"
set -- $(record)
is "$(curl -s --cacert "$REG_CA" -u testuser:testpass "https://$REG/v2/st/blobs/$2" -L | sha256sum | cut -d' ' -f1)" \
	"${2#sha256:}" "the registry's blob is the variant"
cb rm -f "st1-$$" >/dev/null 2>&1
done_testing
