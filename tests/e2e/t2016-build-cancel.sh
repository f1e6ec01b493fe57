#!/usr/bin/env bash
# SIGTERM and Ctrl-C cancel a long COPY (issue 23 item 7: a build finished
# 63 s after the signal and tagged its image). The signal is sent once the
# COPY step's line is out (no sleep guessing); the build must fail, tag
# nothing and leave no mounts and nothing in tmp/. No timing is asserted.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
c=$T/c
mkdir -p "$c/data"
# random data (no holes, nothing to compress): minutes of copying and
# gzip if nothing stops it
for i in 1 2 3 4; do head -c 100M /dev/urandom > "$c/data/f$i"; done
# COPY last: the old code checked only between steps, then tagged
printf 'FROM busybox\nCOPY data /data\n' > "$c/Dockerfile"

cancel_build() { # cancel_build SIGNAL TAG
	"$CBUILD" --root "$ROOT" build --no-cache -t "$2" "$c" >/dev/null 2>"$T/log.$2" &
	local pid=$!
	wait_line "$pid" "$T/log.$2" 'STEP 2/2: COPY'
	kill -"$1" "$pid"
	wait "$pid"
}
for sig in TERM INT; do
	tag=cancel-$(echo "$sig" | tr A-Z a-z):1
	cancel_build "$sig" "$tag"; rc=$?
	[ "$rc" -ne 0 ]; ok $? "SIG$sig during COPY: the build fails (exit $rc)"
	like "$(cat "$T/log.$tag")" "interrupted" "saying it was interrupted"
	unlike "$(cat "$T/log.$tag")" "COMMIT|Successfully" "no image written"
	cb inspect "$tag" >/dev/null 2>&1; is $? 1 "nothing tagged"
	no_leftovers || { fail "no mounts under the store, tmp/ empty" "tmp/: $(ls -A "$ROOT/tmp" 2>/dev/null)"; continue; }
	pass "no mounts under the store, tmp/ empty"
done
done_testing
