#!/usr/bin/env bash
# build failures: a failing RUN, a missing file, a bad instruction; no image.
. "$(dirname "$0")/lib.sh"
ctx "$T/a" <<'DF'
FROM busybox
RUN exit 7
DF
is "$(rc d build -t bad:1 "$T/a")" 1 "a failing RUN: build exits 1"
is "$(d images -q bad:1)" "" "no image"
ctx "$T/b" <<'DF'
FROM busybox
COPY nosuch.txt /
DF
is "$(rc d build -t bad:2 "$T/b")" 1 "COPY of a missing file: 1"
ctx "$T/c" <<'DF'
FROM busybox
FROBNICATE now
DF
is "$(rc d build -t bad:3 "$T/c")" 1 "an unknown instruction: 1"
is "$(rc d build -t bad:4 "$T/nosuchdir")" 1 "a missing context: 1"
done_testing
