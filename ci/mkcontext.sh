#!/bin/sh
# ci/mkcontext.sh CBUILD-BINARY OUT-DIR - the build context of ci/Dockerfile:
# OUT/Dockerfile, OUT/rootfs/usr/local/bin/cbuild and, in
# OUT/rootfs/usr/local/lib/cbuild/, every shared library cbuild links or
# loads at run time (dlopen: libarchive, libcurl, libseccomp, libyaml, zlib,
# zstd) with what those need in turn, glibc excepted (the base has it).
# With proot installed here (Debian's package), OUT/rootfs/usr/local/bin/proot
# and its libraries too: a non-root user under Docker's defaults runs RUN
# steps under it (no namespace, no chroot can be made there).
# The libraries come from this machine: the image's base must be the same
# Debian release.
set -eu
bin=${1:?usage: mkcontext.sh CBUILD-BINARY OUT-DIR}
out=${2:?usage: mkcontext.sh CBUILD-BINARY OUT-DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/rootfs/usr/local/bin" "$out/rootfs/usr/local/lib/cbuild" "$out/rootfs/etc/ld.so.conf.d"
cp "$here/Dockerfile" "$out/Dockerfile"
cp "$bin" "$out/rootfs/usr/local/bin/cbuild"
echo /usr/local/lib/cbuild >"$out/rootfs/etc/ld.so.conf.d/cbuild.conf"
# the libraries cbuild dlopens (the names in its *_lazy.c loaders)
lazy="libarchive.so.13 libcurl.so.4 libseccomp.so.2 libyaml-0.so.2 libz.so.1 libzstd.so.1"
objs=$bin
proot=$(command -v proot || true)
if [ -n "$proot" ]; then
	cp -L "$proot" "$out/rootfs/usr/local/bin/proot"
	objs="$objs $proot"
else
	echo "mkcontext.sh: no proot here: the image builds as root only under Docker's defaults" >&2
fi
for l in $lazy; do
	p=$(ldconfig -p | awk -v n="$l" '$1 == n && /x86-64|x32|AArch64|64bit/ { print $NF; exit }')
	[ -n "$p" ] || p=$(ldconfig -p | awk -v n="$l" '$1 == n { print $NF; exit }')
	[ -n "$p" ] || { echo "mkcontext.sh: $l is not installed here" >&2; exit 1; }
	objs="$objs $p"
done
for o in $objs; do
	case $o in "$bin"|"$proot") ;; *) cp -L "$o" "$out/rootfs/usr/local/lib/cbuild/" ;; esac
	ldd "$o" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
	case ${lib##*/} in
	libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*) ;;
	*) cp -L "$lib" "$out/rootfs/usr/local/lib/cbuild/" ;;
	esac
done
