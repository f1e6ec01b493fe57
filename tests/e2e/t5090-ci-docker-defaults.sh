#!/bin/bash
# Building under Docker's DEFAULTS (issue 27): no --privileged, no
# --cap-add, no --security-opt. Docker's seccomp profile refuses unshare
# (every namespace) and mount there, so cbuild runs RUN steps the way kaniko
# does: chroot'ed (CAP_SYS_CHROOT is a default capability) into a copy of
# the step's tree, without namespaces, and snapshots by walking the tree
# (the copy snapshotter). This test
#   - builds the CI image (ci/Dockerfile, context from ci/mkcontext.sh)
#     with cbuild itself, on the Debian base, and loads it into a dockerd
#     started here with its own data root;
#   - runs it with docker's default seccomp profile and capabilities (both
#     checked from inside) and builds a Dockerfile with RUN, COPY, ADD of a
#     tar, a multi-stage COPY --from and a cache mount;
#   - compares the result with the host's normal build (overlay,
#     namespaces) and with the host's build with --storage-driver copy: the
#     same image ID (byte-identical layers), and the same tree and config
#     under the differential tests' rules;
#   - checks the cache mount keeps its content from one build to the next
#     and is given back after a failing RUN, that auto says once that steps
#     are not isolated, and that `cbuild info` names the isolation and the
#     snapshotter;
#   - as a non-root user (--user 1000:1000, store on a volume, with and
#     without subuid ranges, and on the container's root): RUN under proot,
#     the host's image ID for the Dockerfile without its chown; without
#     proot the build says so;
#   - installs a Debian package with apt-get in such a container (the
#     container gets the host's network for the mirror) and compares the
#     tree with the host build's under the apt rules.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (dockerd)"
command -v dockerd >/dev/null && [ -x /usr/bin/docker ] ||
	skip_all "dockerd or Debian's /usr/bin/docker is not installed"
ensure_debian_tar

export SOURCE_DATE_EPOCH=1700000000
import_busybox
import_debian debian:bookworm

# --- the CI image, built by cbuild ---
"$TOP/ci/mkcontext.sh" "$CBUILD" "$T/cictx" 2>"$T/mkcontext.err"
ok $? "ci/mkcontext.sh makes the CI image's context" || diag "$(cat "$T/mkcontext.err")"
cb build -q --build-arg BASE=debian:bookworm -t cbuild-ci:test "$T/cictx" >/dev/null 2>"$T/ci.err"
ok $? "cbuild builds the CI image (ci/Dockerfile)" || diag "$(tail -5 "$T/ci.err")"
cb save -o "$T/ci.tar" cbuild-ci:test
cb save -o "$T/busybox.tar" busybox:latest
cb save -o "$T/debian.tar" debian:bookworm

dockerd_start || skip_all "$WHY"
dk load -i "$T/ci.tar" >/dev/null 2>"$T/load.err"
ok $? "dockerd loads the CI image" || diag "$(cat "$T/load.err")"

# --- the Dockerfile ---
mkdir -p "$T/ctx/d" "$T/out"
echo "from the context" >"$T/ctx/a.txt"
echo "in a tar" >"$T/ctx/d/t.txt"
tar -C "$T/ctx" -czf "$T/ctx/t.tgz" --owner=0 --group=0 --mtime=@1600000000 d
rm -r "$T/ctx/d"
cat >"$T/ctx/Dockerfile" <<'DF'
FROM busybox AS base
COPY a.txt /a.txt
RUN echo built >/b.txt && mkdir -m 700 /d && echo x >/d/x && rm /bin/false && id -u >/uid
FROM busybox
COPY --from=base /b.txt /d /from-base/
ADD t.tgz /srv/
COPY a.txt /
RUN --mount=type=cache,target=/var/cache/c echo ok >/var/cache/c/seen && cat /var/cache/c/seen >/seen
RUN cat /from-base/b.txt /a.txt /srv/d/t.txt >/c.txt && chown 1234:5678 /c.txt && echo gone >/dev/null && rm -r /tmp && ln -s c.txt /l
WORKDIR /w
RUN touch here
DF

cb build -q --iidfile "$T/host.iid" -t ci:host "$T/ctx" >/dev/null 2>"$T/host.err"
ok $? "the host build (overlay, namespaces)" || diag "$(cat "$T/host.err")"
cb build -q --no-cache --storage-driver copy --iidfile "$T/hostcopy.iid" -t ci:hostcopy "$T/ctx" \
	>/dev/null 2>"$T/hostcopy.err"
ok $? "the host build with --storage-driver copy" || diag "$(cat "$T/hostcopy.err")"
cb save -o "$T/host.tar" ci:host

# in_ci DOCKER-FLAGS... -- SCRIPT: the CI image with docker's defaults (plus
# the flags), the store on a volume of its own, the context read-only, $T/out
# writable
in_ci() {
	local flags=()
	while [ "$1" != -- ]; do flags+=("$1"); shift; done; shift
	dk run --rm "${flags[@]}" -v "$T/busybox.tar:/busybox.tar:ro" \
		-v "$T/debian.tar:/debian.tar:ro" -v "$T/ctx:/ctx:ro" -v "$T/out:/out" \
		-e SOURCE_DATE_EPOCH cbuild-ci:test sh -c "$1"
}

