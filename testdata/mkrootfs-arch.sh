#!/bin/sh
# testdata/mkrootfs-arch.sh ARCH OUT.tar - mkrootfs.sh's busybox rootfs for a
# Debian architecture (arm64, armhf, ...): Debian's busybox-static:ARCH,
# fetched with apt-get download. The .deb is kept in $CBUILD_TEST_CACHE (the
# mirror is only asked once); when the architecture is not configured yet it
# is added for the download and removed again afterwards.
set -eu
arch=${1:?usage: mkrootfs-arch.sh ARCH OUT.tar}
out=${2:?usage: mkrootfs-arch.sh ARCH OUT.tar}
cache=${CBUILD_TEST_CACHE:-/tmp/cbuild-test-cache}
mkdir -p "$cache"
deb=$(ls "$cache"/busybox-static_*_"$arch".deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	added=0
	if [ "$(dpkg --print-architecture)" != "$arch" ] &&
		! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		dpkg --add-architecture "$arch"
		added=1
	fi
	rc=0
	(apt-get update -qq && cd "$cache" && apt-get download -qq "busybox-static:$arch") || rc=$?
	[ $added = 0 ] || dpkg --remove-architecture "$arch"
	[ $rc = 0 ] || { echo "mkrootfs-arch.sh: could not download busybox-static:$arch" >&2; exit 1; }
	deb=$(ls "$cache"/busybox-static_*_"$arch".deb | head -n1)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/x"
BUSYBOX=$work/x/bin/busybox BUSYBOX_LIST=/bin/busybox "$(dirname "$0")/mkrootfs.sh" "$out"
