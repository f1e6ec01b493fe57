#!/usr/bin/env bash
# stop and rm -f of several containers; stop of a stopped one.
. "$(dirname "$0")/lib.sh"
d run -d --name a1 busybox sleep 100 >/dev/null
d run -d --name a2 busybox sleep 100 >/dev/null
is "$(d stop -t 1 a1 a2 | tr '\n' ' ')" "a1 a2 " "stop of two prints both names"
is "$(d ps -q | wc -l)" 0 "neither runs"
is "$(d stop a1)" a1 "stop of a stopped container succeeds"
is "$(rc d stop a1 nosuch)" 1 "one missing: 1"
d start a1 a2 >/dev/null
is "$(d rm -f a1 a2 | tr '\n' ' ')" "a1 a2 " "rm -f of two running ones"
done_testing
