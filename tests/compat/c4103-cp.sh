#!/usr/bin/env bash
# cp both ways: docker's rules for DEST, SRC/., -a, tar streams, stopped containers
. "$(dirname "$0")/lib.sh"
H=$T/host
mkdir -p "$H/d/sub" "$H/out"
echo one > "$H/f"
echo two > "$H/d/a"
echo three > "$H/d/sub/b"
chown 1234:2345 "$H/d/a"
d run -d --name ctr busybox sh -c 'mkdir -p /srv/x; echo in > /srv/x/y; ln -s /etc /srv/link; sleep 1000' >/dev/null
wait_until 30 d exec ctr test -L /srv/link
d cp "$H/f" ctr:/tmp/
is "$(d exec ctr cat /tmp/f)" "one" "file into a directory keeps its name"
d cp "$H/f" ctr:/tmp/g
is "$(d exec ctr cat /tmp/g)" "one" "file to a missing path"
is "$(rc d cp "$H/f" ctr:/tmp/nodir/)" 1 "file to a missing DIR/: 1"
d cp "$H/d" ctr:/tmp/
is "$(d exec ctr cat /tmp/d/sub/b)" "three" "directory into a directory"
d cp "$H/d" ctr:/tmp/newd
is "$(d exec ctr cat /tmp/newd/a)" "two" "directory to a missing path"
d exec ctr mkdir /tmp/into
d cp "$H/d/." ctr:/tmp/into
is "$(d exec ctr ls /tmp/into | tr '\n' ' ')" "a sub " "SRC/. copies the contents"
is "$(rc d cp "$H/d" ctr:/tmp/g)" 1 "directory onto a file: 1"
is "$(d exec ctr stat -c '%u:%g' /tmp/d/a)" "1234:2345" "without -a the owner is kept too (dockerd 20.10)"
d cp -a "$H/d" ctr:/tmp/arch
is "$(d exec ctr stat -c '%u:%g' /tmp/arch/a)" "1234:2345" "-a keeps uid:gid"
d cp ctr:/srv/x "$H/out/"
is "$(cat "$H/out/x/y")" "in" "directory out"
d cp ctr:/srv/x/y "$H/out/yy"
is "$(cat "$H/out/yy")" "in" "file out to a missing path"
d cp ctr:/srv/link "$H/out/"
is "$(readlink "$H/out/link")" "/etc" "a symlink SRC is copied as the link"
is "$(rc d cp ctr:/nosuch "$H/out/")" 1 "a missing SRC: 1"
is "$(d cp ctr:/srv/x - | tar tf - | sort | tr '\n' ' ')" "x/ x/y " "cp CTR:SRC - is a tar"
d exec ctr mkdir /tmp/fromtar
(cd "$H" && tar cf - f) | d cp - ctr:/tmp/fromtar
is "$(d exec ctr cat /tmp/fromtar/f)" "one" "cp - CTR:DIR extracts a tar"
d run --name stp busybox sh -c 'mkdir /data; echo old > /data/old'
d cp "$H/f" stp:/data/
d cp stp:/data "$H/out/data"
is "$(cat "$H/out/data/old" "$H/out/data/f" | tr '\n' ' ')" "old one " "a stopped container: in and out"
[ "$(rc d cp "$H/f" "$H/g")" != 0 ]; ok $? "no container named: an error"
done_testing
