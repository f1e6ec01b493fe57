#!/usr/bin/env bash
# rmi of an image a container uses: refused without -f.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo used > /used
DF
d build -q -t used:1 "$T/c" >/dev/null
d run --name user1 used:1 true
is "$(rc d rmi used:1)" 1 "rmi of the only name of an image a container uses: refused"
like "$(d rmi used:1 2>&1)" "conflict: unable to remove repository reference \"used:1\" \(must force\) - container [0-9a-f]{12} is using its referenced image" "with docker's words"
is "$(d images -q used:1 | wc -l)" 1 "the name stays"
d rmi -f used:1 >/dev/null; ok $? "rmi -f"
is "$(d ps -a --format '{{.Names}}')" user1 "the container stays"
done_testing
