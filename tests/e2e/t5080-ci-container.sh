#!/bin/bash
# Building inside an unprivileged CI container (issue 27): cbuild runs in a
# container of Debian's dockerd (started here with its own state), its store
# on a Docker volume, cbuild and its libraries bound read-only from the host
# (the same Debian), and builds a Dockerfile with RUN, COPY and a multi-stage
# COPY --from; the image ID equals the host build's (same SOURCE_DATE_EPOCH).
# Rows: --security-opt seccomp=unconfined as root (no CAP_SYS_ADMIN: a user
# namespace with an identity map, the outer /proc bound), as a user with
# subuids (newuidmap refused: the single-id map) and without; --cap-add
# SYS_ADMIN as root (Docker's seccomp refuses pivot_root: chroot) and as a
# user with subuids and without. Each fallback must be named by `cbuild info` and on
# stderr. Docker's defaults (no namespace can be made at all) build in the
# no-namespace mode (t5090 compares its images).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (dockerd)"
command -v dockerd >/dev/null && [ -x /usr/bin/docker ] ||
	skip_all "dockerd or Debian's /usr/bin/docker is not installed"
ensure_debian_tar # the container's base (testdata/mkdebian.sh, cached)

export SOURCE_DATE_EPOCH=1700000000
import_busybox
mkdir -p "$T/ctx"
echo "from the context" >"$T/ctx/a.txt"
cat >"$T/ctx/Dockerfile" <<'DF'
FROM busybox AS base
COPY a.txt /a.txt
RUN echo built >/b.txt && mkdir -m 700 /d && echo x >/d/x && rm /bin/false && id -u >/uid
FROM busybox
COPY --from=base /b.txt /d /from-base/
COPY a.txt /
RUN cat /from-base/b.txt /a.txt >/c.txt && chown 1234:5678 /c.txt && grep -c . /proc/self/mounts >/dev/null
DF

dockerd_start || skip_all "$WHY"
dk import "$DEBIAN_TAR" cbuild-ci-debian:1 >/dev/null 2>"$DD/import.err" ||
	skip_all "could not import the Debian base: $(tail -1 "$DD/import.err")"

cb build -q --iidfile "$T/host.iid" -t ci:host "$T/ctx" >/dev/null 2>"$T/host.err"
ok $? "the host build" || diag "$(cat "$T/host.err")"
HOST_ID=$(cat "$T/host.iid")
# the same base in every store (an import would stamp its own time)
cb save -o "$T/busybox.tar" busybox:latest

# cbuild and its libraries come from the host, read-only (same Debian);
# the store is a Docker volume of its own per row
in_ci() { # in_ci NAME DOCKER-FLAGS... -- SCRIPT
	local name=$1; shift
	local flags=()
	while [ "$1" != -- ]; do flags+=("$1"); shift; done; shift
	dk run --rm --network none "${flags[@]}" \
		-v "$CBUILD:/usr/local/bin/cbuild:ro" -v /usr/lib:/usr/lib:ro \
		-v "$T/busybox.tar:/busybox.tar:ro" -v "$T/ctx:/ctx:ro" -v "cbci-$name:/store" \
		-e SOURCE_DATE_EPOCH -e HOME=/root cbuild-ci-debian:1 sh -c "$1"
}
SCRIPT='set -e
cbuild --root /store load -q -i /busybox.tar >/dev/null
cbuild --root /store info >/store/info 2>&1 || { cat /store/info >&2; exit 1; }
cbuild --root /store build -q --iidfile /store/iid -t ci:x /ctx >/dev/null 2>/store/build.err ||
	{ cat /store/build.err >&2; exit 1; }
cat /store/iid'

row() { # row NAME DOCKER-FLAGS...
	local name=$1; shift
	out=$(in_ci "$name" "$@" -- "$SCRIPT" 2>&1); rc=$?
	ID=$(tail -1 <<<"$out")
	INFO=$(in_ci "$name" "$@" -- 'cat /store/info /store/build.err' 2>&1)
}

# --- --security-opt seccomp=unconfined: root without CAP_SYS_ADMIN ---
row unconfined --security-opt seccomp=unconfined
ok $rc "seccomp=unconfined: the build runs" || diag "$out"
is "$ID" "$HOST_ID" "seccomp=unconfined: the same image ID as the host build"
like "$INFO" "user namespace: yes, id map: identity" "seccomp=unconfined: info names the identity map"
like "$INFO" "mount namespace: unshare: Operation not permitted" "seccomp=unconfined: and why (no CAP_SYS_ADMIN)"
like "$INFO" "/proc: outer /proc bound" "seccomp=unconfined: the outer /proc is bound"
like "$INFO" "- /proc: mount of a fresh proc: Operation not permitted" "seccomp=unconfined: and why"
like "$INFO" "cbuild: isolation: mount namespace: " "seccomp=unconfined: the build says so on stderr"
diag "seccomp=unconfined:" "$INFO"

# --- --cap-add SYS_ADMIN: Docker's seccomp refuses pivot_root ---
row sysadmin --cap-add SYS_ADMIN
ok $rc "cap-add SYS_ADMIN: the build runs" || diag "$out"
is "$ID" "$HOST_ID" "cap-add SYS_ADMIN: the same image ID as the host build"
like "$INFO" "root: chroot" "cap-add SYS_ADMIN: chroot instead of pivot_root"
like "$INFO" "- root: pivot_root: Operation not permitted" "cap-add SYS_ADMIN: and why"
like "$INFO" "user namespace: none" "cap-add SYS_ADMIN: no user namespace needed"
diag "cap-add SYS_ADMIN:" "$INFO"

