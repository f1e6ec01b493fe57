#!/usr/bin/env bash
# history: the header, a row per step, newest first.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo one > /one
ENV STEP=two
DF
d build -q -t hist:1 "$T/c" >/dev/null
like "$(d history hist:1 | head -1)" "^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$" "the header"
is "$(d history -q hist:1 | wc -l)" "$(( $(d history -q busybox | wc -l) + 2 ))" "a row per step over the base's"
like "$(d history --no-trunc --format '{{.CreatedBy}}' hist:1 | head -1)" "ENV STEP=two" "newest first"
like "$(d history --no-trunc --format '{{.CreatedBy}}' hist:1 | sed -n 2p)" "echo one > /one" "then the RUN"
done_testing
