#!/usr/bin/env bash
# An untagged image (build without -t): a <none> row, reached by a short ID prefix in run, inspect, history, save, tag, rmi.
. "$(dirname "$0")/lib.sh"
ctx "$T/u" <<'DF'
FROM busybox
RUN echo untagged > /u
DF
id=$(d build -q "$T/u"); id=${id#sha256:}
short=$(echo "$id" | cut -c1-12)
like "$id" '^[0-9a-f]{64}$' "build -q without -t prints the ID"
is "$(d images --format '{{.Repository}}:{{.Tag}} {{.ID}}' | grep -c "^<none>:<none> $short$")" 1 "images: a <none>:<none> row"
is "$(d images -a --format '{{.ID}}' | grep -c "^$short$")" 1 "images -a lists it"
is "$(d images -q -f dangling=true | grep -c "^$short$")" 1 "it is dangling"
is "$(d run --rm "$short" cat /u)" untagged "run by a 12-digit prefix"
is "$(d run --rm "$(echo "$id" | cut -c1-7)" cat /u)" untagged "run by a shorter unique prefix"
is "$(d inspect -f '{{.Id}}' "$short")" "sha256:$id" "inspect by prefix"
like "$(d history --format '{{.CreatedBy}}' "$short" | head -1)" "echo untagged" "history by prefix"
d save -o "$T/u.tar" "$short"; ok $? "save by prefix"
tar tf "$T/u.tar" | grep -q 'manifest.json'; ok $? "a docker archive"
d tag "$short" named:1
is "$(d images -q named:1)" "$short" "tag by prefix names it"
is "$(d images --format '{{.Repository}}' | grep -c '^<none>$')" 0 "no <none> row once named"
d rmi named:1 >/dev/null
is "$(rc d inspect "$short")" 1 "untagging its only name removes it"
done_testing
