#!/usr/bin/env bash
# A non-root user's build (issue 25): its RUN steps get a network namespace
# of their own connected by pasta, as a rootless `run` does (t2330) and as
# buildah's rootless builds: one per build, joined by every RUN, with an
# address and a default route of its own, outbound TCP to an "upstream"
# host (a namespace of this test's, joined by a veth pair), pasta's DNS
# forwarder in resolv.conf, and no way to the host's loopback services.
# pasta ends with the build: when it succeeds, when a RUN fails, and when
# cbuild is killed with -9 during a RUN. No traffic leaves for the
# machine's real interfaces: the upstream host is the test's own.
. "$(dirname "$0")/lib.sh"
pasta_user cbuild-rb # sets u (a user with subids) and h (its home in $T)
mkdir -p "$h/ctx" "$h/www"
cp "$ROOTFS_TAR" "$h/rootfs.tar"
# as the user, with its own HOME and no CBUILD_ROOT: its default store
ucb() { runuser -u "$u" -- env -u CBUILD_ROOT -u XDG_DATA_HOME HOME="$h" "$CBUILD" "$@"; }
# the user's processes by name (the user is this test's own)
user_procs() { ps -o pid=,comm= -u "$u" | awk -v n="$1" '$2 ~ n {print $1}'; }
pastas() { user_procs '^(pasta|passt)'; }
no_pasta() { [ -z "$(pastas)" ]; }
no_user_proc() { [ "$(ps -o stat= -u "$u" | grep -vc '^Z')" = 0 ]; }

# a service on the host's loopback the RUN steps must not reach
echo host-secret >"$h/www/index.html"
lp=$(free_port)
start_bg python3 -m http.server --bind 127.0.0.1 --directory "$h/www" "$lp"
wait_port "$lp"
is "$(curl -s --max-time 5 "http://127.0.0.1:$lp/")" host-secret "the host's loopback service answers the host"
upstream_host "cbrb$$"; ou=$UP_OCTET

cat >"$h/ctx/Dockerfile" <<'EOF'
FROM busybox
ARG UP LP
RUN echo "ns1 $(readlink /proc/self/ns/net)"; ip -4 -o addr show; ip link; \
    cat /proc/net/route /etc/resolv.conf
RUN echo "ns2 $(readlink /proc/self/ns/net)"; \
    for i in 1 2 3 4 5; do out=$(sleep 1 | timeout 10 nc "$UP" 8080) && [ -n "$out" ] && break; done; \
    echo "upstream said: $out"; \
    page=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc 127.0.0.1 "$LP" | tail -n 1); \
    [ -n "$page" ] || page=refused; \
    echo "loopback said: $page"
EOF
chown -R "$u:" "$h"
ucb import -c 'CMD ["sh"]' "$h/rootfs.tar" busybox >/dev/null
ok $? "import busybox as the user"

out=$(ucb build --no-cache --build-arg "UP=10.89.$ou.2" --build-arg "LP=$lp" -t rb:1 "$h/ctx" 2>&1)
ok $? "the rootless build succeeds" || diag "$out"
like "$out" "eth0 +inet [0-9.]+/" "RUN: eth0 has an address of its own"
like "$out" $'eth0\t00000000\t[0-9A-F]{8}\t0003' "RUN: a default route through eth0"
like "$out" "nameserver 169\.254\.1\.1" "RUN: resolv.conf names pasta's DNS forwarder"
unlike "$out" "cbrb$$" "RUN: none of the host's interfaces (the upstream's veth)"
like "$out" "upstream said: upstream-hello" "RUN: outbound TCP reaches the upstream host"
like "$out" "loopback said: refused" "RUN: the host's 127.0.0.1:$lp is out of reach"
ns1=$(printf '%s\n' "$out" | sed -n 's/.*ns1 \(net:\[[0-9]*\]\).*/\1/p' | head -1)
ns2=$(printf '%s\n' "$out" | sed -n 's/.*ns2 \(net:\[[0-9]*\]\).*/\1/p' | head -1)
like "$ns1" '^net:\[[0-9]+\]$' "RUN saw its network namespace"
is "$ns2" "$ns1" "both RUN steps share one namespace (set up once per build)"
[ "$ns1" != "$(readlink /proc/self/ns/net)" ]; ok $? "and it is not the host's"
wait_for 10 no_pasta; ok $? "no pasta left after the build"

# --network host and none: as before
out=$(ucb build --no-cache --network host --build-arg "UP=10.89.$ou.2" --build-arg "LP=$lp" -t rb:2 "$h/ctx" 2>&1)
like "$out" "loopback said: host-secret" "--network host: the host's loopback, as before" || diag "$out"
printf 'FROM busybox\nRUN --network=none echo "links: $(ip -o link | grep -vc " lo:")"\n' >"$h/ctx/Dockerfile.none"
chown "$u:" "$h/ctx/Dockerfile.none"
out=$(ucb build --no-cache -f "$h/ctx/Dockerfile.none" "$h/ctx" 2>&1)
like "$out" "links: 0" "RUN --network=none: only lo" || diag "$out"

# a failing RUN: pasta ends all the same
printf 'FROM busybox\nRUN ip route | grep -q default && exit 3\n' >"$h/ctx/Dockerfile.fail"
chown "$u:" "$h/ctx/Dockerfile.fail"
out=$(ucb build --no-cache -f "$h/ctx/Dockerfile.fail" "$h/ctx" 2>&1)
[ $? != 0 ]; ok $? "a build whose RUN fails fails" || diag "$out"
like "$out" "exit status 3" "(it failed on the RUN, which had a default route)"
wait_for 10 no_pasta; ok $? "no pasta left after a failed build"

# Ctrl-C (SIGINT to cbuild alone) and kill -9 of cbuild during a RUN
printf 'FROM busybox\nRUN sleep 1000\n' >"$h/ctx/Dockerfile.slow"
chown "$u:" "$h/ctx/Dockerfile.slow"
has_sleep() { [ -n "$(user_procs '^sleep$')" ] && [ -n "$(pastas)" ]; }
# the build's own process: the user's cbuild whose parent is no cbuild
top_cbuild() { ps -o pid=,ppid=,comm= -u "$u" | awk -v n="$(basename "$CBUILD" | cut -c1-15)" '$3 == n {c[$1] = $2} END {for (p in c) if (!(c[p] in c)) print p}'; }
ucb build --no-cache -f "$h/ctx/Dockerfile.slow" "$h/ctx" >/dev/null 2>&1 &
bpid=$!
wait_for 30 has_sleep; ok $? "the slow RUN runs, with its pasta"
top=$(top_cbuild)
like "$top" '^[0-9]+$' "found the build's process"
if [ -n "$top" ]; then kill -INT $top; else pkill -KILL -u "$u"; fi
wait "$bpid"
[ $? != 0 ]; ok $? "SIGINT cancels the build"
wait_for 10 no_pasta; ok $? "and leaves no pasta"
wait_for 10 no_user_proc; ok $? "nor any process of the user's"

ucb build --no-cache -f "$h/ctx/Dockerfile.slow" "$h/ctx" >/dev/null 2>&1 &
bpid=$!
wait_for 30 has_sleep; ok $? "the slow RUN runs again"
top=$(top_cbuild)
# (none found: every process of the user's, so that the test goes on)
if [ -n "$top" ]; then kill -9 $top; else pkill -KILL -u "$u"; fi
wait "$bpid" 2>/dev/null
wait_for 10 no_pasta; ok $? "kill -9 of cbuild takes pasta with it"
wait_for 10 no_user_proc; ok $? "no process of the user is left"

done_testing
