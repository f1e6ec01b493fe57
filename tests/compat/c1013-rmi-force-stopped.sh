#!/usr/bin/env bash
# rmi -f of an image only a stopped container uses: untagged and deleted, the container still starts.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo kept > /kept
DF
d build -q -t stopped:1 "$T/c" >/dev/null
d tag stopped:1 stopped:2
id=$(d images -q --no-trunc stopped:1)
d run --name st1 stopped:1 cat /kept >/dev/null
is "$(rc d rmi "${id#sha256:}")" 1 "rmi of its ID without -f: refused"
out=$(d rmi -f "$(echo "${id#sha256:}" | cut -c1-12)" 2>&1); s=$?
is "$s" 0 "rmi -f of its short ID: 0"
is "$(printf '%s\n' "$out" | sort | xargs)" "Deleted: $id Untagged: stopped:1 Untagged: stopped:2" \
	"docker's lines: every name untagged, the image deleted"
is "$(d images -a --format '{{.Repository}}:{{.Tag}}' | grep -c -e '^stopped' -e '<none>')" 0 "images -a lists it no more"
is "$(d ps -a --format '{{.Names}} {{.Image}}')" "st1 $(echo "${id#sha256:}" | cut -c1-12)" "ps shows its short ID"
is "$(d inspect -f '{{.Image}}' st1)" "$id" "inspect .Image keeps the ID"
is "$(d start -a st1)" kept "start -a: the container still runs on it"
is "$(rc d rmi "$id")" 1 "the ID names nothing any more"
is "$(d rm st1)" st1 "rm"
done_testing
