#!/usr/bin/env bash
# --mount type=volume without a source: an anonymous volume, as -v /path.
. "$(dirname "$0")/lib.sh"
before=$(d volume ls -q | wc -l)
is "$(rc d run --name mv1 --mount type=volume,target=/m busybox sh -c 'echo x > /m/f')" 0 "--mount type=volume without a source"
is "$(d volume ls -q | wc -l)" $((before + 1)) "makes an anonymous volume"
is "$(d inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}' mv1)" "volume /m true" "inspect shows it"
d rm -v mv1 >/dev/null
is "$(d volume ls -q | wc -l)" "$before" "removed by rm -v"
like "$(d run --rm --mount type=bind,target=/m busybox true 2>&1)" "Source must not be empty" "a bind needs a source"
done_testing