# an explicit choice that cannot be had is an error
out=$(in_ci sysadmin --cap-add SYS_ADMIN -- 'cbuild --root /store build -q --no-cache --isolation namespaces /ctx' 2>&1); rc=$?
ok $((rc == 0)) "cap-add SYS_ADMIN: --isolation namespaces fails"
like "$out" "pivot_root .*--isolation namespaces: no fallback to chroot" "with the reason"

# --- seccomp=unconfined as a user: a rootless build, with a subordinate
# range (newuidmap is refused in the container: the single-id map, with a
# warning, as buildah) and without one. No chown here: only root is mapped.
mkdir -p "$T/ctxu"
cp "$T/ctx/a.txt" "$T/ctxu/"
cat >"$T/ctxu/Dockerfile" <<'DF'
FROM busybox AS base
COPY a.txt /a.txt
RUN echo built >/b.txt && mkdir -m 700 /d && rm /bin/false
FROM busybox
COPY --from=base /b.txt /d /from-base/
RUN cat /from-base/b.txt >/c.txt
DF
cb build -q --iidfile "$T/hostu.iid" "$T/ctxu" >/dev/null 2>"$T/hostu.err"
ok $? "the host build of the user's Dockerfile" || diag "$(cat "$T/hostu.err")"
user_row() { # user_row NAME SUBUID-LINE [DOCKER-FLAGS...]
	local name=$1 sub=$2; shift 2
	in_ci "$name" "${@:---security-opt=seccomp=unconfined}" -v "$T/ctxu:/ctxu:ro" \
		-v /usr/bin/newuidmap:/usr/bin/newuidmap:ro -v /usr/bin/newgidmap:/usr/bin/newgidmap:ro -- "
		set -e
		echo ci:x:1000:1000::/home/ci:/bin/sh >>/etc/passwd
		echo '$sub' >/etc/subuid; echo '$sub' >/etc/subgid
		mkdir -p /home/ci; chown 1000:1000 /home/ci /store
		setpriv --reuid 1000 --regid 1000 --clear-groups env HOME=/home/ci sh -c '
			cbuild --root /store load -q -i /busybox.tar >/dev/null
			cbuild --root /store info || true
			cbuild --root /store build -q --iidfile /store/iid /ctxu >/dev/null'
		cat /store/iid"
}
out=$(user_row usersub "ci:100000:65536" 2>&1); rc=$?
ok $rc "seccomp=unconfined, user with subuids: the build runs" || diag "$out"
is "$(tail -1 <<<"$out")" "$(cat "$T/hostu.iid")" "user with subuids: the host's image ID"
like "$out" "cbuild: isolation: newuidmap/newgidmap failed" "user with subuids: the single-id fallback is said"
like "$out" "id map: single id" "user with subuids: info names the single-id map"
diag "user with subuids:" "$(grep -v '^sha256' <<<"$out")"
out=$(user_row usernosub "" 2>&1); rc=$?
ok $rc "seccomp=unconfined, user without subuids: the build runs" || diag "$out"
is "$(tail -1 <<<"$out")" "$(cat "$T/hostu.iid")" "user without subuids: the host's image ID"
like "$out" "- /proc: mount of a fresh proc" "user without subuids: the outer /proc, said"

# --- cap-add SYS_ADMIN as a user, with subuids and without ---
out=$(user_row sysadminuser "ci:100000:65536" --cap-add SYS_ADMIN 2>&1); rc=$?
ok $rc "cap-add SYS_ADMIN, user with subuids: the build runs" || diag "$out"
is "$(tail -1 <<<"$out")" "$(cat "$T/hostu.iid")" "cap-add SYS_ADMIN, user: the host's image ID"
diag "cap-add SYS_ADMIN, user with subuids:" "$(grep -v '^sha256' <<<"$out")"
out=$(user_row sysadminnosub "" --cap-add SYS_ADMIN 2>&1); rc=$?
ok $rc "cap-add SYS_ADMIN, user without subuids: the build runs" || diag "$out"
is "$(tail -1 <<<"$out")" "$(cat "$T/hostu.iid")" "cap-add SYS_ADMIN, user without subuids: the host's image ID"

# --- Docker's defaults: no namespace at all, the no-namespace mode (t5090
# tests it in full: trees, apt, cache mounts). /proc is empty there (it
# cannot be mounted), so the Dockerfile that reads /proc/self/mounts fails
# and the user's Dockerfile builds. ---
out=$(in_ci defaults -v "$T/ctxu:/ctxu:ro" -- 'set -e
cbuild --root /store load -q -i /busybox.tar >/dev/null
cbuild --root /store info | grep "^isolation:"
cbuild --root /store build -q /ctxu 2>/dev/null' 2>&1); rc=$?
ok $rc "Docker's defaults: the build runs (no namespaces, copy snapshots)" || diag "$out"
like "$out" "isolation: none" "Docker's defaults: info says isolation none"
out=$(in_ci defaults -- 'cbuild --root /store build -q --no-cache /ctx' 2>&1)
ok $((! $?)) "Docker's defaults: a RUN reading /proc fails (/proc is empty)"

done_testing
