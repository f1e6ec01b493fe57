#!/usr/bin/env bash
# ps and images --format: table with headers, json, plain lines.
. "$(dirname "$0")/lib.sh"
d run -d --name tb1 busybox sleep 100 >/dev/null
out=$(d ps --format 'table {{.Names}}\t{{.Image}}')
like "$(echo "$out" | head -1)" "^NAMES +IMAGE$" "table: the headers"
like "$(echo "$out" | sed -n 2p)" "^tb1 +busybox$" "table: the row"
like "$(d ps --format '{{json .Names}}')" '^"tb1"$' "{{json .Names}}"
like "$(d images --format 'table {{.Repository}}\t{{.Tag}}' | head -1)" "^REPOSITORY +TAG$" "images: table headers"
is "$(d images --format '{{.Repository}}-{{.Tag}}')" busybox-latest "images: a plain template"
done_testing
