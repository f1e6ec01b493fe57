#!/usr/bin/env bash
# Stages that do not depend on each other build at the same time (as
# BuildKit does): proven without timings, by two RUNs that each wait for the
# other; the image is the same as a sequential (--jobs 1) build's; output
# lines carry their stage and never mix; Ctrl-C and a failing stage stop
# every stage and leave nothing behind.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest

# 1. rendezvous: each stage announces itself in a shared cache mount and
# waits for the other (the bound, 120 s, only ends a wait that failed: a
# busy machine may start the second stage late); only concurrent stages meet
mkdir -p "$T/rv"
cat > "$T/rv/Dockerfile" <<'DF'
FROM busybox AS left
RUN --mount=type=cache,id=rv,target=/rv touch /rv/left; i=0; \
    while [ ! -e /rv/right ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; \
    test -e /rv/right && echo met > /left.txt
FROM busybox AS right
RUN --mount=type=cache,id=rv,target=/rv touch /rv/right; i=0; \
    while [ ! -e /rv/left ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; \
    test -e /rv/left && echo met > /right.txt
FROM busybox
COPY --from=left /left.txt /l
COPY --from=right /right.txt /r
DF
out=$(cb build --progress plain -t rv:1 "$T/rv" 2>&1); is $? 0 "two independent stages meet: they ran at the same time"
unpack rv:1 "$T/u" && is "$(cat "$T/u/rootfs/l" "$T/u/rootfs/r")" "met
met" "both stages' files are in the image"
like "$out" "\[left\] STEP 2/[0-9]+: RUN" "STEP lines carry the stage name"
like "$out" "\[right\] STEP 4/[0-9]+: RUN" "... of each stage"
like "$out" "\[stage-2\] STEP [0-9]+/[0-9]+: COPY --from=left" "an unnamed stage is stage-N"
bad=$(printf '%s\n' "$out" | grep -Ev '^\[(left|right|stage-2)\] |^COMMIT |^Successfully tagged |^sha256:')
is "$bad" "" "every line is whole and belongs to one stage"

# 2. the same image as a sequential build (no cache, fixed time)
case_dir=$BUILDS/concurrent
for j in 1 2; do
	SOURCE_DATE_EPOCH=0 cb build -q --no-cache --jobs $j --timestamp 0 -t c:1 "$case_dir" > "$T/id-$j" 2>"$T/err-$j"
	ok $? "--jobs $j build" || diag "$(cat "$T/err-$j")"
done
is "$(cat "$T/id-2")" "$(cat "$T/id-1")" "concurrent and sequential builds give the same image ID"
out=$(cb build --progress plain --jobs 1 -t c:2 "$case_dir" 2>&1); is $? 0 "--jobs 1 builds"
unlike "$out" "^\[" "--jobs 1: no stage prefixes (one stage at a time)"
first_two=$(printf '%s\n' "$out" | grep -n 'FROM busybox AS two' | cut -d: -f1)
last_one=$(printf '%s\n' "$out" | grep -n 'echo one' | cut -d: -f1)
[ "$last_one" -lt "$first_two" ]; ok $? "--jobs 1: stage one finishes before stage two starts"
unpack c:2 "$T/u2" && is "$(cat "$T/u2/rootfs/one.txt" "$T/u2/rootfs/two.txt")" "one
two" "sequential build's files"
err=$(cb build --jobs 0 "$case_dir" 2>&1); is $? 2 "--jobs 0 is a usage error"

# 3. a failing stage stops the other one at once (its RUN carries this
# test's own marker: another suite's sleeps are none of its business)
mkdir -p "$T/fail"
cat > "$T/fail/Dockerfile" <<'DF'
FROM busybox AS slow
ARG CBUILD_TEST_MARK
RUN echo slow-started; sleep 600
FROM busybox AS bad
RUN echo about to fail && exit 3
FROM busybox
COPY --from=slow /etc/passwd /a
COPY --from=bad /etc/passwd /b
DF
err=$(cb build --build-arg CBUILD_TEST_MARK="$MARK" -t f:1 "$T/fail" 2>&1); is $? 1 "a failing stage fails the build"
like "$err" "RUN echo about to fail && exit 3: exit status 3" "the error is the failing stage's"
unlike "$err" "killed by signal" "not the stage that was stopped"
wait_for 60 _no_own_pids && pass "the other stage's RUN is killed" || fail "the other stage's RUN is killed" "$(own_pids)"
no_leftovers; ok $? "no mount or temp dir left"

# 4. Ctrl-C with two RUNs running
mkdir -p "$T/int"
cat > "$T/int/Dockerfile" <<'DF'
FROM busybox AS a
ARG CBUILD_TEST_MARK
RUN echo a-started; sleep 600
FROM busybox AS b
ARG CBUILD_TEST_MARK
RUN echo b-started; sleep 600
FROM busybox
COPY --from=a /etc/passwd /a
COPY --from=b /etc/passwd /b
DF
"$CBUILD" --root "$ROOT" build --progress plain --build-arg CBUILD_TEST_MARK="$MARK" -t i:1 "$T/int" > "$T/int.out" 2>&1 & pid=$!
both_started() { [ "$(grep -c -- '-started' "$T/int.out")" -ge 2 ]; }
wait_for 120 both_started; ok $? "both RUNs started"
kill -INT "$pid"; wait "$pid"; rc=$?
[ "$rc" -ne 0 ]; ok $? "SIGINT stops the concurrent build ($rc)"
wait_for 60 _no_own_pids && pass "no RUN of any stage survives" || fail "no RUN of any stage survives" "$(cat "$T/int.out")"
no_leftovers; ok $? "no mount or temp dir left after SIGINT"
oci-image-tool validate --type image "$ROOT" >/dev/null 2>&1; ok $? "store validates"
id=$(cb build -q -t c:3 "$case_dir"); ok $? "the next build works"
done_testing
