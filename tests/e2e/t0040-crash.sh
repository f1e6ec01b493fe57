#!/usr/bin/env bash
# kill -9 of `cbuild import` at random moments never leaves a store that
# fails validation or lists a half image; the next command works.
. "$(dirname "$0")/lib.sh"

bigtar=$T/big.tar
mkdir -p "$T/big" && tar -C "$T/big" -xf "$ROOTFS_TAR"
head -c 20000000 /dev/urandom > "$T/big/random.bin"
tar -C "$T/big" -cf "$bigtar" .
bad=0
for i in $(seq 1 20); do
	cb import "$bigtar" "crash:$i" >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(( (RANDOM % 9) + 1 ))$(( RANDOM % 10 ))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	out=$(cb images 2>&1) || { bad=1; diag "images failed after kill $i: $out"; }
	# every listed image must be complete: inspect reads its config
	for t in $(printf '%s\n' "$out" | awk 'NR>1 {print $1":"$2}'); do
		cb inspect "$t" >/dev/null 2>&1 || { bad=1; diag "half image $t listed"; }
	done
done
is "$bad" 0 "store lists only whole images after 20 kills"
oci-image-tool validate --type image "$ROOT" >/dev/null 2>&1 || [ "$(cb images -q)" = "" ]
ok $? "store validates"
cb import "$ROOTFS_TAR" after:1 >/dev/null; ok $? "next import works"
like "$(cb images)" "after +1" "and is listed"
done_testing
