#!/usr/bin/env bash
# run's limits and security flags: --memory, --cpus, --pids-limit,
# --ulimit, --cap-add/--cap-drop, --security-opt no-new-privileges,
# --stop-signal, --stop-timeout; bad values are the tool's error (125).
. "$(dirname "$0")/lib.sh"
J() { d inspect "$1" | python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(eval(sys.argv[1]))' "$2"; }
d run --name lim -m 64m --cpus 0.5 --pids-limit 50 busybox true
is "$(J lim 'j["HostConfig"]["Memory"]')" 67108864 "--memory 64m: HostConfig.Memory"
is "$(J lim 'j["HostConfig"]["NanoCpus"]')" 500000000 "--cpus 0.5: HostConfig.NanoCpus"
is "$(J lim 'j["HostConfig"]["PidsLimit"]')" 50 "--pids-limit: HostConfig.PidsLimit"
is "$(d run --rm -m 64m busybox echo ran)" ran "a container with a memory limit runs"
is "$(rc d run --rm -m 1k busybox true)" 125 "--memory under 6MB: 125"
is "$(rc d run --rm --cpus 1000 busybox true)" 125 "--cpus above the host's: 125"
is "$(d run --rm --ulimit nofile=123:456 busybox sh -c 'ulimit -n; ulimit -Hn' | tr '\n' ' ')" "123 456 " "--ulimit nofile=SOFT:HARD"
is "$(rc d run --rm --ulimit bogus=1 busybox true)" 125 "--ulimit of an unknown limit: 125"
is "$(d run --rm busybox grep CapEff /proc/self/status | awk '{print $2}')" 00000000a80425fb "docker's default capabilities"
is "$(d run --rm --cap-add NET_ADMIN busybox grep CapEff /proc/self/status | awk '{print $2}')" 00000000a80435fb "--cap-add NET_ADMIN"
is "$(d run --rm --cap-drop CHOWN busybox grep CapEff /proc/self/status | awk '{print $2}')" 00000000a80425fa "--cap-drop CHOWN"
is "$(d run --rm --cap-drop ALL --cap-add KILL busybox grep CapEff /proc/self/status | awk '{print $2}')" 0000000000000020 "--cap-drop ALL --cap-add KILL"
is "$(rc d run --rm --cap-add NOSUCH busybox true)" 125 "an unknown capability: 125"
is "$(d run --rm --security-opt no-new-privileges busybox grep NoNewPrivs /proc/self/status | awk '{print $2}')" 1 "--security-opt no-new-privileges"
d run --name sig --stop-signal SIGUSR1 --stop-timeout 3 busybox true
is "$(J sig 'j["Config"]["StopSignal"] + " " + str(j["Config"]["StopTimeout"])')" "SIGUSR1 3" "inspect: StopSignal, StopTimeout"
# stop sends the --stop-signal: the trap answers it and the exit code says so
d run -d --name trap --stop-signal USR1 busybox sh -c 'trap "exit 7" USR1; while true; do sleep 0.1; done' >/dev/null
d stop trap >/dev/null
is "$(J trap 'j["State"]["ExitCode"]')" 7 "stop sends --stop-signal"
is "$(rc d run --rm --stop-signal NOSUCH busybox true)" 125 "an unknown --stop-signal: 125"
# --platform of a platform the local image is not (and no registry has it)
is "$(rc d run --rm --platform linux/arm64 busybox true)" 125 "run --platform linux/arm64 of an amd64-only image: 125"
is "$(d run --rm --platform linux/arm64 busybox echo ran 2>/dev/null)" "" "and does not run it (docker 20.10 then tries a pull; neither runs the amd64 image)"
done_testing
