#!/bin/bash
# The sandbox matrix, against Docker's values: inside a RUN and inside a
# `run` container, the effective capabilities are Docker's, seccomp is in
# filter mode (Docker's default profile), user and mount namespaces,
# keyctl and mount are refused, a fork bomb stops at the pids limit, and
# no_new_privs is set. The same static probe then runs in a container of
# Debian's dockerd (started here with its own state) and must see the same
# values (but no_new_privs, which Docker leaves off). Also: seccomp=
# unconfined and a JSON profile for `run`, RUN --security=insecure behind
# --allow security.insecure, the pids cgroups removed afterwards.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (pids cgroups, dockerd)"
grep -q ' - cgroup .*pids' /proc/self/mountinfo ||
	grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null ||
	skip_all "no pids cgroup controller on this host"
cc -static -O1 -o "$T/probe" "$TOP/testdata/sbxprobe.c" 2>"$T/cc.err" ||
	skip_all "cannot build the static probe: $(head -1 "$T/cc.err")"
import_busybox

LIMIT=20     # the pids limit the bombs run under
BOMB=$((LIMIT + 10))
# the fixed part of the matrix, as Docker has it (CapEff: MACHINE-NOTES)
MATRIX="capeff=00000000a80425fb
seccomp=2
unshare_user=EPERM
unshare_mnt=EPERM
keyctl=EPERM
mount=EPERM
forks=$((LIMIT - 1))
fork_err=EAGAIN"
matrix() { grep -E '^(capeff|seccomp|unshare_user|unshare_mnt|keyctl|mount|forks|fork_err)=' <<<"$1"; }
val() { sed -n "s/^$2=//p" <<<"$1" | head -1; }
cgroup_gone() { # the host side of a pids cgroup the probe reported (a
	# detached container's monitor removes it after `rm` returned: wait)
	local mnt i; mnt=$(awk '$0 ~ / - cgroup .*pids/ {print $5; exit}' /proc/self/mountinfo)
	[ -n "$1" ] && [ "$1" != / ] || return 1
	for i in $(seq 50); do [ ! -d "$mnt$1" ] && return 0; sleep 0.1; done
	return 1
}

# --- inside a RUN ---
mkdir -p "$T/ctx"
cp "$T/probe" "$T/ctx/probe"
printf 'FROM busybox\nCOPY probe /probe\nRUN ["/probe", "%d"]\n' "$BOMB" >"$T/ctx/Dockerfile"
out=$(CBUILD_RUN_PIDS_LIMIT=$LIMIT cb build --no-cache --progress plain -t probe:run "$T/ctx" 2>&1)
ok $? "a RUN with the probe builds"
run_out=$(grep -E '^[a-z_]+=' <<<"$out")
is "$(matrix "$run_out")" "$MATRIX" "RUN: Docker's capabilities, seccomp filter, no namespaces, keyctl or mount, pids bounded"
is "$(val "$run_out" nnp)" 1 "RUN: no_new_privs"
like "$(val "$run_out" pids_cgroup)" '/cbuild-[0-9]+-[0-9]+$' "RUN: in a pids cgroup of its own"
cgroup_gone "$(val "$run_out" pids_cgroup)"; ok $? "RUN: its cgroup is removed afterwards"

# the default limit applies without the variable (a cgroup is made)
printf 'FROM busybox\nCOPY probe /probe\nRUN ["/probe"]\n' >"$T/ctx/Dockerfile"
out=$(cb build --no-cache --progress plain -t probe:default "$T/ctx" 2>&1)
like "$(val "$out" pids_cgroup)" '/cbuild-' "RUN: a pids cgroup by default"

# --- RUN --security=insecure: refused without --allow, as BuildKit ---
printf 'FROM busybox\nCOPY probe /probe\nRUN --security=insecure ["/probe"]\n' >"$T/ctx/Dockerfile"
out=$(cb build --no-cache -t probe:insecure "$T/ctx" 2>&1); rc=$?
is "$rc" 1 "RUN --security=insecure without --allow fails"
like "$out" 'security.insecure is not allowed' "with BuildKit's message"
out=$(cb build --no-cache --progress plain --allow security.insecure -t probe:insecure "$T/ctx" 2>&1)
ok $? "with --allow security.insecure it runs"
is "$(val "$out" seccomp)" 0 "insecure: no seccomp filter"
is "$(val "$out" capeff)" "$(printf '%016x' "$((0x$(sed -n 's/^CapBnd:\s*//p' /proc/self/status)))")" \
	"insecure: every capability the host has"
