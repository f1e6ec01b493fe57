#!/usr/bin/env bash
# --restart policies (on-failure:N, always, unless-stopped; stop is never
# undone) and health checks (--health-*, ps's (healthy), .State.Health).
. "$(dirname "$0")/lib.sh"
J() { d inspect "$1" 2>/dev/null | python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(eval(sys.argv[1]))' "$2" 2>/dev/null; }
st_is() { [ "$(J "$1" 'j["State"]["Status"] + str(j["RestartCount"])')" = "$2" ]; }
d run -d --name f2 --restart on-failure:2 busybox sh -c 'echo run; exit 3' >/dev/null
wait_until 120 st_is f2 exited2
is "$(J f2 'j["RestartCount"]')" 2 "on-failure:2: RestartCount 2"
is "$(d logs f2 | grep -c run)" 3 "it ran 3 times"
is "$(J f2 'j["HostConfig"]["RestartPolicy"]["Name"] + ":" + str(j["HostConfig"]["RestartPolicy"]["MaximumRetryCount"])')" "on-failure:2" "RestartPolicy"
like "$(d ps -a --filter name=f2 --format '{{.Status}}')" "^Exited \(3\)" "ps: Exited (3)"
d run -d --name al --restart always busybox sh -c 'echo run; sleep 1' >/dev/null
twice() { [ "$(d logs al | grep -c run)" -ge 2 ]; }
wait_until 120 twice; ok $? "always: started again after it exited 0"
d stop -t 1 al >/dev/null
n=$(d logs al | grep -c run)
sleep 2
is "$(d logs al | grep -c run)" "$n" "stop: not restarted"
is "$(J al 'j["State"]["Status"]')" exited "stop: exited"
is "$(rc d run -d --name us --restart unless-stopped busybox sleep 100)" 0 "run -d --restart unless-stopped"
is "$(rc d run --rm --restart always busybox true)" 125 "--restart with --rm: 125"
is "$(rc d run --restart bogus busybox true)" 125 "an unknown policy: 125"
# an attached run: its exit code now, the policy restarts it after
is "$(rc d run --name at --restart on-failure:1 busybox sh -c 'echo run; exit 3')" 3 "attached run --restart: the first exit code"
twice_at() { [ "$(d logs at | grep -c run)" -ge 2 ] && [ "$(J at 'j["State"]["Status"]')" = exited ]; }
wait_until 120 twice_at; ok $? "and the policy restarted it once (on-failure:1)"
# health
h_is() { [ "$(J "$1" 'j["State"]["Health"]["Status"]')" = "$2" ]; }
d run -d --name hs --health-cmd true --health-interval 1h busybox sleep 100 >/dev/null
like "$(d ps --filter name=hs --format '{{.Status}}')" "^Up .*\(health: starting\)$" "ps: (health: starting)"
d run -d --name hu --health-cmd 'cat /tmp/ok' --health-interval 200ms --health-retries 2 busybox sleep 100 >/dev/null
wait_until 60 h_is hu unhealthy; ok $? "a failing check: unhealthy"
like "$(d ps --filter name=hu --format '{{.Status}}')" "^Up .*\(unhealthy\)$" "ps: (unhealthy)"
d exec hu touch /tmp/ok
wait_until 60 h_is hu healthy; ok $? "the check passes: healthy"
like "$(d ps --filter name=hu --format '{{.Status}}')" "^Up .*\(healthy\)$" "ps: (healthy)"
is "$(J hu 'j["State"]["Health"]["Log"][-1]["ExitCode"]')" 0 "Health.Log's last ExitCode"
is "$(J hu 'j["Config"]["Healthcheck"]["Test"]')" "['CMD-SHELL', 'cat /tmp/ok']" "Config.Healthcheck.Test"
d run -d --name hn --no-healthcheck busybox sleep 100 >/dev/null
is "$(J hn '"Health" in j["State"]')" False "--no-healthcheck: no State.Health"
is "$(rc d run --rm --no-healthcheck --health-cmd true busybox true)" 125 "--no-healthcheck with --health-cmd: 125"
done_testing
