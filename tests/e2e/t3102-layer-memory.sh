#!/bin/bash
# t3102-layer-memory: a snapshot streams, whatever the layer's size: peak
# RSS stays under 64 MB (issue 4) for every compression and thread count,
# on a 384 MiB file as on a 24 MiB one (the same buffers either way).
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/time ] || skip_all "needs /usr/bin/time"
LIBDIR=$(dirname "$CBUILD")
[ -f "$LIBDIR/libcbuild.a" ] || LIBDIR=$TOP/build
case $LIBDIR in *asan*) skip_all "RSS under ASan says nothing about the real one" ;; esac
LT=$T/layertool
cc -O1 -g -D_GNU_SOURCE -I"$TOP" -o "$LT" "$TOP/bench/layers/layertool.c" "$LIBDIR/libcbuild.a" \
	$(pkg-config --libs libarchive libcrypto jansson zlib libzstd) -lpthread -lm
ok $? "layertool builds against libcbuild.a"

# 1 MiB of random bytes repeated: cheap to make, and gzip stores it (its
# repeats are beyond deflate's 32 KiB window) so a run is quick
mkdir -p "$T/big" "$T/small"
head -c 1M /dev/urandom > "$T/chunk"
for i in $(seq 1 384); do cat "$T/chunk"; done > "$T/big/f"
for i in $(seq 1 24); do cat "$T/chunk"; done > "$T/small/f"
rss() { # rss ARGS...: peak RSS (KiB) of one snapshot
	/usr/bin/time -f %M -o "$T/rss" "$LT" "$T/store" "$@" >/dev/null || echo "failed: $*" >&2
	rm -rf "$T/store/blobs/sha256/"*
	tail -1 "$T/rss"
}
for c in none gzip zstd; do
	for j in 2 16; do
		big=$(rss write-dir -c "$c" -j "$j" "$T/big")
		small=$(rss write-dir -c "$c" -j "$j" "$T/small")
		[ "$big" -lt 65536 ]; ok $? "--compress $c, $j threads, 384 MiB: peak RSS $((big / 1024)) MB < 64 MB"
		# flat: not more than 8 MB above the small layer's
		[ "$big" -lt $((small + 8192)) ]; ok $? "... flat: $((small / 1024)) MB for 24 MiB"
	done
done
done_testing
