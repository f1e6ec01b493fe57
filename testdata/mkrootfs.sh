#!/bin/sh
# testdata/mkrootfs.sh OUT.tar - a small deterministic busybox rootfs.
#
# The base image of every test (no public registry is reachable): Debian's
# static busybox, a symlink per applet, /etc/passwd and /etc/group with root
# and nobody, /tmp 1777, /root. Same bytes on every run: sorted entries,
# numeric owners 0:0, mtimes fixed at SOURCE_DATE_EPOCH (default 2024-01-01).
set -eu
out=${1:?usage: mkrootfs.sh OUT.tar}
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || bb=/usr/bin/busybox
[ -x "$bb" ] || { echo "mkrootfs.sh: busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
epoch=${SOURCE_DATE_EPOCH:-1704067200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
r=$work/rootfs
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/root" "$r/tmp" \
	"$r/var/www" "$r/home" "$r/dev" "$r/proc" "$r/sys"
cp "$bb" "$r/bin/busybox"
chmod 0755 "$r/bin/busybox"
# BUSYBOX_LIST: a busybox this machine runs, for the applet list of a
# foreign one (mkrootfs-arch.sh)
for applet in $("${BUSYBOX_LIST:-$bb}" --list-full); do
	case "$applet" in bin/busybox) continue ;; esac
	[ -e "$r/$applet" ] || ln -s /bin/busybox "$r/$applet"
done
cat > "$r/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$r/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
echo 'hosts: files dns' > "$r/etc/nsswitch.conf"
chmod 1777 "$r/tmp"
chmod 0700 "$r/root"
find "$r" -exec touch -h -d "@$epoch" {} +
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
	--format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	-C "$r" -cf "$out.tmp" .
mv "$out.tmp" "$out"
