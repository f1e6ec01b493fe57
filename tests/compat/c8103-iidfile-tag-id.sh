#!/usr/bin/env bash
# build --iidfile, then the image by its ID: tag (full ID and prefix), run, inspect, rmi.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo by-id > /f
DF
d build -q --iidfile "$T/iid" "$T/c" >/dev/null; s=$?
is "$s" 0 "build --iidfile without -t"
iid=$(cat "$T/iid")
like "$iid" '^sha256:[0-9a-f]{64}$' "the file holds the image ID"
short=$(printf '%s' "$iid" | cut -c8-19)
is "$(rc d tag "$iid" byid:1)" 0 "tag of the full ID"
is "$(rc d tag "$short" byid:2)" 0 "tag of a 12-character prefix"
is "$(d images -q byid:1)" "$short" "images shows the short ID"
is "$(d inspect -f '{{.Id}}' byid:2)" "$iid" "inspect .Id is the iidfile's ID"
is "$(d run --rm "$short" cat /f)" by-id "run by the short ID"
out=$(d rmi byid:1 byid:2 2>&1)
like "$out" "Untagged: byid:1" "rmi untags the first name"
like "$out" "Deleted: $iid" "and deletes the image with the last"
is "$(rc d inspect "$iid")" 1 "the ID is gone"
done_testing
