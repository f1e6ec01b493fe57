#!/usr/bin/env bash
# run -i reads stdin; -v binds a host directory (rw and :ro).
. "$(dirname "$0")/lib.sh"
is "$(echo piped | d run --rm -i busybox cat)" piped "run -i: stdin reaches the command"
is "$(echo piped | d run --rm busybox cat)" "" "without -i: no stdin"
mkdir -p "$T/data"
echo host >"$T/data/in.txt"
is "$(d run --rm -v "$T/data:/data" busybox cat /data/in.txt)" host "-v: the host's file inside"
d run --rm -v "$T/data:/data" busybox sh -c 'echo ctr > /data/out.txt'
is "$(cat "$T/data/out.txt")" ctr "-v: the container's write on the host"
is "$(rc d run --rm -v "$T/data:/data:ro" busybox touch /data/x)" 1 "-v :ro refuses writes"
is "$(d run --rm --volume "$T/data/in.txt:/etc/motd:ro" busybox cat /etc/motd)" host "--volume of a file"
done_testing
