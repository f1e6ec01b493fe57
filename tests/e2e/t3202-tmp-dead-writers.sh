#!/usr/bin/env bash
# Issue 23.9: what killed pulls and commits leave in tmp/ is removed by the
# next command (each writer has its own tmp/L-LEASE/ directory, garbage
# once the lease has no owner), and the complete, checked blobs of a killed
# pull are kept, so the next pull resumes with them.
. "$(dirname "$0")/lib.sh"
start_registry || skip_all "no registry"
import_busybox
mkdir -p "$T/ctx"
{
	echo "FROM busybox"
	for i in $(seq 1 10); do echo "RUN head -c 3000000 /dev/urandom > /l$i"; done
} > "$T/ctx/Dockerfile"
cb build -q -t "$REG/many:1" "$T/ctx" > /dev/null; ok $? "build a 11-layer image"
cb push -q "$REG/many:1" > /dev/null; ok $? "push it"

R2=$T/r2
c2() { "$CBUILD" --root "$R2" "$@"; }
# as for the commit below: a pull that ended before the kill is tried again
for attempt in $(seq 1 10); do
	rm -rf "$R2"
	"$CBUILD" --root "$R2" pull -q "$REG/many:1" > /dev/null 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && [ "$(find "$R2/tmp" -type f 2>/dev/null | wc -l)" -lt 3 ]; do :; done
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	[ "$(find "$R2/tmp" -type f 2>/dev/null | wc -l)" -gt 0 ] && break
done
nok=$(find "$R2/tmp" -name 'ok-*' | wc -l)
inblobs=$(ls "$R2/blobs/sha256" | wc -l)
diag "killed pull left $(find "$R2/tmp" -type f | wc -l) files in tmp/ ($nok complete), $inblobs in blobs/"
[ "$(find "$R2/tmp" -type f | wc -l)" -gt 0 ]; ok $? "the kill landed mid-pull"
c2 images > /dev/null; ok $? "the next command"
is "$(find "$R2/tmp" -mindepth 1 | wc -l)" 0 "tmp/ is empty after it"
after=$(ls "$R2/blobs/sha256" | wc -l)
[ "$after" -ge $((inblobs + nok)) ]; ok $? "the killed pull's complete blobs were kept ($inblobs + $nok -> $after)"
c2 pull -q "$REG/many:1" > /dev/null; ok $? "the pull again"
c2 fsck > "$T/fsck.out" 2>&1; ok $? "fsck: clean"; grep -v '^checked' "$T/fsck.out" | sed 's/^/# /' >&2

# a killed commit: its half layer goes with the next command
cb run -d --name w1 busybox sh -c 'head -c 40000000 /dev/urandom > /big; touch /ready; sleep 1000' > /dev/null
id=$(cb inspect --type container w1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
for i in $(seq 1 600); do [ -e "$ROOT/containers/$id/upper/ready" ] && break; sleep 0.1; done
# A commit that ends before the poll sees its file (a fast disk, a busy
# machine) is not a failure of the store: try again, a bounded number of
# times, so that the assertions below never depend on scheduling.
for attempt in $(seq 1 10); do
	"$CBUILD" --root "$ROOT" commit w1 snap:1 > /dev/null 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && [ "$(find "$ROOT/tmp" -type f -size +1M 2>/dev/null | wc -l)" -lt 1 ]; do :; done
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	[ "$(find "$ROOT/tmp" -type f | wc -l)" -gt 0 ] && break
	cb rmi snap:1 > /dev/null 2>&1
done
diag "commit killed mid-write at attempt $attempt"
diag "killed commit left $(du -sk "$ROOT/tmp" | cut -f1) KiB in tmp/"
[ "$(find "$ROOT/tmp" -type f | wc -l)" -gt 0 ]; ok $? "the kill landed mid-commit"
cb ps > /dev/null; ok $? "the next command"
is "$(find "$ROOT/tmp" -mindepth 1 | wc -l)" 0 "tmp/ is empty after it"
cb rm -f w1 > /dev/null
cb fsck > "$T/fsck.out" 2>&1; ok $? "fsck: clean"; grep -v '^checked' "$T/fsck.out" | sed 's/^/# /' >&2
done_testing
