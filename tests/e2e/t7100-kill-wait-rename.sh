#!/usr/bin/env bash
# restart, kill [-s SIG], wait, rename as docker does them: kill signals
# PID 1 (SIGKILL by default) and returns, wait prints the exit code the
# monitor recorded, rename keeps the container and frees the old name,
# restart gives it a new PID 1 on the same upper directory.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox

state() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	"$ROOT/containers/$1/state.json" "$2"; }

# kill: SIGKILL by default, wait says 137
id=$(cb run -d --name k1 --network none busybox sleep 1000)
is "$(cb kill k1)" "k1" "kill prints the name"
is "$(cb wait k1)" "137" "wait after kill: 137 (128 + SIGKILL)"
like "$(cb ps -a --format '{{.Names}} {{.Status}}')" "k1 Exited \(137\)" "ps: Exited (137)"

# kill -s TERM reaches a trap of PID 1
cb run -d --name k2 --network none busybox sh -c \
	'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
ready() { cb logs k2 2>/dev/null | grep -q ready; }
wait_for 60 ready || diag "k2 never said ready"
cb kill -s TERM k2 >/dev/null
is "$(cb wait k2)" "7" "kill -s TERM: the trap's exit code"
cb run -d --name k3 --network none busybox sh -c \
	'trap "exit 8" USR1; echo ready; while :; do sleep 0.1; done' >/dev/null
ready3() { cb logs k3 2>/dev/null | grep -q ready; }
wait_for 60 ready3 || diag "k3 never said ready"
cb kill --signal=SIGUSR1 k3 >/dev/null
is "$(cb wait k3)" "8" "kill --signal=SIGUSR1"

# kill of a container that is not running: exit 1 and why
out=$(cb kill k1 2>&1); rc=$?
is "$rc" 1 "kill of an exited container fails"
like "$out" "is not running" "and says it is not running"
cb kill -s NOSUCHSIG k1 >/dev/null 2>&1
is "$?" 2 "kill -s with an unknown signal is a usage error"
cb kill nosuch >/dev/null 2>&1
is "$?" 1 "kill of no such container: 1"

# wait: codes in order, of exited ones at once, of several
cb run --name w3 --network none busybox sh -c 'exit 3'
is "$(cb wait w3 k2)" "$(printf '3\n7')" "wait CONTAINER...: one code a line, in order"
cb run -d --name w5 --network none busybox sh -c 'sleep 1; exit 5' >/dev/null
is "$(cb wait w5)" "5" "wait blocks until a running container exits"
cb wait nosuch >/dev/null 2>&1
is "$?" 1 "wait of no such container: 1"

# rename
cb rename w3 renamed
is "$?" 0 "rename"
names=$(cb ps -a --format '{{.Names}}' | sort | tr '\n' ' ')
like "$names" "renamed" "ps shows the new name"
unlike "$names" "(^| )w3( |$)" "and not the old one"
is "$(cb wait renamed)" "3" "the container is the same (its exit code)"
out=$(cb rename renamed k1 2>&1); rc=$?
is "$rc" 1 "rename to a name in use fails"
like "$out" "already in use" "and says so"
cb run --name w3 --network none busybox true
is "$?" 0 "the old name is free again"
cb rename renamed 'bad/name' >/dev/null 2>&1
is "$?" 1 "rename to an invalid name fails"
cb rename renamed x >/dev/null 2>&1
is "$?" 1 "rename to a one-character name fails (docker: two at least)"
cb run --name y --network none busybox true >/dev/null 2>&1
is "$?" 125 "run --name with one character fails as docker's (125)"
cb rename renamed >/dev/null 2>&1
is "$?" 1 "rename with one argument: 1 (docker's)"

# restart: a running one gets a new PID 1, an exited one runs again; the
# upper directory is kept
id=$(cb run -d --name r1 --network none busybox sh -c 'echo x >> /count; sleep 1000')
pid1=$(state "$id" pid)
is "$(cb restart -t 1 r1)" "r1" "restart prints the name"
pid2=$(state "$id" pid)
is "$(state "$id" status)" running "running after restart"
[ "$pid1" != "$pid2" ]; ok $? "with a new PID 1"
counted() { [ "$(cb exec r1 cat /count | wc -l)" = 2 ]; }
wait_for 60 counted; ok $? "on the same upper directory (the file has two lines)"
cb stop -t 1 r1 >/dev/null
cb restart r1 >/dev/null
is "$(state "$id" status)" running "restart of a stopped container starts it"
cb rm -f r1 >/dev/null
cb restart nosuch >/dev/null 2>&1
is "$?" 1 "restart of no such container: 1"

cb rm -f $(cb ps -aq) >/dev/null
done_testing
