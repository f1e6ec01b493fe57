#!/usr/bin/env bash
# Container state as ps reads it: the exit code a monitor records is the
# only one ever shown (never a guessed 137 while it is writing it); ps
# --filter and --format (and images --format).
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
id=$(cb run -d busybox sh -c 'trap "exit 3" TERM; echo trap-set; sleep 1000 & wait')
mon=$(state "$id" monitor_pid)
pid1=$(state "$id" pid)
if [ "$mon" -gt 1 ] && [ "$pid1" -gt 1 ]; then
	trap_set() { cb logs "$id" 2>/dev/null | grep -q trap-set; }
	wait_for 60 trap_set || diag "the container never said its trap was set"
	kill -STOP "$mon"
	kill -TERM "$pid1"
	for _ in $(seq 1200); do [ "$(pstate "$pid1")" = Z ] && break; sleep 0.05; done
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
	# at least 10 looks, and on until it has exited (a busy machine is slow)
	for j in $(seq 600); do
		st=$(cb ps -a | awk -v id="${id:0:12}" '$1 == id' | grep -o 'Exited ([0-9]*)\|Up')
		seen="$seen $st"
		[ "$j" -ge 10 ] && case $st in Exited*) break ;; esac
	done
done
unlike "$seen" "137" "polling ps -a while containers exit 3 never shows 137"
like "$seen" "Exited \(3\)" "it shows Exited (3)"
cb rm $(cb ps -aq) >/dev/null

# --filter and --format
cb import -c 'LABEL team=a' -c 'CMD ["sh"]' "$ROOTFS_TAR" labeled:1 >/dev/null
web=$(cb run -d --name web busybox sleep 1000)
cb run --name ex3 busybox sh -c 'exit 3'
cb run --name ex0 labeled:1 true
names() { cb ps "$@" --format '{{.Names}}' | sort | tr '\n' ' '; }
is "$(names)" "web " "ps shows running ones"
is "$(names -a)" "ex0 ex3 web " "ps -a all"
is "$(names -f status=exited)" "ex0 ex3 " "status=exited (implies -a)"
is "$(names -f status=running)" "web " "status=running"
is "$(names -f status=created)" "" "status=created"
is "$(names -f exited=3)" "ex3 " "exited=3"
is "$(names -a -f name=ex)" "ex0 ex3 " "name= matches a part of the name"
is "$(names -a -f name=ex0 -f name=web)" "ex0 web " "the same key twice: either"
is "$(names -a -f name=ex -f exited=0)" "ex0 " "different keys: both"
is "$(names -a -f id="${web:0:6}")" "web " "id= prefix"
is "$(names -a -f ancestor=busybox)" "ex3 web " "ancestor=NAME"
is "$(names -a -f ancestor=docker.io/library/labeled:1)" "ex0 " "ancestor=full name"
is "$(names -a -f ancestor="$(cb images --format '{{.ID}}' labeled:1)")" "ex0 " "ancestor=image ID"
is "$(names -a -f label=team)" "ex0 " "label=KEY (the image's labels)"
is "$(names -a -f label=team=a)" "ex0 " "label=KEY=VALUE"
is "$(names -a -f label=team=b)" "" "label=KEY=other value"
cb ps -f bogus=1 >/dev/null 2>&1; is $? 2 "unknown filter: usage error"
cb ps -f status=sleepy >/dev/null 2>&1; is $? 2 "bad status value: usage error"
cb ps --format '{{.Nope}}' >/dev/null 2>&1; is $? 2 "unknown --format field: usage error"

is "$(cb ps --format '{{.ID}} {{.Image}} {{.State}} {{json .Command}}')" \
	"${web:0:12} busybox running \"\\\"sleep 1000\\\"\"" "--format fields, {{json .X}}"
like "$(cb ps --format '{{.Status}}|{{.CreatedAt}}|{{.RunningFor}}')" \
	'^Up .*\|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \+0000 UTC\|.* ago$' "Status, CreatedAt, RunningFor"
out=$(cb ps -a --format 'table {{.Names}}\t{{.State}}\t{{.Image}}' -f name=ex)
is "$(printf '%s\n' "$out" | head -1)" "NAMES     STATE     IMAGE" "table: the fields' headers, aligned (min width 10)"
like "$out" "ex3       exited    busybox" "table: rows aligned the same way"
is "$(cb ps --format table | head -1 | tr -s ' ')" "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" \
	"--format table: the default columns"
cb ps -a --format json > "$T/ps.json"
is "$(python3 -c 'import json,sys; print(sorted(json.loads(l)["Names"] for l in open(sys.argv[1])))' "$T/ps.json")" \
	"['ex0', 'ex3', 'web']" "--format json: one object per line"
is "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["Labels"])' "$T/ps.json")" \
	"team=a" "json has the labels"
is "$(cb ps -q -f status=exited | wc -l)" 2 "-q with a filter"
is "$(cb images --format '{{.Repository}}:{{.Tag}} {{.Size}}' labeled)" "labeled:1 2.14MB" "images --format"
like "$(cb images --format 'table {{.Repository}}\t{{.ID}}' | head -1)" '^REPOSITORY +IMAGE ID$' "images --format table"
is "$(cb images --format json | python3 -c 'import json,sys; print(sorted(json.loads(l)["Repository"] for l in sys.stdin))')" \
	"['busybox', 'labeled']" "images --format json"
cb rm -f $(cb ps -aq) >/dev/null

done_testing
