#!/usr/bin/env bash
# save -o and load -i: the name comes back with the image.
. "$(dirname "$0")/lib.sh"
d tag busybox keep:1
d save -o "$T/k.tar" keep:1; ok $? "save -o"
[ -s "$T/k.tar" ]; ok $? "the archive is written"
tar -tf "$T/k.tar" | grep -q manifest.json; ok $? "a docker archive (manifest.json)"
d rmi keep:1 >/dev/null
is "$(d images -q keep:1)" "" "gone"
like "$(d load -i "$T/k.tar")" "Loaded image: keep:1" "load names it"
is "$(d images -q keep:1)" "$(d images -q busybox)" "the same image back"
d save keep:1 >"$T/k2.tar"; ok $? "save to stdout"
d rmi keep:1 >/dev/null
like "$(d load <"$T/k2.tar")" "Loaded image: keep:1" "load from stdin"
done_testing
