#!/usr/bin/env bash
# pause/unpause, top, stats --no-stream as a user sees them
. "$(dirname "$0")/lib.sh"
d run -d --name pz busybox sleep 1000 >/dev/null
is "$(d pause pz)" "pz" "pause prints the name"
like "$(d ps --format '{{.Names}} {{.Status}}')" "^pz Up .*\(Paused\)$" "ps: (Paused)"
is "$(rc d pause pz)" 1 "pause of a paused container: 1"
is "$(d ps --format '{{.Names}} {{.State}}' -f status=paused)" "pz paused" "ps: State paused, -f status=paused"
[ "$(rc timeout 60 $DOCKER exec pz true)" != 0 ]; ok $? "exec into a paused container fails"
is "$(d unpause pz)" "pz" "unpause prints the name"
unlike "$(d ps --format '{{.Status}}')" "Paused" "no longer paused"
is "$(rc d unpause pz)" 1 "unpause of a running container: 1"
d pause pz >/dev/null
d kill pz >/dev/null
is "$(d wait pz)" "137" "kill of a paused container"
d run -d --name tp busybox sleep 1000 >/dev/null
out=$(d top tp)
like "$(printf '%s\n' "$out" | head -1)" "^UID +PID +PPID +C +STIME +TTY +TIME +CMD$" "top: ps -ef's columns"
like "$out" "sleep 1000" "top lists the command"
is "$(printf '%s\n' "$out" | wc -l)" "2" "and only the container's process"
is "$(d top tp -o pid,comm | head -1 | tr -s ' ' | sed 's/ $//')" "PID COMMAND" "top CONTAINER -o pid,comm"
is "$(rc d top pz)" 1 "top of a stopped container: 1"
out=$(d stats --no-stream)
like "$(printf '%s\n' "$out" | head -1)" "^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$" "stats: docker's columns"
is "$(d stats --no-stream --format '{{.Name}} {{.PIDs}}')" "tp 1" "one row per running container, its PIDs"
like "$(d stats --no-stream --format '{{.MemUsage}}' tp)" "^[0-9.]+(B|KiB|MiB) / [0-9.]+[KMGT]iB$" "memory in binary units"
done_testing
