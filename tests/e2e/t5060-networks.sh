#!/usr/bin/env bash
# Networks as docker has them, through netavark: the default bridge (an own
# namespace and address per container, NAT, -p as DNAT), user-defined
# networks with their own bridge and subnet where members resolve each other
# by name (aardvark-dns), host and none, and nothing left behind after rm,
# stop, or a monitor killed with -9.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox

# Hermetic: our own default bridge, subnets and run directory (addresses,
# namespaces, aardvark-dns), so a suite beside this one shares nothing.
o1=$(octet); export CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbt$$
claim "$o1"
export CBUILD_RUN_DIR=$T/run
nets=()
mknet() { # mknet NAME: a network on a free subnet of its own
	local o; o=$(octet); claim "$o"
	cb network create --subnet "10.89.$o.0/24" "$1" >/dev/null
}
retry() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
get() { printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 3 "$@" 2>/dev/null | head -1 | tr -d '\r'; }
ip_of() { # ip_of CTR NET
	cb network inspect "$2" | python3 -c 'import json,sys
for v in json.load(sys.stdin)[0]["Containers"].values():
    if v["Name"] == sys.argv[1]: print(v["IPv4Address"].split("/")[0])' "$1"
}
ctr_id() { cb inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])'; }
nothing_left() { # no bridge or veth of ours, no NAT rule of our subnets, no namespace
	local subs="10\\.89\\.($o1|$o2|$o3)\\." links
	links=$(ip -br link)
	! iptables -t nat -S | grep -Eq "$subs" && ! iptables -S | grep -Eq "$subs" &&
		! grep -Eq "^(cbt$$|$br2|$br3) " <<<"$links" &&
		[ -z "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" ]
}
echo '<p>hi</p>' > "$T/index.html"

# ---- the default bridge ----
cb run -d --name w1 -v "$T:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null; ok $? "run -d httpd on port 80"
cb run -d --name w2 -v "$T:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null; ok $? "a second one on port 80 beside it"
a1=$(ip_of w1 bridge); a2=$(ip_of w2 bridge)
like "$a1" "^10\\.89\\.$o1\\.[0-9]+$" "w1 has an address on the default bridge"
like "$a2" "^10\\.89\\.$o1\\.[0-9]+$" "w2 too"
isnt "$a1" "$a2" "their own addresses"
is "$(retry get "$a1" 80)" "HTTP/1.1 200 OK" "w1 serves the host on its own address"
is "$(retry get "$a2" 80)" "HTTP/1.1 200 OK" "w2 too"
! cb exec w1 sh -c 'readlink /proc/1/ns/net' | grep -qx "$(readlink /proc/self/ns/net)"; ok $? "w1 is not in the host's namespace"
is "$(cb run --rm busybox sh -c 'ip route | grep ^default | cut -d" " -f1-3')" "default via 10.89.$o1.1" \
	"a container's default route is the bridge's gateway"
like "$(cb run --rm busybox cat /etc/resolv.conf)" "nameserver" "resolv.conf has the host's servers"
is "$(cb inspect w1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["HostConfig"]["NetworkMode"])')" \
	bridge "inspect: NetworkMode bridge"
like "$(cb network ls)" " bridge +bridge +local" "network ls lists bridge"

# ---- -p: netavark's DNAT, 127.0.0.1 too ----
port=$(free_port)
cb run -d --name pub -p "$port:80" -v "$T:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null
ok $? "run -d -p $port:80"
is "$(retry get 127.0.0.1 "$port")" "HTTP/1.1 200 OK" "curl 127.0.0.1:$port reaches it"
out=$(curl -s -m 5 "http://127.0.0.1:$port/index.html"); is "$out" "<p>hi</p>" "curl gets the page"

# ---- outbound through NAT: an "upstream" host in a namespace of our own ----
upstream_host "cbup$$"; ou=$UP_OCTET
is "$(retry cb run --rm busybox sh -c "nc 10.89.$ou.2 8080 </dev/null | grep .")" upstream-hello \
	"a container reaches an upstream host through its default route and NAT"

# ---- host and none ----
is "$(cb run --rm --network host busybox readlink /proc/self/ns/net)" "$(readlink /proc/self/ns/net)" \
	"--network host: the host's namespace"
is "$(cb run --rm --network none busybox sh -c 'ls /sys/class/net | tr "\n" " "')" "lo " \
	"--network none: only lo"

# ---- user-defined networks: the course flow ----
app=app-$$; oth=other-$$
mknet "$app"; ok $? "network create $app"
mknet "$oth"
o2=$(cb network inspect "$app" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"].split(".")[2])')
o3=$(cb network inspect "$oth" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"].split(".")[2])')
br2=cb-$(cb network inspect "$app" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][:10])')
br3=cb-$(cb network inspect "$oth" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][:10])')
like "$(cb network ls)" "$app +bridge +local" "ls shows it with the bridge driver"
cb run -d --name db --network "$app" busybox nc -ll -p 3306 -e echo hello-db >/dev/null; ok $? "db on $app"
cb run -d --name db2 --network "$app" busybox nc -ll -p 3306 -e echo hello-db2 >/dev/null; ok $? "a second db on the same port beside it"
like "$(ip -br link)" "$br2 +UP" "the network's bridge is up on the host"
is "$(retry cb run --rm --network "$app" busybox sh -c 'nc db 3306 </dev/null | grep .')" hello-db \
	"web reaches db:3306 by name"
is "$(retry cb run --rm --network "$app" busybox sh -c 'nc db2 3306 </dev/null | grep .')" hello-db2 \
	"and db2:3306"
dbip=$(ip_of db "$app")
like "$dbip" "^10\\.89\\.$o2\\.[0-9]+$" "network inspect shows db's address"
out=$(cb run --rm --network "$oth" busybox sh -c "nc db 3306 </dev/null; nc -w 2 $dbip 3306 </dev/null" 2>/dev/null)
is "$out" "" "a container on another network reaches db neither by name nor by address"
err=$(cb network rm "$app" 2>&1); is $? 1 "rm of a network in use fails"
like "$err" "has active endpoints" "and says why"
cb network connect "$oth" db; ok $? "connect of a running container adds an interface (t2301 says more)"
cb network disconnect "$oth" db; ok $? "and disconnect takes it away"

# ---- cleanup: stop, rm, a monitor killed with -9 ----
cb stop -t 1 db2 >/dev/null; ok $? "stop db2"
[ ! -e "$CBUILD_RUN_DIR/netns/$(ctr_id db2)" ]; ok $? "stop tears its namespace down"
cb start db2 >/dev/null && is "$(retry cb run --rm --network "$app" busybox sh -c 'nc db2 3306 </dev/null | grep .')" \
	hello-db2 "started again, it is reachable again"
id=$(ctr_id db)
mon=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["monitor_pid"])' "$ROOT/containers/$id/state.json")
pid1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$ROOT/containers/$id/state.json")
kill -9 "$mon" "$pid1"
torn_down() { cb ps -a >/dev/null; [ ! -e "$CBUILD_RUN_DIR/netns/$id" ]; }
wait_for 30 torn_down; ok $? "the next command (ps) tears a dead monitor's network down"
cb rm -f w1 w2 pub db db2 >/dev/null; ok $? "rm -f every container"
cb network rm "$app" "$oth" >/dev/null; ok $? "network rm"
nothing_left; ok $? "no bridge (nor veth on it), NAT rule or namespace left"
done_testing
