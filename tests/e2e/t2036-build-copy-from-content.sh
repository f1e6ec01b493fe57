#!/usr/bin/env bash
# A COPY --from whose source stage ran again but made the same files is a
# cache hit, and so are the steps after it (BuildKit keys COPY --from by
# the copied files' content): changing a comment in a C file rebuilt the
# binary's stage, and then the final stage too (issue 29, the gcc case).
# The content key has the files' owners in it (a COPY --from keeps them),
# not their mtimes; a second build by the source's key needs no checksum.
. "$(dirname "$0")/lib.sh"
import_busybox
mkdir -p "$T/ctx"
cat >"$T/ctx/Dockerfile" <<'DF'
FROM busybox AS build
ARG OWNER=0
COPY a.txt /a.txt
RUN head -c 5 /a.txt > /out && chown $OWNER:0 /out
FROM busybox
COPY --from=build /out /out
RUN cat /out > /copy
DF
id() { cb images -q --no-trunc "$1" 2>/dev/null | head -1; }
echo "hello world 1" >"$T/ctx/a.txt"
cb build -t cf:1 "$T/ctx" >"$T/b1.log" 2>&1; ok $? "first build"
id1=$(id cf:1)
echo "hello world 2" >"$T/ctx/a.txt"
cb build -t cf:2 "$T/ctx" >"$T/b2.log" 2>&1; ok $? "the source stage's input changed"
grep -q "head -c 5" "$T/b2.log" && ! grep -A1 "head -c 5" "$T/b2.log" | grep -q "Using cache"
ok $? "the source stage ran again"
grep -A1 "COPY --from=build" "$T/b2.log" | grep -q "Using cache .*(the same files)"
ok $? "COPY --from: a hit by its files" || diag "$(cat "$T/b2.log")"
grep -A1 "RUN cat /out" "$T/b2.log" | grep -q "Using cache"
ok $? "the step after it: a hit"
is "$(id cf:2)" "$id1" "the same image as the first build"
cb build -t cf:3 "$T/ctx" >"$T/b3.log" 2>&1
grep -A1 "COPY --from=build" "$T/b3.log" | grep -q "Using cache" &&
	! grep -q "the same files" "$T/b3.log"
ok $? "a no-op rebuild hits by the source's key"
is "$(id cf:3)" "$id1" "and gives that image"

# the same bytes with another owner: not the same files
cb build --build-arg OWNER=1 -t cf:4 "$T/ctx" >"$T/b4.log" 2>&1; ok $? "the owner changed"
! grep -A1 "COPY --from=build" "$T/b4.log" | grep -q "Using cache"
ok $? "COPY --from runs again" || diag "$(cat "$T/b4.log")"
[ "$(id cf:4)" != "$id1" ]; ok $? "another image"
is "$(cb run --rm cf:4 stat -c %u /out)" 1 "with the new owner"
done_testing
