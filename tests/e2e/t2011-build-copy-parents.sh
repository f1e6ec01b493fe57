#!/usr/bin/env bash
# COPY --parents (BuildKit's dockerfile 1.7-labs): the matched sources keep
# their parent directories relative to the context, or to a `/./` pivot.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
build_case parents >/dev/null; ok $? "COPY --parents builds"
unpack parents:1 "$T/u" || exit 1
tree=$(cd "$T/u/rootfs" && find p1 p2 p3 p4 p5 p6 -type f | sort | tr '\n' ' ')
is "$tree" "p1/x/a.txt p1/y/a.txt p2/x/a.txt p2/y/a.txt p3/deep/er/f.txt p4/x/sub/s.txt p5/top.txt p6/er/f.txt " "each file under its parents (pivot cut where given)"
is "$(cat "$T/u/rootfs/p2/y/a.txt")" "ya" "contents copied"
out=$(cb build --progress plain -t parents:2 "$BUILDS/parents" 2>&1); ok $? "rebuild"
is "$(printf '%s\n' "$out" | grep -c 'Using cache')" 6 "all six steps from the cache"
cp -r "$BUILDS/parents" "$T/ctx"
echo changed > "$T/ctx/z/deep/er/f.txt"
out=$(cb build --progress plain -t parents:3 "$T/ctx" 2>&1); ok $? "a changed file"
like "$out" "COPY --parents ./z/./deep/er/f.txt /p3/  \(cache miss" "its step misses"
printf 'FROM busybox\nCOPY --parents nosuch/* /d/\n' > "$T/ctx/Dockerfile"
err=$(cb build -q "$T/ctx" 2>&1); is $? 1 "no match: exit 1"
like "$err" "no source files were specified" "... saying so"
done_testing
