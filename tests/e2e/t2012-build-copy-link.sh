#!/usr/bin/env bash
# COPY --link: the copy's layer does not depend on the layers below it. A
# change in an earlier step reuses the cached --link layer (the steps after
# it still re-run), and the layers are those of the same build without
# --link.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
export SOURCE_DATE_EPOCH=0 # layers comparable byte for byte
mkdir -p "$T/c"
echo app > "$T/c/app.txt"; echo base1 > "$T/c/base.txt"
cat > "$T/c/Dockerfile" <<'DF'
FROM busybox
COPY base.txt /base.txt
COPY --link app.txt /app/
RUN cat /app/app.txt /base.txt > /both
DF
sed 's/ --link//' "$T/c/Dockerfile" > "$T/c/Dockerfile.nolink"
layers() { cb inspect "$1" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)[0]["RootFS"]["Layers"]))'; }

cb build -q -t l:1 "$T/c" >/dev/null; ok $? "COPY --link builds"
cb build -q --no-cache -f "$T/c/Dockerfile.nolink" -t n:1 "$T/c" >/dev/null; ok $? "the same without --link"
is "$(layers l:1)" "$(layers n:1)" "same layers as the build without --link"
l1=$(layers l:1 | cut -d' ' -f3)

echo base2 > "$T/c/base.txt"
out=$(cb build --progress plain -t l:2 "$T/c" 2>&1); ok $? "rebuild after an earlier step changed"
like "$out" "COPY --link app.txt /app/
--> Using cached layer \(--link\)" "the --link step is not invalidated by the step before it"
like "$out" "RUN cat /app/app.txt /base.txt > /both  \(cache miss" "the step after it re-runs"
is "$(layers l:2 | cut -d' ' -f3)" "$l1" "the --link layer is reused as is"
unpack l:2 "$T/u" && is "$(cat "$T/u/rootfs/both")" "app
base2" "later steps see the reused layer on the new base"
cb build -q --no-cache -f "$T/c/Dockerfile.nolink" -t n:2 "$T/c" >/dev/null
is "$(layers l:2)" "$(layers n:2)" "still the layers of a build without --link"
out=$(cb build --progress plain -t l:3 "$T/c" 2>&1)
is "$(printf '%s\n' "$out" | grep -c 'Using cache ')" 3 "unchanged: every step a plain cache hit"

echo app2 > "$T/c/app.txt"
out=$(cb build --progress plain -t l:4 "$T/c" 2>&1)
like "$out" "COPY --link app.txt /app/  \(cache miss" "its own file changed: the --link step re-runs"
done_testing
