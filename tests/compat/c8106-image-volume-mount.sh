#!/usr/bin/env bash
# an image's VOLUME and --mount type=volume without a source: anonymous volumes too.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN mkdir /data && echo seeded > /data/seed
VOLUME /data
DF
d build -q -t withvol:1 "$T/c" >/dev/null
before=$(d volume ls -q | wc -l)
d run --name iv1 withvol:1 sh -c 'echo more > /data/more'
is "$(d volume ls -q | wc -l)" $((before + 1)) "VOLUME /data: an anonymous volume at run"
is "$(d inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}' iv1)" "volume /data" "inspect shows it"
d rm -v iv1 >/dev/null
is "$(d volume ls -q | wc -l)" "$before" "rm -v removes it"
d run --rm -v named1:/data withvol:1 true
is "$(d volume ls -q)" named1 "a -v on the VOLUME path replaces the anonymous one"
d volume rm named1 >/dev/null
is "$(rc d run --name mv1 --mount type=volume,target=/m busybox sh -c 'echo x > /m/f')" 0 "--mount type=volume without a source"
is "$(d volume ls -q | wc -l)" $((before + 1)) "makes an anonymous volume"
d rm -v mv1 >/dev/null
is "$(d volume ls -q | wc -l)" "$before" "removed by rm -v"
done_testing
