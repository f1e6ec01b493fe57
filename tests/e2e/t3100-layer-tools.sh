#!/bin/bash
# t3100-layer-tools: store/layer.c against independent tools.
#
# The busybox rootfs tar is imported (gzip, zstd, none), unpacked and
# snapshotted again; GNU tar's extraction of the same tar is the reference.
# gunzip, zstd -d and Python's zlib read the parallel gzip output, and the
# digests are the sha256 of the bytes as sha256sum computes them.
. "$(dirname "$0")/lib.sh"

# the library next to the binary under test (build/ or build-asan/)
LIBDIR=$(dirname "$CBUILD")
[ -f "$LIBDIR/libcbuild.a" ] || LIBDIR=$TOP/build
SAN=
case $LIBDIR in *asan*) SAN="-fsanitize=address,undefined" ;; esac
LT=$T/layertool
cc -O1 -g $SAN -D_GNU_SOURCE -I"$TOP" -o "$LT" "$TOP/bench/layers/layertool.c" "$LIBDIR/libcbuild.a" \
	$(pkg-config --libs libarchive libcrypto jansson zlib libzstd) -lpthread -lm
ok $? "layertool builds against libcbuild.a"

S=$T/store
read -r dg_none diff_none _ <<<"$("$LT" "$S" write-tar -c none "$ROOTFS_TAR")"
is "$diff_none" "sha256:$(sha256sum < "$ROOTFS_TAR" | cut -d' ' -f1)" "import: diff_id is sha256 of the tar"
is "$dg_none" "$diff_none" "import uncompressed: digest = diff_id"

read -r dg_gz diff_gz _ mt_gz <<<"$("$LT" "$S" write-tar -c gzip "$ROOTFS_TAR")"
is "$diff_gz" "$diff_none" "gzip import keeps the diff_id"
is "$mt_gz" "application/vnd.oci.image.layer.v1.tar+gzip" "gzip media type"
blob=$S/blobs/sha256/${dg_gz#sha256:}
is "sha256:$(sha256sum < "$blob" | cut -d' ' -f1)" "$dg_gz" "blob named by its sha256"
is "sha256:$(gunzip -c < "$blob" | sha256sum | cut -d' ' -f1)" "$diff_none" "gunzip reads the parallel gzip"
is "sha256:$(zstd -dc --format=gzip < "$blob" 2>/dev/null | sha256sum | cut -d' ' -f1)" "$diff_none" "zstd -d reads it"
py=$(python3 -c 'import zlib,hashlib,sys; print(hashlib.sha256(zlib.decompress(open(sys.argv[1],"rb").read(),31)).hexdigest())' "$blob")
is "sha256:$py" "$diff_none" "python zlib reads it"

read -r dg_zst diff_zst _ <<<"$("$LT" "$S" write-tar -c zstd "$blob")"
is "$diff_zst" "$diff_none" "zstd import of the gzip blob keeps the diff_id"

# unpack (overlay lower format) vs GNU tar
p=$("$LT" "$S" unpack "$dg_zst" "$diff_zst")
ok $? "unpack the zstd layer"
mkdir -p "$T/ref"
tar -C "$T/ref" --numeric-owner -xpf "$ROOTFS_TAR"
d=$(cd "$T/ref" && find . -printf '%p %y %m %U:%G %s %T@ %l\n' | sort)
g=$(cd "$p" && find . -printf '%p %y %m %U:%G %s %T@ %l\n' | sort)
[ "$d" = "$g" ]; ok $? "unpacked tree equals GNU tar's extraction (names, types, modes, owners, sizes, mtimes, links)"
diff -r --no-dereference "$T/ref" "$p" >/dev/null; ok $? "same file contents"

# snapshot of the unpacked tree reproduces the layer byte for byte
read -r dg2 diff2 _ <<<"$("$LT" "$S" write-dir -c gzip "$p")"
read -r dg3 diff3 _ <<<"$("$LT" "$S" write-dir -c gzip -j 1 "$T/ref")"
is "$diff3" "$diff2" "snapshots of two copies give the same diff_id"
is "$dg3" "$dg2" "... and the same gzip digest with 1 or all threads"

# apply through the tool; a hostile layer is refused or contained
mkdir -p "$T/evil/parent/target"
echo keep > "$T/evil/parent/victim"
python3 - "$T/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    a = tarfile.TarInfo("up"); a.type = tarfile.SYMTYPE; a.linkname = ".."; t.addfile(a)
    b = tarfile.TarInfo("up/victim"); b.size = 5; t.addfile(b, io.BytesIO(b"pwned"))
EOF
"$LT" - apply "$T/evil.tar" "$T/evil/parent/target" 2>/dev/null
is "$(cat "$T/evil/parent/victim")" "keep" "a write through a symlink to .. stays inside the target"

done_testing
