#!/usr/bin/env bash
# An image's VOLUME: an anonymous volume per path, filled from the image at first use, removed by rm -v.
. "$(dirname "$0")/lib.sh"
ctx "$T/iv" <<'DF'
FROM busybox
RUN mkdir -p /data/sub && echo hello > /data/f && chown 5:6 /data && chmod 750 /data
VOLUME /data /empty
DF
d build -q -t ivol:1 "$T/iv" >/dev/null
before=$(d volume ls -q | wc -l)
is "$(d run --name iv1 ivol:1 sh -c 'cat /data/f; echo new > /data/g')" hello "the volume holds the image's file"
is "$(d volume ls -q | wc -l)" $((before + 2)) "volume ls: one volume per VOLUME path"
is "$(d inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}},{{end}}' iv1 | tr , '\n' | sort | xargs)" \
	"volume /data true volume /empty true" "inspect Mounts: both volumes"
is "$(d inspect -f '{{json .Config.Volumes}} {{json .HostConfig.Binds}}' iv1)" '{"/data":{},"/empty":{}} null' \
	"inspect: Config.Volumes, no Binds"
is "$(d start -a iv1 2>&1)" hello "start again: the volume is kept"
d run --name iv2 ivol:1 sh -c 'ls -ln / | grep " data$"' >"$T/ls"
like "$(cat "$T/ls")" '^drwxr-x--- .* 5 +6 ' "the volume takes the directory's owner and mode"
is "$(d run --rm ivol:1 ls /data | xargs)" "f sub" "another container gets a fresh copy"
is "$(d run --rm -v "$T/iv:/data" ivol:1 ls /data)" Dockerfile "a bind on the path replaces the volume"
is "$(d run --rm -v ivn:/data ivol:1 ls /data | xargs)" "f sub" "a new named volume is filled too"
d run --rm -v ivn:/data busybox sh -c 'rm /data/f'
is "$(d run --rm -v ivn:/data ivol:1 ls /data | xargs)" "sub" "a named volume in use is not filled again"
d volume rm ivn >/dev/null
d rm -v iv1 iv2 >/dev/null
is "$(d volume ls -q | wc -l)" "$before" "rm -v removes the image's volumes (run --rm too)"
done_testing
