#!/usr/bin/env bash
# User-defined networks (pod style: one shared network namespace, names in
# /etc/hosts on 127.0.0.1): network create/ls/inspect/rm/connect/disconnect,
# run --network NAME, the course's wordpress+mysql flow, nothing left behind.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "containers need root for now"
import_busybox

leftovers() { # mounts, processes or directories of containers in $ROOT
	grep -c " $ROOT/containers" /proc/self/mountinfo
	pgrep -f "cbuild --root $ROOT (run|start)" | wc -l
	find "$ROOT/containers" -mindepth 1 -maxdepth 1 | wc -l
}
retry() { # retry CMD...: up to 60 s for a server to listen (only a failure waits that long)
	local i
	for i in $(seq 600); do "$@" && return 0; sleep 0.1; done
	return 1
}
ctr_id() { cb inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])'; }
hosts_file() { echo "$ROOT/containers/$(ctr_id "$1")/hosts"; }

# ---- create, ls, inspect, rm ----
nid=$(cb network create app-network); ok $? "network create"
like "$nid" '^[0-9a-f]{64}$' "create prints a 64-hex ID"
[ -f "$ROOT/networks/app-network.json" ]; ok $? "stored as networks/app-network.json"
err=$(cb network create app-network 2>&1); is $? 1 "create of an existing network fails"
like "$err" "already exists" "and says it exists"
err=$(cb network create host 2>&1); is $? 1 "host exists already"
err=$(cb network create 'bad/name' 2>&1); is $? 1 "a bad name fails"
like "$err" "invalid network name 'bad/name'" "and names the bad name"
cb network create -- -x >/dev/null 2>&1; ok $(( $? == 0 )) "a name starting with '-' is refused"
ls=$(cb network ls)
like "$(echo "$ls" | head -1)" '^NETWORK ID +NAME +DRIVER +SCOPE$' "ls header"
like "$ls" "${nid:0:12} +app-network +pod +local" "ls lists it with the pod driver"
like "$ls" " host +host +local" "ls lists host"
like "$ls" " none +null +local" "ls lists none"
is "$(cb network ls -q | grep -c "^${nid:0:12}$")" 1 "ls -q prints short IDs"
insp=$(cb network inspect app-network)
is "$(echo "$insp" | python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(j["Name"], j["Id"], j["Driver"], len(j["Containers"]))')" \
	"app-network $nid pod 0" "inspect: Name, Id, Driver, no containers"
err=$(cb network inspect nosuch 2>&1 >/dev/null); is $? 1 "inspect of an unknown network fails"
like "$err" "error: network 'nosuch' not found" "with a clear message"
cb network create tmpnet >/dev/null
is "$(cb network rm tmpnet)" tmpnet "rm prints the name"
[ ! -e "$ROOT/networks/tmpnet.json" ]; ok $? "rm removes the record"
err=$(cb network rm tmpnet 2>&1); is $? 1 "rm of an unknown network fails"
like "$err" "network 'tmpnet' not found" "and says so"
err=$(cb network rm host 2>&1); is $? 1 "host cannot be removed"
cb network >/dev/null 2>&1; is $? 2 "network without a command is a usage error"
like "$(cb network --help)" "cbuild network connect NETWORK CONTAINER" "network --help"
like "$(cb network create --help)" "usage: cbuild network create" "network create --help"
cb network frob >/dev/null 2>&1; is $? 2 "an unknown subcommand is a usage error"
err=$(cb run --rm --network nosuch busybox true 2>&1); is $? 1 "run --network of an unknown network fails"
like "$err" "network 'nosuch' not found" "with a clear message"
is "$(cb ps -aq)" "" "and makes no container"

# ---- two members reach each other by name ----
cb run -d --name mysql --network app-network busybox nc -ll -p 3306 -e echo hello-db >/dev/null
ok $? "run -d --network app-network (a server)"
out=$(retry cb run --rm --network=app-network busybox nc mysql 3306 </dev/null)
is "$out" hello-db "another member reaches it by name (--network=NAME)"
is "$(cb run --rm --net app-network busybox sh -c 'grep -w mysql /etc/hosts | cut -f1')" 127.0.0.1 \
	"--net NAME: mysql is 127.0.0.1 in /etc/hosts"
is "$(cb run --rm --net app-network busybox sh -c 'grep -cw "$(hostname)" /etc/hosts')" 2 \
	"a member's own ID is listed too"
is "$(cb inspect mysql | python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(j["HostConfig"]["NetworkMode"], list(j["NetworkSettings"]["Networks"]))')" \
	"app-network ['app-network']" "inspect CONTAINER shows the network"

