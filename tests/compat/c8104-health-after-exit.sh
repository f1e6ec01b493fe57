#!/usr/bin/env bash
# health after the container stops: the last checks kept, the status unhealthy, none in ps.
. "$(dirname "$0")/lib.sh"
d run -d --name hx --health-cmd true --health-interval 1s busybox sleep 300 >/dev/null
healthy() { [ "$(d inspect -f '{{.State.Health.Status}}' hx)" = healthy ]; }
wait_until 30 healthy; ok $? "healthy while it runs"
like "$(d ps --format '{{.Names}} {{.Status}}')" "^hx Up .* \(healthy\)$" "ps shows (healthy)"
d kill hx >/dev/null
d wait hx >/dev/null # kill only signals: the exit is recorded after
is "$(d inspect -f '{{.State.Health.Status}}' hx)" unhealthy "stopped: unhealthy, as docker marks it"
[ "$(d inspect -f '{{len .State.Health.Log}}' hx)" -ge 1 ]; ok $? "the last checks are kept"
like "$(d inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{end}}' hx)" '^0 ' "with their exit codes"
unlike "$(d ps -a --format '{{.Names}} {{.Status}}')" "healthy" "ps -a shows no health for an exited container"
d start hx >/dev/null
wait_until 30 healthy; ok $? "started again: healthy again"
d rm -f hx >/dev/null
done_testing
