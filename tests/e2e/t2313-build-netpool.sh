#!/usr/bin/env bash
# A store keeps the namespaces its builds' RUN steps used (at most 2), as
# BuildKit's pool does: the next build takes one (no netavark setup before
# its first RUN, no teardown at its end), the default bridge and its NAT
# rule stay meanwhile; a build killed with -9, a removed store and
# `network prune` leave nothing (runtime/netpool.h).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox

OCTET_SEED=67
o1=$(octet); claim "$o1"
export CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24 CBUILD_BRIDGE=cbp$$ CBUILD_RUN_DIR=$T/run
pool() { find "$CBUILD_RUN_DIR/netpool" -name 'build-*' ! -name '*.*' 2>/dev/null | wc -l; }
nat() { iptables -t nat -S | grep -c "10\.89\.$o1\."; }
fetch() { cb run --rm --network none "$1" cat "$2" 2>/dev/null; }

ctx=$T/ctx; mkdir -p "$ctx"
printf 'FROM busybox\nRUN cat /sys/class/net/eth0/address /sys/class/net/eth0/iflink | tr "\\n" " " >/ns; ls /sys/class/net | tr "\\n" " " >/ifs\n' >"$ctx/Dockerfile"
cb build -q --no-cache -t np:1 "$ctx" >/dev/null; ok $? "a build with the default network"
is "$(pool)" 1 "its namespace went to the store's pool"
ip -br link | grep -q "^cbp$$ "; ok $? "the bridge stays with it"
cb build -q --no-cache -t np:2 "$ctx" >/dev/null; ok $? "a second build"
n1=$(fetch np:1 /ns); n2=$(fetch np:2 /ns)
# /ns: the interface's MAC (made from its address, so not unique to a
# namespace) and its peer's ifindex on the host (a new namespace, a new
# veth pair: another one)
like "$n1" '^([0-9a-f]{2}:){5}[0-9a-f]{2} [0-9]+ $' "a RUN saw its interface's MAC address and its peer"
is "$n2" "$n1" "the second build's RUN had the first one's interface (its namespace)"
is "$(fetch np:2 /ifs)" "eth0 lo " "with its interface"
is "$(pool)" 1 "which is back in the pool"
is "$(ls "$CBUILD_RUN_DIR"/netns/*.json | wc -l)" 1 "one namespace set up in all"

# a RUN with every capability may change the namespace (its addresses,
# routes, firewall): the build tears it down rather than putting it back
printf 'FROM busybox\nRUN --security=insecure ip addr add 10.254.%s.1/32 dev lo\n' "$o1" >"$ctx/Dockerfile.i"
cb build -q --no-cache --allow security.insecure -f "$ctx/Dockerfile.i" "$ctx" >/dev/null
ok $? "a build whose RUN --security=insecure adds an address"
is "$(pool)" 0 "its namespace was not put back"
is "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" "" "but torn down"
cb build -q --no-cache -t np:3 "$ctx" >/dev/null; ok $? "the next build"
isnt "$(fetch np:3 /ns)" "$n1" "has a namespace of its own"

# three builds at once: two more namespaces are made; the pool keeps 2
for i in 1 2 3; do
	printf 'FROM busybox\nRUN sleep 1; echo %s >/w\n' "$i" >"$ctx/Dockerfile.$i"
	cb build -q --no-cache -f "$ctx/Dockerfile.$i" "$ctx" >/dev/null &
done
wait; ok $? "three builds at once"
is "$(pool)" 2 "the pool keeps two namespaces"
is "$(ls "$CBUILD_RUN_DIR"/netns/*.json | wc -l)" 2 "the third was torn down"

# a build killed with -9 while it holds a namespace of the pool: the next
# command tears that down, the other stays
printf 'FROM busybox\nRUN --mount=type=cache,id=k$$,target=/c touch /c/started && sleep 60\n' >"$ctx/Dockerfile"
"$CBUILD" --root "$ROOT" build -q --no-cache "$ctx" >/dev/null 2>&1 &
killed=$!
for i in $(seq 300); do [ -n "$(find "$ROOT" -name started 2>/dev/null)" ] && break; sleep 0.1; done
leased() { compgen -G "$CBUILD_RUN_DIR/netpool/*/build-*.used-$killed" >/dev/null; }
leased; ok $? "the killed build had taken a namespace of the pool"
kill -9 "$killed"; wait "$killed" 2>/dev/null
cb ps -a >/dev/null; ok $? "the next command"
leased; is $? 1 "dropped the killed build's lease"
is "$(pool)" 1 "the pool keeps the other"
is "$(ls "$CBUILD_RUN_DIR"/netns/*.json | wc -l)" 1 "the killed build's namespace was torn down"

# a store that is removed: any command's sweep tears its pool down
ROOT2=$T/root2
printf 'FROM busybox\nRUN true\n' >"$ctx/Dockerfile"
"$CBUILD" --root "$ROOT2" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
"$CBUILD" --root "$ROOT2" build -q --no-cache "$ctx" >/dev/null; ok $? "a build in another store"
is "$(pool)" 2 "its pool is its own"
rm -rf "$ROOT2"
cb ps -a >/dev/null
is "$(pool)" 1 "a command of another store tore the removed store's pool down"
is "$(ls "$CBUILD_RUN_DIR"/netpool | wc -l)" 1 "and its directory"

# a build takes a namespace made after its private mount namespace was
# (a build that ended while this one waited for its first stage): the
# namespace is bound there from the host's, its RUN enters it
cb network prune -f >/dev/null
printf 'FROM busybox AS a\nRUN --network=none sleep 4; echo %s >/x\nFROM busybox\nCOPY --from=a /x /x\nRUN cat /sys/class/net/eth0/address /sys/class/net/eth0/iflink | tr "\\n" " " >/ns\n' "$$" >"$ctx/Dockerfile.late"
err=$T/late.err
cb build -q -t np:late -f "$ctx/Dockerfile.late" "$ctx" >/dev/null 2>"$err" &
late=$!
sleep 1
printf 'FROM busybox\nRUN cat /sys/class/net/eth0/address /sys/class/net/eth0/iflink | tr "\\n" " " >/ns\n' >"$ctx/Dockerfile.ns"
cb build -q --no-cache -t np:early -f "$ctx/Dockerfile.ns" "$ctx" >/dev/null; ok $? "a build ends while another waits"
is "$(pool)" 1 "its namespace is in the pool"
wait "$late"; ok $? "the waiting build" || diag "$(cat "$err")"
is "$(cat "$err")" "" "without a warning"
is "$(fetch np:late /ns)" "$(fetch np:early /ns)" "its RUN had the other build's namespace"
is "$(pool)" 1 "which is back in the pool"

# network prune: the pool goes, and with it the bridge and its NAT rule
cb network prune -f >/dev/null; ok $? "network prune"
is "$(pool)" 0 "the pool is empty"
is "$(ls -A "$CBUILD_RUN_DIR/netns" 2>/dev/null)" "" "no namespace is left"
is "$(ls -A "$CBUILD_RUN_DIR/netpool" 2>/dev/null)" "" "nor a pool directory"
is "$(nat)" 0 "nor a NAT rule"
ip -br link | grep -q "^cbp$$ "; is $? 1 "the bridge went with its last member"
is "$(ls -A "$CBUILD_RUN_DIR/ipam/cbp$$" 2>/dev/null)" "" "no address is left allocated"
done_testing
