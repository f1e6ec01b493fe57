#!/usr/bin/env bash
# tag for a registry, push, rmi, pull back, run.
. "$(dirname "$0")/lib.sh"
reg_start || { echo "1..0 # SKIP no registry"; exit 0; }
ctx "$T/c" <<'DF'
FROM busybox
RUN echo pushed > /msg
CMD ["cat", "/msg"]
DF
d build -q -t "$REG/team/app:1" "$T/c" >/dev/null
d push "$REG/team/app:1" >/dev/null 2>&1; ok $? "push to the registry"
d tag "$REG/team/app:1" "$REG/team/app:latest"
d push "$REG/team/app:latest" >/dev/null 2>&1; ok $? "push of a second tag"
d rmi "$REG/team/app:1" "$REG/team/app:latest" >/dev/null
is "$(d images -q "$REG/team/app")" "" "gone from the store"
d pull "$REG/team/app:1" >/dev/null 2>&1; ok $? "pull"
is "$(d run --rm "$REG/team/app:1")" pushed "the pulled image runs"
is "$(rc d pull "$REG/team/nosuch:1")" 1 "pull of a missing image: 1"
is "$(d run --rm "$REG/team/app:latest" 2>/dev/null)" pushed "run pulls what is missing"
done_testing
