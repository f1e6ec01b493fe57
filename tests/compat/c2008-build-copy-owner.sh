#!/usr/bin/env bash
# COPY --chown, ADD of a local tar (unpacked), file modes kept.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
COPY --chown=nobody:nogroup owned.txt /owned.txt
COPY run.sh /run.sh
ADD files.tar /unpacked/
DF
echo o >"$T/c/owned.txt"
printf '#!/bin/sh\necho ran\n' >"$T/c/run.sh"
chmod 755 "$T/c/run.sh"
mkdir -p "$T/t/d" && echo inner >"$T/t/d/f"
tar -C "$T/t" -cf "$T/c/files.tar" d
d build -q -t own:1 "$T/c" >/dev/null; ok $? "build"
is "$(d run --rm own:1 stat -c '%U:%G' /owned.txt)" "nobody:nogroup" "COPY --chown"
is "$(d run --rm own:1 /run.sh)" ran "the x bit is kept"
is "$(d run --rm own:1 cat /unpacked/d/f)" inner "ADD of a tar unpacks it"
done_testing