# a member started later is resolvable from an earlier one (hosts rewritten in place)
mysql_hosts=$(hosts_file mysql)
ino=$(stat -c %i "$mysql_hosts")
cb run -d --name web --network app-network busybox httpd -f -p 80 -h /etc >/dev/null
ok $? "a second server joins"
like "$(cb exec mysql cat /etc/hosts)" "127.0.0.1	web [0-9a-f]{12}" "the earlier member's /etc/hosts lists it"
is "$(stat -c %i "$mysql_hosts")" "$ino" "its hosts file was rewritten in place"
out=$(retry cb exec mysql wget -qO- http://web:80/hostname)
is "$out" "$(cb exec web hostname)" "the earlier member reaches it by name"
is "$(cb network inspect app-network | python3 -c 'import json,sys; print(" ".join(sorted(v["Name"] for v in json.load(sys.stdin)[0]["Containers"].values())))')" \
	"mysql web" "inspect lists both members"
# -p on a network: the host port forwards into the shared namespace
port=$(free_port)
cb run -d --name pub -p "127.0.0.1:$port:3306" --network app-network busybox sleep 1000 >/dev/null
out=$(retry sh -c "busybox nc 127.0.0.1 $port </dev/null | grep .")
is "$out" hello-db "-p HOST:CTR on a network reaches a member's port"
cb rm -f pub >/dev/null

# ---- rm refuses with active endpoints ----
err=$(cb network rm app-network 2>&1); is $? 1 "rm of a network in use fails"
like "$err" "error: network app-network has active endpoints \((mysql, web|web, mysql)\)" \
	"and lists the containers"

# ---- a container on another namespace cannot join a running network ----
cb run -d --name other --network none busybox sleep 1000 >/dev/null
err=$(cb network connect app-network other 2>&1); is $? 1 "connect of a running container in another namespace fails"
like "$err" "cannot connect running container 'other' to network 'app-network': it runs in another network namespace; stop it first" \
	"with a clear message"

# ---- connect of a stopped container takes effect at its start ----
cb stop -t 0 other >/dev/null
cb network connect app-network other; ok $? "connect a stopped container"
like "$(cat "$mysql_hosts")" "127.0.0.1	other " "the running members learn its name"
cb network connect app-network other 2>/dev/null; is $? 1 "connecting twice fails"
cb start other >/dev/null; ok $? "start it"
is "$(retry cb exec other nc mysql 3306 </dev/null)" hello-db "it joined the network at start"
is "$(cb exec other readlink /proc/self/ns/net)" "$(cb exec mysql readlink /proc/self/ns/net)" \
	"in the network's namespace"

# ---- disconnect and rm take names away ----
cb network disconnect app-network other; ok $? "disconnect"
unlike "$(cat "$mysql_hosts")" "	other " "its name is gone from the members' hosts"
unlike "$(cb exec other cat /etc/hosts)" "mysql" "and theirs from its own"
cb network disconnect app-network other 2>/dev/null; is $? 1 "disconnect of a non-member fails"
cb rm -f other >/dev/null
cb rm -f web >/dev/null; ok $? "rm -f web"
unlike "$(cb exec mysql cat /etc/hosts)" "web" "rm takes its name off the others' hosts"

# ---- the course flow: a running container adopts an empty network ----
cb network create ns-net >/dev/null
cb run -d --name db --network none busybox nc -ll -p 3306 -e echo course-db >/dev/null
cb network connect ns-net db; ok $? "connect a running container to an empty network"
is "$(retry cb run --rm --network=ns-net busybox nc db 3306 </dev/null)" course-db \
	"run --network=NET reaches it by name: the network took its namespace"
cb rm -f db >/dev/null
dbport=$(free_port)
cb run -d --name hostdb busybox nc -ll -p "$dbport" -e echo host-db >/dev/null
cb network create course-net >/dev/null
cb network connect course-net hostdb; ok $? "connect a running host-network container"
is "$(retry cb run --rm --network=course-net busybox nc hostdb "$dbport" </dev/null)" host-db \
	"its network's namespace is then the host's"
cb rm -f hostdb >/dev/null

# ---- everything cleaned ----
cb rm -f mysql >/dev/null
is "$(leftovers | tr '\n' ' ')" "0 0 0 " "no mount, process or directory left"
cb network rm app-network ns-net course-net >/dev/null; ok $? "rm of networks no longer used"
is "$(cb network ls -q | wc -l)" 2 "only host and none remain"
is "$(ls -A "$ROOT/networks")" "" "no record left"
# ---- rootless: a clear error, no crash ----
# Each rootless container has its own user namespace; a second member cannot
# join a network namespace owned by the first one's.
if command -v runuser >/dev/null && [ -x /usr/bin/newuidmap ] && own_user cbuild-rl-net 1; then
	u=$OWN_USER
	chmod 711 "$T"
	h=$T/home-net
	mkdir -p "$h"
	cp "$ROOTFS_TAR" "$h/rootfs.tar"
	chown -R "$u:" "$h"
	ucb() { runuser -u "$u" -- env -u CBUILD_ROOT -u XDG_DATA_HOME HOME="$h" "$CBUILD" "$@"; }
	ucb import -c 'CMD ["sh"]' "$h/rootfs.tar" busybox >/dev/null
	ucb network create rl-net >/dev/null; ok $? "rootless: network create"
	ucb run -d --name rl1 --network rl-net busybox sleep 1000 >/dev/null
	ok $? "rootless: the first member starts (its namespace is new)"
	err=$(ucb run --rm --network rl-net busybox true 2>&1); rc=$?
	if [ $rc = 0 ]; then
		pass "rootless: a second member joins"
	else
		is $rc 1 "rootless: a second member fails cleanly (exit 1)"
		like "$err" "rootless: each container has its own user namespace" "and says why"
	fi
	ucb rm -f rl1 >/dev/null
	is "$(ucb ps -aq)" "" "rootless: nothing left"
else
	_tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP rootless: no runuser, newuidmap or user $u"
fi

done_testing
