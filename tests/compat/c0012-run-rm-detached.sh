#!/usr/bin/env bash
# run -d --rm: the container goes away when its command ends.
. "$(dirname "$0")/lib.sh"
d run -d --rm --name gone busybox sh -c 'sleep 1' >/dev/null; ok $? "run -d --rm"
like "$(d ps --format '{{.Names}}')" "gone" "it runs"
wait_until 30 sh -c "[ -z \"\$($DOCKER ps -aq)\" ]"
is "$(d ps -aq)" "" "and is removed when it exits"
d run -d --rm --name gone2 busybox sleep 100 >/dev/null
d stop -t 1 gone2 >/dev/null
wait_until 30 sh -c "[ -z \"\$($DOCKER ps -aq)\" ]"
is "$(d ps -aq)" "" "stop of a --rm container removes it"
done_testing