cb build -q --allow bogus.thing "$T/ctx" >/dev/null 2>"$T/err"; is $? 2 "an unknown entitlement is a usage error"

# --- inside a `run` container ---
ctr_out=$(cb run --rm --pids-limit "$LIMIT" -v "$T/probe:/probe:ro" busybox /probe "$BOMB" 2>&1)
ok $? "run: the probe runs"
is "$(matrix "$ctr_out")" "$MATRIX" "run: Docker's capabilities, seccomp filter, no namespaces, keyctl or mount, pids bounded"
is "$(val "$ctr_out" nnp)" 1 "run: no_new_privs"
cgroup_gone "$(val "$ctr_out" pids_cgroup)"; ok $? "run: its cgroup is removed afterwards"

out=$(cb run --rm -v "$T/probe:/probe:ro" busybox /probe "$BOMB" 2>&1)
is "$(val "$out" pids_cgroup)/$(val "$out" forks)" "//$BOMB" "run: no pids limit unless asked (Docker's default)"
cb run --rm --pids-limit nope busybox true 2>/dev/null; is $? 125 "run: a bad --pids-limit is a usage error (125)"

out=$(cb run --rm --security-opt seccomp=unconfined -v "$T/probe:/probe:ro" busybox /probe 2>&1)
is "$(val "$out" seccomp)/$(val "$out" unshare_user)" "0/ok" "run: seccomp=unconfined has no filter (a user namespace can be made)"
cat >"$T/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
EOF
out=$(cb run --rm --security-opt "seccomp=$T/profile.json" busybox sh -c 'mkdir /x 2>&1; grep Seccomp: /proc/self/status')
like "$out" "can't create directory '/x': Permission denied" "run: a JSON profile's rule applies"
like "$out" 'Seccomp:.2' "run: in filter mode"
echo '{"defaultAction": "SCMP_ACT_NOPE"}' >"$T/bad.json"
out=$(cb run --rm --security-opt "seccomp=$T/bad.json" busybox true 2>&1); rc=$?
ok $((rc == 0)) "run: a bad profile is refused"
like "$out" "seccomp profile '$T/bad.json': defaultAction: unknown action 'SCMP_ACT_NOPE'" "with the place and the reason"
cb run --rm --security-opt apparmor=x busybox true 2>/dev/null; is $? 125 "run: other --security-opt values are refused, not ignored"

# exec: the container's profile and its pids cgroup
id=$(cb run -d --pids-limit "$LIMIT" -v "$T/probe:/probe:ro" busybox sleep 60)
ctr_cg=$(cb exec "$id" cat /proc/1/cgroup | sed -n 's/^[0-9]*:pids://p')
out=$(cb exec "$id" /probe 2>&1)
is "$(val "$out" seccomp)/$(val "$out" pids_cgroup)" "2/$ctr_cg" "exec: seccomp filter, the container's pids cgroup"
cb rm -f "$id" >/dev/null
cgroup_gone "$ctr_cg"; ok $? "a detached container's cgroup is removed with it"

# --- Docker's values, from Debian's dockerd with its own state ---
docker_half() { dockerd_start && dockerd_load_busybox; }
WHY=
if docker_half; then
	dk_out=$(dk run --rm --network none --pids-limit "$LIMIT" -v "$T/probe:/probe:ro" busybox /probe "$BOMB" 2>&1)
	ok $? "docker: the probe runs"
	is "$(matrix "$ctr_out")" "$(matrix "$dk_out")" "cbuild's container matrix equals Docker's"
	is "$(matrix "$run_out")" "$(matrix "$dk_out")" "cbuild's RUN matrix equals Docker's"
	diag "docker's no_new_privs: $(val "$dk_out" nnp) (cbuild sets it, as buildah does)"
	dockerd_stop "$DD"
else
	echo "# SKIP docker half: $WHY"
fi

done_testing
