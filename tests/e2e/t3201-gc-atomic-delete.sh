#!/usr/bin/env bash
# Issue 23.2: kill -9 of rmi (gc) in the middle of deleting an unpacked
# layer must not leave a half layer under its name, trusted by the next use
# of the same layer (an import of the same tar gave containers missing
# thousands of files). Layers leave by rename, then are deleted.
. "$(dirname "$0")/lib.sh"
N=10000
mkdir -p "$T/fs" && tar -C "$T/fs" -xf "$ROOTFS_TAR"
python3 - "$T/fs/f" "$N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n // 100):
    sub = os.path.join(d, "%03d" % i)
    os.makedirs(sub)
    for j in range(100):
        with open(os.path.join(sub, "%02d" % j), "w") as f:
            f.write("x")
PY
tar -C "$T/fs" -cf "$T/big.tar" .
rounds=2
for r in $(seq 1 $rounds); do
	cb import -c 'CMD ["sh"]' "$T/big.tar" big:1 > /dev/null || { fail "import $r"; continue; }
	got=$(cb run --rm big:1 sh -c 'find /f -type f | wc -l')
	is "$got" "$N" "round $r: a container has every file"
	did=$(cb inspect big:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RootFS"]["Layers"][0])')
	L="$ROOT/layers/sha256/${did#sha256:}"
	[ -d "$L/f" ]; ok $? "round $r: the layer is unpacked"
	"$CBUILD" --root "$ROOT" rmi big:1 > /dev/null 2>&1 &
	pid=$!
	# kill once the layer's deletion has begun: its name gone, or some of
	# its directories
	while kill -0 "$pid" 2>/dev/null && [ -d "$L" ] && [ "$(ls "$L/f" 2>/dev/null | wc -l)" -eq 100 ]; do :; done
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	diag "round $r: layer entries left under its name: $(find "$L" -mindepth 1 2>/dev/null | wc -l)"
	cb fsck > "$T/fsck.out" 2>&1; ok $? "round $r: fsck after the kill"
	cat "$T/fsck.out" | grep -v '^checked' | sed 's/^/# /' >&2
done
# after the last kill: the same tar again, and a container must see it whole
cb import -c 'CMD ["sh"]' "$T/big.tar" big:2 > /dev/null; ok $? "import again"
is "$(cb run --rm big:2 sh -c 'find /f -type f | wc -l')" "$N" "the layer used is complete"
done_testing
