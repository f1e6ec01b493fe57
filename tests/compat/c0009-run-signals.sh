#!/usr/bin/env bash
# exit statuses: a signal's 128+N, a stopped container's 137 or 143.
. "$(dirname "$0")/lib.sh"
is "$(rc d run --rm busybox sh -c 'sleep 100 & kill -9 $!; wait $!')" 137 "a child killed by SIGKILL: the shell says 137"
is "$(rc d run --rm busybox sh -c 'exit 255')" 255 "exit 255"
d run -d --name t1 busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 0.5
d stop t1 >/dev/null
is "$(d inspect -f '{{.State.ExitCode}}' t1)" 0 "a TERM handler's exit: 0"
d run -d --name t2 busybox sh -c 'trap "exit 143" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 0.5
d stop -t 5 t2 >/dev/null
like "$(d ps -a --filter name=t2 --format '{{.Status}}')" "^Exited \(143\)" "ps -a: Exited (143)"
done_testing
