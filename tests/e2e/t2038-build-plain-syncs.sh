#!/usr/bin/env bash
# Issue 29: a build's plain layer blobs are made durable behind the steps,
# with the step's manifest (one journal commit a step, on the committer's
# threads), not by an fsync of the blob and of blobs/ on the main thread
# after every layer step. Checked by the system calls themselves (strace
# -f -y names each fsync's file and thread), not by timing: the main thread
# may sync the store's own files (layers/, the tag) but no blob. The image
# is whole afterwards, and every blob its manifest names is in blobs/.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || skip_all "strace not installed"
import_busybox

c=$T/c
mkdir -p "$c"
printf 'FROM busybox\nRUN seq 1 20000 > /n\nRUN echo t2038 > /x\nCOPY Dockerfile /d\nRUN echo y > /y\n' > "$c/Dockerfile"
# (LeakSanitizer cannot run under ptrace: off for this one command in make asan)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -q -y -e trace=fsync,fdatasync -o "$T/st" "$CBUILD" --root "$ROOT" build -q -t t2038:1 "$c" >/dev/null 2>"$T/err"
ok $? "build under strace" || diag "$(cat "$T/err")"
# the main thread: the process's leader exits last
main=$(tail -1 "$T/st" | grep '+++ exited with 0 +++' | cut -d' ' -f1)
[ -n "$main" ]; ok $? "strace names the main thread ($main)"
syncs=$(grep -c 'sync(' "$T/st")
[ "$syncs" -gt 0 ]; ok $? "strace saw the build's syncs ($syncs)"
blobsyncs=$(grep -E "sync\([0-9]+</[^>]*(/blobs/|/blob-|/ok-)" "$T/st" | grep -c "^$main ")
is "$blobsyncs" 0 "the main thread synced no blob and not blobs/" ||
	diag "$(grep "^$main " "$T/st")"
others=$(grep -E "sync\([0-9]+</[^>]*(/blobs/|/blob-|/ok-)" "$T/st" | grep -vc "^$main ")
[ "$others" -gt 0 ]; ok $? "the committer's threads did ($others)"
m=$(cb images --digests --no-trunc | awk '$1=="t2038" {print $3}')
n=0
for d in $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["config"]["digest"], *[l["digest"] for l in m["layers"]])' \
	"$ROOT/blobs/sha256/${m#sha256:}"); do
	[ "$(sha256sum < "$ROOT/blobs/sha256/${d#sha256:}" | cut -d' ' -f1)" = "${d#sha256:}" ] && n=$((n + 1))
done
is "$n" 6 "the config, the base's layer and the 4 new ones are whole in blobs/"
cb fsck >"$T/fsck" 2>&1; ok $? "fsck finds the store whole" || diag "$(cat "$T/fsck")"
is "$(cb run --rm --network none t2038:1 cat /x)" "t2038" "the image runs"
done_testing
