#!/usr/bin/env bash
# Two stores on one host whose networks have the same names (every store's
# default network is "bridge"; two CI jobs' compose projects both have
# "app_default"): netavark (1.4) names a network's NAT chains and its
# aardvark-dns config after the name it is given, so each must get a name of
# its own on the host (its bridge's). Before, both default bridges' rules
# went to one chain NETAVARK-7D24D33E39064 (one's teardown raced the other's
# setup: "iptables: No chain/target/match by that name"), and two "app"
# networks in one run directory shared one aardvark-dns file (a name
# resolved to the other store's container).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"

octet() { # a third octet of 10.89.X.0/24 with no route on the host
	local x
	for x in $(seq $((100 + ($$ + $1) % 120)) 250) $(seq 100 250); do
		ip route | grep -q "10\.89\.$x\." || { echo "$x"; return; }
	done
}
claim() { # claim X: keep 10.89.X.0/24 from other suites until we exit
	ip route add unreachable "10.89.$1.0/24" metric 4000 2>/dev/null
	at_exit "ip route del unreachable 10.89.$1.0/24 metric 4000 2>/dev/null"
}
retry() { local i; for i in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
# one run directory for both stores (as /run/cbuild is on a host)
export CBUILD_RUN_DIR=$T/run
declare -A sub br
for k in a b; do
	o=$(octet $([ $k = a ] && echo 11 || echo 53)); claim "$o"; sub[$k]=$o
	r=$T/root-$k; br[$k]=cbn$k$$
	"$CBUILD" --root "$r" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
done
s() { # s STORE ARGS: cbuild on that store, with its own default bridge
	local k=$1; shift
	CBUILD_BRIDGE=${br[$k]} CBUILD_BRIDGE_SUBNET=10.89.${sub[$k]}.0/24 "$CBUILD" --root "$T/root-$k" "$@"
}
chain_of() { iptables -t nat -S POSTROUTING | awk -v s="10.89.$1.0/24" '$4 == s {print $6}'; }

# ---- the default bridges ----
for k in a b; do
	s $k run -d --name "c$k$$" busybox sleep 300 >/dev/null; ok $? "store $k: a container on its default bridge"
done
ca=$(chain_of "${sub[a]}"); cb_=$(chain_of "${sub[b]}")
like "$ca" "^NETAVARK-" "store a's subnet is NATed"
like "$cb_" "^NETAVARK-" "store b's too"
[ -n "$ca" ] && [ "$ca" != "$cb_" ]; ok $? "through a chain of its own (got '$ca' and '$cb_')"
s a rm -f "ca$$" >/dev/null
is "$(chain_of "${sub[a]}")" "" "store a's rules went with its last container"
like "$(iptables -t nat -S "$cb_" 2>&1)" "MASQUERADE" "store b's NAT rules stayed"
s b rm -f "cb$$" >/dev/null

# ---- a user network of the same name in each ----
declare -A ip
for k in a b; do
	o=$(octet $([ $k = a ] && echo 29 || echo 71)); claim "$o"
	s $k network create --subnet "10.89.$o.0/24" "app$$" >/dev/null; ok $? "store $k: network app$$"
	s $k run -d --name db --network "app$$" busybox sleep 300 >/dev/null; ok $? "store $k: db on it"
	ip[$k]=$(s $k inspect db | python3 -c 'import json,sys
print(json.load(sys.stdin)[0]["NetworkSettings"]["Networks"]["app'$$'"]["IPAddress"])')
done
[ -n "${ip[a]}" ] && [ "${ip[a]}" != "${ip[b]}" ]; ok $? "two addresses (${ip[a]}, ${ip[b]})"
lookup() { s $1 run --rm --network "app$$" busybox nslookup db 2>/dev/null | awk '/^Address/ {a=$NF} END {print a}'; }
for k in a b; do
	got=$(retry lookup $k >/dev/null; lookup $k)
	is "$got" "${ip[$k]}" "store $k: db resolves to its own db"
done
for k in a b; do s $k rm -f db >/dev/null; s $k network rm "app$$" >/dev/null; done
is "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" "" "no namespace left"
is "$(ip -br link | grep -c "cbn[ab]$$")" 0 "no default bridge left"
done_testing
