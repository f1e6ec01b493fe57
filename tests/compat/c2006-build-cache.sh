#!/usr/bin/env bash
# the build cache: the same input gives the same image; a change rebuilds.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
COPY f /f
RUN cat /f > /g
DF
echo 1 >"$T/c/f"
a=$(d build -q "$T/c")
b=$(d build -q "$T/c")
is "$b" "$a" "a second build of the same context: the same image"
echo 2 >"$T/c/f"
c=$(d build -q "$T/c")
[ "$c" != "$a" ]; ok $? "a changed file: a new image"
is "$(d run --rm "$c" cat /g)" 2 "built from the new file"
d=$(d build -q --no-cache "$T/c")
is "$(d run --rm "$d" cat /g)" 2 "--no-cache builds the same content"
done_testing
