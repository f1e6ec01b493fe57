#!/bin/bash
# A build inside `cbuild run` (issue 27): a container of cbuild's own has
# Docker's default seccomp profile and capabilities, so the cbuild inside
# makes no namespace and builds the way it does under Docker's defaults
# (no namespaces, copy snapshots). The CI image (ci/Dockerfile) is built by
# cbuild, run by cbuild with the store on a volume (-v, nodev as every
# writable mount of cbuild's containers: /dev's nodes are plain files
# there), and the build inside gives the image ID of the host's build with
# --storage-driver copy, which is the host's normal build's (overlay
# snapshots, namespaces); the store on the container's own root works too,
# and so does a non-root user inside (--user 1000:1000: RUN under proot).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (cbuild run of a root container)"
ensure_debian_tar
export SOURCE_DATE_EPOCH=1700000000
import_busybox
import_debian debian:bookworm

"$TOP/ci/mkcontext.sh" "$CBUILD" "$T/cictx" 2>"$T/mkcontext.err"
ok $? "ci/mkcontext.sh" || diag "$(cat "$T/mkcontext.err")"
cb build -q --build-arg BASE=debian:bookworm -t cbuild-ci:test "$T/cictx" >/dev/null 2>"$T/ci.err"
ok $? "cbuild builds the CI image" || diag "$(tail -5 "$T/ci.err")"
cb save -o "$T/busybox.tar" busybox:latest

mkdir -p "$T/ctx" "$T/vol"
echo "from the context" >"$T/ctx/a.txt"
cat >"$T/ctx/Dockerfile" <<'DF'
FROM busybox AS base
COPY a.txt /a.txt
RUN echo built >/b.txt && mkdir -m 700 /d && echo x >/d/x && rm /bin/false
FROM busybox
COPY --from=base /b.txt /d /from-base/
RUN --mount=type=cache,target=/c echo hit >>/c/n && cat /from-base/b.txt >/c.txt && echo x >/dev/null
DF
cb build -q --storage-driver copy --iidfile "$T/host.iid" "$T/ctx" >/dev/null 2>"$T/host.err"
ok $? "the host build (copy snapshots)" || diag "$(cat "$T/host.err")"
cb build -q --no-cache --iidfile "$T/hostov.iid" "$T/ctx" >/dev/null 2>"$T/hostov.err"
ok $? "the host build (overlay, namespaces)" || diag "$(cat "$T/hostov.err")"
is "$(cat "$T/hostov.iid")" "$(cat "$T/host.iid")" "overlay and copy snapshots: the same image"

ci_run() { # ci_run [RUN-FLAGS...] -- SCRIPT
	local flags=()
	while [ "$1" != -- ]; do flags+=("$1"); shift; done; shift
	cb run --rm --network none "${flags[@]}" -v "$T/busybox.tar:/busybox.tar:ro" \
		-v "$T/ctx:/ctx:ro" -e SOURCE_DATE_EPOCH cbuild-ci:test sh -c "$1"
}
out=$(ci_run -v "$T/vol:/var/lib/cbuild" -- 'set -e
cbuild load -q -i /busybox.tar >/dev/null
cbuild info 2>&1 | grep -E "^(isolation|snapshotter):"
cbuild build -q /ctx 2>/dev/null' 2>&1)
ok $? "a build inside cbuild run, store on a volume" || diag "$out"
like "$out" "isolation: none" "info inside: isolation none"
like "$out" "snapshotter: copy" "info inside: the copy snapshotter"
is "$(tail -1 <<<"$out")" "$(cat "$T/host.iid")" "the host's image ID"
ls "$T/vol/blobs/sha256" >/dev/null 2>&1
ok $? "the store is on the volume"

out=$(ci_run -- 'set -e
cbuild --root /root/store load -q -i /busybox.tar >/dev/null
cbuild --root /root/store build -q /ctx 2>/dev/null' 2>&1)
ok $? "a build inside cbuild run, store on the container's root" || diag "$out"
is "$(tail -1 <<<"$out")" "$(cat "$T/host.iid")" "the host's image ID"

# a non-root user inside (cbuild run --user): RUN under proot, the same image
mkdir -p "$T/uvol" && chown 1000:1000 "$T/uvol"
out=$(ci_run --user 1000:1000 -e HOME=/tmp -v "$T/uvol:/store" -- 'set -e
id -u
cbuild --root /store load -q -i /busybox.tar >/dev/null
cbuild --root /store info 2>&1 | grep -E "^  root:"
cbuild --root /store build -q /ctx 2>/dev/null' 2>&1)
ok $? "a non-root user's build inside cbuild run, store on a volume" || diag "$out"
like "$out" "^1000$" "as uid 1000"
like "$out" "root: proot \\(ptrace" "its RUN steps under proot"
is "$(tail -1 <<<"$out")" "$(cat "$T/host.iid")" "a non-root user inside: the host's image ID"

# a container inside it cannot be made (no namespaces, no mounts): said so
out=$(ci_run -v "$T/vol:/var/lib/cbuild" -- 'cbuild run --rm --network none busybox true' 2>&1)
ok $((! $?)) "cbuild run inside: refused"
like "$out" "a container needs namespaces and mounts, which are refused here" "with the reason"

done_testing
