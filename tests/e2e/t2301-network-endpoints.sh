#!/usr/bin/env bash
# A container's endpoint on a user-defined network as docker has it:
# --network-alias and --ip at run, `network connect [--alias] [--ip]` and
# `network disconnect` on a running container (an interface added or taken
# away at once), `network create --internal` (members reach each other, not
# the outside), `network inspect` showing the members' addresses, and
# nothing left behind.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox

OCTET_SEED=31
o1=$(octet); claim "$o1"
export CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbe$$ CBUILD_RUN_DIR=$T/run
mknet() { # mknet NAME [OPTIONS]: a network on a free subnet of its own, 10.89.$O.0/24
	O=$(octet); claim "$O"
	cb network create --subnet "10.89.$O.0/24" "${@:2}" "$1" >/dev/null
}
retry() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
ip_of() { # ip_of CTR NET
	cb network inspect "$2" | python3 -c 'import json,sys
for v in json.load(sys.stdin)[0]["Containers"].values():
    if v["Name"] == sys.argv[1]: print(v["IPv4Address"].split("/")[0])' "$1"
}
bridge_of() { echo "cb-$(cb network inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][:10])')"; }

app=app-$$; oth=oth-$$; int=int-$$
mknet "$app"; ok $? "network create $app"; o2=$O
mknet "$oth"; o3=$O
mknet "$int" --internal; ok $? "network create --internal $int"; o4=$O
is "$(cb network inspect "$int" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Internal"])')" True \
	"inspect shows Internal"
brs="cbe$$|$(bridge_of "$app")|$(bridge_of "$oth")|$(bridge_of "$int")"

# ---- --network-alias and --ip ----
cb run -d --name db --network "$app" --network-alias database --network-alias sql \
	--ip "10.89.$o2.50" busybox nc -ll -p 3306 -e echo hello-db >/dev/null
ok $? "run --network-alias database --network-alias sql --ip 10.89.$o2.50"
is "$(ip_of db "$app")" "10.89.$o2.50" "network inspect: db has the address --ip gave"
for name in db database sql; do
	is "$(retry cb run --rm --network "$app" busybox sh -c "nc -w 3 $name 3306 </dev/null | grep ." 2>/dev/null)" hello-db \
		"a member reaches db as '$name'"
done
like "$(cb inspect db | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["NetworkSettings"]["Networks"][sys.argv[1]]["Aliases"])' "$app")" \
	"database.*sql" "inspect shows the aliases"
err=$(cb run -d --name db2 --network "$app" --ip "10.89.$o2.50" busybox sleep 100 2>&1); rc=$?
[ "$rc" != 0 ] && [[ $err == *"already in use"* ]]; ok $? "a second --ip of the same address fails: in use"
cb rm -f db2 >/dev/null 2>&1
err=$(cb run -d --name x1 --ip "10.89.$o1.9" busybox true 2>&1); rc=$?
[ "$rc" = 125 ] || [ "$rc" = 1 ]; ok $? "--ip on the default bridge is refused"
like "$err" "user defined networks only" "with docker's words"
err=$(cb run -d --name x2 --network-alias a busybox true 2>&1)
like "$err" "alias is supported only for containers in user defined networks" "--network-alias on the default bridge too"

# ---- connect and disconnect while it runs ----
cb run -d --name lone --network "$oth" busybox sleep 1000 >/dev/null; ok $? "a container on $oth"
out=$(cb exec lone sh -c 'nc -w 2 db 3306 </dev/null' 2>/dev/null)
is "$out" "" "it does not reach db on $app"
cb network connect --alias loner "$app" lone; ok $? "network connect $app lone (running)"
is "$(cb exec lone sh -c 'ls /sys/class/net | tr "\n" " "')" "eth0 eth1 lo " "it has one more interface, at once"
like "$(ip_of lone "$app")" "^10\\.89\\.$o2\\.[0-9]+$" "network inspect shows its address on $app"
is "$(retry cb exec lone sh -c "nc -w 3 10.89.$o2.50 3306 </dev/null | grep ." 2>/dev/null)" hello-db "it reaches db's address"
is "$(retry cb exec lone sh -c 'nc -w 3 db 3306 </dev/null | grep .' 2>/dev/null)" hello-db "and db by name (through $app's resolver)"
cb exec -d lone nc -ll -p 7000 -e echo hello-lone >/dev/null 2>&1 ||
	cb exec lone sh -c 'nc -ll -p 7000 -e echo hello-lone >/dev/null 2>&1 &'
