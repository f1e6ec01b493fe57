#!/bin/bash
# The copy snapshotter and the no-namespace isolation on this host (issue
# 27): the differential generator's seeds (tests/difftest/gen.py: every
# kind of RUN file operation, COPY/ADD variants, multi-stage) built with
# overlay snapshots and with --storage-driver copy give the same tree and
# config and the same image ID (the same layers, byte for byte: t5093 has
# the cases where they differed), and --storage-driver copy and --isolation
# none give the same image ID. Also: the
# driver's names and errors, CBUILD_STORAGE_DRIVER, what info says, that
# the copy driver leaves no unpacked layer or step directory behind, and
# that a RUN without namespaces still gets /dev/null, Docker's capability
# set and seccomp profile, the image's files back after a bind, and its
# leftovers in the background killed.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (the host build's sandbox, chroot)"
export SOURCE_DATE_EPOCH=1704067200
import_busybox

SEEDS=${DIFFTEST_SEEDS:-1 2 3 4 5 6 7 8}
for s in $SEEDS; do
	python3 - "$TOP/tests/difftest" "$s" "$T/s$s/ctx" >"$T/s$s.args" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import gen
case = gen.generate(int(sys.argv[2]), sys.argv[3])
for k, v in sorted(case.build_args.items()):
    print("--build-arg=%s=%s" % (k, v))
