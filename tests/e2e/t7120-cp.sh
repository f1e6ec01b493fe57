#!/usr/bin/env bash
# cp both ways, running and stopped containers, docker's rules for DEST
# (existing dir, missing, file, trailing '/', SRC/.), -a, tar streams with
# '-', and no escape through a symlink the container planted.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox

H=$T/host
mkdir -p "$H/d/sub"
echo one > "$H/f"
echo two > "$H/d/a"
echo three > "$H/d/sub/b"
chown 1234:2345 "$H/d/a"
chmod 0751 "$H/d/sub"

run_id=$(cb run -d --name live --network none busybox sh -c 'mkdir -p /srv/x; echo in > /srv/x/y; ln -s /etc /srv/etclink; ln -s /tmp/evil-'"$$"' /srv/evil; sleep 1000')
ready() { cb exec live test -e /srv/evil -o -L /srv/evil; }
wait_for 60 ready || diag "live never made its files"
cb run --name dead --network none busybox sh -c 'mkdir /data; echo old > /data/old; ln -s / /data/rootlink' >/dev/null

ex() { cb exec live "$@"; }

# host -> running container
cb cp "$H/f" live:/tmp/
is "$(ex cat /tmp/f)" "one" "file into an existing dir keeps its name"
cb cp "$H/f" live:/tmp/renamed
is "$(ex cat /tmp/renamed)" "one" "file to a missing path: that file"
echo new > "$H/f2"
cb cp "$H/f2" live:/tmp/renamed
is "$(ex cat /tmp/renamed)" "new" "file onto an existing file replaces it"
cb cp "$H/f" live:/tmp/nodir/ >/dev/null 2>&1
is "$?" 1 "file to a missing DIR/ fails (the directory must exist)"
cb cp "$H/d" live:/tmp/
is "$(ex cat /tmp/d/a /tmp/d/sub/b | tr '\n' ' ')" "two three " "dir into an existing dir: DIR/basename"
cb cp "$H/d" live:/tmp/newd
is "$(ex cat /tmp/newd/a)" "two" "dir to a missing path: made, with the contents"
ex mkdir /tmp/into
cb cp "$H/d/." live:/tmp/into
is "$(ex ls /tmp/into | tr '\n' ' ')" "a sub " "SRC/. copies the contents"
cb cp "$H/d" live:/tmp/renamed >/dev/null 2>&1
is "$?" 1 "dir onto a file fails"
is "$(ex stat -c '%u:%g %a' /tmp/d/a /tmp/d/sub | tr '\n' ' ')" "1234:2345 644 0:0 751 " \
	"without -a owners and modes are kept too (dockerd 20.10 keeps them)"
cb cp -a "$H/d" live:/tmp/arch
is "$(ex stat -c '%u:%g' /tmp/arch/a)" "1234:2345" "-a keeps uid:gid"
cb cp "$H/f" live:tmp/relative
is "$(ex cat /tmp/relative)" "one" "container paths are relative to its root"

# running container -> host
mkdir "$H/out"
cb cp live:/srv/x "$H/out/"
is "$(cat "$H/out/x/y")" "in" "dir out into an existing dir"
cb cp live:/srv/x/y "$H/out/yy"
is "$(cat "$H/out/yy")" "in" "file out to a missing path"
cb cp live:/srv/etclink "$H/out/"
[ -L "$H/out/etclink" ] && [ "$(readlink "$H/out/etclink")" = /etc ]
ok $? "a symlink SRC is copied as the link"
cb cp -L live:/srv/etclink/hostname "$H/out/hn"
is "$(cat "$H/out/hn")" "${run_id:0:12}" "-L follows it inside the container (its /etc, not the host's)"
cb cp live:/nosuch "$H/out/" >/dev/null 2>&1
is "$?" 1 "a missing SRC fails"

# tar streams
cb cp live:/srv/x - > "$T/x.tar"
is "$(tar tf "$T/x.tar" | sort | tr '\n' ' ')" "x/ x/y " "cp CTR:SRC - writes a tar named after SRC"
(cd "$H" && tar cf - f d) | cb cp - live:/tmp/fromtar 2>/dev/null
is "$?" 1 "cp - CTR:DIR fails when DIR is missing (docker's too)"
ex mkdir /tmp/fromtar
(cd "$H" && tar cf - f d) | cb cp - live:/tmp/fromtar
is "$(ex cat /tmp/fromtar/f /tmp/fromtar/d/a | tr '\n' ' ')" "one two " "cp - CTR:DIR extracts a tar"
echo x | cb cp - live:/tmp/renamed >/dev/null 2>&1
is "$?" 1 "cp - onto a file fails (must be a directory)"

# stopped container, both ways
cb cp "$H/f" dead:/data/
cb cp dead:/data "$H/out/data"
is "$(cat "$H/out/data/old" "$H/out/data/f" | tr '\n' ' ')" "old one " "stopped container: in and out"
is "$(cb diff dead | grep -c '^A /data/f$')" 1 "the file is in its upper directory (diff shows it)"

# no escapes: writing through a container's symlink that points at the
# host's / or a host path stays inside the container
mkdir -p /tmp/evil-$$; at_exit rm -rf /tmp/evil-$$
cb cp "$H/f" live:/srv/evil/planted 2>/dev/null
[ ! -e /tmp/evil-$$/planted ]; ok $? "a symlink to a host directory's path in the container does not write there"
u=cbuild-cp-$$-$RANDOM
echo planted > "$H/$u"
cb cp "$H/$u" dead:/data/rootlink/tmp/ 2>/dev/null
[ ! -e "/tmp/$u" ]; ok $? "a symlink to / in a stopped container does not write the host's /tmp"
cb cp dead:/tmp/$u "$H/back" 2>/dev/null
is "$(cat "$H/back")" "planted" "it went to the container's own /tmp"
cb cp "$H/d/." live:/srv/etclink 2>/dev/null
[ ! -e /etc/sub/b ]; ok $? "nor one to /etc"
printf 'ok' > "$T/payload"
(cd "$T" && tar cf - --transform 's,^payload,../../../../../../tmp/evil-'$$'/escaped,' payload) |
	cb cp - live:/tmp 2>/dev/null
[ ! -e /tmp/evil-$$/escaped ]; ok $? "a tar with ../ names stays inside"

cb cp "$H/f" "$H/g" >/dev/null 2>&1
is "$?" 2 "no container named: usage error"
cb cp live:/a dead:/b >/dev/null 2>&1
is "$?" 2 "between two containers: usage error (docker's too)"
cb cp "$H/f" nosuch:/tmp >/dev/null 2>&1
is "$?" 1 "no such container: 1"
cb rm -f live dead >/dev/null
done_testing
