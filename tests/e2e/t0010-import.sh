#!/usr/bin/env bash
# import a rootfs tarball; tools nobody here wrote read the store.
. "$(dirname "$0")/lib.sh"

id=$(cb import -c 'CMD ["sh"]' -c 'ENV A=b' "$ROOTFS_TAR" busybox:latest); ok $? "import exits 0"
like "$id" "^sha256:[0-9a-f]{64}$" "import prints the image ID"
out=$(cb images)
like "$out" "busybox +latest +${id:7:12}" "images lists busybox:latest with its ID"
size=$(printf '%s\n' "$out" | awk '/busybox/ {print $NF}')
want=$(stat -c %s "$ROOTFS_TAR" | awk '{printf "%.3gMB", $1 / 1e6}')
is "$size" "$want" "images shows the uncompressed size, as docker"
is "$(cb images -q)" "${id:7:12}" "images -q prints the short ID"
# docker's table: columns as wide as their contents plus three spaces
like "$(printf '%s\n' "$out" | head -1)" "^REPOSITORY   TAG       IMAGE ID       CREATED +SIZE$" \
	"images header spaced as docker's"
like "$out" "busybox      latest    ${id:7:12}   " "images row spaced as docker's"

oci-image-tool validate --type image "$ROOT" >/dev/null 2>&1
ok $? "oci-image-tool validates the store"
skopeo inspect "oci:$ROOT:docker.io/library/busybox:latest" > "$T/inspect.json" 2>"$T/skopeo.err"
ok $? "skopeo inspect reads the image"
grep -q '"Architecture"' "$T/inspect.json"; ok $? "skopeo sees a config"
umoci unpack --image "$ROOT:docker.io/library/busybox:latest" "$T/bundle" >/dev/null 2>&1
ok $? "umoci unpacks the image"
mkdir -p "$T/ref" && tar -C "$T/ref" -xf "$ROOTFS_TAR"
diff -r --no-dereference "$T/ref" "$T/bundle/rootfs" >/dev/null
ok $? "unpacked tree equals the tarball's"
cmp "$T/ref/bin/busybox" "$T/bundle/rootfs/bin/busybox"; ok $? "busybox binary intact"

js=$(cb inspect busybox | tr -d ' \n')
like "$js" '"Cmd":\["sh"\]' "inspect shows CMD from -c"
like "$js" '"A=b"' "inspect shows ENV from -c"
h=$(cb history busybox); like "$h" "Imported from" "history records the import"
like "$h" "Imported from .*   $size " "history: the layer's SIZE uncompressed, as images shows it"

cb tag busybox localhost:5000/bb:7; ok $? "tag"
like "$(cb images)" "localhost:5000/bb +7" "the new tag is listed"
cb rmi localhost:5000/bb:7 >/dev/null; ok $? "rmi of one tag"
unlike "$(cb images)" "localhost:5000/bb" "that tag is gone"
[ -n "$(cb images -q)" ]; ok $? "the image itself stays"

gzip -c "$ROOTFS_TAR" > "$T/rootfs.tar.gz"
id2=$(cb import "$T/rootfs.tar.gz" bbgz:1); ok $? "import of a .tar.gz"
c1=$(cb inspect busybox | grep -A2 '"Layers"' | tail -1)
c2=$(cb inspect bbgz:1 | grep -A2 '"Layers"' | tail -1)
is "$c1" "$c2" "same diff_id from .tar and .tar.gz"
done_testing
