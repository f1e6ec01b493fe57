#!/usr/bin/env bash
# volume create|ls|inspect|rm|prune and -v NAME:/path
. "$(dirname "$0")/lib.sh"
v=cvol$$
trap 'd rm -f $(d ps -aq) >/dev/null 2>&1; d volume rm -f $v ${v}b ${v}c >/dev/null 2>&1; _cleanup' EXIT
is "$(d volume create $v)" "$v" "create prints the name"
like "$(d volume ls)" "^DRIVER +VOLUME NAME" "ls: the columns"
like "$(d volume ls)" "local +$v" "ls: the volume"
d run --rm -v $v:/data busybox sh -c 'echo hi > /data/f'
is "$(d run --rm -v $v:/data busybox cat /data/f)" "hi" "a volume keeps what a container wrote"
is "$(d volume inspect --format '{{.Name}} {{.Driver}}' $v)" "$v local" "inspect --format"
is "$(rc d volume inspect nosuch$v)" 1 "inspect of a missing volume: 1"
d run --name user -v ${v}b:/x busybox true
like "$(d volume ls -q)" "${v}b" "-v NAME:/path creates the volume"
is "$(rc d volume rm ${v}b)" 1 "rm of a volume a container names: 1"
d rm user >/dev/null
is "$(d volume rm ${v}b)" "${v}b" "rm once the container is gone"
is "$(rc d volume rm ${v}b)" 1 "rm of a missing volume: 1"
d volume create ${v}c >/dev/null
d run -d --name keep -v $v:/d busybox sleep 1000 >/dev/null
out=$(d volume prune -f)
like "$out" "Deleted Volumes:" "prune -f"
like "$out" "${v}c" "removes the unused volume"
unlike "$out" "$v\$" "not the one a running container uses"
like "$(d volume ls -q)" "^$v\$" "it is left"
done_testing
