#!/usr/bin/env bash
# `network connect` of a running container on the default bridge (no names)
# to a user-defined network (names by aardvark-dns): its resolv.conf now
# names that network's resolver, so it reaches the members by name at once,
# as docker's does; --dns servers stay as the user gave them.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox

OCTET_SEED=109
o1=$(octet); claim "$o1"; o2=$(octet); claim "$o2"
export CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbd$$ CBUILD_RUN_DIR=$T/run
retry() { local i; for i in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
net=dn$$
cb network create --subnet "10.89.$o2.0/24" "$net" >/dev/null; ok $? "network create $net"
trap 'cb rm -f db lone fixed >/dev/null 2>&1; cb network rm "$net" >/dev/null 2>&1; _cleanup' EXIT

cb run -d --name db --network "$net" busybox nc -ll -p 3306 -e echo hello-db >/dev/null; ok $? "db on $net"
cb run -d --name lone busybox sleep 300 >/dev/null; ok $? "lone on the default bridge"
unlike "$(cb exec lone cat /etc/resolv.conf)" "10\.89\.$o2\.1" "before: lone's resolv.conf is the host's"
cb network connect "$net" lone; ok $? "network connect $net lone (running)"
is "$(cb exec lone cat /etc/resolv.conf)" "nameserver 10.89.$o2.1" "lone's resolv.conf names $net's resolver"
is "$(retry cb exec lone sh -c 'nc -w 3 db 3306 </dev/null | grep .' 2>/dev/null)" hello-db "lone reaches db by name"

cb run -d --name fixed --dns 10.89.$o1.77 busybox sleep 300 >/dev/null; ok $? "a container with --dns"
cb network connect "$net" fixed; ok $? "connected"
like "$(cb exec fixed cat /etc/resolv.conf)" "nameserver 10\.89\.$o1\.77" "--dns stays"
done_testing