PY
	mapfile -t args <"$T/s$s.args"
	ids=()
	for mode in "" "--storage-driver=copy" "--isolation=none"; do
		tag=seed$s${mode:+-${mode##*=}}
		id=$(cb build -q --no-cache -t "$tag" $mode "${args[@]}" "$T/s$s/ctx" 2>"$T/s$s.err")
		[ $? = 0 ] || { diag "seed $s $mode:" "$(tail -5 "$T/s$s.err")"; id="failed"; }
		ids+=("$id")
	done
	cb save -o "$T/s$s.tar" "seed$s-copy"
	out=$(same_tree "seed$s" "$T/s$s.tar" 2>&1)
	ok $? "seed $s: --storage-driver copy builds the overlay build's tree and config" || diag "$out"
	is "${ids[2]}" "${ids[1]}" "seed $s: --isolation none builds the copy build's image (same ID)"
	is "${ids[1]}" "${ids[0]}" "seed $s: --storage-driver copy builds the overlay build's image (same ID)"
done

# names, errors, the environment
cb build -q --storage-driver bogus "$T/s${SEEDS%% *}/ctx" >/dev/null 2>"$T/err"
is $? 2 "an unknown storage driver is a usage error"
like "$(cat "$T/err")" "invalid storage driver 'bogus' \\(auto, overlay or copy\\)" "naming the choices"
CBUILD_STORAGE_DRIVER=bogus cb build -q "$T/s${SEEDS%% *}/ctx" >/dev/null 2>&1
is $? 2 "so is a bad CBUILD_STORAGE_DRIVER"
cb build -q --isolation none --storage-driver overlay "$T/s${SEEDS%% *}/ctx" >/dev/null 2>"$T/err"
is $? 1 "--storage-driver overlay with --isolation none: an error"
like "$(cat "$T/err")" "overlay needs a mount" "saying why"
like "$(cb info --storage-driver copy 2>&1)" "snapshotter: copy"$'\n' "info --storage-driver copy"
like "$(cb info 2>&1)" "snapshotter: overlay"$'\n' "info: overlay on this host"
out=$(cb info --isolation none 2>&1)
like "$out" "isolation: none" "info --isolation none"
like "$out" "snapshotter: copy \\(no namespaces" "info --isolation none: the copy snapshotter, and why"
like "$out" "cbuild: running without namespaces" "info --isolation none: says RUN steps are not isolated"

# no leftovers: no step directory, no unpacked layer of the copy driver's
rm -rf "$ROOT/layers/sha256/"* 2>/dev/null
mkdir -p "$T/c"
printf 'FROM busybox\nRUN echo a >/a\nRUN echo b >/b\n' >"$T/c/Dockerfile"
CBUILD_STORAGE_DRIVER=copy cb build -q --no-cache "$T/c" >/dev/null
ok $? "CBUILD_STORAGE_DRIVER=copy builds"
is "$(ls "$ROOT/tmp" | grep -c '^step-')" 0 "no step directory is left"
is "$(ls "$ROOT/layers/sha256" 2>/dev/null | wc -l)" 0 "no layer was unpacked"

# without namespaces: /dev/null, a bound file comes back, background killed
mkdir -p "$T/n"
echo "image's hosts" >"$T/n/hosts"
cat >"$T/n/Dockerfile" <<'DF'
FROM busybox
COPY hosts /etc/hosts
ARG CBUILD_TEST_MARK
RUN echo x >/dev/null && test -c /dev/null && ! grep -q "image's hosts" /etc/hosts && (sleep 1000 &) && echo done >/ran
RUN ! renice -n -5 $$ >/dev/null 2>&1 && ! unshare -m true 2>/dev/null
DF
id=$(cb build -q -t nons --isolation none --build-arg "CBUILD_TEST_MARK=$MARK" "$T/n" 2>"$T/n.err")
ok $? "--isolation none: /dev/null is a device, /etc/hosts is the bound one, Docker's caps and seccomp (no renice -5, no unshare)" || diag "$(cat "$T/n.err")"
wait_for 10 _no_own_pids
ok $? "the step's background process was killed with the step"
is "$(cb inspect "$id" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["RootFS"]["Layers"]))')" 3 \
	"three layers"
unpack nons "$T/n/tree"
is "$(cat "$T/n/tree/rootfs/etc/hosts")" "image's hosts" "the image's /etc/hosts is back"
is "$(ls -A "$T/n/tree/rootfs/dev" 2>/dev/null)" "" "no device node is left in /dev"

# every RUN --mount kind without namespaces: the same image as with them
mkdir -p "$T/m"
echo s3cret >"$T/m/secret.txt"
echo ctxfile >"$T/m/c.txt"
cat >"$T/m/Dockerfile" <<'DF'
FROM busybox AS st
RUN mkdir /stuff && echo staged > /stuff/x
FROM busybox
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /copied-secret
RUN --mount=type=bind,from=st,source=/stuff,target=/mnt/s cp /mnt/s/x /from-stage
RUN --mount=type=bind,target=/ctx cp /ctx/c.txt /from-ctx
RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && ls /scratch > /tmpfs-list
RUN --mount=type=cache,target=/var/cache/apt ls /var/cache/apt > /apt-list
DF
a=$(cb build -q --no-cache --secret "id=tok,src=$T/m/secret.txt" "$T/m" 2>"$T/m.err")
ok $? "RUN --mount of every kind, namespaces" || diag "$(cat "$T/m.err")"
b=$(cb build -q --no-cache --isolation none --secret "id=tok,src=$T/m/secret.txt" "$T/m" 2>"$T/m.err")
ok $? "RUN --mount of every kind, no namespaces" || diag "$(cat "$T/m.err")"
is "$b" "$a" "secret, bind from a stage and the context, tmpfs, cache: the same image"

# remote cache hits (blobs left in the registry until needed) under the
# copy snapshotter: t2100's whole flow with CBUILD_STORAGE_DRIVER=copy
out=$(env -u SOURCE_DATE_EPOCH CBUILD_STORAGE_DRIVER=copy bash "$TOP/tests/e2e/t2100-cache-registry.sh" 2>&1)
ok $? "t2100 (remote cache, lazy blobs) passes with the copy snapshotter" ||
	diag "$(grep -v '^127\.0\.0\.1 - -' <<<"$out" | grep -A6 -E '^not ok|Bail out' | head -30)" "$(tail -5 <<<"$out")"

# a failing RUN without namespaces says what differed
printf 'FROM busybox\nRUN cat /proc/self/status\n' >"$T/n/Dockerfile.proc"
cb build -q --isolation none -f "$T/n/Dockerfile.proc" "$T/n" >/dev/null 2>"$T/proc.err"
is $? 1 "--isolation none: a RUN reading /proc fails"
like "$(cat "$T/proc.err")" "exit status 1" "the RUN's status"
like "$(cat "$T/proc.err")" "ran without namespaces.*/proc was empty" "and says why it may have failed"

done_testing