is "$(retry cb run --rm --network "$app" busybox sh -c 'nc -w 3 loner 7000 </dev/null | grep .' 2>/dev/null)" hello-lone \
	"members of $app reach it by the --alias of connect"
cb network disconnect "$app" lone; ok $? "network disconnect $app lone (running)"
is "$(cb exec lone sh -c 'ls /sys/class/net | tr "\n" " "')" "eth0 lo " "the interface is gone at once"
# the last member of another isolated network leaves (a complete teardown,
# after which netavark 1.4 drops FORWARD's jump to its isolation chain):
# the isolation of the networks still in use must hold all the same
cb run --rm --network "$int" busybox true; ok $? "a container comes and goes on $int"
out=$(cb exec lone sh -c "nc -w 2 10.89.$o2.50 3306 </dev/null" 2>/dev/null)
is "$out" "" "and db's address is out of reach again"
is "$(ip_of lone "$app")" "" "network inspect of $app no longer lists it"
cb stop -t 1 lone >/dev/null && cb start lone >/dev/null
is "$(cb exec lone sh -c 'ls /sys/class/net | tr "\n" " "')" "eth0 lo " "a restart keeps it off $app"

# ---- --internal: members reach each other, nothing else ----
upstream_host "cbeu$$"; ou=$UP_OCTET
is "$(retry cb run --rm --network "$app" busybox sh -c "nc -w 3 10.89.$ou.2 8080 </dev/null | grep ." 2>/dev/null)" upstream-hello \
	"a container on a normal network reaches the upstream host (the control)"
cb run -d --name isrv --network "$int" busybox nc -ll -p 80 -e echo hello-internal >/dev/null
is "$(retry cb run --rm --network "$int" busybox sh -c 'nc -w 3 isrv 80 </dev/null | grep .' 2>/dev/null)" hello-internal \
	"members of an internal network reach each other by name"
is "$(cb run --rm --network "$int" busybox sh -c 'ip route | grep -c ^default')" 0 "an internal network gives no default route"
out=$(cb run --rm --network "$int" busybox sh -c "nc -w 2 10.89.$ou.2 8080 </dev/null" 2>/dev/null)
is "$out" "" "and no way to the upstream host"

# ---- an address handed on keeps its MAC (docker's 02:42 + the address) ----
# With a random MAC the host's neighbour entry still named the container
# that had the address before: the next one got no datagram for seconds
# (t5050 failed when run twice in a row).
cb run -d --name mac1 --network "$oth" busybox sleep 600 >/dev/null
ip1=$(ip_of mac1 "$oth"); mac1=$(cb exec mac1 cat /sys/class/net/eth0/address)
want=$(printf '02:42:%02x:%02x:%02x:%02x' $(echo "$ip1" | tr . ' '))
is "$mac1" "$want" "the MAC is made from the address ($ip1)"
cb rm -f mac1 >/dev/null
cb run -d --name mac2 --network "$oth" busybox sleep 600 >/dev/null
is "$(ip_of mac2 "$oth")" "$ip1" "the next container gets the address back"
is "$(cb exec mac2 cat /sys/class/net/eth0/address)" "$mac1" "and the same MAC"
cb rm -f mac2 >/dev/null

# ---- nothing left ----
cb rm -f db lone isrv x1 x2 >/dev/null 2>&1
cb network rm "$app" "$oth" "$int" >/dev/null; ok $? "network rm"
nothing_left() {
	local subs="10\\.89\\.($o1|$o2|$o3|$o4)\\."
	! iptables -t nat -S | grep -Eq "$subs" && ! iptables -S | grep -Eq "$subs" &&
		! ip -br link | grep -Eq "^($brs) " && [ -z "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" ] &&
		[ -z "$(find "$CBUILD_RUN_DIR/ipam" -type f 2>/dev/null)" ]
}
nothing_left; ok $? "no bridge, NAT rule, namespace or address claim left"
nothing_left || diag "left: $({ iptables -S; iptables -t nat -S; } | grep -E "10\.89\.($o1|$o2|$o3|$o4)\.")" \
	"$(ip -br link | grep -E "^($brs) ")" "$(ls -A "$CBUILD_RUN_DIR/netns" "$CBUILD_RUN_DIR/ipam" 2>&1)"
done_testing
