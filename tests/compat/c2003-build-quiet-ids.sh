#!/usr/bin/env bash
# build -q prints the image ID, which run, tag and rmi take.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo 1 > /one
DF
id=$(d build -q "$T/c")
like "$id" "^sha256:[0-9a-f]{64}$" "build -q prints sha256:ID"
is "$(d run --rm "$id" cat /one)" 1 "run by ID"
is "$(d run --rm "${id:7:12}" cat /one)" 1 "run by short ID"
d tag "$id" named:1; ok $? "tag of an ID"
is "$(d images -q named:1)" "${id:7:12}" "images -q shows its short ID"
done_testing
