#!/usr/bin/env bash
# COPY and ADD keep a sparse file's holes (issue 23 item 8, the leftovers):
# a 64 MiB file that holds 3 blocks of data stays a few blocks on disk in
# the step's layer, copied as a single file (copy_data), inside a copied
# directory (the layer written alongside) and extracted from a GNU sparse
# tar by ADD; its content is what buildah's and BuildKit's images hold for
# the same Dockerfile. The old code wrote every zero of the holes (copy_file_range
# and read/write fill them in).
. "$(dirname "$0")/lib.sh"
command -v buildah >/dev/null || skip_all "buildah not installed"

import_busybox busybox:latest
c=$T/c
mkdir -p "$c/dir"
mksparse() { # mksparse FILE: 64 MiB, data at 0, 20 MiB and the last block
	truncate -s 64M "$1"
	printf 'head of %s\n' "$1" | dd of="$1" conv=notrunc status=none
	head -c 8192 /dev/urandom | dd of="$1" bs=1M seek=20 conv=notrunc status=none
	printf 'tail\n' | dd of="$1" bs=1 seek=$((64 * 1048576 - 5)) conv=notrunc status=none
}
mksparse "$c/big"
mksparse "$c/dir/big2"
mkdir -p "$T/tarsrc"
mksparse "$T/tarsrc/sp"
# PAX sparse (GNU tar's old "S" entries are not read by buildah 1.28)
tar -C "$T/tarsrc" --format=posix -S -cf "$c/sp.tar" sp
cat > "$c/Dockerfile" <<'EOF'
FROM busybox
COPY big /big
COPY dir /dir
ADD sp.tar /x/
EOF
kib() { echo $(($(stat -c '%b * %B' "$1") / 1024)); } # allocated KiB

cb build -q -t sparse:1 "$c" >/dev/null 2>"$T/build.err"; ok $? "build with sparse files in COPY and ADD"
[ -s "$T/build.err" ] && diag "$(cat "$T/build.err")"
for f in big dir/big2 x/sp; do
	src=$c/$f; [ "$f" = x/sp ] && src=$T/tarsrc/sp
	got=$(find "$ROOT/layers" -path "*/$f" -type f | head -1)
	[ -n "$got" ]; ok $? "/$f is in the step's layer"
	[ -n "$got" ] || continue
	is "$(stat -c %s "$got")" "$(stat -c %s "$src")" "/$f has the source's size"
	k=$(kib "$got")
	[ "$k" -lt 1024 ]; ok $? "/$f keeps its holes ($k KiB allocated of 65536; the source: $(kib "$src"))"
	is "$(sha256sum < "$got")" "$(sha256sum < "$src")" "/$f has the source's content"
done

# the image's layers carry the same content as buildah's image
unpack sparse:1 "$T/u" || fail "umoci unpacks the image"
bh_base busybox || skip_all "buildah cannot read the busybox image: $(cat "$T/bh.err")"
bh bud --isolation chroot --pull=never -q -t bhsparse "$c" >/dev/null 2>"$T/bh.err"
ok $? "buildah builds the same Dockerfile"
ctr=$(bh from -q bhsparse 2>>"$T/bh.err") && mnt=$(bh mount "$ctr" 2>>"$T/bh.err")
ok $? "buildah's image is mounted" || { diag "$(tail -5 "$T/bh.err")"; done_testing; }
for f in big dir/big2 x/sp; do
	is "$(sha256sum < "$T/u/rootfs/$f")" "$(sha256sum < "$mnt/$f")" "/$f: the same content as buildah's"
	is "$(stat -c %s "$T/u/rootfs/$f")" "$(stat -c %s "$mnt/$f")" "/$f: the same size as buildah's"
done
bh umount "$ctr" >/dev/null 2>&1
bh rm "$ctr" >/dev/null 2>&1

# and as BuildKit's (Debian's dockerd, its own state, when it starts here)
sums() { for f in big dir/big2 x/sp; do printf '%s %s\n' "$f" "$(sha256sum < "$1/$f" | cut -d' ' -f1)"; done; }
bk_half() { dockerd_start && dockerd_load_busybox; }
WHY=
if bk_half; then
	DOCKER_BUILDKIT=1 dk build -q --network none \
		-t bksparse:1 "$c" >/dev/null 2>"$DD/build.err"
	ok $? "BuildKit builds the same Dockerfile" || diag "$(tail -3 "$DD/build.err")"
	bk=$(dk run --rm --network none bksparse:1 sh -c \
		'for f in big dir/big2 x/sp; do echo "$f $(sha256sum < /$f | cut -d" " -f1)"; done' 2>&1)
	is "$bk" "$(sums "$T/u/rootfs")" "the same content as BuildKit's image"
	dockerd_stop "$DD"
else
	echo "# SKIP BuildKit half: $WHY"
fi
done_testing
