#!/usr/bin/env bash
# A Dockerfile's HEALTHCHECK runs: ps shows (healthy)/(unhealthy), inspect .State.Health; --no-healthcheck and HEALTHCHECK NONE turn it off.
. "$(dirname "$0")/lib.sh"
ctx "$T/h" <<'DF'
FROM busybox
HEALTHCHECK --interval=1s --timeout=3s --retries=2 CMD test -e /tmp/ok
DF
d build -q -t hc:1 "$T/h" >/dev/null
is "$(d inspect -f '{{json .Config.Healthcheck.Test}}' hc:1)" '["CMD-SHELL","test -e /tmp/ok"]' "the image keeps the HEALTHCHECK"
d run -d --name hc1 hc:1 sh -c 'touch /tmp/ok; sleep 300' >/dev/null
healthy() { [ "$(d inspect -f '{{.State.Health.Status}}' "$1")" = "$2" ]; }
wait_until 30 healthy hc1 healthy; ok $? "inspect: .State.Health.Status healthy"
like "$(d ps --format '{{.Names}} {{.Status}}' -f name=hc1)" '^hc1 Up .*\(healthy\)$' "ps: (healthy)"
d run -d --name hc2 hc:1 sleep 300 >/dev/null
wait_until 30 healthy hc2 unhealthy; ok $? "a failing check: unhealthy after its retries"
like "$(d ps --format '{{.Names}} {{.Status}}' -f name=hc2)" '\(unhealthy\)$' "ps: (unhealthy)"
d run -d --name hc3 --no-healthcheck hc:1 sleep 300 >/dev/null
unlike "$(d inspect -f '{{json .State}}' hc3)" '"Health"' "--no-healthcheck: no health at all"
ctx "$T/n" <<'DF'
FROM hc:1
HEALTHCHECK NONE
DF
d build -q -t hc:none "$T/n" >/dev/null
d run -d --name hc4 hc:none sleep 300 >/dev/null
unlike "$(d inspect -f '{{json .State}}' hc4)" '"Health"' "HEALTHCHECK NONE in a child image: no health"
like "$(d ps --format '{{.Names}} {{.Status}}' -f name=hc4)" '^hc4 Up [^(]*$' "ps: no health in its status"
done_testing
