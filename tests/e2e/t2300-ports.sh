#!/usr/bin/env bash
# Published ports as docker has them: -P (every EXPOSEd port to a free host
# port), -p CTR and -p IP::CTR (a free host port), `port CONTAINER
# [PORT[/PROTO]]` and ps's PORTS. The same session runs against Debian's
# dockerd (own data root, a bridge of this test's own, no iptables: its
# docker-proxy publishes) when it starts here; docker also prints a "[::]"
# line per port (its proxy listens on IPv6 too), which cbuild's IPv4 DNAT
# has not: those lines are left out of the comparison. A published port is
# held while its container runs (docker's proxy listens on it; cbuild's
# monitor holds a socket on it, as podman's conmon).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox

o1=$(octet); export CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbp$$
claim "$o1"
export CBUILD_RUN_DIR=$T/run
retry() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
get() { printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 3 "$@" 2>/dev/null | head -1 | tr -d '\r'; }

mkdir -p "$T/ctx"
printf 'FROM busybox\nEXPOSE 80 8080/tcp 53/udp\n' >"$T/ctx/Dockerfile"
cb build -q -t ex:1 "$T/ctx" >/dev/null; ok $? "an image with EXPOSE 80 8080/tcp 53/udp"

# scenario LABEL CMD...: the user's session, asserted the same for each tool
scenario() {
	local L=$1
	shift
	local tool=("$@") out rc hp p80 p53 lo
	X() { "${tool[@]}" "$@"; }
	# docker's IPv6 lines ("[::]:N", ":::N") left out; its 20.10 CLI prints
	# the ports in map order: sorted for the comparison
	v4() { grep -v ':::\|\[::\]' | sort -n; }
	hp=$(free_port)
	X run -d --name "$L-all" -P -p "$hp:8080" ex:1 httpd -f -p 80 >/dev/null; ok $? "$L: run -d -P -p $hp:8080"
	out=$(X port "$L-all" | v4)
	like "$(sed -n 1p <<<"$out")" '^53/udp -> 0\.0\.0\.0:[0-9]+$' "$L: port lists 53/udp on a free port"
	like "$(sed -n 2p <<<"$out")" '^80/tcp -> 0\.0\.0\.0:[0-9]+$' "$L: then 80/tcp"
	is "$(sed -n 3p <<<"$out")" "8080/tcp -> 0.0.0.0:$hp" "$L: then 8080/tcp on the port -p gave (not -P's)"
	is "$(wc -l <<<"$out")" 3 "$L: nothing else"
	p80=$(X port "$L-all" 80 | v4); like "$p80" '^0\.0\.0\.0:[0-9]+$' "$L: port CTR 80 prints the host side"
	p53=$(X port "$L-all" 53/udp | v4); like "$p53" '^0\.0\.0\.0:[0-9]+$' "$L: port CTR 53/udp too"
	is "$(retry get 127.0.0.1 "${p80#*:}")" "HTTP/1.1 404 Not Found" "$L: the -P port serves the host"
	out=$(X port "$L-all" 81 2>&1); rc=$?
	is "$rc" 1 "$L: port of an unpublished port fails"
	like "$out" "[Nn]o public port '81/tcp' published for '?$L-all" "$L: and says so"
	like "$(X ps --format '{{.Ports}}' -f "name=$L-all" | sed 's/, :::[0-9]*->[0-9a-z/]*//g')" \
		"^0\\.0\\.0\\.0:[0-9]+->53/udp, .*0\\.0\\.0\\.0:[0-9]+->80/tcp, .*0\\.0\\.0\\.0:$hp->8080/tcp\$" \
		"$L: ps shows them by container port"
	# a published port is the container's while it runs: another -p of it
	# fails (125), and no other bind on the host gets it
	out=$(X run -d --name "$L-dup" -p "$hp:80" ex:1 sleep 5 2>&1); rc=$?
	is "$rc" 125 "$L: -p of a port another container publishes: 125"
	like "$out" "Bind for 0\.0\.0\.0:$hp failed: port is already allocated" "$L: and says so (docker's words)"
	X rm -f "$L-dup" >/dev/null 2>&1
	held() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
	! held "$hp"; ok $? "$L: the -p port is held on the host"
	! held "${p80#*:}"; ok $? "$L: and the -P one"
	X run -d --name "$L-one" -p 80 -p 127.0.0.1::8080 ex:1 httpd -f -p 8080 >/dev/null; ok $? "$L: run -p 80 -p 127.0.0.1::8080"
	lo=$(X port "$L-one" 8080 | v4); like "$lo" '^127\.0\.0\.1:[0-9]+$' "$L: IP::CTR keeps the address"
	is "$(retry get 127.0.0.1 "${lo#*:}")" "HTTP/1.1 404 Not Found" "$L: and serves it"
	like "$(X port "$L-one" 80/tcp | v4)" '^0\.0\.0\.0:[0-9]+$' "$L: -p CTR gets a free port"
	# cbuild has no create: a run -d of true, and its end waited for (the
	# port of a container still running is published: failed under load)
	X create --name "$L-new" -P ex:1 true >/dev/null 2>&1 ||
		{ X run -d --name "$L-new" -P ex:1 true >/dev/null && X wait "$L-new" >/dev/null; }
	out=$(X port "$L-new"); rc=$?
	is "$rc:$out" "0:" "$L: a container that does not run has no published port"
	X rm -f "$L-all" "$L-one" "$L-new" >/dev/null
	held "$hp"; ok $? "$L: and let go once the container is removed"
}

scenario cbuild cb
hp=$(free_port)
cb run -d --name w -p "$hp:80" --network host ex:1 true >/dev/null 2>&1
is $? 125 "-p with --network host is refused (125: cbuild's own error, as docker's run)"
cb run -d --name hostall -P --network host ex:1 sleep 100 >/dev/null; ok $? "-P with --network host publishes nothing (as docker)"
is "$(cb port hostall)" "" "port lists nothing"
cb rm -f hostall >/dev/null
cb port >/dev/null 2>&1; is $? 1 "port without a container: 1 (docker's)"

# Debian's dockerd, when it starts here: the same session
if dockerd_has && [ -x /usr/sbin/docker-proxy ]; then
	br=cbpd$$ od=$(octet 7)
	ip link add "$br" type bridge && at_exit "ip link del $br 2>/dev/null"
	ip addr add "10.89.$od.1/24" dev "$br" && ip link set "$br" up
	WHY=
	if dockerd_start --bridge "$br" --iptables=false --ip-masq=false --ip-forward=false; then
		cb push -q ex:1 "docker-archive:$T/ex.tar:ex:1" >/dev/null
		dk load -i "$T/ex.tar" >/dev/null
		DOCKER_HOST=unix://$DD/sock scenario docker /usr/bin/docker
	else
		diag "docker half skipped: $WHY"
	fi
	dockerd_stop "$DD"
else
	diag "no dockerd here: docker half skipped"
fi
done_testing
