#!/usr/bin/env bash
# volume create|ls|inspect|rm|prune as docker's local driver: the volume
# `-v NAME:/path` makes on first use is the one `volume` lists; a volume a
# container names (running or not) is never removed.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox

is "$(cb volume create v1)" "v1" "volume create prints the name"
is "$(cb volume create v1)" "v1" "creating it again is no error (docker's too)"
is "$(cb volume ls)" "$(printf 'DRIVER    VOLUME NAME\nlocal     v1')" "volume ls: docker's columns"
anon=$(cb volume create)
like "$anon" "^[0-9a-f]{64}$" "volume create without a name: 64 hex digits"
cb volume rm "$anon" >/dev/null

cb run --rm --network none -v v1:/data busybox sh -c 'echo hi > /data/f'
is "$(cb run --rm --network none -v v1:/data busybox cat /data/f)" "hi" "a volume keeps what a container wrote"
mp=$(cb volume inspect --format '{{.Mountpoint}}' v1)
is "$mp" "$ROOT/volumes/v1" "inspect --format {{.Mountpoint}}"
is "$(cat "$mp/f")" "hi" "the mountpoint holds the file"
j=$(cb volume inspect v1)
is "$(printf '%s' "$j" | python3 -c 'import json,sys; v=json.load(sys.stdin)[0]; print(v["Name"], v["Driver"], v["Scope"], sorted(v))')" \
	"v1 local local ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']" \
	"inspect: docker's keys"
cb volume inspect v1 nosuch >/dev/null 2>&1
is "$?" 1 "inspect of a missing volume fails"

# first use creates it; a container (even exited) keeps it in use
cb run --name user1 --network none -v auto1:/x busybox true
like "$(cb volume ls -q)" "auto1" "-v NAME:/path made the volume"
out=$(cb volume rm auto1 2>&1); rc=$?
is "$rc" 1 "volume rm of a volume an exited container names fails"
like "$out" "in use" "and says it is in use"
is "$(cb volume ls -q -f dangling=true)" "v1" "ls -f dangling=true: only the unused one"
is "$(cb volume ls -q -f name=auto)" "auto1" "ls -f name=SUBSTRING"
cb rm user1 >/dev/null
is "$(cb volume rm auto1)" "auto1" "after the container is gone, rm works"
cb volume rm auto1 >/dev/null 2>&1
is "$?" 1 "rm of a missing volume fails"
cb volume rm -f auto1 >/dev/null 2>&1
is "$?" 0 "rm -f of a missing volume does not"
cb volume create 'x' >/dev/null 2>&1
is "$?" 1 "a one-character name is refused (docker: too short)"
cb volume create 'a/b' >/dev/null 2>&1
is "$?" 1 "a name with a slash is refused"

# prune: asks, removes only the unused ones, says what and how much
cb volume create v2 >/dev/null
id=$(cb run -d --network none -v v2:/d busybox sleep 1000)
echo n | cb volume prune >/dev/null 2>&1
is "$(cb volume ls -q | tr '\n' ' ')" "v1 v2 " "prune answered n removes nothing"
out=$(cb volume prune -f)
like "$out" "^Deleted Volumes:" "prune -f: Deleted Volumes:"
like "$out" "v1" "the unused one"
unlike "$out" "v2" "not the one a running container uses"
like "$out" "Total reclaimed space: [0-9.]+[kM]?B" "and the space reclaimed"
is "$(cb volume ls -q)" "v2" "v2 is left"
is "$(echo y | cb volume prune 2>/dev/null | tail -1)" "Total reclaimed space: 0B" "prune answered y with nothing to do"
cb rm -f "$id" >/dev/null
cb volume ls -x >/dev/null 2>&1
is "$?" 125 "an unknown option: 125, as docker"
done_testing
