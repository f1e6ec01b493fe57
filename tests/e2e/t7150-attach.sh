#!/usr/bin/env bash
# attach: a running container's output from now on (stdout and stderr apart),
# signals passed to PID 1 (sig-proxy), the container's exit code at the end.
# (stdin is not attached yet: not tested here.)
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox

cb run -d --name a1 --network none busybox sh -c \
	'while [ ! -e /go ]; do echo tick; sleep 0.1; done; for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 3' >/dev/null
"$CBUILD" --root "$ROOT" attach a1 > "$T/out" 2> "$T/err" &
ap=$!
# attach follows once a tick reaches it; then the container is told to go on
following() { grep -q tick "$T/out"; }
wait_for 60 following || diag "attach showed no tick"
cb exec a1 touch /go
wait "$ap"
is "$?" 3 "attach exits with the container's exit code"
is "$(grep -v tick "$T/out" | tr '\n' ' ')" "out1 out2 out3 " "its stdout on stdout"
is "$(cat "$T/err" | tr '\n' ' ')" "err1 err2 err3 " "its stderr on stderr"

cb run -d --name a2 --network none busybox sh -c \
	'trap "echo got-term; exit 9" TERM; i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.1; done' >/dev/null
"$CBUILD" --root "$ROOT" attach a2 > "$T/out2" 2>&1 &
ap=$!
ticking() { grep -q tick "$T/out2"; }
wait_for 60 ticking; ok $? "attach shows new output as it comes"
kill -TERM "$ap"
wait "$ap"
is "$?" 9 "a signal to attach goes to PID 1 (its trap's exit code)"
like "$(tail -1 "$T/out2")" "got-term" "and the trap's output is shown"

cb run -d --name a3 --network none busybox sh -c 'while :; do echo tick; sleep 0.1; done' >/dev/null
"$CBUILD" --root "$ROOT" attach --sig-proxy=false a3 > "$T/out3" 2>&1 &
ap=$!
ticking3() { grep -q tick "$T/out3"; }
wait_for 60 ticking3
kill -TERM "$ap"
wait "$ap"
like "$(cb ps --format '{{.Names}} {{.Status}}' -f name=a3)" "^a3 Up" "--sig-proxy=false: the signal ends attach, not the container"

out=$(cb attach a1 2>&1); rc=$?
is "$rc" 1 "attach to a stopped container fails"
like "$out" "start it first" "and says so"
cb attach >/dev/null 2>&1
is "$?" 2 "attach without a container is a usage error"
cb rm -f a1 a2 a3 >/dev/null
done_testing
