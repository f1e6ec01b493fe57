#!/usr/bin/env bash
# Subnets are claimed host-wide (/run/cbuild/subnets): two stores creating
# networks before any container joins them (no route tells yet) never get
# the same subnet, even when they start their search at the same place
# (de60de1 gave each store a start of its own: no guarantee); network rm
# gives the claim back, and a removed store's claims are taken back.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "subnet claims are root's (/run/cbuild)"
CLAIMS=/run/cbuild/subnets

# two store roots whose searches start at the same subnet (the start is a
# hash of the root's path)
start() { python3 -c 'import sys
h = 0
for c in sys.argv[1].encode(): h = (h * 31 + c) & 0xffffffff
print(h % 255)' "$1"; }
r1=$T/root-a; want=$(start "$r1")
for i in $(seq 5000); do [ "$(start "$T/root-b$i")" = "$want" ] && break; done
r2=$T/root-b$i
is "$(start "$r2")" "$want" "two stores that start at the same subnet"

sub() { "$CBUILD" --root "$1" network inspect "$2" | python3 -c 'import json,sys
print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"])'; }
claim_of() { echo "$CLAIMS/${1/\//-}"; }
N=6
for k in $(seq $N); do
	"$CBUILD" --root "$r1" network create "n$k" >/dev/null & p1=$!
	"$CBUILD" --root "$r2" network create "n$k" >/dev/null; e2=$?
	wait $p1; e1=$?
	[ $e1$e2 = 00 ] || fail "network create n$k in both stores"
done
subs=$(for k in $(seq $N); do sub "$r1" "n$k"; sub "$r2" "n$k"; done)
is "$(sort -u <<<"$subs" | wc -l)" $((2 * N)) "$((2 * N)) networks, $((2 * N)) subnets"
s1=$(sub "$r1" n1)
grep -q "\"$r1/" "$(claim_of "$s1")" 2>/dev/null; ok $? "a host-wide claim names the network's record"
"$CBUILD" --root "$r1" network rm n1 >/dev/null; ok $? "network rm"
[ ! -e "$(claim_of "$s1")" ] || ! grep -q "\"$r1/" "$(claim_of "$s1")"; ok $? "gives the claim back"

# an interface that is down keeps its address but has no route (a bridge
# left by a killed run): its subnet is busy all the same, or the new
# network's gateway and resolver could not take their address
r3=$T/root-c
"$CBUILD" --root "$r3" network create probe >/dev/null; ok $? "a first pick"
s3=$(sub "$r3" probe)
"$CBUILD" --root "$r3" network rm probe >/dev/null
dummy=cbt$$ # a bridge: this kernel has no dummy links
ip link add "$dummy" type bridge && at_exit "ip link del $dummy 2>/dev/null"
ip addr add "${s3%.0/24}.1/24" dev "$dummy"
ip route | grep -q "${s3%/24}" && fail "the down interface has a route"
"$CBUILD" --root "$r3" network create after >/dev/null; ok $? "a pick beside a down interface"
[ "$(sub "$r3" after)" != "$s3" ]; ok $? "not the subnet of the down interface's address ($s3)"
"$CBUILD" --root "$r3" network rm after >/dev/null

# a store removed without network rm: its claims are stale, taken back
rm -rf "$r2"
"$CBUILD" --root "$r1" network create again >/dev/null; ok $? "a pick after the store went"
is "$(grep -l "\"$r2/" "$CLAIMS"/* 2>/dev/null | wc -l)" 0 "took the gone store's claims back"
for k in $(seq 2 $N); do "$CBUILD" --root "$r1" network rm "n$k" >/dev/null; done
"$CBUILD" --root "$r1" network rm again >/dev/null
left=$(grep -l "\"$T/" "$CLAIMS"/* 2>/dev/null | wc -l)
is "$left" 0 "no claim of this test is left"
done_testing
