#!/usr/bin/env bash
# Issue 29: a stage that only COPY --from uses keeps every layer as a plain
# tar, marked to be gzipped if it ever leaves (store/variant.h), as the
# image's own layers are (t2035). A later --target of that stage, all from
# the cache, pushes the gzip variants: the registry gets the manifest a
# fresh build of that target pushes, and it pulls and runs. A --cache-to
# mode=max build from that cache exports gzip layers only.
# No timing is asserted.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"
import_busybox

PLAIN=application/vnd.oci.image.layer.v1.tar
GZ=application/vnd.oci.image.layer.v1.tar+gzip

c=$T/c
mkdir -p "$c"
cat > "$c/Dockerfile" <<'EOF'
FROM busybox AS t2037build
RUN seq 1 60000 > /num
RUN echo t2037 > /two
FROM busybox
COPY --from=t2037build /num /two /
RUN echo three > /three
CMD ["sh"]
EOF

cb build -q --timestamp 0 -t "$REG/ps:1" "$c" >/dev/null; ok $? "build (the first stage used only by COPY --from)"
is "$(layers "$REG/ps:1" | sed -n 2,3p | cut -d' ' -f1 | sort -u)" "$PLAIN" "the image's COPY and RUN layers are plain"

# the first stage, all from the cache: its layers are the ones built above
cb build -q --timestamp 0 --target t2037build -t "$REG/pt:1" "$c" >"$T/t.out" 2>"$T/t.err"
ok $? "build --target of that stage" || diag "$(cat "$T/t.err")"
is "$(layers "$REG/pt:1" | sed -n 2,3p | cut -d' ' -f1 | sort -u)" "$PLAIN" \
	"both of its layers were stored plain by the first build"
n=0
for l in $(layers "$REG/pt:1" | sed -n 2,3p | cut -d' ' -f2); do
	[ "$(cat "$ROOT/variants/sha256/${l#sha256:}" 2>/dev/null)" = gzip ] && n=$((n + 1))
done
is "$n" 2 "and marked to be gzipped when they leave"
gzip_of() { # gzip_of ROOT DIFF_ID: the gzip blobs of ROOT whose content is DIFF_ID
	python3 - "$1/blobs/sha256" "$2" <<'PY'
import gzip, hashlib, os, sys
d, want = sys.argv[1], sys.argv[2]
for n in sorted(os.listdir(d)):
    with open(os.path.join(d, n), 'rb') as f:
        if f.read(2) != b'\x1f\x8b':
            continue
    with gzip.open(os.path.join(d, n)) as g:
        if 'sha256:' + hashlib.sha256(g.read()).hexdigest() == want:
            print(n)
PY
}
num=$(skopeo inspect --config --raw "oci:$ROOT:$REG/pt:1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["rootfs"]["diff_ids"][1])')
is "$(gzip_of "$ROOT" "$num")" "" "no gzip blob of the stage's first layer was written"

cb push -q "$REG/pt:1" >/dev/null 2>"$T/push.err"; ok $? "push the --target image" || diag "$(cat "$T/push.err")"
is "$(pushed "$REG/pt:1" | cut -d' ' -f1 | sort -u)" "$GZ" "every pushed layer is gzip"

# the same target built fresh on another root: pushed, the registry must
# get the same manifest
R2=$T/root2
skopeo copy -q "oci:$ROOT:docker.io/library/busybox:latest" "oci:$R2:docker.io/library/busybox:latest" >/dev/null
"$CBUILD" --root "$R2" build -q --timestamp 0 --target t2037build -t "$REG/pf:1" "$c" >/dev/null 2>&1
ok $? "build the same target fresh on another root"
is "$(layers "$REG/pf:1" "$R2" | sed -n 2,3p | cut -d' ' -f1 | sort -u)" "$PLAIN" "there its layers are plain too"
"$CBUILD" --root "$R2" push -q --digestfile "$T/pf.d" "$REG/pf:1" >/dev/null 2>&1; ok $? "push it"
cb push -q --digestfile "$T/pt.d" "$REG/pt:1" >/dev/null 2>&1; ok $? "push the one from the cache again"
is "$(cat "$T/pt.d")" "$(cat "$T/pf.d")" "the registry got the same manifest digest"
like "$(cat "$T/pt.d")" '^sha256:[0-9a-f]{64}$' "(a digest)"

R3=$T/root3
"$CBUILD" --root "$R3" pull -q "$REG/pt:1" >/dev/null 2>&1; ok $? "pull it into a fresh store"
is "$("$CBUILD" --root "$R3" run --rm "$REG/pt:1" cat /two)" "t2037" "the pulled image runs"
skopeo copy -q --src-tls-verify=false "docker://$REG/pt:1" "oci:$T/ptl:x" >/dev/null 2>&1
ok $? "skopeo copies it whole (every blob checked)"

# the final image pushes, pulls and runs as before
cb push -q "$REG/ps:1" >/dev/null 2>&1; ok $? "push the image"
R4=$T/root4
"$CBUILD" --root "$R4" pull -q "$REG/ps:1" >/dev/null 2>&1; ok $? "pull it"
is "$("$CBUILD" --root "$R4" run --rm "$REG/ps:1" cat /two /three | tr '\n' ' ')" "t2037 three " "and it runs"

# --cache-to mode=max exports the stage's entries: its hits take the gzip
# variants, and another store building the stage from that cache pushes
# gzip layers only
cb build -q --timestamp 0 --cache-to "$REG/cache:m" --cache-to-mode max -t "$REG/pm:1" "$c" >/dev/null 2>"$T/m.err"
ok $? "build --cache-to mode=max (from the cache)" || diag "$(cat "$T/m.err")"
is "$(grep -c warning "$T/m.err")" 0 "no warning"
R5=$T/root5
skopeo copy -q "oci:$ROOT:docker.io/library/busybox:latest" "oci:$R5:docker.io/library/busybox:latest" >/dev/null
"$CBUILD" --root "$R5" build -q --timestamp 0 --cache-from "$REG/cache:m" --target t2037build -t "$REG/pr:1" "$c" >/dev/null 2>&1
ok $? "another store builds the stage from that cache"
"$CBUILD" --root "$R5" push -q "$REG/pr:1" >/dev/null 2>&1; ok $? "and pushes it"
is "$(pushed "$REG/pr:1" | cut -d' ' -f1 | sort -u)" "$GZ" "every layer it pushed is gzip"
done_testing
