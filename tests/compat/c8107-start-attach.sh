#!/usr/bin/env bash
# start -a: this run's output on the terminal, the container's exit code as ours.
. "$(dirname "$0")/lib.sh"
d run --name sa busybox sh -c 'echo "run $(cat /proc/uptime | cut -d. -f1)" >/dev/null; echo hi; echo oops >&2; exit 3' >/dev/null 2>&1
out=$(d start -a sa 2>"$T/err"); s=$?
is "$s" 3 "start -a exits with the container's code"
is "$out" hi "its stdout, this run's only"
is "$(cat "$T/err")" oops "its stderr on stderr"
is "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' sa)" "exited 3" "exited afterwards"
is "$(d logs sa 2>/dev/null | wc -l)" 2 "logs hold both runs"
d run --name sb busybox true
is "$(rc d start -a sa sb)" 1 "-a with two containers: refused"
done_testing
