#!/usr/bin/env bash
# exec: output, -e, -w, -u, in the running container's filesystem.
. "$(dirname "$0")/lib.sh"
d run -d --name e1 -e FROM_RUN=r busybox sh -c 'echo x > /tmp/made; exec sleep 100' >/dev/null
wait_until 10 $DOCKER exec e1 test -f /tmp/made
is "$(d exec e1 cat /tmp/made)" x "exec sees the container's files"
is "$(d exec e1 sh -c 'echo $FROM_RUN')" r "exec gets the container's environment"
is "$(d exec -e X=1 e1 sh -c 'echo $X')" 1 "exec -e"
is "$(d exec -w /tmp e1 pwd)" /tmp "exec -w"
is "$(d exec -u 65534 e1 id -u)" 65534 "exec -u"
is "$(d exec e1 sh -c 'echo $$ > /dev/null; cat /proc/1/cmdline | tr "\0" " "')" "sleep 100 " "PID 1 is the container's process"
done_testing
