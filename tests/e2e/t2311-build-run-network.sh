#!/usr/bin/env bash
# A build's RUN steps as Docker's default build has them: a network
# namespace of their own on the default bridge, so a RUN cannot reach a
# service that listens only on the host's loopback, yet reaches an outside
# host through the bridge's NAT (here an "upstream" namespace the test
# makes); `--network host` and `RUN --network=host` keep the host's network,
# `none` has none; the build leaves no namespace, veth or address behind.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox

OCTET_SEED=83
o1=$(octet); claim "$o1"
export CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbr$$ CBUILD_RUN_DIR=$T/run

# a service on the host's loopback only
PORT=$(free_port)
start_bg python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT)); s.listen(); s.settimeout(1)
end = time.time() + 300
while time.time() < end:
    try: c, _ = s.accept()
    except OSError: continue
    c.sendall(b'host-loopback-hello\\n'); c.close()
"
wait_port "$PORT" 5

# an upstream host: a namespace of ours joined by a veth pair
upstream_host "cbru$$"; ou=$UP_OCTET

ctx=$T/ctx; mkdir -p "$ctx"
probe() { # a RUN that records what it reached
	cat >"$ctx/Dockerfile" <<DF
FROM busybox
RUN $1 sh -c '(nc -w 3 127.0.0.1 $PORT </dev/null || echo no-loopback) >/loop; \
 (nc -w 3 10.89.$ou.2 8080 </dev/null || echo no-upstream) >/up; ls /sys/class/net | tr "\n" " " >/ifs'
DF
}
fetch() { cb run --rm --network none "$1" cat "$2" 2>/dev/null; }

probe ""
cb build -q --no-cache -t rn:default "$ctx" >/dev/null; ok $? "a build with the default network"
is "$(fetch rn:default /loop)" no-loopback "a RUN cannot reach a service on the host's loopback"
is "$(fetch rn:default /up)" upstream-hello "a RUN reaches an outside host through the bridge's NAT"
is "$(fetch rn:default /ifs)" "eth0 lo " "a RUN has its own interface"

cb build -q --no-cache --network host -t rn:host "$ctx" >/dev/null; ok $? "build --network host"
is "$(fetch rn:host /loop)" host-loopback-hello "with --network host a RUN sees the host's loopback"

probe "--network=host"
cb build -q --no-cache -t rn:runhost "$ctx" >/dev/null; ok $? "RUN --network=host"
is "$(fetch rn:runhost /loop)" host-loopback-hello "RUN --network=host sees the host's loopback"

probe ""
cb build -q --no-cache --network none -t rn:none "$ctx" >/dev/null; ok $? "build --network none"
is "$(fetch rn:none /up)" no-upstream "with --network none a RUN reaches nothing"
is "$(fetch rn:none /ifs)" "lo " "and has only lo"

# 20 RUNs share one namespace: each costs a join, not a setup
{ echo "FROM busybox"; for i in $(seq 20); do echo "RUN echo $i >/f$i"; done; } >"$ctx/Dockerfile"
cb build -q --no-cache -t rn:twenty "$ctx" >/dev/null; ok $? "a build of 20 RUNs"
is "$(fetch rn:twenty /f20)" 20 "its last RUN ran"

# the store keeps one namespace ready for its next build (t2313); network
# prune tears it down, and then nothing is left
is "$(ls "$CBUILD_RUN_DIR"/netns/*.json | wc -l)" 1 "one build namespace is kept, in the pool"
cb network prune -f >/dev/null
is "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" "" "no build namespace is left"

# the namespace is made while the build starts (--no-cache): a build that
# fails before, or at, its first RUN tears it down all the same
printf 'FROM busybox\nRUN false\nRUN true\n' >"$ctx/Dockerfile"
cb build -q --no-cache "$ctx" >/dev/null 2>&1; is $? 1 "a build whose first RUN fails"
printf 'FROM 127.0.0.1:%s/nosuch\nRUN true\n' "$(free_port)" >"$ctx/Dockerfile"
out=$(cb build -q --no-cache "$ctx" 2>&1 >/dev/null); rc=$?
[ "$rc" != 0 ]; ok $? "a build whose base cannot be pulled (nothing listens there)"
like "$out" "nosuch" "says which base"
# with the cache, the namespace is made from the stage's first miss with a
# RUN after it (here the ENV), and a COPY that fails before the RUN tears it
# down all the same
printf 'FROM busybox\nENV MARK=%s\nCOPY nosuch /x\nRUN true\n' "$$" >"$ctx/Dockerfile"
cb build -q "$ctx" >/dev/null 2>&1; is $? 1 "a cached build whose COPY fails before its RUN"
cb network prune -f >/dev/null
is "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" "" "none of them leaves a namespace"
is "$(iptables -t nat -S | grep -c "10\.89\.$o1\.")" 0 "nor a NAT rule"

