#!/usr/bin/env bash
# What docker's inspect cannot show: --memory and --cpus really are the
# container's cgroup limits (and the cgroups go away with it), --init reaps
# zombies and forwards signals, stop waits --stop-timeout, -v makes a
# missing host directory, a cap the host lacks is refused.
# --network none throughout: these are no network tests (and a bridge needs iptables, which other suites on this machine share)
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox

cgfile() { # cgfile PID CONTROLLER FILE: the value in PID's cgroup of CONTROLLER (v1)
	local p
	p=$(awk -F: -v c="$2" '$2 == c {print $3}' /proc/"$1"/cgroup)
	cat "/sys/fs/cgroup/$2$p/$3" 2>/dev/null
}
state() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$ROOT/containers/$1/state.json" "$2"; }

if grep -q ' /sys/fs/cgroup/memory cgroup ' /proc/mounts && grep -q ' /sys/fs/cgroup/cpu cgroup ' /proc/mounts; then
	id=$(cb run --network none -d -m 64m --cpus 0.5 busybox sleep 1000)
	pid=$(state "$id" pid)
	is "$(cgfile "$pid" memory memory.limit_in_bytes)" 67108864 "--memory 64m: the container's memory.limit_in_bytes"
	is "$(cgfile "$pid" cpu cpu.cfs_quota_us)/$(cgfile "$pid" cpu cpu.cfs_period_us)" 50000/100000 "--cpus 0.5: CFS quota/period"
	mcg=$(awk -F: '$2 == "memory" {print $3}' /proc/"$pid"/cgroup)
	like "$mcg" "/cbuild-${id:0:12}-[0-9]+$" "a cgroup of its own"
	cb rm -f "$id" >/dev/null
	gone() { [ ! -d "/sys/fs/cgroup/memory$mcg" ]; }
	wait_for 30 gone; ok $? "its cgroup is removed with it"
	# the limit holds: a process that wants more than 16m is killed
	cb run --network none --rm -m 16m busybox sh -c 'a=x; while true; do a="$a$a"; done' >/dev/null 2>&1
	is $? 137 "a container past its --memory is killed (137)"
else
	skip_n=4; for i in $(seq $skip_n); do pass "# SKIP no v1 memory/cpu cgroup here"; done
fi

# --init: PID 1 reaps what it inherits and passes stop's signal on
id=$(cb run --network none -d --init busybox sh -c 'trap "exit 9" TERM; (sleep 1000 &); sleep 0.2; while true; do sleep 0.1; done')
pid=$(state "$id" pid)
is "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "/sbin/docker-init -- sh -c trap \"exit 9\" TERM; (sleep 1000 &); sleep 0.2; while true; do sleep 0.1; done " "PID 1 is the init"
zombies() { cb exec "$id" sh -c 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l'; }
is "$(zombies)" 0 "no zombies (the init reaps orphans)"
cb stop -t 30 "$id" >/dev/null
is "$(state "$id" exit_code)" 9 "stop's SIGTERM reached the shell through the init (exit 9)"
cb rm "$id" >/dev/null

# --stop-timeout: stop without -t waits that long, then kills
id=$(cb run --network none -d --stop-timeout 1 busybox sh -c 'trap "" TERM; while true; do sleep 0.1; done')
cb stop "$id" >/dev/null
is "$(state "$id" exit_code)" 137 "--stop-timeout 1: killed after it (137), not 10 s of waiting"
cb rm "$id" >/dev/null

# -v of a missing host path: made as a directory
cb run --network none --rm -v "$T/new/dir:/data" busybox sh -c 'echo x > /data/f'
is "$(cat "$T/new/dir/f")" x "-v makes a missing host directory"

# a capability this process cannot give is refused, not dropped
if [ "$(sbx_caps=$(grep CapBnd /proc/self/status | awk '{print $2}'); echo "$sbx_caps")" != "000001ffffffffff" ]; then
	cb run --network none --rm --cap-add ALL busybox true; ok $? "--cap-add ALL gives what the host has"
else
	pass "# SKIP the host has every capability"
fi
is "$(cb run --network none --rm --cap-add ALL busybox grep CapEff /proc/self/status | awk '{print $2}')" \
	"$(grep CapBnd /proc/self/status | awk '{print $2}')" "--cap-add ALL: the host's bounding set"
done_testing
