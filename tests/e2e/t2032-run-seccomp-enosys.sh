#!/usr/bin/env bash
# Issue 23, the sandbox leftovers:
# - syscalls newer than every one of the seccomp profile answer ENOSYS, not
#   the profile's default EPERM, as runc's -ENOSYS stub makes Docker's
#   answer: glibc and runtimes probe new syscalls (fchmodat2, cachestat,
#   mseal, ...) and fall back to the old ones on ENOSYS only. The old filter
#   said EPERM to them. Older syscalls the profile refuses stay EPERM.
# - RUN --security=insecure lifts the masked and read-only /proc and /sys
#   paths as BuildKit's insecure spec does (MaskedPaths and ReadonlyPaths
#   emptied); the old code kept them.
# A static probe (testdata/scmpprobe.c) runs in a RUN, in a container and,
# when Debian's dockerd is there, in a Docker container (its values are the
# oracle for the syscall answers).
. "$(dirname "$0")/lib.sh"

[ "$(uname -m)" = x86_64 ] || skip_all "the probe's syscall numbers are x86_64's"
cc -static -O1 -o "$T/probe" "$TOP/testdata/scmpprobe.c" 2>"$T/cc.err" ||
	skip_all "cannot build the static probe: $(head -1 "$T/cc.err")"
import_busybox

# name=number (x86_64): a refused old one, an allowed one, the profile's
# own clone3 rule, three newer than the profile, one no kernel has
CALLS="keyctl=250 close=3 clone3=435 cachestat=451 fchmodat2=452 mseal=462 nosuch=1000"
WANT="keyctl=EPERM
close=EBADF
clone3=ENOSYS
cachestat=ENOSYS
fchmodat2=ENOSYS
mseal=ENOSYS
nosuch=ENOSYS"
answers() { grep -E '^(keyctl|close|clone3|cachestat|fchmodat2|mseal|nosuch)=' <<<"$1"; }
val() { sed -n "s/^$2=//p" <<<"$1" | head -1; }

# --- a container ---
ctr=$(cb run --rm -v "$T/probe:/probe:ro" busybox /probe syscalls $CALLS 2>&1)
ok $? "run: the probe runs"
is "$(answers "$ctr")" "$WANT" "run: newer syscalls get ENOSYS, refused older ones EPERM"

# --- a RUN, then RUN --security=insecure ---
mkdir -p "$T/ctx"
cp "$T/probe" "$T/ctx/probe"
printf 'FROM busybox\nCOPY probe /probe\nRUN ["/probe", "syscalls", %s]\nRUN ["/probe", "proc"]\n' \
	"$(printf '"%s", ' $CALLS | sed 's/, $//')" >"$T/ctx/Dockerfile"
out=$(cb build --no-cache --progress plain -t probe:run "$T/ctx" 2>&1)
ok $? "RUN: the probe runs" || diag "$out"
is "$(answers "$out")" "$WANT" "RUN: newer syscalls get ENOSYS, refused older ones EPERM"
is "$(val "$out" keys)/$(val "$out" proc_sys)" "masked/ro" "RUN: /proc/keys masked, /proc/sys read-only"

printf 'FROM busybox\nCOPY probe /probe\nRUN --security=insecure ["/probe", "proc"]\n' >"$T/ctx/Dockerfile"
out=$(cb build --no-cache --progress plain --allow security.insecure -t probe:insecure "$T/ctx" 2>&1)
ok $? "RUN --security=insecure: the probe runs" || diag "$out"
is "$(val "$out" keys)/$(val "$out" proc_sys)" "open/rw" \
	"RUN --security=insecure: nothing masked, /proc/sys writable (BuildKit's insecure spec)"

# --- Docker's answers, from Debian's dockerd with its own state ---
docker_half() { dockerd_start && dockerd_load_busybox; }
WHY=
if docker_half; then
	dk_out=$(dk run --rm --network none -v "$T/probe:/probe:ro" busybox /probe syscalls $CALLS 2>&1)
	ok $? "docker: the probe runs"
	is "$(answers "$ctr")" "$(answers "$dk_out")" "cbuild's answers equal Docker's (runc's ENOSYS stub)"
	dockerd_stop "$DD"
else
	echo "# SKIP docker half: $WHY"
fi
done_testing
