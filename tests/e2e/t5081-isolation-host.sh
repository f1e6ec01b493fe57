#!/bin/bash
# `cbuild info` and `--isolation` on this host (issue 27): info names the
# store, its file system, the snapshotter and the isolation a RUN step gets,
# probed by one sandbox setup; --isolation chroot builds the same image as
# the default (it changes how the root is entered, not what is built) and
# info says chroot; an unknown mode is a usage error.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (the host build's sandbox)"
export SOURCE_DATE_EPOCH=1700000000
import_busybox

out=$(cb info 2>&1); rc=$?
is "$rc" 0 "info runs"
like "$out" "store: $ROOT \\((ext4|xfs|btrfs|tmpfs|other)\\)" "info: the store and its file system"
like "$out" "snapshotter: overlay" "info: the snapshotter"
like "$out" "user namespace: none \\(host root\\)" "info: host root has no user namespace"
like "$out" "root: pivot_root" "info: pivot_root here"
like "$out" "/proc: fresh" "info: a fresh /proc here"
like "$out" "cgroups: v[12]" "info: the cgroup version"
like "$out" "fallbacks: none" "info: no fallback on this host"

out=$(cb info --isolation chroot 2>&1)
like "$out" "root: chroot \\(--isolation chroot\\)" "info --isolation chroot: chroot, said to be asked"
like "$out" "/proc: outer /proc bound \\(--isolation chroot\\)" "info --isolation chroot: the outer /proc"
cb info --isolation bogus >/dev/null 2>"$T/err"; is $? 2 "info: an unknown isolation is a usage error"
like "$(cat "$T/err")" "invalid isolation 'bogus' \\(auto, namespaces, chroot or none\\)" "naming the choices"

mkdir -p "$T/ctx"
printf 'FROM busybox\nRUN echo hi >/hi && ls /proc/self/fd >/dev/null\n' >"$T/ctx/Dockerfile"
cb build -q --iidfile "$T/a.iid" "$T/ctx" >/dev/null; ok $? "a default build"
cb build -q --no-cache --isolation chroot --iidfile "$T/c.iid" "$T/ctx" >/dev/null 2>"$T/err"
ok $? "a build with --isolation chroot"
is "$(cat "$T/c.iid")" "$(cat "$T/a.iid")" "the same image ID"
unlike "$(cat "$T/err")" "isolation:" "an asked-for chroot is no fallback: nothing on stderr"
cb build -q --no-cache --isolation namespaces "$T/ctx" >/dev/null; ok $? "--isolation namespaces builds here"
cb build -q --isolation nope "$T/ctx" >/dev/null 2>&1; is $? 2 "build: an unknown isolation is a usage error"

done_testing
