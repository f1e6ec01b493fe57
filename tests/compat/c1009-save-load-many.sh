#!/usr/bin/env bash
# save of two images to one archive, load -q, load of a missing file.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo two > /two
DF
d build -q -t two:1 "$T/c" >/dev/null
d tag busybox one:1
d save -o "$T/both.tar" one:1 two:1; ok $? "save of two images"
d rmi one:1 two:1 >/dev/null
out=$(d load -i "$T/both.tar")
like "$out" "Loaded image: one:1" "load: the first"
like "$out" "Loaded image: two:1" "load: the second"
is "$(d run --rm two:1 cat /two)" two "the loaded image runs"
d rmi two:1 >/dev/null
is "$(d load -q -i "$T/both.tar" | grep -c 'Loaded image: ')" 2 "load -q still names what it loaded"
is "$(rc d load -i "$T/nosuch.tar")" 1 "load of a missing file: 1"
done_testing
