#!/usr/bin/env bash
# compose's pids_limit and security_opt are honoured (issue 23, the sandbox
# leftovers; the old code warned "not supported (ignored)" and ran every
# service with no pids limit and Docker's default profile):
# - pids_limit: N puts the service in a pids cgroup with pids.max N; -1 is
#   none, as docker's --pids-limit;
# - security_opt: seccomp=unconfined runs it without a filter, seccomp=FILE
#   (relative to the project directory) with that profile; label= is warned
#   about; anything cbuild cannot do is an error before anything starts.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (pids cgroups)"
PIDS_MNT=$(awk '$0 ~ / - cgroup .*pids/ {print $5; exit}' /proc/self/mountinfo)
[ -n "$PIDS_MNT" ] || skip_all "no cgroup v1 pids hierarchy on this host"
import_busybox
mkdir -p "$T/sec"
cd "$T/sec"
trap 'cb compose down >/dev/null 2>&1; _cleanup' EXIT
cat > deny-mkdir.json <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
EOF
cat > compose.yaml <<'EOF'
services:
  limited:
    image: busybox
    command: ["sleep", "300"]
    stop_grace_period: 1s
    pids_limit: 25
  unlimited:
    image: busybox
    command: ["sleep", "300"]
    stop_grace_period: 1s
    pids_limit: -1
  unconfined:
    image: busybox
    command: ["sleep", "300"]
    stop_grace_period: 1s
    security_opt: ["seccomp=unconfined", "no-new-privileges:true", "label=disable"]
  profiled:
    image: busybox
    command: ["sleep", "300"]
    stop_grace_period: 1s
    security_opt: ["seccomp:deny-mkdir.json"]
EOF
out=$(cb compose up -d 2>&1); ok $? "compose up -d" || diag "$out"
unlike "$out" "pids_limit|security_opt' is not supported" "no 'not supported' warning for pids_limit or security_opt"
like "$out" "security_opt 'label=disable' has no effect here" "label= is warned about"

pids_cg() { cb exec "sec-$1-1" cat /proc/1/cgroup | sed -n 's/^[0-9]*:pids://p'; }
cg=$(pids_cg limited)
like "$cg" "cbuild-" "limited: in a pids cgroup of its own"
is "$(cat "$PIDS_MNT$cg/pids.max" 2>&1)" 25 "limited: pids.max is 25"
unlike "$(pids_cg unlimited)" "cbuild-" "pids_limit -1: no pids cgroup (Docker's default)"

seccomp() { cb exec "sec-$1-1" grep Seccomp: /proc/self/status | tr -d ' \t'; }
is "$(seccomp limited)" "Seccomp:2" "no security_opt: Docker's default profile (filter mode)"
is "$(seccomp unconfined)" "Seccomp:0" "seccomp=unconfined: no filter"
is "$(seccomp profiled)" "Seccomp:2" "seccomp:FILE: a filter"
like "$(cb exec sec-profiled-1 mkdir /x 2>&1)" "Permission denied" "seccomp:FILE: the profile's rule applies"
cb exec sec-limited-1 mkdir /x; ok $? "the default profile allows mkdir"
cb compose down >/dev/null 2>&1; ok $? "compose down"

# what cbuild cannot do is an error, before anything starts
cat > compose.yaml <<'EOF'
services:
  bad:
    image: busybox
    command: ["sleep", "300"]
    stop_grace_period: 1s
    security_opt: ["systempaths=unconfined"]
EOF
out=$(cb compose up -d 2>&1); is $? 1 "an unsupported security_opt fails up"
like "$out" "service 'bad': unsupported security_opt 'systempaths=unconfined'" "naming the service and the option"
is "$(cb ps -q | wc -l)" 0 "nothing runs"
sed -i 's/systempaths=unconfined/seccomp=missing.json/' compose.yaml
out=$(cb compose up -d 2>&1); is $? 1 "a missing profile fails up"
like "$out" "service 'bad': seccomp profile" "naming the service"
done_testing
