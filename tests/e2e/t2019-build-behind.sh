#!/usr/bin/env bash
# Layers compressed behind the steps (issue 29), in a build whose image
# must be gzip when it ends (here: with an attestation, so an index; a
# default build keeps its layers plain, t2035): the blobs are the bytes the
# synchronous snapshot wrote (golden digests from before the change, and
# CBUILD_SYNC_COMMIT=1 gives the same manifest); a cached rebuild works;
# kill -9 at random moments leaves only cache entries whose images are
# whole; SIGTERM while a layer is compressed cancels the build.
# No timing is asserted.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
c=$T/c
mkdir -p "$c"
cat > "$c/Dockerfile" <<'EOF'
FROM busybox AS gen
RUN mkdir -p /data && i=0; while [ $i -lt 300 ]; do seq 1 2000 > /data/f$i; i=$((i+1)); done
FROM busybox
WORKDIR /app
RUN seq 1 100000 > /app/numbers && echo done > /app/flag
COPY --from=gen /data /data
RUN rm /app/flag && echo two > /app/two
ENV A=1
EOF

layers() { # layers TAG: the layer digests of its image's manifest but the base's
	local m
	m=$(image_manifest "${1%%:*}" "${1##*:}")
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(l["digest"][7:19] for l in d["layers"][1:]))' \
		"$ROOT/blobs/sha256/${m#sha256:}"
}
manifest() { cb images --digests --no-trunc | awk -v r="$1" -v t="$2" '$1==r && $2==t {print $3}'; }
image_manifest() { # the image's manifest: the index's child that is not the
	# attestation (whose provenance has the build's time)
	python3 - "$ROOT/blobs/sha256" "$(manifest "$1" "$2")" <<'PY'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], sys.argv[2][7:])))
print([c for c in m["manifests"] if c["platform"]["os"] != "unknown"][0]["digest"])
PY
}

SOURCE_DATE_EPOCH=1700000000 cb build -q --provenance=min -t behind:1 "$c" >/dev/null 2>"$T/log1"
ok $? "build with the layers written behind"
# WORKDIR, RUN, COPY --from, RUN: as the synchronous snapshot wrote them
# (main at d062a32; the RUN layers since wip/ci without the empty /etc
# overlayfs copied up for the resolv.conf/hosts mount points: the bytes
# --storage-driver copy writes too; since wip/perf gzip level 4)
is "$(layers behind:1)" "05782015d09f e9bbab3e6b3d c00a26c06ad9 8da3d4bccc4c" "same layer blobs as before"
ROOT2=$T/root2
cp -a "$ROOT" "$ROOT2"
rm -rf "$ROOT2"/refs/cache/* "$ROOT2"/layers/sha256/*
# the first store's cache and unpacked layers are gone: the second builds
# it all again the old way
CBUILD_SYNC_COMMIT=1 SOURCE_DATE_EPOCH=1700000000 "$CBUILD" --root "$ROOT2" build -q --provenance=min -t behind:1 \
	"$c" >/dev/null 2>"$T/log2"
is "$("$CBUILD" --root "$ROOT2" images --digests --no-trunc | awk '$1=="behind" {print $3}')" \
	"$(manifest behind 1)" "CBUILD_SYNC_COMMIT=1 gives the same manifest"
out=$(SOURCE_DATE_EPOCH=1700000000 cb build --provenance=min -t behind:2 "$c" 2>&1)
ok $? "a rebuild works"
is "$(printf '%s\n' "$out" | grep -c -- '--> Using cache')" 6 "every step from the cache"
is "$(image_manifest behind 2)" "$(image_manifest behind 1)" "and gives the same image"
[ -z "$(ls -A "$ROOT/tmp")" ]; ok $? "nothing left in tmp/"

# SIGTERM once the big RUN's line is out: its layer is being compressed
big=$T/big
mkdir -p "$big"
printf 'FROM busybox\nRUN yes cbuild-compresses-this | head -c 300000000 > /big\nRUN echo x > /x\n' > "$big/Dockerfile"
: > "$T/log.c"
"$CBUILD" --root "$ROOT" build --no-cache --provenance=min -t cancel:1 "$big" >"$T/log.c" 2>&1 &
pid=$!
wait_line "$pid" "$T/log.c" '^--> '
kill -TERM "$pid"
wait "$pid"; rc=$?
if grep -q '^COMMIT' "$T/log.c"; then
	for k in 1 2 3; do pass "# SKIP the compression finished before the signal"; done
else
	[ "$rc" -ne 0 ]; ok $? "SIGTERM while compressing: the build fails (exit $rc)"
	cb inspect cancel:1 >/dev/null 2>&1; is $? 1 "nothing tagged"
	no_leftovers; ok $? "no mounts under the store, tmp/ empty: $(ls -A "$ROOT/tmp" 2>/dev/null)"
fi
# every cache entry names a manifest whose blobs are all there and whole
check_store() {
	python3 - "$1" <<'EOF'
import glob, hashlib, json, os, re, sys
root = sys.argv[1]
def blob(d):
    p = os.path.join(root, "blobs/sha256", d.split(":")[1])
    data = open(p, "rb").read()
    if hashlib.sha256(data).hexdigest() != d.split(":")[1]:
        sys.exit("blob %s is not whole" % d)
    return data
for f in glob.glob(os.path.join(root, "refs/cache/*")):
    if not re.fullmatch(r"[0-9a-f]{64}", os.path.basename(f)):
        continue
    d = open(f).read().split("\n")[0]
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", d):
        continue  # an entry cut by the kill: a miss
    m = json.loads(blob(d))
    blob(m["config"]["digest"])
    for l in m["layers"]:
        blob(l["digest"])
EOF
}
cat > "$big/Dockerfile" <<'EOF'
FROM busybox
RUN seq 1 3000000 > /a
RUN seq 2 3000000 > /b
RUN seq 3 3000000 > /c
RUN seq 4 3000000 > /d
EOF
bad=0 killed=0
for i in $(seq 1 8); do
	# not through cb(): a backgrounded function is a subshell, and $! its PID
	"$CBUILD" --root "$ROOT" build --no-cache --provenance=min -t crash:$i "$big" >/dev/null 2>&1 &
	pid=$!
	sleep "$(( RANDOM % 3 )).$(( RANDOM % 10 ))"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	msg=$(check_store "$ROOT" 2>&1) || { bad=1; diag "after kill $i: $msg"; }
done
is "$bad" 0 "after 8 kills every cache entry names a whole image"
[ "$killed" -gt 0 ]; ok $? "$killed of the 8 builds were killed while running"
cb build -q -t crash:after "$big" >/dev/null 2>&1
ok $? "the next build works"
msg=$(check_store "$ROOT" 2>&1); ok $? "and the store is whole $msg"

done_testing
