#!/usr/bin/env bash
# netavark (1.4) deletes FORWARD's jump to NETAVARK_ISOLATION_1 when the
# last member of any isolated network leaves, though other networks still
# need it: networks then reach each other until a setup puts it back, and
# with another store beside, a teardown can come at any time. Its delete
# removes one copy, so cbuild keeps two. Run in a network namespace of the
# test's own, so no other suite's firewall changes are counted.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
command -v unshare >/dev/null || skip_all "no unshare"
import_busybox

OCTET_SEED=41
o1=$(octet); claim "$o1"
o2=$(octet 7); claim "$o2"
o3=$(octet 13); claim "$o3"
cat >"$T/inner.sh" <<INNER
ip link set lo up
export CBUILD_RUN_DIR=$T/run CBUILD_BRIDGE=cbj$$ CBUILD_BRIDGE_SUBNET=10.89.$o1.0/24
C="$CBUILD --root $ROOT"
jumps() { iptables -S FORWARD | grep -c -- '-j NETAVARK_ISOLATION_1\$'; }
\$C network create --subnet 10.89.$o2.0/24 ja$$ >/dev/null || exit 1
\$C network create --subnet 10.89.$o3.0/24 jb$$ >/dev/null || exit 1
\$C run -d --name ca --network ja$$ busybox sleep 1000 >/dev/null || exit 1
\$C run -d --name cb --network jb$$ busybox httpd -f -p 80 >/dev/null || exit 1
echo "jumps-two-networks \$(jumps)"
\$C rm -f ca >/dev/null
echo "jumps-after-one-left \$(jumps)"
ipb=\$(\$C inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' cb)
\$C run --rm --network ja$$ busybox sh -c "wget -q -T 2 -O /dev/null http://\$ipb/ && echo reached || echo isolated"
\$C rm -f cb >/dev/null
\$C network rm ja$$ jb$$ >/dev/null
INNER
out=$(unshare -n bash "$T/inner.sh" 2>"$T/err")
ok $? "two isolated networks in a namespace of the test's" || diag "$(cat "$T/err")"
like "$out" "jumps-two-networks 2" "FORWARD holds two jumps to the isolation chain"
like "$out" "jumps-after-one-left 2" "still two after one network's last member left (netavark deleted one)"
like "$out" "isolated" "and the other network is still out of reach"
done_testing
