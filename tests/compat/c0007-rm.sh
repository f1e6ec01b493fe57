#!/usr/bin/env bash
# rm: a running container needs -f; several at once; a missing one fails.
. "$(dirname "$0")/lib.sh"
d run -d --name r1 busybox sleep 100 >/dev/null
d run --name r2 busybox true
is "$(rc d rm r1)" 1 "rm of a running container fails"
is "$(d ps -q | wc -l)" 1 "and it still runs"
is "$(d rm -f r1)" r1 "rm -f removes it"
is "$(rc d rm nosuch)" 1 "rm of a missing container: 1"
d run --name r3 busybox true
is "$(d rm r2 r3 | tr '\n' ' ')" "r2 r3 " "rm of two"
is "$(rc d rm)" 1 "rm without a name: 1"
done_testing
