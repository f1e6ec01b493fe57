#!/usr/bin/env bash
# kill [-s SIG] signals PID 1 and prints the name; wait prints exit codes
. "$(dirname "$0")/lib.sh"
d run -d --name k1 busybox sleep 1000 >/dev/null
is "$(d kill k1)" "k1" "kill prints the name"
is "$(d wait k1)" "137" "wait after kill: 137"
like "$(d ps -a --format '{{.Names}} {{.Status}}')" "^k1 Exited \(137\)" "ps: Exited (137)"
d run -d --name k2 busybox sh -c 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
wait_until 30 sh -c "$DOCKER logs k2 | grep -q ready"
d kill -s TERM k2 >/dev/null
is "$(d wait k2)" "7" "kill -s TERM reaches PID 1's trap"
d run -d --name k3 busybox sh -c 'trap "exit 8" USR1; echo ready; while :; do sleep 0.1; done' >/dev/null
wait_until 30 sh -c "$DOCKER logs k3 | grep -q ready"
d kill --signal=SIGUSR1 k3 >/dev/null
is "$(d wait k3)" "8" "kill --signal=SIGUSR1"
is "$(rc d kill k1)" 1 "kill of an exited container: 1"
is "$(rc d kill nosuch)" 1 "kill of no such container: 1"
d run --name w3 busybox sh -c 'exit 3'
is "$(d wait w3 k2 | tr '\n' ' ')" "3 7 " "wait A B: a code a line, in order"
is "$(rc d wait nosuch)" 1 "wait of no such container: 1"
done_testing
