#!/usr/bin/env bash
# pause/unpause through the cgroup freezer (a paused container does no
# work, ps says (Paused), only SIGKILL reaches it, stop still works), top
# (the container's processes and none of the host's), stats --no-stream
# (docker's columns, one row per running container).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
[ -d /sys/fs/cgroup/freezer ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
	[ -d /sys/fs/cgroup/unified ] || skip_all "no cgroup freezer here"
import_busybox

# a counter the container advances as long as it runs
cb run -d --name p1 --network none busybox sh -c \
	'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done' >/dev/null
count() { cb exec p1 cat /tmp/n 2>/dev/null; }
started() { [ -n "$(count)" ]; }
wait_for 60 started || diag "p1 never counted"
is "$(cb pause p1)" "p1" "pause prints the name"
like "$(cb ps --format '{{.Names}} {{.Status}}')" "p1 Up .* \(Paused\)" "ps: Up ... (Paused)"
# read through the overlay from outside: exec would hang on a frozen
# container, the file in the upper dir does not
id=$(cb ps -q --no-trunc -f name=p1)
n1=$(cat "$ROOT/containers/$id/upper/tmp/n")
sleep 0.5
n2=$(cat "$ROOT/containers/$id/upper/tmp/n")
is "$n2" "$n1" "a paused container does no work (its counter stands still)"
is "$(cb ps --format '{{.Names}} {{.State}}' -f status=paused)" "p1 paused" "ps: State paused, -f status=paused"
out=$(timeout 60 "$CBUILD" --root "$ROOT" exec p1 true 2>&1); rc=$?
is "$rc" 1 "exec into a paused container fails (it would hang)"
like "$out" "paused" "and says it is paused"
out=$(cb pause p1 2>&1); rc=$?
is "$rc" 1 "pause of a paused container fails"
like "$out" "already paused" "and says so"
out=$(cb kill -s TERM p1 2>&1); rc=$?
is "$rc" 1 "kill -s TERM of a paused container fails (docker's rule)"
like "$out" "paused" "and says it is paused"
is "$(cb unpause p1)" "p1" "unpause prints the name"
unlike "$(cb ps --format '{{.Names}} {{.Status}}')" "Paused" "ps no longer says Paused"
moved() { [ "$(cat "$ROOT/containers/$id/upper/tmp/n")" != "$n2" ]; }
wait_for 60 moved; ok $? "it counts again"
cb unpause p1 >/dev/null 2>&1
is "$?" 1 "unpause of a running container fails"
ls -d /sys/fs/cgroup/*/cbuild-ctr-"${id:0:12}" /sys/fs/cgroup/cbuild-ctr-"${id:0:12}" >/dev/null 2>&1
is "$?" 2 "unpause removed the freezer cgroup"

# stop and kill -9 reach a paused container
cb pause p1 >/dev/null
cb stop -t 1 p1 >/dev/null
is "$(cb ps -a --format '{{.Names}} {{.State}}' -f name=p1)" "p1 exited" "stop of a paused container stops it"
cb run -d --name p2 --network none busybox sleep 1000 >/dev/null
cb pause p2 >/dev/null
cb kill p2 >/dev/null
is "$(cb wait p2)" 137 "kill (SIGKILL) of a paused container: 137"
cb pause p2 >/dev/null 2>&1
is "$?" 1 "pause of an exited container fails"

# top
cb run -d --name t1 --network none busybox sh -c 'sleep 1001 & sleep 1002' >/dev/null
two() { [ "$(cb top t1 | grep -c 'sleep 100[12]')" = 2 ]; }
wait_for 60 two; ok $? "top lists the container's processes"
out=$(cb top t1)
like "$(printf '%s' "$out" | head -1)" "^UID +PID +PPID +C +STIME +TTY +TIME +CMD$" "top: ps -ef's columns"
unlike "$out" "(^|[^0-9])$$ " "and not this shell (a host process)"
is "$(cb top t1 -o pid,comm | head -1 | tr -s ' ')" "PID COMMAND" "top CONTAINER PS_OPTIONS"
is "$(cb top t1 -o comm 2>/dev/null | head -1)" "" "ps options without a PID column: nothing printed"
cb top t1 -o comm >/dev/null 2>&1
is "$?" 1 "and an error"
cb top p2 >/dev/null 2>&1
is "$?" 1 "top of an exited container fails"

# stats
out=$(cb stats --no-stream)
like "$(printf '%s' "$out" | head -1)" "^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$" "stats: docker's columns"
is "$(printf '%s\n' "$out" | awk 'NR > 1 {print $2}' | sort | tr '\n' ' ')" "t1 " "one row per running container"
is "$(cb stats --no-stream --format '{{.Name}} {{.PIDs}}' t1)" "t1 2" "PIDs: the two sleeps (sh execs the last one)"
like "$(cb stats --no-stream --format '{{.MemUsage}} {{.CPUPerc}}' t1)" "^[0-9.]+(B|KiB|MiB) / [0-9.]+[KMGT]iB [0-9]+\.[0-9]{2}%$" "memory in docker's units, CPU %"
is "$(cb stats --no-stream -a --format '{{.Name}}' | sort | tr '\n' ' ')" "p1 p2 t1 " "-a: every container"
cb stats --no-stream nosuch >/dev/null 2>&1
is "$?" 1 "stats of no such container fails"
cb rm -f p1 p2 t1 >/dev/null
done_testing
