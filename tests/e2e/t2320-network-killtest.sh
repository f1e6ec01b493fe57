#!/usr/bin/env bash
# Issue 25's acceptance: after runs with random kill -9 of cbuild processes
# (the command, and at times every cbuild process of this store: monitors,
# sandboxes), `ps -a` and `rm` leave nothing of containers that are gone:
# no bridge or veth, no firewall rule of the test's subnets, no namespace
# file, no address claim, no aardvark-dns entry, no process.
# CBUILD_KILLTEST_N runs (10 here, 50 for the full count), kill points drawn
# from CBUILD_KILLTEST_SEED (printed: a failure replays with it).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox
N=${CBUILD_KILLTEST_N:-10}
SEED=${CBUILD_KILLTEST_SEED:-$$}
RANDOM=$SEED
diag "seed $SEED (CBUILD_KILLTEST_SEED=$SEED replays it), $N runs"

o1=$(octet 17); claim "$o1"
o2=$(octet 61); claim "$o2"
export CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbk$$ CBUILD_RUN_DIR=$T/run
net=kn$$
cb network create --subnet "10.89.$o2.0/24" "$net" >/dev/null; ok $? "network $net"
br2=cb-$(cb network inspect "$net" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][:10])')
leftovers() { # what a failing run left of ours goes (the host is shared)
	local t r
	for t in filter nat; do
		iptables -t $t -S | grep -E "10\.89\.($o1|$o2)\." | sed 's/^-A /-D /' |
			while read -r r; do eval "iptables -t $t $r"; done
	done
	ip link del "cbk$$" 2>/dev/null; ip link del "$br2" 2>/dev/null
}
at_exit leftovers
ctx=$T/ctx; mkdir -p "$ctx"
printf 'FROM busybox\nRUN sleep 0.2\n' >"$ctx/Dockerfile"

mine() { pgrep -f -- "--root $ROOT( |\$)"; } # this store's cbuild processes
ops=(run-p run-rm run-net build rm)
for i in $(seq "$N"); do
	op=${ops[$((RANDOM % ${#ops[@]}))]}
	case $op in
	run-p) set -- run -d --name "k$i" -p "$(free_port):80" busybox httpd -f -p 80 ;;
	run-rm) set -- run --rm --network "$net" busybox true ;;
	run-net) set -- run -d --name "k$i" --network "$net" busybox sleep 300 ;;
	build) set -- build -q --no-cache "$ctx" ;;
	rm) set -- rm -f "$(cb ps -aq 2>/dev/null | head -1)" ;;
	esac
	"$CBUILD" --root "$ROOT" "$@" >/dev/null 2>&1 &
	pid=$!
	ms=$((RANDOM % 800)); all=$((RANDOM % 3))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	if [ "$all" = 0 ]; then
		kill -9 $(mine) 2>/dev/null # the command, monitors, sandboxes
	else
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	diag "run $i: $op, killed after ${ms} ms$([ "$all" = 0 ] && echo ' (all cbuild processes)')"
done

# the sweep a user would do
cb ps -a >/dev/null; ok $? "ps -a"
cb ps -aq | xargs -r "$CBUILD" --root "$ROOT" rm -f >/dev/null; ok $? "rm -f of every container"
cb network rm "$net" >/dev/null; ok $? "network rm"
# a build that ended (or was killed after putting its namespace back) left
# it in the store's pool (runtime/netpool.h): network prune tears it down
cb network prune -f >/dev/null; ok $? "network prune"
is "$(cb ps -aq)" "" "no container is left"
subs="10\\.89\\.($o1|$o2)\\."
is "$({ iptables -S; iptables -t nat -S; } | grep -E "$subs")" "" "no firewall rule of the test's subnets"
is "$(ip -br link | grep -E "^(cbk$$|$br2)[ @]")" "" "no bridge of the test"
is "$(ip -br link show master "cbk$$" 2>/dev/null; ip -br link show master "$br2" 2>/dev/null)" "" "no veth on them"
is "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" "" "no namespace file"
is "$(find "$CBUILD_RUN_DIR/ipam" -type f 2>/dev/null)" "" "no address claim"
is "$(ls "$CBUILD_RUN_DIR/aardvark/aardvark-dns" 2>/dev/null | grep -v '^aardvark.pid$')" "" "no aardvark-dns entry"
sleep 0.5 # a sandbox killed above may still be on its way out
is "$(mine)" "" "no cbuild process of the test"
done_testing
