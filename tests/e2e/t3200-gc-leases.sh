#!/usr/bin/env bash
# Issue 23.1: prune during a build must not destroy the build's work. A
# running build holds a lease on what it made and uses (its layer blobs,
# unpacked layers, base image); gc honours live leases, and a lease whose
# owner was killed is recognised and dropped.
. "$(dirname "$0")/lib.sh"
import_busybox

# The second RUN waits for the test (through a cache mount, which is in the
# store and not in any layer) so that prune runs while the build lives.
mkdir -p "$T/ctx"
cat > "$T/ctx/Dockerfile" <<'DF'
FROM busybox
RUN head -c 300000 /dev/urandom > /data && md5sum /data > /data.md5
RUN --mount=type=cache,id=sync,target=/s sh -c 'rm -f /s/go; touch /s/ready; i=0; while [ ! -e /s/go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done'
CMD ["sh"]
DF
wait_ready() { # the build is parked in the second RUN
	local i
	for i in $(seq 1 600); do
		r=$(find "$ROOT/mounts" -name ready 2>/dev/null | head -1)
		[ -n "$r" ] && return 0
		sleep 0.1
	done
	return 1
}
"$CBUILD" --root "$ROOT" build -q -t leased:1 "$T/ctx" > "$T/build.out" 2> "$T/build.err" &
bpid=$!
wait_ready; ok $? "the build reached its second RUN"
syncdir=$(dirname "$r")
ls "$ROOT/leases" | grep -qv '^lock$'; ok $? "the build holds a lease"
cb prune > "$T/prune.out" 2>&1; ok $? "prune while the build runs"
touch "$syncdir/go"
wait "$bpid"; ok $? "the build finishes"
unpack leased:1 "$T/u"; ok $? "the built image unpacks (no blob was taken)"
is "$(cd "$T/u/rootfs" && md5sum data | cut -d' ' -f1)" "$(cut -d' ' -f1 "$T/u/rootfs/data.md5")" \
	"its first RUN's file is whole"
cb fsck > "$T/fsck.out" 2>&1; ok $? "fsck finds nothing wrong"; diag "$(cat "$T/fsck.out")"
cb run --rm leased:1 cat /data.md5 > /dev/null; ok $? "a container of it runs"

# A build killed -9 leaves a lease without an owner: the next prune drops it
# and collects what only it kept.
rm -f "$syncdir/ready"
cat > "$T/ctx/Dockerfile" <<'DF'
FROM busybox
RUN head -c 200000 /dev/urandom > /other
RUN --mount=type=cache,id=sync,target=/s sh -c 'rm -f /s/go; touch /s/ready; i=0; while [ ! -e /s/go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done'
DF
"$CBUILD" --root "$ROOT" build -q -t killed:1 "$T/ctx" > /dev/null 2>&1 &
bpid=$!
wait_ready; ok $? "second build parked"
before=$(ls "$ROOT/blobs/sha256" | wc -l)
kill -9 "$bpid"; wait "$bpid" 2>/dev/null
# the sandboxed RUN dies with its parent's pid namespace; wait for it
touch "$syncdir/go"
cb prune > /dev/null 2>&1; ok $? "prune after the kill"
after=$(ls "$ROOT/blobs/sha256" | wc -l)
[ "$after" -lt "$before" ]; ok $? "the dead build's blobs are collected ($before -> $after)"
is "$(ls "$ROOT/leases" | grep -v '^lock$' | wc -l)" 0 "no lease is left"
cb fsck > "$T/fsck.out" 2>&1; ok $? "fsck: clean"; diag "$(cat "$T/fsck.out")"
done_testing
