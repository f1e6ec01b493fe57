#!/usr/bin/env bash
# -v HOSTPATH:/x: a missing host path is made a directory (docker's -v); :ro binds refuse writes; --mount never makes one.
. "$(dirname "$0")/lib.sh"
is "$(rc d run --rm -v "$T/missing/deeper:/x" busybox sh -c 'echo in > /x/f')" 0 "-v of a missing host path: runs"
[ -d "$T/missing/deeper" ]; ok $? "the host path is now a directory"
is "$(cat "$T/missing/deeper/f")" in "what the container wrote is on the host"
echo host > "$T/missing/deeper/g"
is "$(d run --rm -v "$T/missing/deeper:/x:ro" busybox cat /x/g)" host "a :ro bind reads the host's file"
[ "$(rc d run --rm -v "$T/missing/deeper:/x:ro" busybox sh -c 'echo no > /x/g')" != 0 ]; ok $? "and refuses a write"
is "$(cat "$T/missing/deeper/g")" host "the host's file is unchanged"
echo file > "$T/afile"
is "$(d run --rm -v "$T/afile:/etc/afile" busybox cat /etc/afile)" file "a single file binds too"
[ "$(rc d run --rm --mount "type=bind,source=$T/nope,target=/x" busybox true)" != 0 ]; ok $? "--mount type=bind of a missing path fails"
[ ! -e "$T/nope" ]; ok $? "and makes nothing"
done_testing
