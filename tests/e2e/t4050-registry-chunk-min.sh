#!/bin/bash
# A registry announcing OCI-Chunk-Min-Length (distribution spec 1.1) gets a
# chunked upload whose chunks (but the last) are at least that long. The
# fault proxy injects the header in front of the real registry and logs
# every PATCH's size.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
quiet_registry || skip_all "cannot start docker-registry"

MIN=$((9 << 20))
L=$T/l
mkimage "$L" app --random 20M --random 4K >/dev/null
start_proxy "$REG" --chunk-min=$MIN
to_store "$L" app "$PROXY/chunks:1"
cb push -q "$PROXY/chunks:1" >/dev/null 2>"$T/err"; ok $? "push through a proxy announcing a chunk minimum"
grep '^PATCH ' "$PROXY_LOG" > "$T/patches"
is "$(grep -c ' 202 ' "$T/patches")" 5 "3 chunks for the 20 MiB layer, 1 for the small layer, 1 for the config"
# every upload's chunks in order: all but its last at least MIN
python3 - "$T/patches" "$MIN" <<'PY'
import sys
ups = {}
for line in open(sys.argv[1]):
    f = line.split()
    ups.setdefault(f[1].split("?")[0], []).append((f[2], int(f[3])))
# the proxy logs a short chunk twice: SMALLCHUNK, then the registry's answer
sizes = {u: [n for s, n in cs if s != "SMALLCHUNK"] for u, cs in ups.items()}
bad = [u for u, ns in sizes.items() if any(n < int(sys.argv[2]) for n in ns[:-1])]
sys.exit(1 if bad or len(ups) != 3 else 0)
PY
ok $? "every chunk but an upload's last is at least OCI-Chunk-Min-Length"
grep -q "^PUT /v2/chunks/blobs/uploads/.* 201 0 " "$PROXY_LOG"; ok $? "uploads end with an empty PUT ?digest="
skopeo copy -q --src-tls-verify=false "docker://$REG/chunks:1" "oci:$T/back:x" >/dev/null; ok $? "skopeo reads what was uploaded in chunks"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$T/back:x")" \
	"$(skopeo inspect --format '{{.Digest}}' "oci:$ROOT:$PROXY/chunks:1")" "same manifest"

# without the header: one monolithic PUT per blob, no PATCH
start_proxy "$REG"
to_store "$L" app "$PROXY/mono:1"
cb push -q "$PROXY/mono:1" >/dev/null 2>&1; ok $? "push without a chunk minimum"
grep -q '^PATCH ' "$PROXY_LOG"; ok $((! $?)) "uses no PATCH"
done_testing
