#!/bin/sh
# testdata/mkdebian.sh OUT.tar - a small Debian bookworm rootfs (minbase).
#
# The "real distribution" base of the Debian e2e tests (no public registry is
# reachable, so the image is made here): debootstrap --variant=minbase from
# the Debian mirror, then cleaned as the official debian:bookworm image is:
# no apt lists, the docker-clean apt config (apt keeps no .debs), no
# debootstrap leftovers, no machine-id, an empty /tmp. Owners are kept
# (numeric), mtimes are not normalised: it is built once per machine and
# cached by the caller, not compared byte for byte.
#
# Exit status 3 means the mirror could not be reached (callers skip then).
# MIRROR overrides http://deb.debian.org/debian.
set -eu
out=${1:?usage: mkdebian.sh OUT.tar}
mirror=${MIRROR:-http://deb.debian.org/debian}
command -v debootstrap >/dev/null ||
	{ echo "mkdebian.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
if ! curl -fsS -m 20 -o /dev/null "$mirror/dists/bookworm/Release"; then
	echo "mkdebian.sh: the Debian mirror $mirror is unreachable" >&2
	exit 3
fi
work=$(mktemp -d /tmp/mkdebian.XXXXXX)
trap 'rm -rf "$work"' EXIT
r=$work/rootfs
debootstrap --variant=minbase bookworm "$r" "$mirror" >"$work/log" 2>&1 ||
	{ tail -20 "$work/log" >&2; exit 1; }
# What the official image's build (debuerreotype) does, in short.
cat > "$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat > "$r/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
cat > "$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup" <<'EOF'
force-unsafe-io
EOF
printf 'deb %s bookworm main\n' "$mirror" > "$r/etc/apt/sources.list"
rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin "$r/var/cache/apt/archives/"*.deb \
	"$r/var/log/"*.log "$r/var/log/apt/"* "$r/debootstrap" "$r/tmp/"* "$r/var/tmp/"*
mkdir -p "$r/var/lib/apt/lists/partial"
: > "$r/etc/machine-id"
rm -f "$r/etc/hostname" "$r/etc/resolv.conf"
# Mount points and device nodes belong to the runtime, not the image.
rm -rf "$r/dev/"* "$r/proc/"* "$r/sys/"*
tar --sort=name --numeric-owner --xattrs --format=pax \
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	-C "$r" -cf "$out.tmp" .
mv "$out.tmp" "$out"
