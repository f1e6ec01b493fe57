#!/usr/bin/env bash
# Container state as ps reads it: the exit code a monitor records is the
# only one ever shown (never a guessed 137 while it is writing it).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root (t5020 covers rootless)"
import_busybox

state() { # state ID KEY
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$ROOT/containers/$1/state.json" "$2"
}
pstate() { awk '{print $3}' /proc/"$1"/stat 2>/dev/null; }

# Widen the window between PID 1's exit and the monitor's record of it to
# half a second: the monitor is stopped while its PID 1 exits (a zombie
# nobody reaps yet), and continued in the background.
id=$(cb run -d busybox sh -c 'trap "exit 3" TERM; sleep 1000 & wait')
mon=$(state "$id" monitor_pid)
pid1=$(state "$id" pid)
if [ "$mon" -gt 1 ] && [ "$pid1" -gt 1 ]; then
	sleep 0.3 # the trap is set
	kill -STOP "$mon"
	kill -TERM "$pid1"
	for _ in $(seq 100); do [ "$(pstate "$pid1")" = Z ] && break; sleep 0.05; done
	is "$(pstate "$pid1")" Z "PID 1 exited, its monitor has not recorded it yet"
	(sleep 0.5; kill -CONT "$mon") &
	like "$(cb ps -a)" "${id:0:12} .* Exited \(3\)" "ps -a waits for the monitor's record: Exited (3), not 137"
	wait
	kill -CONT "$mon" 2>/dev/null
else
	fail "state.json names the monitor and PID 1" "monitor '$mon' pid '$pid1'"
fi

seen=""
for i in $(seq 4); do
	id=$(cb run -d busybox sh -c 'exit 3')
	for j in $(seq 10); do
		seen="$seen $(cb ps -a | awk -v id="${id:0:12}" '$1 == id' | grep -o 'Exited ([0-9]*)\|Up')"
	done
done
unlike "$seen" "137" "polling ps -a while containers exit 3 never shows 137"
like "$seen" "Exited \(3\)" "it shows Exited (3)"
cb rm $(cb ps -aq) >/dev/null

done_testing
