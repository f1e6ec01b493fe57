#!/usr/bin/env bash
# A rootless RUN gets the pids limit where a cgroup is delegated to the
# user, and where none is, the build's warning and `cbuild info` say so and
# why (issue 23, the sandbox leftovers; the old code's warning said "no
# usable pids cgroup controller" whatever the reason, and info said
# nothing). The delegation is made the way a system manager makes one: root
# creates a cgroup in the pids hierarchy, gives it to the user and starts
# the user's command inside it.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (to make users and delegate a cgroup)"
command -v runuser >/dev/null && command -v useradd >/dev/null || skip_all "no runuser/useradd"
PIDS_MNT=$(awk '$0 ~ / - cgroup .*pids/ {print $5; exit}' /proc/self/mountinfo)
[ -n "$PIDS_MNT" ] || skip_all "no cgroup v1 pids hierarchy on this host"
own_user cbuild-pids 0 || skip_all "cannot add a user"
u=$OWN_USER
chmod 711 "$T" # the user reaches its home under it, nothing else
h=$T/home
mkdir -p "$h/ctx"
cp "$ROOTFS_TAR" "$h/rootfs.tar"
printf 'FROM busybox\nRUN grep pids /proc/self/cgroup\n' >"$h/ctx/Dockerfile"
chown -R "$u" "$h"
ucb() { runuser -u "$u" -- env -u CBUILD_ROOT -u XDG_DATA_HOME HOME="$h" "$CBUILD" --root "$h/root" "$@"; }
ucb import -c 'CMD ["sh"]' "$h/rootfs.tar" busybox:latest >/dev/null 2>"$T/imp.err" || skip_all "rootless import failed: $(tail -1 "$T/imp.err")"

# root: the limit applies
like "$(cb info 2>&1)" "pids limit: RUN steps get one" "root: info says RUN steps get a pids limit"

# rootless, no delegated cgroup: said, with the reason
out=$(ucb info 2>&1)
like "$out" "pids limit: none for RUN steps, run --pids-limit fails: cgroup '$PIDS_MNT[^']*' is not writable \(none is delegated to this user\)" \
	"rootless: info says there is no pids limit and why"
out=$(ucb build --no-cache --progress plain "$h/ctx" 2>&1); ok $? "rootless: the build runs"
like "$out" "\[Warning\] RUN steps have no pids limit: cgroup '.*' is not writable \(none is delegated" \
	"rootless: the build's warning says why"
unlike "$out" "pids:.*cbuild-" "rootless: the RUN is in no cbuild pids cgroup"

# rootless in a delegated cgroup: the RUN gets its limit there
D=$PIDS_MNT/cbuild-test-deleg-$$
mkdir "$D" && chown -R "$u" "$D" || skip_all "cannot delegate a pids cgroup"
at_exit "rmdir '$D' 2>/dev/null"
in_deleg() { sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$D" "$@"; }
out=$(in_deleg runuser -u "$u" -- env -u CBUILD_ROOT HOME="$h" "$CBUILD" --root "$h/root" info 2>&1)
like "$out" "pids limit: RUN steps get one, run --pids-limit works \(cgroups under $D\)" \
	"delegated: info says RUN steps get a pids limit, in the delegated cgroup"
out=$(in_deleg runuser -u "$u" -- env -u CBUILD_ROOT HOME="$h" "$CBUILD" --root "$h/root" \
	build --no-cache --progress plain "$h/ctx" 2>&1)
ok $? "delegated: the build runs"
unlike "$out" "no pids limit" "delegated: no warning"
like "$out" "pids:/${D#"$PIDS_MNT"/}/cbuild-[0-9]+-[0-9]+" "delegated: the RUN is in a pids cgroup of its own under the delegated one"
done_testing
