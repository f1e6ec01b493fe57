#!/usr/bin/env bash
# rmi of an ID with several names needs -f; rmi -f untags them all.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo x > /x
DF
d build -q -t multi:1 "$T/c" >/dev/null
d tag multi:1 multi:2
id=$(d images -q multi:1)
is "$(rc d rmi "$id")" 1 "rmi of an ID with two names fails"
like "$(d rmi "$id" 2>&1)" "conflict: unable to delete $id \(must be forced\) - image is referenced in multiple repositories" "with docker's words"
out=$(d rmi -f "$id")
like "$out" "Untagged: multi:1" "rmi -f untags the first"
like "$out" "Untagged: multi:2" "and the second"
like "$out" "Deleted: sha256:" "and deletes the image"
is "$(d images -q multi)" "" "no name left"
done_testing