# a build killed with -9 during a RUN: the next build tears its namespace down
# (killed once the RUN runs, so after its namespace's setup: a setup cut
# short has its own sweep, the orphaned netavark may still be at work)
printf 'FROM busybox\nRUN --mount=type=cache,id=k$$,target=/c touch /c/started && sleep 60\n' >"$ctx/Dockerfile"
"$CBUILD" --root "$ROOT" build -q --no-cache "$ctx" >/dev/null 2>&1 &
killed=$!
has_ns() { compgen -G "$CBUILD_RUN_DIR/netns/build-$killed-*.json" >/dev/null; }
for i in $(seq 300); do [ -n "$(find "$ROOT" -name started 2>/dev/null)" ] && break; sleep 0.1; done
has_ns; ok $? "the killed build had its namespace"
kill -9 "$killed"; wait "$killed" 2>/dev/null
has_ns; ok $? "kill -9 left it behind"
printf 'FROM busybox\nRUN true\n' >"$ctx/Dockerfile"
err=$(cb build -q --no-cache "$ctx" 2>&1 >/dev/null); ok $? "the next build"
has_ns; is $? 1 "tore the killed build's namespace down"
cb network prune -f >/dev/null # its own namespace went to the pool
# the namespace was bound where the killer's sweep can see it (not only in
# the killed build's private mount namespace): netavark could enter it
is "$err" "" "without a warning (netavark entered the namespace)"
is "$(iptables -t nat -S | grep -c "10\.89\.$o1\.")" 0 "and took its NAT rules away"
ip -br link | grep -q "^cbr$$ "; is $? 1 "the bridge went with its last member"
is "$(ls -A "$CBUILD_RUN_DIR/ipam/cbr$$" 2>/dev/null)" "" "no address is left allocated"

# a build killed with -9 during its namespace's setup: netavark never ran
# (the test holds the host's firewall lock, which every setup takes before
# netavark), so its teardown fails on parts that were never made; the next
# command cleans all the same, and says nothing of it
lock=/run/lock/cbuild-netavark.lock; [ -d /run/lock ] || lock=/run/cbuild-netavark.lock
exec {lk}>>"$lock"; flock "$lk"
printf 'FROM busybox\nRUN true\n' >"$ctx/Dockerfile"
"$CBUILD" --root "$ROOT" build -q --no-cache "$ctx" >/dev/null 2>&1 {lk}>&- &
killed=$!
bound() { # its namespace file is bound (the setup waits for the lock next)
	local f
	for f in "$CBUILD_RUN_DIR"/netns/build-$killed-*; do
		case $f in *.json*) continue ;; esac
		grep -qF " $f " /proc/self/mountinfo && return 0
	done
	return 1
}
for i in $(seq 300); do bound && break; sleep 0.05; done
bound; ok $? "the killed build's namespace was made, its setup waits"
kill -9 "$killed"; wait "$killed" 2>/dev/null
exec {lk}>&-
has_ns; ok $? "kill -9 during the setup left it behind"
err=$(cb build -q --no-cache "$ctx" 2>&1 >/dev/null); ok $? "the next build"
has_ns; is $? 1 "tore the half-made namespace down"
cb network prune -f >/dev/null
is "$err" "" "without a warning of what was never set up"
is "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" "" "no namespace file is left"
is "$(iptables -t nat -S | grep -c "10\.89\.$o1\.")" 0 "no NAT rule"
is "$(ls -A "$CBUILD_RUN_DIR/ipam/cbr$$" 2>/dev/null)" "" "no address is left allocated"
done_testing
