#!/usr/bin/env bash
# Two stores (as two CI jobs, or two `make check` runs, on one host) start
# and remove bridge-networked containers at the same time: netavark edits
# the host's one firewall, so every setup and teardown must succeed however
# they interleave (cbuild serializes them host-wide, as podman does). Before
# that lock, "iptables: No chain/target/match by that name" failed runs.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"

N=12
job() { # job K: its own store, run dir, default bridge and user network
	local k=$1 r=$T/root$1 o1 o2 i
	o1=$(octet $((k * 7))); ip route add unreachable "10.89.$o1.0/24" metric 4000 2>/dev/null
	o2=$(octet $((k * 7 + 3))); ip route add unreachable "10.89.$o2.0/24" metric 4000 2>/dev/null
	echo "10.89.$o1.0/24 10.89.$o2.0/24" >"$T/subnets$k"
	export CBUILD_RUN_DIR=$T/run$k CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbc$k$$
	"$CBUILD" --root "$r" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null || return 1
	"$CBUILD" --root "$r" network create --subnet "10.89.$o2.0/24" "n$k$$" >/dev/null || return 1
	for i in $(seq $N); do
		"$CBUILD" --root "$r" run --rm busybox true || echo "fail bridge $i" >>"$T/fails$k"
		"$CBUILD" --root "$r" run --rm --network "n$k$$" busybox true || echo "fail net $i" >>"$T/fails$k"
	done 2>>"$T/err$k"
	"$CBUILD" --root "$r" network rm "n$k$$" >/dev/null || echo "fail network rm" >>"$T/fails$k"
}
job 1 & p1=$!
job 2 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
for k in 1 2; do
	for s in $(cat "$T/subnets$k" 2>/dev/null); do ip route del unreachable "$s" metric 4000 2>/dev/null; done
done
is "$r1$r2" "00" "both jobs set up"
is "$(cat "$T"/fails* 2>/dev/null | wc -l)" 0 "all $((4 * N)) runs and both network removals succeeded"
[ -s "$T/err1" ] || [ -s "$T/err2" ] && diag "$(cat "$T"/err* | sort | uniq -c | head -5)"
left=$(ip -br link | grep -c "cbc[12]$$")
is "$left" 0 "no bridge left"
done_testing
