#!/usr/bin/env bash
# volume ls filters and formats, volume create without a name, volume inspect's Mountpoint, rm -f of a missing one.
. "$(dirname "$0")/lib.sh"
v=fvol$$
trap 'd rm -f $(d ps -aq) >/dev/null 2>&1; d volume rm -f ${v}a ${v}b >/dev/null 2>&1; _cleanup' EXIT
d volume create ${v}a >/dev/null
d volume create ${v}b >/dev/null
anon=$(d volume create)
like "$anon" '^[0-9a-f]{64}$' "volume create without a name: 64 hex digits"
d run -d --name vf1 -v ${v}a:/d busybox sleep 300 >/dev/null
is "$(d volume ls -q -f name=$v | sort | xargs)" "${v}a ${v}b" "-f name=SUBSTRING"
is "$(d volume ls -q -f dangling=true -f name=$v)" "${v}b" "-f dangling=true: only the unused one"
is "$(d volume ls -q -f dangling=false -f name=$v)" "${v}a" "-f dangling=false: the used one"
is "$(d volume ls --format '{{.Name}}:{{.Driver}}' -f name=${v}a)" "${v}a:local" "--format"
mp=$(d volume inspect -f '{{.Mountpoint}}' ${v}a)
d exec vf1 sh -c 'echo seen > /d/f'
is "$(cat "$mp/f")" seen "inspect's Mountpoint is where its files are"
is "$(d volume rm "$anon")" "$anon" "rm of the unnamed one by its name"
is "$(rc d volume rm -f nosuch$v)" 0 "rm -f of a missing volume: 0"
done_testing
