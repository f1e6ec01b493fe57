#!/usr/bin/env bash
# save -> rmi -> load keeps the image ID; other tools read the archive.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
id=$(cb images -q --no-trunc)
cb save -o "$T/bb.tar" busybox; ok $? "save"
tar -tf "$T/bb.tar" | grep -qx manifest.json; ok $? "archive has manifest.json"
tar -tf "$T/bb.tar" | grep -qx index.json; ok $? "archive has an OCI index"
skopeo inspect "docker-archive:$T/bb.tar" >/dev/null 2>&1; ok $? "skopeo reads it as docker-archive"
skopeo copy "docker-archive:$T/bb.tar" "oci:$T/copy:bb" >/dev/null 2>&1; ok $? "skopeo copies from it"
cb rmi busybox >/dev/null; ok $? "rmi"
is "$(cb images -q)" "" "store is empty"
out=$(cb load -i "$T/bb.tar"); ok $? "load"
like "$out" "Loaded image: busybox:latest" "load names the image"
is "$(cb images -q --no-trunc)" "$id" "image ID kept across save/load"

# what skopeo writes as docker-archive (classic layout) loads too
ROOT2=$T/root2
skopeo copy "oci:$T/copy:bb" "docker-archive:$T/sk.tar:example.com/sk:3" >/dev/null 2>&1
"$CBUILD" --root "$ROOT2" load -i "$T/sk.tar" >/dev/null; ok $? "load a skopeo docker-archive"
like "$("$CBUILD" --root "$ROOT2" images)" "example.com/sk +3" "its tag is listed"
is "$("$CBUILD" --root "$ROOT2" images -q --no-trunc)" "$id" "same image ID"

echo garbage > "$T/bad.tar"
cb load -i "$T/bad.tar" 2>/dev/null; is $? 1 "a non-archive fails with exit 1"
done_testing
