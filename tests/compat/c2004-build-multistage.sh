#!/usr/bin/env bash
# multi-stage builds: COPY --from, --target, an unused stage.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox AS builder
RUN echo artifact > /artifact
FROM busybox AS unused
RUN exit 1
FROM busybox
COPY --from=builder /artifact /app/artifact
CMD ["cat", "/app/artifact"]
DF
d build -q -t ms:1 "$T/c" >/dev/null; ok $? "build skips the unused (failing) stage"
is "$(d run --rm ms:1)" artifact "COPY --from a stage"
d build -q --target builder -t ms:builder "$T/c" >/dev/null; ok $? "--target"
is "$(d run --rm ms:builder cat /artifact)" artifact "the target stage's image"
is "$(rc d run --rm ms:builder test -e /app)" 1 "without the later stages"
is "$(rc d build -q --target nosuch "$T/c")" 1 "an unknown --target fails"
done_testing
