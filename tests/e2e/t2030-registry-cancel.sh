#!/usr/bin/env bash
# Ctrl-C and SIGTERM in the registry transfer loops (issue 23 item 7, the
# leftovers): a pull, a push and a build's base-image pull that wait on a
# hung registry stop when told, say "interrupted", leave tmp/ empty and a
# store fsck finds clean, and the next pull or push works. The hung registry
# is tests/tools/faultproxy.py's "hang" fault: half a blob (or the whole
# upload body read), then silence with the connection held open.
#
# The old code let a pull die on the signal's default action (leaving its
# partial blob in tmp/ for a later command) and a build's pull ignored the
# build's cancel flag: it waited for libcurl's 60 s stall limit, then
# retried, minutes in all. The wait below is bounded (50 s) only so that a
# failure does not hang the suite; it is no timing assertion.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
quiet_registry || skip_all "cannot start docker-registry"

# an image with a layer big enough to be cut in half mid-transfer, and a
# small one that arrives whole before the signal
mkimage "$T/l" app --random 4M --random 20K --gzip >/dev/null
to_store "$T/l" app "$REG/app:1" "$T/seed"
rm -f "$T/seed/registry-sources.json"
"$CBUILD" --root "$T/seed" push -q "$REG/app:1" >/dev/null 2>"$T/seed.err" ||
	{ cat "$T/seed.err" >&2; skip_all "cannot seed the registry"; }
import_busybox bb:1
cb push -q bb:1 "$REG/bb:1" >/dev/null 2>&1 || skip_all "cannot push busybox"

# interrupt SIG PID [READY-CMD...]: once the proxy logs the stall (and
# READY-CMD succeeds), send SIG, wait (bounded) and set RC; 124 when the
# process did not end
interrupt() {
	local sig=$1 pid=$2
	shift 2
	wait_for 60 grep -q ' hang ' "$PROXY_LOG" || diag "the proxy never stalled"
	[ $# -eq 0 ] || wait_for 60 "$@" || diag "never ready: $*"
	kill -"$sig" "$pid"
	if wait_for 50 eval "! kill -0 $pid 2>/dev/null"; then
		wait "$pid"; RC=$?
	else
		kill -9 "$pid"; wait "$pid"; RC=124
	fi
}
tmp_empty() { [ -z "$(ls -A "$1/tmp" 2>/dev/null)" ]; }
fsck_clean() { "$CBUILD" --root "$1" fsck >"$T/fsck.out" 2>&1 || { diag "$(cat "$T/fsck.out")"; return 1; }; }

blob_of() { # blob_of N: the digest of layer N (0: the config) of app:1
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(([m["config"]]+m["layers"])[int(sys.argv[2])]["digest"])' \
		"$T/l/blobs/sha256/$(skopeo inspect --format '{{.Digest}}' "oci:$T/l:app" | cut -d: -f2)" "$1"
}
BIG=$(blob_of 1) SMALL=$(blob_of 2) CONFIG=$(blob_of 0)

# ---- pull, Ctrl-C while a blob hangs half-way ----
start_proxy "$REG" "hang:GET /v2/app/blobs/$BIG"
R=$T/pull
# complete blobs wait in the pull's tmp/ directory as ok-HEX until published
whole() { compgen -G "$R/tmp/*/ok-${SMALL#sha256:}" >/dev/null && compgen -G "$R/tmp/*/ok-${CONFIG#sha256:}" >/dev/null; }
"$CBUILD" --root "$R" pull "$PROXY/app:1" >/dev/null 2>"$T/pull.err" &
interrupt INT $! whole
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; ok $? "pull: SIGINT during a hung blob ends it (exit $RC)"
like "$(cat "$T/pull.err")" "interrupted \(SIGINT\)" "pull: it says it was interrupted"
tmp_empty "$R"; ok $? "pull: nothing left in tmp/ ($(ls -A "$R/tmp" 2>/dev/null | tr '\n' ' '))"
fsck_clean "$R"; ok $? "pull: fsck finds the store clean"
[ -f "$R/blobs/sha256/${SMALL#sha256:}" ] && [ -f "$R/blobs/sha256/${CONFIG#sha256:}" ]
ok $? "pull: the blobs that arrived whole are kept"
start_proxy "$REG"
"$CBUILD" --root "$R" pull -q "$PROXY/app:1" >/dev/null 2>"$T/pull2.err"
ok $? "pull: the next pull works"
is "$(grep -c "^GET /v2/app/blobs/" "$PROXY_LOG")" 1 "pull: and fetches only the blob that was cut ($(grep -o 'blobs/sha256:.\{12\}' "$PROXY_LOG" | tr '\n' ' '))"
blobs_ok "$R"; ok $? "pull: every stored blob is whole"

# ---- push, SIGTERM while the registry does not answer an upload ----
start_proxy "$REG" "hang:PUT /v2/up/blobs/uploads/" "hang:PATCH /v2/up/blobs/uploads/"
R2=$T/push
to_store "$T/l" app "$PROXY/up:1" "$R2"
rm -f "$R2/registry-sources.json"
"$CBUILD" --root "$R2" push "$PROXY/up:1" >/dev/null 2>"$T/push.err" &
interrupt TERM $!
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; ok $? "push: SIGTERM during a hung upload ends it (exit $RC)"
like "$(cat "$T/push.err")" "interrupted \(SIGTERM\)" "push: it says it was interrupted"
tmp_empty "$R2"; ok $? "push: nothing left in tmp/"
fsck_clean "$R2"; ok $? "push: fsck finds the store clean"
"$CBUILD" --root "$R2" push -q "$PROXY/up:1" "$REG/up:1" >/dev/null 2>"$T/push2.err"
ok $? "push: the next push works"
skopeo inspect --tls-verify=false "docker://$REG/up:1" >/dev/null 2>&1
ok $? "push: the registry serves the pushed image"

# ---- build, Ctrl-C while its FROM image's blob hangs ----
start_proxy "$REG" "hang:GET /v2/bb/blobs/sha256:"
R3=$T/build
mkdir -p "$T/ctx"
printf 'FROM %s/bb:1\nRUN true\n' "$PROXY" > "$T/ctx/Dockerfile"
"$CBUILD" --root "$R3" build -t hung:1 "$T/ctx" >/dev/null 2>"$T/build.err" &
interrupt INT $!
[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; ok $? "build: SIGINT while its base image hangs ends it (exit $RC)"
like "$(cat "$T/build.err")" "interrupted" "build: it says it was interrupted"
"$CBUILD" --root "$R3" inspect hung:1 >/dev/null 2>&1; is $? 1 "build: nothing tagged"
tmp_empty "$R3"; ok $? "build: nothing left in tmp/"
fsck_clean "$R3"; ok $? "build: fsck finds the store clean"
printf 'FROM %s/bb:1\nRUN true\n' "$REG" > "$T/ctx/Dockerfile"
"$CBUILD" --root "$R3" build -q -t hung:1 "$T/ctx" >/dev/null 2>"$T/build2.err"
ok $? "build: the next build pulls its base and works"
done_testing
