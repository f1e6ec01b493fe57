#!/usr/bin/env bash
# The course example, end to end, checked by umoci, skopeo, oci-image-tool.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
out=$(cb build -t app:1 "$BUILDS/course" 2>"$T/log"); ok $? "build exits 0"
like "$out" "^sha256:[0-9a-f]{64}$" "stdout is the image ID"
log=$(cat "$T/log")
like "$log" "STEP 1/7: FROM busybox" "plain progress numbers the steps"
like "$log" "STEP 3/7: RUN cp /tmp/data.txt" "RUN step is shown"
like "$log" "Successfully tagged app:1" "tag is reported"
unpack app:1 "$T/u"; ok $? "umoci unpacks the image"
is "$(cat "$T/u/rootfs/tmp/data.txt")" "hello data" "ADD put data.txt in /tmp"
is "$(tail -1 "$T/u/rootfs/tmp/copy.txt")" "built" "RUN's output file is there"
cfg=$(config_of app:1)
like "$cfg" '"Cmd":\["cat","/tmp/copy.txt"\]' "CMD recorded"
like "$cfg" '"WorkingDir":"/tmp"' "WORKDIR recorded"
like "$cfg" '"APP_ENV=production"' "ENV recorded"
like "$cfg" '"ExposedPorts":\{"4567/tcp":\{\}\}' "EXPOSE recorded"
hist=$(cb inspect app:1 | python3 -c 'import json,sys; h=json.load(sys.stdin)[0]["History"]; print(len(h), sum(1 for e in h if not e.get("empty_layer")))')
is "$hist" "7 3" "history: 7 entries, 3 with layers (import, ADD, RUN)"
oci-image-tool validate --type image "$ROOT" >/dev/null 2>&1; ok $? "oci-image-tool validates the store"
skopeo inspect "oci:$ROOT:docker.io/library/app:1" >/dev/null 2>&1; ok $? "skopeo inspects the image"
if command -v buildah >/dev/null; then
	export BUILDAH_ROOT=$T/buildah
	ctr=$(buildah --root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run" --storage-driver vfs \
		from "oci:$ROOT:docker.io/library/app:1" 2>"$T/buildah.err")
	rc=$?; ok $rc "buildah from reads the image"; [ $rc = 0 ] || diag "$(cat "$T/buildah.err")"
	got=$(buildah --root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run" --storage-driver vfs \
		run --runtime runc "$ctr" cat /tmp/copy.txt 2>>"$T/buildah.err" | tail -1)
	is "$got" "built" "buildah run of the image prints what it should"
	buildah --root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run" --storage-driver vfs rm -a >/dev/null 2>&1
else
	fail "buildah is installed (make deps)"
fi
no_leftovers; ok $? "no mount or temp dir left behind"
done_testing
