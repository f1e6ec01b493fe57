#!/usr/bin/env bash
# attach: a running container's output from now on (stdout and stderr apart),
# signals passed to PID 1 (sig-proxy), the container's exit code at the end;
# what is typed reaches a -i container's stdin (kept open by its monitor),
# and the detach keys leave it running.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox

cb run -d --name a1 --network none busybox sh -c \
	'while [ ! -e /go ]; do echo tick; sleep 0.1; done; for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 3' >/dev/null
"$CBUILD" --root "$ROOT" attach a1 > "$T/out" 2> "$T/err" &
ap=$!
# attach follows once a tick reaches it; then the container is told to go on
following() { grep -q tick "$T/out" 2>/dev/null; }
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
ticking() { grep -q tick "$T/out2" 2>/dev/null; }
wait_for 60 ticking; ok $? "attach shows new output as it comes"
kill -TERM "$ap"
wait "$ap"
is "$?" 9 "a signal to attach goes to PID 1 (its trap's exit code)"
like "$(tail -1 "$T/out2")" "got-term" "and the trap's output is shown"

cb run -d --name a3 --network none busybox sh -c 'while :; do echo tick; sleep 0.1; done' >/dev/null
"$CBUILD" --root "$ROOT" attach --sig-proxy=false a3 > "$T/out3" 2>&1 &
ap=$!
ticking3() { grep -q tick "$T/out3" 2>/dev/null; }
wait_for 60 ticking3
kill -TERM "$ap"
wait "$ap"
like "$(cb ps --format '{{.Names}} {{.Status}}' -f name=a3)" "^a3 Up" "--sig-proxy=false: the signal ends attach, not the container"

# stdin: a detached -i container keeps it open for attach
cb run -di --name i1 --network none busybox sh >/dev/null
up() { cb ps --format '{{.Names}}' | grep -qx "$1"; }
sleep 0.5 # (not an assertion: a shell that read EOF would be gone by now)
up i1; ok $? "run -di sh stays up: its stdin is open"
out=$(printf 'echo hello\nexit 4\n' | cb attach i1); rc=$?
is "$out" "hello" "what is piped to attach reaches its stdin"
is "$rc" 4 "and its exit code is attach's"
cb run -dit --name i2 --network none busybox sh >/dev/null
# after its stdin ends attach goes on following the container: only the
# keys end it (the timeout only ends a test that failed)
out=$( (printf 'echo one\n'; sleep 0.3; printf '\020\021') | timeout 60 "$CBUILD" --root "$ROOT" attach i2 2>&1); rc=$?
is "$rc" 1 "Ctrl-P Ctrl-Q detaches: exit 1, as docker 20.10's attach"
like "$out" "read escape sequence" "with docker's words"
up i2; ok $? "the container goes on"
ran() { cb logs i2 | tr -d '\r' | grep -qx 'one'; }
wait_for 30 ran; ok $? "what was typed before ran"
out=$( (printf 'echo two\n'; sleep 0.3; printf '\001x') | timeout 60 "$CBUILD" --root "$ROOT" attach --detach-keys ctrl-a,x i2 2>&1); rc=$?
is "$rc" 1 "--detach-keys ctrl-a,x"
printf 'exit 5\n' | cb attach --detach-keys ctrl-a,x i2 >/dev/null 2>&1
is "$?" 5 "attach again: the container ends with exit 5"
cb run -di --name i4 --network none busybox sh >/dev/null
printf 'x=\020\021\nexit 7\n' | timeout 60 "$CBUILD" --root "$ROOT" attach i4 >/dev/null 2>&1
is "$?" 7 "without a tty the keys are input, as docker's (it did not detach)"
cb attach --detach-keys ctrl-pp i2 >/dev/null 2>&1
is "$?" 2 "an invalid --detach-keys is a usage error"

out=$(cb attach a1 2>&1); rc=$?
is "$rc" 1 "attach to a stopped container fails"
like "$out" "start it first" "and says so"
cb attach >/dev/null 2>&1
is "$?" 1 "attach without a container: 1 (docker's)"
cb rm -f a1 a2 a3 i1 i2 i4 >/dev/null
done_testing
