#!/usr/bin/env bash
# -v /path: an anonymous volume, listed by volume ls, kept by rm, removed by rm -v and run --rm.
. "$(dirname "$0")/lib.sh"
before=$(d volume ls -q | wc -l)
is "$(rc d run --name av1 -v /data busybox sh -c 'echo x > /data/f')" 0 "run -v /data"
is "$(d volume ls -q | wc -l)" $((before + 1)) "volume ls lists it"
like "$(d volume ls -q | tail -1)" '^[0-9a-f]{64}$' "named by 64 hex digits"
is "$(d inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}' av1)" "volume /data" "inspect: a volume mount on /data"
d rm -v av1 >/dev/null
is "$(d volume ls -q | wc -l)" "$before" "rm -v removes it"
d run --rm -v /data busybox true
is "$(d volume ls -q | wc -l)" "$before" "run --rm removes it"
d run --name av2 -v /data busybox true
d rm av2 >/dev/null
is "$(d volume ls -q | wc -l)" $((before + 1)) "rm without -v keeps it"
d volume prune -f >/dev/null
is "$(d volume ls -q | wc -l)" "$before" "volume prune removes it then"
done_testing
