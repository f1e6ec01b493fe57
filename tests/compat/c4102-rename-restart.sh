#!/usr/bin/env bash
# rename keeps the container and frees the old name; restart gives it a new
# PID 1 on the same writable layer
. "$(dirname "$0")/lib.sh"
d run --name old busybox sh -c 'exit 3'
is "$(rc d rename old new)" 0 "rename"
is "$(d ps -a --format '{{.Names}}')" "new" "ps shows the new name"
is "$(d wait new)" "3" "same container"
d run --name other busybox true
is "$(rc d rename new other)" 1 "rename to a name in use: 1"
is "$(rc d run --name old busybox true)" 0 "the old name is free"
d run -d --name r1 busybox sh -c 'echo x >> /count; sleep 1000' >/dev/null
is "$(d restart -t 1 r1)" "r1" "restart prints the name"
like "$(d ps --format '{{.Names}} {{.Status}}')" "^r1 Up" "running after restart"
wait_until 30 sh -c "[ \"\$($DOCKER exec r1 cat /count | wc -l)\" = 2 ]"
is "$(d exec r1 cat /count | wc -l)" "2" "the writable layer is kept (two lines)"
d stop -t 1 r1 >/dev/null
d restart r1 >/dev/null
like "$(d ps --format '{{.Names}} {{.Status}}')" "^r1 Up" "restart of a stopped container starts it"
is "$(rc d restart nosuch)" 1 "restart of no such container: 1"
done_testing
