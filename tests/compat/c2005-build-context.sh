#!/usr/bin/env bash
# the build context: .dockerignore, a Dockerfile on stdin (-f -), - as context.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
COPY . /ctx
RUN ls /ctx | sort | tr '\n' ' ' > /list
CMD ["cat", "/list"]
DF
echo a >"$T/c/keep.txt"
echo b >"$T/c/secret.key"
mkdir "$T/c/logs" && echo c >"$T/c/logs/x.log"
printf '*.key\nlogs\n' >"$T/c/.dockerignore"
d build -q -t ctx:1 "$T/c" >/dev/null
is "$(d run --rm ctx:1)" "Dockerfile keep.txt " ".dockerignore keeps files (and itself) out"
printf 'FROM busybox\nRUN echo from-stdin > /m\n' | d build -q -t ctx:2 -f - "$T/c" >/dev/null
is "$(d run --rm ctx:2 cat /m)" from-stdin "-f - reads the Dockerfile from stdin"
printf 'FROM busybox\nRUN echo no-context > /m\n' | d build -q -t ctx:3 - >/dev/null
is "$(d run --rm ctx:3 cat /m)" no-context "build - : a Dockerfile and no context"
done_testing
