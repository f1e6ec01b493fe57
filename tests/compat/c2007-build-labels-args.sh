#!/usr/bin/env bash
# build --label, ARG before FROM, ARG defaults and the environment of RUN.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
ARG BASE=busybox
FROM $BASE
ARG WHO=world
RUN echo "hello $WHO" > /greeting
LABEL stage=final
DF
d build -q --label built.by=ci -t la:1 "$T/c" >/dev/null; ok $? "ARG in FROM"
is "$(d run --rm la:1 cat /greeting)" "hello world" "ARG default"
is "$(d inspect -f '{{index .Config.Labels "built.by"}} {{index .Config.Labels "stage"}}' la:1)" "ci final" "--label and LABEL"
d build -q --build-arg WHO=you -t la:2 "$T/c" >/dev/null
is "$(d run --rm la:2 cat /greeting)" "hello you" "--build-arg"
is "$(d run --rm la:2 sh -c 'echo ${WHO:-unset}')" unset "an ARG is not in the image's environment"
done_testing
