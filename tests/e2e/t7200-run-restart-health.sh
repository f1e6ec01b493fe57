#!/usr/bin/env bash
# run --restart (no daemon: the detached container's keeper restarts it),
# `stop` is never undone, always/unless-stopped start again after a reboot
# (a changed boot id, CBUILD_BOOT_ID), and health checks (--health-*, the
# image's HEALTHCHECK) as ps and inspect show them. No timing is asserted:
# each wait is for a state, with a generous bound.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox
export CBUILD_BOOT_ID=boot-1


jq_() { python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(eval(sys.argv[1]))' "$1"; }
ins() { cb inspect "$1" | jq_ "$2"; }
runs() { cb logs "$1" 2>/dev/null | grep -c '^run$'; }
status_is() { [ "$(ins "$1" 'j["State"]["Status"]')" = "$2" ]; }
runs_at_least() { [ "$(runs "$1")" -ge "$2" ]; }

# on-failure:2 - one run and two restarts, then it stays exited
cb run -d --name f2 --restart on-failure:2 busybox sh -c 'echo run; exit 3' >/dev/null
keeper_gone() { ! kill -0 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keeper_pid"])' "$ROOT/containers/$(ins f2 'j["Id"]')/state.json")" 2>/dev/null; }
wait_for 120 runs_at_least f2 3 || diag "f2 never ran 3 times"
wait_for 60 keeper_gone || diag "f2's keeper never ended"
is "$(runs f2)" 3 "on-failure:2: the first run and 2 restarts"
is "$(ins f2 'j["RestartCount"]')" 2 "inspect: RestartCount 2"
is "$(ins f2 'j["HostConfig"]["RestartPolicy"]')" "{'Name': 'on-failure', 'MaximumRetryCount': 2}" "inspect: RestartPolicy"
like "$(cb ps -a --filter name=f2)" "Exited \(3\)" "ps: Exited (3) at the end"

# on-failure: an exit 0 is not restarted
cb run -d --name f0 --restart on-failure busybox sh -c 'echo run; exit 0' >/dev/null
wait_for 60 status_is f0 exited
is "$(ins f0 'j["RestartCount"]')" 0 "on-failure: exit 0 is not restarted"

# always: restarted after exit 0; stop ends it for good
cb run -d --name al --restart always busybox sh -c 'echo run; sleep 1000 & wait' >/dev/null
wait_for 60 runs_at_least al 1
# PID 1 killed from outside: an exit the policy sees (not a stop)
pid1=$(ins al 'j["State"]["Pid"]')
kill -9 "$pid1"
wait_for 120 runs_at_least al 2 || diag "al was never restarted"
is "$(runs al)" 2 "always: restarted after PID 1 died"
wait_for 60 status_is al running
cb stop -t 1 al >/dev/null
is "$(ins al 'j["State"]["Status"]')" exited "stop: exited"
n=$(runs al)
sleep 1
is "$(runs al)" "$n" "stop is not undone by the policy"
is "$(ins al 'j["State"]["Restarting"]')" False "not restarting after stop"

# unless-stopped: the CI deploy step, with -p
port=$(free_port)
cb run -d --name us --restart unless-stopped -p "127.0.0.1:$port:8080" busybox \
	sh -c 'echo run; while true; do echo -e "HTTP/1.0 200 OK\r\n\r\nhi" | nc -l -p 8080; done' >/dev/null
ok $? "run -d --restart unless-stopped -p works"
wait_for 60 status_is us running
probe() { printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 3 127.0.0.1 "$port" | grep -q hi; }
wait_for 60 probe; ok $? "its published port answers"
cb run -d --name us2 --restart unless-stopped busybox sh -c 'echo run; sleep 1000' >/dev/null
cb stop -t 1 us2 >/dev/null

# a reboot: every keeper and container gone, a new boot id
for c in us al; do
	st=$ROOT/containers/$(ins $c 'j["Id"]')/state.json
	for k in keeper_pid monitor_pid pid; do
		p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$st" $k)
		[ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null
	done
done
gone() { [ "$(ins us 'j["State"]["Status"]')" = exited ]; }
wait_for 60 gone; ok $? "the 'reboot' ended us"
export CBUILD_BOOT_ID=boot-2
cb images >/dev/null # the first command after the reboot
is "$(ins us 'j["State"]["Status"]')" running "unless-stopped: started again after the reboot"
is "$(ins us2 'j["State"]["Status"]')" exited "unless-stopped, stopped by hand: stays down"
is "$(ins al 'j["State"]["Status"]')" running "always, stopped by hand: started again after the reboot (docker's daemon start does so)"
is "$(ins f2 'j["State"]["Status"]')" exited "on-failure: not started at boot"
wait_for 60 probe; ok $? "us's port answers after the reboot"
cb images >/dev/null
is "$(runs us)" 2 "the next command starts nothing again"
cb rm -f us us2 al f0 f2 >/dev/null

# an attached run: cbuild's exit code is the first run's, a keeper takes over
cb run --name at --restart on-failure:2 busybox sh -c 'echo run; exit 3' >/dev/null
is $? 3 "attached run --restart: the first exit code"
wait_for 120 runs_at_least at 3 || diag "at never ran 3 times"
at_done() { status_is at exited && [ "$(ins at 'j["RestartCount"]')" = 2 ]; }
wait_for 60 at_done; ok $? "then the policy restarted it twice (on-failure:2), as docker's daemon does"
cb rm -f at >/dev/null

# a container that keeps failing: its back-off grows, ps shows it restarting
cb run -d --name rs --restart always busybox sh -c 'exit 1' >/dev/null
restarting() { cb ps --filter name=rs --format '{{.Status}}' | grep -q '^Restarting (1) '; }
wait_for 120 restarting; ok $? "ps: Restarting (1) ... during a back-off"
# the filter, looked at again until it answers: a back-off seen above may
# be over by the next ps (it starts at 100 ms: under make asan it was once)
listed() { [ "$(cb ps --filter status=restarting --format '{{.Names}}')" = rs ]; }
wait_for 60 listed; ok $? "ps --filter status=restarting"
cb rm rs 2>/dev/null; is $? 1 "rm of a restarting container needs -f or a stop"
cb stop rs >/dev/null
is "$(ins rs 'j["State"]["Status"]')" exited "stop during the back-off: exited"
n=$(ins rs 'j["RestartCount"]')
sleep 1
is "$(ins rs 'j["RestartCount"]')" "$n" "and no more restarts"
cb rm rs >/dev/null; ok $? "then rm works"

# flags checked as docker checks them
cb run --rm --restart always busybox true 2>/dev/null; is $? 125 "--restart with --rm: usage error"
cb run --restart sometimes busybox true 2>/dev/null; is $? 125 "bad policy: usage error"
cb run --restart always:3 busybox true 2>/dev/null; is $? 125 "a count only with on-failure"
cb run --no-healthcheck --health-cmd true busybox true 2>/dev/null; is $? 125 "--no-healthcheck with --health-cmd"
cb run --health-interval 5 busybox true 2>/dev/null; is $? 125 "a duration needs a unit"

# health: starting (a long interval), unhealthy, healthy
health() { ins "$1" 'j["State"]["Health"]["Status"]' 2>/dev/null; }
health_is() { [ "$(health "$1")" = "$2" ]; }
cb run -d --name hs --health-cmd true --health-interval 1h busybox sleep 1000 >/dev/null
like "$(cb ps --filter name=hs)" "Up .* \(health: starting\)" "ps: (health: starting)"
is "$(health hs)" starting "inspect: starting"
cb run -d --name hu --health-cmd 'cat /tmp/ok' --health-interval 100ms --health-retries 2 busybox sleep 1000 >/dev/null
wait_for 60 health_is hu unhealthy; ok $? "a failing check: unhealthy"
like "$(cb ps --filter name=hu)" "Up .* \(unhealthy\)" "ps: (unhealthy)"
is "$(ins hu 'j["State"]["Health"]["FailingStreak"] >= 2')" True "FailingStreak counts"
like "$(ins hu 'j["State"]["Health"]["Log"][-1]["Output"]')" "No such file" "the check's output is logged"
cb exec hu touch /tmp/ok
wait_for 60 health_is hu healthy; ok $? "the check passes: healthy"
like "$(cb ps --filter name=hu)" "Up .* \(healthy\)" "ps: (healthy)"
is "$(ins hu 'j["State"]["Health"]["Log"][-1]["ExitCode"]')" 0 "the log's last ExitCode 0"
# a check that hangs is ended by --health-timeout
cb run -d --name ht --health-cmd 'sleep 100' --health-timeout 200ms --health-interval 100ms --health-retries 1 busybox sleep 1000 >/dev/null
wait_for 60 health_is ht unhealthy; ok $? "a check past its timeout: unhealthy"
like "$(ins ht 'j["State"]["Health"]["Log"][-1]["Output"]')" "exceeded timeout" "says it timed out"

# --health-start-period: failures in it do not count
cb run -d --name hp --health-cmd false --health-interval 100ms --health-retries 1 --health-start-period 1h busybox sleep 1000 >/dev/null
checked() { [ "$(ins hp 'len(j["State"]["Health"]["Log"])' 2>/dev/null)" -ge 3 ]; }
wait_for 60 checked; ok $? "the checks run in the start period"
is "$(health hp) $(ins hp 'j["State"]["Health"]["FailingStreak"]')" "starting 0" "their failures do not count: still starting"

# the image's HEALTHCHECK, and --no-healthcheck
cb import -c 'CMD ["sleep", "1000"]' \
	-c 'HEALTHCHECK --interval=100ms CMD test -e /etc/passwd' "$ROOTFS_TAR" withhc:1 >/dev/null 2>&1 ||
	diag "import -c HEALTHCHECK failed"
if cb inspect withhc:1 | grep -q Healthcheck; then
	cb run -d --name hi withhc:1 >/dev/null
	wait_for 60 health_is hi healthy; ok $? "the image's HEALTHCHECK runs"
	cb run -d --name hn --no-healthcheck withhc:1 >/dev/null
	is "$(ins hn '"Health" in j["State"]')" False "--no-healthcheck: no .State.Health"
	like "$(cb ps --filter name=hn)" "Up [^(]*$" "ps: no health shown"
else
	fail "import -c HEALTHCHECK gives the image a Healthcheck"
fi
cb rm -f hs hu ht hi hn >/dev/null 2>&1
done_testing
