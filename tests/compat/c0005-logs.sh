#!/usr/bin/env bash
# logs: of an exited container, --tail, stderr kept apart.
. "$(dirname "$0")/lib.sh"
d run --name l1 busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done'
is "$(d logs l1 | tr '\n' ' ')" "line1 line2 line3 line4 line5 " "logs: every line"
is "$(d logs --tail 2 l1 | tr '\n' ' ')" "line4 line5 " "--tail 2"
is "$(d logs -n 1 l1)" line5 "-n 1"
is "$(d logs --tail all l1 | wc -l)" 5 "--tail all"
d run --name l2 busybox sh -c 'echo out; echo oops >&2' >/dev/null 2>&1
is "$(d logs l2 2>/dev/null)" out "stdout on stdout"
is "$(d logs l2 2>&1 >/dev/null)" oops "stderr on stderr"
is "$(rc d logs nosuchcontainer)" 1 "logs of a missing container: 1"
done_testing
