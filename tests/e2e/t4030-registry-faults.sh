#!/bin/bash
# Faults injected by tests/tools/faultproxy.py between cbuild and a real
# registry: retried where they should be, refused where they should be, and
# the store never holds a bad blob.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"

mkimage "$T/l" app --random 3M --random 20K --gzip >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$T/l:app" "docker://$REG/app:1" >/dev/null
BIG=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(max(m["layers"], key=lambda l: l["size"])["digest"])' \
	"$T/l/blobs/sha256/$(skopeo inspect --format '{{.Digest}}' "oci:$T/l:app" | cut -d: -f2)")
n=0
fresh() { n=$((n + 1)); R=$T/root-$n; }
tmp_empty() { [ -z "$(ls -A "$1/tmp" 2>/dev/null)" ]; }
pull() { "$CBUILD" --root "$R" pull -q "$@" 2>"$T/err.$n" >/dev/null; }

# a connection dropped in the middle of a blob: resumed with Range
start_proxy "$REG" "drop:GET /v2/app/blobs/$BIG@1"
fresh; pull "$PROXY/app:1"; ok $? "a blob dropped mid-way is retried"
grep -q "^GET /v2/app/blobs/$BIG 206" "$PROXY_LOG"; ok $? "and resumed with a Range request"
blobs_ok "$R"; ok $? "the resumed blob is whole"

# the same when the server ignores Range: restarted from zero
start_proxy "$REG" "drop:GET /v2/app/blobs/$BIG@1" "norange:GET /v2/app/blobs/"
fresh; pull "$PROXY/app:1"; ok $? "a dropped blob is refetched when Range is ignored"
blobs_ok "$R"; ok $? "the refetched blob is whole"
tmp_empty "$R"; ok $? "no partial file is left in tmp/"

# 500s and 429 with Retry-After are retried
start_proxy "$REG" "500:GET /v2/app/manifests/@2" "500:GET /v2/app/blobs/@2"
fresh; pull "$PROXY/app:1"; ok $? "pull succeeds through 500s"
is "$(grep -c ' 500 ' "$PROXY_LOG")" 4 "the 500s were seen and retried"
blobs_ok "$R"; ok $? "blobs are good"
start_proxy "$REG" "429:GET /v2/app/blobs/$BIG@1" "429:HEAD /v2/copy/blobs/@1"
fresh; pull "$PROXY/app:1"; ok $? "pull succeeds through a 429 with Retry-After"
grep -q "^GET /v2/app/blobs/$BIG 429" "$PROXY_LOG"; ok $? "the 429 was seen"
"$CBUILD" --root "$R" push -q "$PROXY/app:1" "$PROXY/copy:1" >/dev/null 2>"$T/perr"
ok $? "push succeeds through a 429 on HEAD"
grep -q "^HEAD /v2/copy/blobs/.* 429" "$PROXY_LOG"; ok $? "that 429 was seen"

# push: 500 on the upload PUT restarts the upload; the blob arrives
start_proxy "$REG" "500:PUT /v2/up/blobs/uploads/@1" "500:POST /v2/up/blobs/uploads/@1"
to_store "$T/l" app "$PROXY/up:1" "$T/root-1"
rm -f "$T/root-1/registry-sources.json"
"$CBUILD" --root "$T/root-1" push -q "$PROXY/up:1" >/dev/null 2>"$T/perr"; ok $? "push retries a 500 on POST and on PUT"
skopeo copy -q --src-tls-verify=false "docker://$REG/up:1" "oci:$T/chk:x" >/dev/null; ok $? "skopeo reads the pushed image"

# bytes that do not match the digest are refused, and never stored
start_proxy "$REG" "corrupt:GET /v2/app/blobs/$BIG"
fresh; pull "$PROXY/app:1"; ok $((! $?)) "a corrupted blob fails the pull"
like "$(cat "$T/err.$n")" "digest|mismatch" "with a digest message"
unlike "$(cat "$T/err.$n")" "Bad message$" "and no errno text that is not the cause"
[ ! -e "$R/blobs/sha256/${BIG#sha256:}" ]; ok $? "the bad blob is not in the store"
blobs_ok "$R"; ok $? "whatever is stored is good"
tmp_empty "$R"; ok $? "tmp/ is clean"

# a blob longer than its descriptor is refused
start_proxy "$REG" "grow:GET /v2/app/blobs/$BIG"
fresh; pull "$PROXY/app:1"; ok $((! $?)) "a blob larger than its descriptor fails"
like "$(cat "$T/err.$n")" "larger than" "and says so"
[ ! -e "$R/blobs/sha256/${BIG#sha256:}" ]; ok $? "not stored"

