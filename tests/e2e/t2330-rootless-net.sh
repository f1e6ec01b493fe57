#!/usr/bin/env bash
# Rootless networking (issue 25): a non-root user's `run` gets a network
# namespace of its own connected by pasta (Debian's passt), as podman's
# rootless default: eth0 with an address and a default route, -p HOST:CTR,
# -p CTR (a free host port) and -P published on the host, outbound TCP to an
# "upstream" host (a namespace of this test's, joined by a veth pair,
# reached through the container's default route), a name served by the
# test's resolver there (--dns), resolv.conf on pasta's DNS forwarder by
# default. pasta dies with the container, with `rm -f` and with a monitor
# killed by -9. No traffic leaves for the machine's real interfaces: the
# upstream host and its resolver are the test's own.
. "$(dirname "$0")/lib.sh"
pasta_user cbuild-rn # sets u (a user with subids) and h (its home in $T)
mkdir -p "$h/www" && echo "rootless page" >"$h/www/index.html"
cp "$ROOTFS_TAR" "$h/rootfs.tar"
chown -R "$u:" "$h"
st=$h/.local/share/cbuild
# as the user, with its own HOME and no CBUILD_ROOT: its default store
ucb() { runuser -u "$u" -- env -u CBUILD_ROOT -u XDG_DATA_HOME HOME="$h" "$CBUILD" "$@"; }
# the user's pasta processes (the user is this test's own)
pastas() { ps -o pid=,comm= -u "$u" | awk '$2 ~ /^(pasta|passt)/ {print $1}'; }
no_pasta() { [ -z "$(pastas)" ]; }
# GET / of host port $1 until it answers (the bound only ends a failed wait)
get() {
	local page= i
	for i in $(seq 100); do
		page=$(curl -s --max-time 2 "http://127.0.0.1:$1/") && [ -n "$page" ] && break
		sleep 0.1
	done
	printf '%s' "$page"
}

ucb import -c 'CMD ["sh"]' -c 'EXPOSE 81' "$h/rootfs.tar" busybox >/dev/null
ok $? "import busybox as the user"

# ---- the container's view: its own eth0, address, default route, DNS ----
view=$(ucb run --rm busybox sh -c 'ip -4 -o addr show eth0; cat /proc/net/route; cat /etc/resolv.conf' 2>&1)
like "$view" "eth0 +inet [0-9.]+/" "eth0 has an address of its own"
like "$view" $'^eth0\t00000000\t[0-9A-F]{8}\t0003' "a default route through eth0 (/proc/net/route)"
like "$view" "nameserver 169\.254\.1\.1" "resolv.conf names pasta's DNS forwarder"
unlike "$view" "cbuild0|docker0" "none of the host's other interfaces"

# ---- -p HOST:CTR, -p CTR, -P ----
hp=$(free_port)
ucb run -d --name web -p "$hp:80" -p 8080 -P -v "$h/www:/www:ro" busybox \
	sh -c 'httpd -p 8080 -h /www; httpd -p 81 -h /www; exec httpd -f -p 80 -h /www' >/dev/null
ok $? "run -d -p $hp:80 -p 8080 -P"
is "$(get "$hp")" "rootless page" "curl 127.0.0.1:$hp reaches the container's port 80"
p8080=$(ucb port web 8080 | sed -n 's/.*://p')
like "$p8080" '^[0-9]+$' "-p 8080: port shows the host port picked"
is "$(get "$p8080")" "rootless page" "and it serves the container's 8080"
p81=$(ucb port web 81 | sed -n 's/.*://p')
like "$p81" '^[0-9]+$' "-P: the EXPOSEd 81 is published"
is "$(get "$p81")" "rootless page" "and it serves the container's 81"
like "$(ucb port web)" "80/tcp -> 0\.0\.0\.0:$hp" "port lists -p $hp:80"
like "$(ucb ps)" "0\.0\.0\.0:$hp->80/tcp" "ps shows the published port"
is "$(pastas | wc -l)" 1 "one pasta for the container"
ucb exec web sh -c 'ip route' | grep -q '^default via'
ok $? "exec sees the default route (the container's namespace)"

# ---- outbound: an upstream host in a namespace of the test's ----
upstream_host "cbrn$$"; ou=$UP_OCTET
cat >"$T/dns.py" <<'EOF'
# A resolver for one name: up.test A -> argv[2] (an address nothing has,
# so that an answer cannot be the server's own address nslookup prints).
import socket, struct, sys
ip, answer = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, 53))
while True:
    q, peer = s.recvfrom(512)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += q[i] + 1
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    name = ".".join(labels).lower()
    ans = b""
    if name == "up.test" and qtype == 1:
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(answer)
    rcode = 0 if name == "up.test" else 3
    s.sendto(q[:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1, 1 if ans else 0, 0, 0)
             + q[12:i + 5] + ans, peer)
EOF
ip -n "cbrn$$" link set lo up
ip netns exec "cbrn$$" python3 "$T/dns.py" "10.89.$ou.2" "10.89.$ou.77" &
_bg_pids+=($!)
# The client keeps its side open until the server has answered and
# closed: bookworm's pasta (0.0~git20230309) mishandles a FIN from the
# namespace that comes before the answer (`nc </dev/null`): it sends the
# data again and again and never the server's FIN (fixed upstream since).
out=
for _ in $(seq 10); do
	out=$(ucb run --rm busybox sh -c "sleep 1 | timeout 10 nc 10.89.$ou.2 8080" 2>&1) &&
		[ -n "$out" ] && break
	sleep 0.2
done
is "$out" upstream-hello "outbound TCP reaches the upstream host through the default route"
out=$(ucb run --rm --dns "10.89.$ou.2" busybox sh -c 'cat /etc/resolv.conf; nslookup up.test' 2>&1)
like "$out" "nameserver 10\.89\.$ou\.2" "--dns replaces pasta's forwarder in resolv.conf"
like "$out" "^Address:? +(1: +)?10\.89\.$ou\.77\$" \
	"a name the test's resolver serves resolves" || diag "$out"

# ---- nothing left ----
ucb rm -f web >/dev/null; ok $? "rm -f"
wait_for 10 no_pasta; ok $? "rm -f leaves no pasta process"
curl -s --max-time 2 "http://127.0.0.1:$hp/" >/dev/null
isnt_ok=$?
[ "$isnt_ok" != 0 ]; ok $? "and the host port is closed"

ucb run -d --name k1 -p "$(free_port):80" busybox sleep 1000 >/dev/null
kid=$(ucb inspect k1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
mon=$(python3 -c "import json; print(json.load(open('$st/containers/$kid/state.json'))['monitor_pid'])")
is "$(pastas | wc -l)" 1 "a pasta for the next container"
kill -9 "$mon"
wait_for 10 no_pasta; ok $? "kill -9 of its monitor takes pasta with it"
ucb rm -f k1 >/dev/null
is "$(ps -o stat= -u "$u" | grep -vc '^Z')" 0 "no process of the user is left"
is "$(find "$st/containers" -mindepth 1 -maxdepth 1 | wc -l)" 0 "no container directory is left"

done_testing