out=$(in_ci --network none -- 'set -e
grep -E "^(CapEff|Seccomp):" /proc/self/status
cbuild load -q -i /busybox.tar >/dev/null
cbuild info >/out/info 2>&1 || { cat /out/info >&2; exit 1; }
cbuild build -q --iidfile /out/iid -t ci:x /ctx >/dev/null 2>/out/build.err ||
	{ cat /out/build.err >&2; exit 1; }
cbuild save -o /out/ci.tar ci:x
# the cache mount: kept between builds
printf "FROM busybox\nRUN --mount=type=cache,target=/c echo hit >>/c/log && wc -l </c/log\n" >/tmp/Dcache
cbuild build --no-cache --progress plain -f /tmp/Dcache /tmp >/out/cache1 2>&1
cbuild build --no-cache --progress plain -f /tmp/Dcache /tmp >/out/cache2 2>&1
# a failing RUN gives the cache back too
printf "FROM busybox\nRUN --mount=type=cache,target=/c echo fail >>/c/log && false\n" >/tmp/Dfail
! cbuild build --no-cache -f /tmp/Dfail /tmp >/out/fail 2>&1
cbuild build --no-cache --progress plain -f /tmp/Dcache /tmp >/out/cache3 2>&1
cat /out/iid' 2>&1)
rc=$?
ok $rc "docker's defaults: the CI image builds" || diag "$out"
like "$out" "CapEff:[[:space:]]+00000000a80425fb" "docker's default capabilities in the container"
like "$out" "Seccomp:[[:space:]]+2" "docker's default seccomp filter in the container"
ID=$(tail -1 <<<"$out")
is "$ID" "$(cat "$T/hostcopy.iid")" "the same image ID as the host's --storage-driver copy build"
is "$ID" "$(cat "$T/host.iid")" "the same image ID as the host's normal build (overlay, namespaces)"
cmp=$(same_tree ci:host "$T/out/ci.tar" 2>&1)
ok $? "the same tree and config as the host's normal build" || diag "$cmp"
INFO=$(cat "$T/out/info")
like "$INFO" "isolation: none" "info: isolation none"
like "$INFO" "root: chroot \\(no namespaces\\)" "info: chroot, no namespaces"
like "$INFO" "snapshotter: copy \\(no namespaces" "info: the copy snapshotter, and why"
like "$INFO" "- namespaces: unshare: Operation not permitted" "info: why no namespaces"
ERR=$(cat "$T/out/build.err")
like "$ERR" "cbuild: running without namespaces: RUN steps are not isolated from this container" \
	"the build says once that RUN steps are not isolated"
is "$(grep -c 'running without namespaces' <<<"$ERR")" 1 "once"
like "$(cat "$T/out/cache1")" $'\n1\n' "cache mount: the first build starts empty"
like "$(cat "$T/out/cache2")" $'\n2\n' "cache mount: the second build sees the first's file"
like "$(cat "$T/out/fail")" "exit status 1" "a failing RUN fails the build"
like "$(cat "$T/out/cache3")" $'\n4\n' "cache mount: given back after the failing RUN"
diag "docker's defaults, cbuild info:" "$INFO"

# an explicit choice that cannot be had is an error
out=$(in_ci --network none -- 'cbuild load -q -i /busybox.tar >/dev/null; cbuild build -q --isolation namespaces /ctx' 2>&1)
ok $((! $?)) "docker's defaults: --isolation namespaces fails"
out=$(in_ci --network none -- 'cbuild load -q -i /busybox.tar >/dev/null; cbuild build -q --storage-driver overlay /ctx' 2>&1)
ok $((! $?)) "docker's defaults: --storage-driver overlay fails"
like "$out" "overlay needs a mount" "with the reason"

# --- the store on the container's own overlayfs root (no volume) ---
out=$(in_ci --network none -- 'set -e
cbuild --root /root/store load -q -i /busybox.tar >/dev/null
cbuild --root /root/store info | grep -E "^(store|snapshotter):"
cbuild --root /root/store build -q /ctx 2>/dev/null' 2>&1)
ok $? "docker's defaults, store on overlayfs: builds" || diag "$out"
like "$out" "store: /root/store \\(overlay\\)" "the store is on overlayfs"
is "$(tail -1 <<<"$out")" "$(cat "$T/host.iid")" "store on overlayfs: the same image ID"

# --- a non-root user (docker run --user): no user namespace, no chroot ---
# RUN steps run under proot (ptrace), in the CI image; a RUN's chown to
# another owner is faked there (the file stays root's in the layer), so this
# Dockerfile is the one above without it
mkdir -p "$T/ctxu"
cp -a "$T/ctx/." "$T/ctxu/"
sed -i 's| \&\& chown 1234:5678 /c.txt||' "$T/ctxu/Dockerfile"
! grep -q chown "$T/ctxu/Dockerfile"
ok $? "the user's Dockerfile has no chown"
cb build -q --iidfile "$T/hostu.iid" "$T/ctxu" >/dev/null 2>"$T/hostu.err"
ok $? "the host build of the user's Dockerfile" || diag "$(cat "$T/hostu.err")"
printf '1000:100000:65536\n' >"$T/subuid"
for row in "volume" "volume, subuids" "container root"; do
	rm -rf "$T/ustore" && mkdir -p "$T/ustore" && chown 1000:1000 "$T/ustore" "$T/out"
	flags=(--user 1000:1000 -e HOME=/tmp --network none)
	store=/ustore
	case $row in
	volume*) flags+=(-v "$T/ustore:/ustore") ;;
	*) store=/tmp/store ;;
	esac
	case $row in *subuids) flags+=(-v "$T/subuid:/etc/subuid:ro" -v "$T/subuid:/etc/subgid:ro") ;; esac
	out=$(dk run --rm "${flags[@]}" -v "$T/busybox.tar:/busybox.tar:ro" -v "$T/ctxu:/ctx:ro" \
		-v "$T/out:/out" -e SOURCE_DATE_EPOCH cbuild-ci:test sh -c "set -e
id -u; grep -E '^CapEff:' /proc/self/status
cbuild --root $store load -q -i /busybox.tar >/dev/null
cbuild --root $store info >/out/uinfo 2>&1
cbuild --root $store build -q /ctx 2>/out/ubuild.err" 2>&1)
	ok $? "a user, store on the $row: the CI image builds" || diag "$out" "$(cat "$T/out/ubuild.err" 2>/dev/null)"
	like "$out" "^1000$" "a user, store on the $row: uid 1000"
	like "$out" "CapEff:[[:space:]]+0000000000000000" "a user, store on the $row: no capability"
	is "$(tail -1 <<<"$out")" "$(cat "$T/hostu.iid")" "a user, store on the $row: the host's image ID"
done
like "$(cat "$T/out/uinfo")" "root: proot \\(ptrace" "info: a user's RUN steps run under proot"
like "$(cat "$T/out/uinfo")" "isolation: none" "info: isolation none"
like "$(cat "$T/out/ubuild.err")" "running without namespaces: RUN steps are not isolated" \
	"the user's build says RUN steps are not isolated"
# COPY --chown to another owner: refused, with the reason (files cannot be given away)
mkdir -p "$T/ctxc" && echo c >"$T/ctxc/a" && printf 'FROM busybox\nCOPY --chown=1:1 a /a\n' >"$T/ctxc/Dockerfile"
out=$(dk run --rm --user 1000:1000 -e HOME=/tmp --network none -v "$T/busybox.tar:/busybox.tar:ro" \
	-v "$T/ctxc:/ctx:ro" cbuild-ci:test sh -c \
	'cbuild --root /tmp/s load -q -i /busybox.tar >/dev/null; cbuild --root /tmp/s build -q /ctx' 2>&1)
ok $((! $?)) "a user: COPY --chown=1:1 fails"
like "$out" "--chown=1:1: without namespaces a non-root user cannot give files another owner" \
	"saying why"
# without proot: said, not a chroot's EPERM
out=$(dk run --rm --user 1000:1000 -e HOME=/tmp --network none -v "$T/busybox.tar:/busybox.tar:ro" \
	-v "$T/ctxu:/ctx:ro" -e PATH=/usr/bin:/bin cbuild-ci:test sh -c \
	'/usr/local/bin/cbuild --root /tmp/s load -q -i /busybox.tar >/dev/null; /usr/local/bin/cbuild --root /tmp/s build -q /ctx' 2>&1)
ok $((! $?)) "a user without proot: the build fails"
like "$out" "a non-root user needs proot" "saying proot is what is missing"

# --- apt-get on the Debian base (the host's network, for the mirror) ---
mkdir -p "$T/apt"
cat >"$T/apt/Dockerfile" <<'DF'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/* && hello
DF
cb build -q -t apt:host "$T/apt" >/dev/null 2>"$T/apt.err"
if [ $? != 0 ]; then
	diag "apt-get on the host failed (mirror?):" "$(tail -3 "$T/apt.err")"
	skip_n=1
fi
if [ -z "${skip_n:-}" ]; then
	out=$(dk run --rm --network host -v "$T/debian.tar:/debian.tar:ro" -v "$T/apt:/apt:ro" \
		-v "$T/out:/out" -e SOURCE_DATE_EPOCH cbuild-ci:test sh -c 'set -e
cbuild load -q -i /debian.tar >/dev/null
cbuild build -q -t apt:x /apt 2>/out/apt.err >/dev/null || { tail -20 /out/apt.err >&2; exit 1; }
cbuild save -o /out/apt.tar apt:x' 2>&1)
	ok $? "docker's defaults: apt-get install builds" || diag "$out"
	cmp=$(same_tree apt:host "$T/out/apt.tar" --apt 2>&1)
	ok $? "apt-get: the same tree and config as the host's build (apt rules)" || diag "$cmp"
fi

done_testing