# a manifest whose bytes differ from the digest the registry announces
start_proxy "$REG" "grow:GET /v2/app/manifests/1"
fresh; pull "$PROXY/app:1"; ok $((! $?)) "a manifest not matching Docker-Content-Digest is refused"
like "$(cat "$T/err.$n")" "the registry says" "and says so"

# a manifest response that lies about its length: retried, then it works
start_proxy "$REG" "shortlen:GET /v2/app/manifests/1@2"
fresh; pull "$PROXY/app:1"; ok $? "a truncated manifest response is retried"

# an index whose descriptors lie about the manifests' sizes
mkimage "$T/l" arm --random 4K --arch arm64 --seed 5 >/dev/null
B=(buildah --root "$T/bs" --runroot "$T/br" --storage-driver vfs)
if command -v buildah >/dev/null && "${B[@]}" manifest create multi >/dev/null &&
	"${B[@]}" manifest add multi "oci:$T/l:app" >/dev/null && "${B[@]}" manifest add multi "oci:$T/l:arm" >/dev/null &&
	"${B[@]}" manifest push -q --all --tls-verify=false multi "docker://$REG/multi:1" >/dev/null 2>&1; then
	start_proxy "$REG" "indexsize:GET /v2/multi/manifests/1"
	fresh; pull --platform linux/amd64 "$PROXY/multi:1"; ok $((! $?)) "an index lying about a manifest's size is refused"
	like "$(cat "$T/err.$n")" "descriptor says" "and says so"
fi

# a connection that keeps failing: bounded retries, then a clear error
start_proxy "$REG" "500:GET /v2/app/blobs/$BIG"
fresh; pull "$PROXY/app:1"; ok $((! $?)) "a blob that always fails gives up"
like "$(cat "$T/err.$n")" "HTTP 500" "with the status"
unlike "$(cat "$T/err.$n")" "Input/output error" "and no errno text that is not the cause"
is "$(grep -c "^GET /v2/app/blobs/$BIG 500" "$PROXY_LOG")" 6 "after a bounded number of tries"
# a registry refusing a monolithic upload as too large: chunked PATCH upload
start_proxy "$REG" "413:PUT /v2/chunked/blobs/uploads/"
to_store "$T/l" app "$PROXY/chunked:1" "$T/root-1"
"$CBUILD" --root "$T/root-1" push -q "$PROXY/chunked:1" >/dev/null 2>"$T/perr"; ok $? "push falls back to chunked uploads on 413"
grep -q "^PATCH /v2/chunked/blobs/uploads/" "$PROXY_LOG"; ok $? "with PATCH requests"
skopeo copy -q --src-tls-verify=false "docker://$REG/chunked:1" "oci:$T/chk2:x" >/dev/null; ok $? "skopeo reads the chunked upload"
# an upload that always fails: bounded, even though each try opens a new session
start_proxy "$REG" "500:PUT /v2/never/blobs/uploads/"
to_store "$T/l" app "$PROXY/never:1" "$T/root-1"
err=$("$CBUILD" --root "$T/root-1" push -q "$PROXY/never:1" 2>&1 >/dev/null); ok $((! $?)) "a PUT that always fails gives up"
like "$err" "failed [0-9]+ times|HTTP 500" "with a clear message"
unlike "$err" "Input/output error" "and no errno text that is not the cause"

# each error ends with its cause, said once: never an errno text of ours
fresh; pull "$REG/nosuch:1"; ok $((! $?)) "a missing repository fails the pull"
like "$(tail -1 "$T/err.$n")" "manifest unknown: $REG/nosuch:1$" "saying so, and nothing after"
port=$(free_port)
fresh; pull "127.0.0.1:$port/x:1"; ok $((! $?)) "a refused connection fails the pull"
like "$(tail -1 "$T/err.$n")" "GET 'http://127.0.0.1:$port/v2/': [^:]*port $port[^:]*: [^:]+: Connection refused$" \
	"with curl's text and the connect's errno (the cause)"
# a name that does not resolve, looked up in a network namespace of our own
fresh; unshare --net "$CBUILD" --root "$R" pull -q example.invalid/x:1 2>"$T/err.$n" >/dev/null
ok $((! $?)) "an unknown host fails the pull"
like "$(tail -1 "$T/err.$n")" "GET 'https://example.invalid/v2/': Could not resolve host: example.invalid$" \
	"with curl's words alone"
unlike "$(cat "$T/err.$n")" "pull 'example.invalid/x:1'.*pull 'example.invalid/x:1'" "the reference is named once"
done_testing
