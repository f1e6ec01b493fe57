#!/usr/bin/env bash
# SOURCE_DATE_EPOCH: two builds on different store roots, same bytes.
. "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
import_busybox busybox:latest
R2=$T/root2
"$CBUILD" --root "$R2" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
m1=$(cb build -q --no-cache -t r:1 "$BUILDS/course") && d1=$(cb images --digests | awk '$1=="r" {print $3}')
m2=$("$CBUILD" --root "$R2" build -q --no-cache -t r:1 "$BUILDS/course") && d2=$("$CBUILD" --root "$R2" images --digests | awk '$1=="r" {print $3}')
is "$m2" "$m1" "same image ID on two roots"
is "$d2" "$d1" "same manifest digest on two roots"
like "$(cb inspect r:1)" '"Created": "2023-11-14T22:13:20Z"' "created is SOURCE_DATE_EPOCH"
m3=$(cb build -q --no-cache --timestamp 1700000000 -t r:2 "$BUILDS/course")
is "$m3" "$m1" "--timestamp gives the same"
done_testing
