#!/usr/bin/env bash
# Failing builds: clear errors, exit 1, a valid store, nothing left behind,
# and the next build works.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
before=$(cat "$ROOT/index.json")
err=$(cb build -t f:1 "$BUILDS/failing" 2>&1); is $? 1 "failing RUN: exit 1"
like "$err" "Dockerfile:3: RUN echo \"about to fail\" && exit 3: exit status 3" "error names line, step and status"
like "$err" "about to fail" "error shows the output's last lines"
is "$(cat "$ROOT/index.json")" "$before" "no tag written"
no_leftovers; ok $? "no mount or temp dir left"

err=$(cb build -t m:1 "$BUILDS/missing-src" 2>&1); is $? 1 "missing COPY source: exit 1"
like "$err" "file not found in build context: 'does-not-exist.txt'" "error names the missing file"

mkdir -p "$T/bad"
printf 'FROM busybox\nRUNN echo hi\n' > "$T/bad/Dockerfile"
err=$(cb build "$T/bad" 2>&1); is $? 1 "syntax error: exit 1"
like "$err" 'Dockerfile:2:1: unknown instruction "RUNN" \(did you mean "RUN"\?\)' "syntax error with position and suggestion"
err=$(cb build "$T/nosuchdir" 2>&1); is $? 1 "missing context: exit 1"
printf 'FROM nosuchimage:1\n' > "$T/bad/Dockerfile"
err=$(cb build "$T/bad" 2>&1); is $? 1 "missing base image: exit 1"
like "$err" "nosuchimage" "error names the image"
# a --from naming no stage is pulled as an image; when that fails, the line
# and the nearest stage name (in a network namespace of our own: no lookup
# leaves the machine)
printf 'FROM busybox AS builder\nRUN echo x > /x\nFROM busybox\nCOPY --from=buidler /x /x\n' > "$T/bad/Dockerfile"
err=$(unshare --net "$CBUILD" --root "$ROOT" build "$T/bad" 2>&1); is $? 1 "COPY --from a typo: exit 1"
is "$(printf '%s\n' "$err" | tail -1)" \
	'cbuild: error: Dockerfile:4: no stage or image named "buidler" (did you mean stage "builder"?)' \
	"the error names the line and the stage meant"
printf 'FROM busybox AS builder\nFROM busybox\nRUN --mount=from=buildr,target=/m true\n' > "$T/bad/Dockerfile"
err=$(unshare --net "$CBUILD" --root "$ROOT" build "$T/bad" 2>&1); is $? 1 "RUN --mount from= a typo: exit 1"
like "$err" 'Dockerfile:3: RUN --mount: no stage or image named "buildr" \(did you mean stage "builder"\?\)$' \
	"the same for a mount"
printf 'FROM busybox\nCOPY ../etc/passwd /x\n' > "$T/bad/Dockerfile"
err=$(cb build "$T/bad" 2>&1); is $? 1 "COPY from outside the context: exit 1"
mkdir -p "$T/bad/sub" && ln -sf /etc/shadow "$T/bad/sub/link"
printf 'FROM busybox\nCOPY sub/link /x\n' > "$T/bad/Dockerfile"
cb build -q -t esc:1 "$T/bad" >/dev/null 2>&1
if unpack esc:1 "$T/u" 2>/dev/null && [ -f "$T/u/rootfs/x" ]; then
	cmp -s "$T/u/rootfs/x" /etc/shadow && fail "a symlink in the context must not read the host's /etc/shadow" || pass "a symlink out of the context does not read host files"
else
	pass "a symlink out of the context does not read host files"
fi

# Ctrl-C (SIGINT) and kill -9 in the middle of a RUN: the RUN carries this
# test's own marker, so another suite's build running at the same time can
# neither be mistaken for a survivor nor for the RUN having started
mkdir -p "$T/slow"; printf 'FROM busybox\nARG CBUILD_TEST_MARK\nRUN echo started; sleep 3000\n' > "$T/slow/Dockerfile"
"$CBUILD" --root "$ROOT" build --build-arg CBUILD_TEST_MARK="$MARK" -t s:1 "$T/slow" >/dev/null 2>&1 & pid=$!
wait_for 120 _has_own_pids; ok $? "the RUN started"
kill -INT "$pid"; wait "$pid"; rc=$?
[ "$rc" -ne 0 ]; ok $? "SIGINT stops the build with a failure ($rc)"
wait_for 60 _no_own_pids; ok $? "no sandboxed process survives SIGINT"
"$CBUILD" --root "$ROOT" build --build-arg CBUILD_TEST_MARK="$MARK" -t s:1 "$T/slow" >/dev/null 2>&1 & pid=$!
wait_for 120 _has_own_pids; ok $? "the RUN started again"
kill -9 "$pid"; wait "$pid" 2>/dev/null
wait_for 60 _no_own_pids; ok $? "no sandboxed process survives kill -9"
! grep -q " $ROOT/" /proc/self/mountinfo; ok $? "no mount survives kill -9"
oci-image-tool validate --type image "$ROOT" >/dev/null 2>&1; ok $? "store validates after all that"
id=$(cb build -q -t course:1 "$BUILDS/course"); ok $? "the next build works"
done_testing
