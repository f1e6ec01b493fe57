#!/usr/bin/env bash
# A destination with no path is refused, for every transport (issue 23 item
# 6: `push IMAGE oci:` wrote index.json, oci-layout and blobs/ into /, exit
# 0). The commands run chrooted into a directory of the test (the system
# bound in) so that the old behaviour shows there and not in the real /.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for the chroot"
import_busybox app:1
jail=$T/jail
mkdir -p "$jail"
for d in usr bin sbin lib lib32 lib64 libx32 etc tmp dev proc; do
	[ -e "/$d" ] || continue
	if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$jail/$d"; else mkdir -p "$jail/$d"; fi
done
cp "$CBUILD" "$jail/cbuild"
jailed() { # jailed ARGS: cbuild ARGS with / = $jail
	unshare --mount --propagation private sh -c '
		j=$1; shift
		for d in usr bin sbin lib lib32 lib64 libx32 etc tmp dev proc; do
			[ -d "$j/$d" ] && [ ! -L "$j/$d" ] && mount --rbind "/$d" "$j/$d"
		done
		exec chroot "$j" "$@"' sh "$jail" /cbuild --root "$ROOT" "$@"
}
for dest in oci: oci::v1 oci-archive: oci-archive::v1 docker-archive: docker-archive::x/y:1 ''; do
	jailed push -q app:1 "$dest" >/dev/null 2>"$T/err"
	is $? 2 "push to '$dest' is a usage error"
	like "$(cat "$T/err")" "invalid destination '$dest'" "naming the destination"
done
jailed save -o '' app:1 >/dev/null 2>"$T/err"; is $? 2 "save -o '' is a usage error"
is "$(ls -A "$jail" | grep -E '^(blobs|index.json|oci-layout)' | tr '\n' ' ')" "" "nothing written to /"

# a relative path is a path, as in skopeo
(cd "$T" && cb push -q app:1 oci:rel:v1 >/dev/null); ok $? "push to oci:rel:v1 works"
[ -f "$T/rel/index.json" ] && [ -f "$T/rel/oci-layout" ]; ok $? "the layout is under ./rel"
done_testing
