#!/usr/bin/env bash
# Containers: logs (-f, --tail, -t), -p forwarding into the container's
# network namespace, kill -9 of the monitor or of cbuild, stale states.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "containers need root for now"
import_busybox

cb run -d --name l1 busybox sh -c \
	'i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); usleep 100000; done; echo bye >&2' >/dev/null
ok $? "run -d a container printing a line every 100 ms"
cb logs -f l1 > "$T/follow.out" 2> "$T/follow.err"
ok $? "logs -f ends when the container exits"
is "$(wc -l < "$T/follow.out")" 30 "logs -f saw every line"
is "$(tail -1 "$T/follow.out")" "line 29" "up to the last"
is "$(cat "$T/follow.err")" bye "stderr goes to stderr"
like "$(cb ps -a)" "Exited \(0\) .* l1" "the container exited 0"
is "$(cb logs --tail 5 l1 2>&1 | tr '\n' ' ')" "line 26 line 27 line 28 line 29 bye " \
	"--tail 5 prints the last 5 lines (both streams, in order)"
is "$(cb logs --tail 0 l1 2>&1)" "" "--tail 0 prints nothing"
like "$(cb logs -t --tail 1 l1 2>&1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z bye$' "-t adds timestamps"
cb run -d --name l2 busybox sh -c 'printf "no newline"' >/dev/null
for i in $(seq 600); do [ -z "$(cb ps -q)" ] && break; sleep 0.1; done
is "$(cb logs l2)" "no newline" "a last partial line is kept"

# -p: busybox httpd inside, curl on the host
port=$(free_port)
mkdir -p "$T/www"; echo "hello from the container" > "$T/www/index.html"
cb run -d --name web -p "$port:8080" -v "$T/www:/www:ro" busybox httpd -f -p 8080 -h /www >/dev/null
ok $? "run -d -p $port:8080"
page=
for i in $(seq 600); do page=$(curl -s --max-time 2 "http://127.0.0.1:$port/") && [ -n "$page" ] && break; sleep 0.1; done
is "$page" "hello from the container" "curl on the host gets the page"
like "$(cb ps)" "0.0.0.0:$port->8080/tcp +web" "ps shows the port"
big=$(head -c 3000000 /dev/urandom | base64 -w0 | head -c 2000000)
printf '%s' "$big" > "$T/www/big"
is "$(curl -s --max-time 10 "http://127.0.0.1:$port/big" | md5sum)" "$(md5sum < "$T/www/big")" \
	"a 2 MB download through the published port is intact"
cb exec web sh -c 'cat /sys/class/net/*/operstate >/dev/null; ls /sys/class/net' > "$T/nets"
is "$(cat "$T/nets" | tr '\n' ' ')" "eth0 lo " "the container has its own network (eth0 on the bridge, lo)"
cb stop -t 1 web >/dev/null
curl -s --max-time 2 "http://127.0.0.1:$port/" >/dev/null; ok $(( $? == 0 )) "the port closes with the container"

# kill -9 of the monitor
cb run -d --name k1 busybox sleep 1000 >/dev/null
kid=$(cb inspect k1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
mon=$(python3 -c "import json; print(json.load(open('$ROOT/containers/$kid/state.json'))['monitor_pid'])")
pid=$(python3 -c "import json; print(json.load(open('$ROOT/containers/$kid/state.json'))['pid'])")
kill -9 "$mon"
for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null; ok $(( $? == 0 )) "kill -9 of the monitor takes the container with it"
like "$(cb ps -a)" "Exited \(137\) .* k1" "ps -a shows it exited"
is "$(cb ps -q)" "" "and not running"
cb rm k1 >/dev/null; ok $? "rm cleans it"
[ ! -e "$ROOT/containers/$kid" ]; ok $? "its directory is gone"

# kill -9 of the monitor of a --rm container, before it could remove it:
# the next command removes it, as docker's daemon does when it starts again
kid=$(cb run -d --rm --name k1rm busybox sleep 1000)
mon=$(python3 -c "import json; print(json.load(open('$ROOT/containers/$kid/state.json'))['monitor_pid'])")
pid=$(python3 -c "import json; print(json.load(open('$ROOT/containers/$kid/state.json'))['pid'])")
kill -9 "$mon"
for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
for i in $(seq 600); do [ -d "/proc/$mon" ] || break; sleep 0.1; done
is "$(cb ps -aq --no-trunc | grep -c "$kid")" 0 "--rm and a killed monitor: the next ps removes it"
[ ! -e "$ROOT/containers/$kid" ]; ok $? "its directory is gone"
cb run -d --rm --name k1rm busybox true >/dev/null; ok $? "and its name is free"

# kill -9 of an attached cbuild run
"$CBUILD" --root "$ROOT" run --name k2 busybox sleep 1000 &
runpid=$!
for i in $(seq 600); do cb exec k2 true 2>/dev/null && break; sleep 0.1; done
kill -9 "$runpid"; wait "$runpid" 2>/dev/null
for i in $(seq 600); do [ -z "$(cb ps -q)" ] && break; sleep 0.1; done
like "$(cb ps -a)" "Exited \(137\) .* k2" "kill -9 of cbuild run: ps -a shows it exited"
cb rm k2 >/dev/null; ok $? "rm cleans it"

# a stale state: the recorded pids are gone or were reused (a reboot)
cb run --name k3 busybox true
kid=$(cb inspect k3 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
python3 - "$ROOT/containers/$kid/state.json" "$$" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
# our own shell's pid with a wrong start time: a reused pid
s.update(status="running", monitor_pid=int(sys.argv[2]), monitor_start=1, pid=int(sys.argv[2]), pid_start=1)
json.dump(s, open(p, "w"))
PY
like "$(cb ps -a)" "Exited \(137\) .* k3" "a reused pid is not taken for the container"
cb rm k3 >/dev/null; ok $? "rm cleans the stale container"

cb rm -f $(cb ps -aq) >/dev/null 2>&1
is "$(grep -c " $ROOT/containers" /proc/self/mountinfo)" 0 "no mounts left"
is "$(find "$ROOT/containers" -mindepth 1 | wc -l)" 0 "no directories left"
done_testing
