#!/usr/bin/env bash
# stop and start again: the container keeps its filesystem.
. "$(dirname "$0")/lib.sh"
d run -d --name s1 busybox sh -c 'echo run >> /log; exec sleep 100' >/dev/null
wait_until 10 $DOCKER exec s1 test -s /log
d stop -t 1 s1 >/dev/null
is "$(d start s1)" s1 "start prints the name"
like "$(d ps --format '{{.Names}} {{.Status}}')" "^s1 Up" "it runs again"
wait_until 10 sh -c "[ \"\$($DOCKER exec s1 wc -l < /dev/null; $DOCKER exec s1 cat /log | wc -l)\" = 2 ]"
is "$(d exec s1 cat /log | tr '\n' ' ')" "run run " "its files are kept"
is "$(rc d start nosuch)" 1 "start of a missing container: 1"
is "$(rc d stop nosuch)" 1 "stop of a missing container: 1"
done_testing
