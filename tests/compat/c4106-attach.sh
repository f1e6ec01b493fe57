#!/usr/bin/env bash
# attach: piped stdin reaches a -i container, attach exits with its code,
# output of a container without -i from now on, a stopped one refused
. "$(dirname "$0")/lib.sh"
d run -di --name i1 busybox sh >/dev/null
like "$(d ps --format '{{.Names}} {{.Status}}')" "^i1 Up" "run -di sh stays up (its stdin stays open)"
(sleep 1; printf 'echo hello > /made\nexit 4\n') | d attach i1 >/dev/null; rc=$?
is "$rc" 4 "what is piped to attach reaches its stdin; attach exits with the container's code"
like "$(d diff i1)" "A /made" "the piped command ran"
d run -d --name i3 busybox sh -c 'sleep 1; echo late; exit 6' >/dev/null
is "$(d attach i3)" "late" "attach to a container without -i: its output"
is "$(rc d attach i3)" 1 "attach to a stopped container: 1"
done_testing
