#!/usr/bin/env bash
# ps: -a, -q, --filter name/status/exited, --format.
. "$(dirname "$0")/lib.sh"
d run -d --name up1 busybox sleep 100 >/dev/null
d run --name ok1 busybox true
d run --name bad1 busybox sh -c 'exit 3'
is "$(d ps --format '{{.Names}}')" up1 "ps: running ones"
is "$(d ps -a --format '{{.Names}}' | sort | tr '\n' ' ')" "bad1 ok1 up1 " "ps -a: all"
is "$(d ps -a --filter status=exited --format '{{.Names}}' | sort | tr '\n' ' ')" "bad1 ok1 " "--filter status=exited"
is "$(d ps -a --filter exited=3 --format '{{.Names}}')" bad1 "--filter exited=3"
is "$(d ps -a -f name=ok1 --format '{{.Names}}')" ok1 "-f name="
is "$(d ps -a --filter name=up1 --format '{{.Image}}')" busybox "the Image column"
is "$(d ps -aq | wc -l)" 3 "ps -aq: a line each"
like "$(d ps | head -1)" "^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$" "the header"
done_testing
