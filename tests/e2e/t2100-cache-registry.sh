#!/usr/bin/env bash
# The build cache through a registry: runner A exports (--cache-to), runner B
# with an empty store in another directory imports (--cache-from) and gets
# every step as a remote hit, the same image ID, no RUN executed, and no
# layer downloaded that it did not need.
. "$(dirname "$0")/lib.sh"

start_registry || skip_all "no docker-registry"
export SOURCE_DATE_EPOCH=1700000000 # the two runners import the same busybox ID
RA=$T/runner-a/store; RB=$T/elsewhere/b/root2
CA=$T/runner-a/ctx; CB=$T/elsewhere/b/checkout/ctx

ca() { "$CBUILD" --root "$RA" "$@"; }
cbb() { "$CBUILD" --root "$RB" "$@"; }
for r in "$RA" "$RB"; do
	"$CBUILD" --root "$r" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
done
is "$(ca images -q busybox)" "$(cbb images -q busybox)" "both runners have the same base image ID"

# a case whose RUN steps append to a file in a bind-mounted host directory
mkctx() {
	mkdir -p "$1/log"
	: > "$1/log/runs"
	echo 'int main() { return 0; }' > "$1/main.c"
	echo "level=1" > "$1/conf.txt"
	cat > "$1/Dockerfile" <<'DF'
FROM busybox AS build
WORKDIR /src
COPY main.c .
RUN --mount=type=bind,source=log,target=/log,rw echo build >> /log/runs && cp main.c app.bin
RUN echo "tests ran" > /tests.txt

FROM busybox
COPY --from=build /src/app.bin /usr/local/bin/app.bin
COPY conf.txt /etc/app.conf
RUN --mount=type=bind,source=log,target=/log,rw echo final >> /log/runs && cat /etc/app.conf > /done
ENV MODE=prod
CMD ["cat", "/done"]
DF
}
mkctx "$CA"; mkctx "$CB"
CACHE=$REG/cache/app

# ---- runner A ----
ida=$(ca build -q -t app:1 --cache-to "$CACHE" --cache-to-mode max "$CA" 2>"$T/a.log"); ok $? "runner A builds and exports the cache"
is "$(sort "$CA/log/runs" | tr '\n' ' ')" "build final " "runner A ran both RUN steps (bind-mounted log)"
skopeo inspect --tls-verify=false --raw "docker://$CACHE" >"$T/artifact.json" 2>"$T/sk.err"; ok $? "skopeo reads the cache artifact"
like "$(cat "$T/artifact.json")" '"application/vnd.cbuild.cache.config.v1\+json"' "artifact config has the cbuild cache media type"

# ---- runner B, fresh store, another directory ----
idb=$(cbb build -t app:1 --cache-from "$CACHE" --explain-cache "$CB" 2>"$T/b.log"); ok $? "runner B builds from the remote cache"
is "$idb" "$ida" "runner B's image ID equals runner A's"
is "$(cat "$CB/log/runs")" "" "no RUN was executed on runner B"
nsteps=$(grep -c '^STEP' "$T/b.log")
is "$(grep -c 'remote hit: '"$CACHE" "$T/b.log")" "$((nsteps - 2))" "every step (but the two FROMs) is a remote hit naming the cache"
unlike "$(cat "$T/b.log")" "cache miss" "no step missed"

cbb build --explain-cache --cache-from "$CACHE" "$CB" >/dev/null 2>"$T/b2.log"
is "$(grep -c '(local hit)' "$T/b2.log")" "$((nsteps - 2))" "--explain-cache: a rebuild on runner B says local hit for every step"

# lazy: of the artifact's layers, B holds only the base layer it imported
base_layer=$(skopeo inspect "oci:$RB:docker.io/library/busybox:latest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Layers"][0])')
have=0; total=0
for d in $(python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$T/artifact.json"); do
	[ "$d" = "$base_layer" ] && continue
	total=$((total + 1))
	[ -e "$RB/blobs/sha256/${d#sha256:}" ] && have=$((have + 1))
done
ok $([ "$total" -ge 3 ]; echo $?) "the artifact references the steps' layers ($total)"
is "$have" 0 "runner B downloaded none of the cached layers"
is "$(ls "$RB/layers/sha256" | wc -l)" 0 "runner B unpacked no layer"
cbb images >/dev/null 2>&1; ok $? "images works with absent (remote) layers"
cbb inspect app:1 >/dev/null 2>&1; ok $? "inspect works with absent (remote) layers"

# ---- a changed context file: re-run from the step that copies it ----
echo "level=2" > "$CB/conf.txt"
idc=$(cbb build -t app:2 --cache-from "$CACHE" --explain-cache "$CB" 2>"$T/c.log"); ok $? "runner B rebuilds after a change"
like "$(grep -A1 'COPY --from=build' "$T/c.log" | tail -1)" 'Using cache' "COPY --from before the change is a hit"
like "$(grep 'COPY conf.txt' "$T/c.log")" 'cache miss: conf.txt changed; not in the remote cache' "COPY conf.txt misses, explained"
is "$(cat "$CB/log/runs")" "final" "only the final RUN ran (not the build stage's)"
unlike "$(cat "$T/c.log")" 'STEP 4/.*cache miss' "the build stage's RUN was not re-run"
[ "$idc" != "$ida" ]; ok $? "a different image results"
# the RUN needed its lowers: they were fetched, the build stage's were not
got=0
for d in $(python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$T/artifact.json"); do
	[ -e "$RB/blobs/sha256/${d#sha256:}" ] && got=$((got + 1))
done
ok $([ "$got" -ge 2 ] && [ "$got" -lt "$((total + 1))" ]; echo $?) "only the layers the RUN stood on were downloaded ($got of $((total + 1)))"
cbb run --rm app:2 cat /done >"$T/run.out" 2>&1
is "$(cat "$T/run.out")" "level=2" "the rebuilt image runs"

# ---- push B's image (lazy layers) to another repository ----
nblobs=$(ls "$RB/blobs/sha256" | wc -l)
cbb push app:1 "$REG/other/app:1" >"$T/push.out" 2>&1; ok $? "push of runner B's image succeeds"
is "$(ls "$RB/blobs/sha256" | wc -l)" "$nblobs" "the push downloaded none of the lazy layers"
like "$(cat "$T/push.out")" "mounted" "layers are mounted from the cache repository"
cbb push app:1 "oci:$T/layout:app" >/dev/null 2>&1; ok $? "push to an OCI layout fetches the lazy layers"
oci-image-tool validate --type image "$T/layout" >/dev/null 2>&1; ok $? "oci-image-tool validates that layout"
skopeo inspect --tls-verify=false "docker://$REG/other/app:1" >"$T/sk.json" 2>&1; ok $? "skopeo inspect reads the pushed image"
rm -rf "$T/unp"; skopeo copy -q --src-tls-verify=false "docker://$REG/other/app:1" "oci:$T/unp:x" 2>/dev/null; ok $? "skopeo copies the pushed image whole"

# ---- the store lives with lazy layers: gc, run fetches on use ----
cbb prune --keep-cache >/dev/null 2>&1; ok $? "prune (gc) works with absent layers"
cbb history app:1 >/dev/null 2>&1; ok $? "history works with absent layers"
is "$(cbb run --rm app:1 cat /done 2>&1)" "level=1" "run fetches the lazy layers it needs"

# ---- the course example, min mode (the default) ----
mkdir -p "$T/c1" "$T/c2"; cp -r "$BUILDS/course/." "$T/c1/"; cp -r "$BUILDS/course/." "$T/c2/"
id1=$(ca build -q -t course:1 --cache-to "$REG/cache/course" "$T/c1" 2>/dev/null); ok $? "runner A builds the course example"
id2=$(cbb build -t course:1 --cache-from "$REG/cache/course" "$T/c2" 2>"$T/course.log"); ok $? "runner B builds it from the cache"
is "$id2" "$id1" "same image ID for the course example"
is "$(grep -c 'remote hit' "$T/course.log")" 6 "its 6 steps are remote hits"

# ---- multi-stage, min mode: the build stage is not exported ----
mkdir -p "$T/m1" "$T/m2"; cp -r "$BUILDS/multistage/." "$T/m1/"; cp -r "$BUILDS/multistage/." "$T/m2/"
ida=$(ca build -q -t ms:1 --cache-to "$REG/cache/ms" --cache-to-mode min "$T/m1" 2>/dev/null); ok $? "runner A builds multistage (min)"
idb=$(cbb build -t ms:1 --cache-from "$REG/cache/ms" "$T/m2" 2>"$T/ms.log"); ok $? "runner B builds multistage"
is "$idb" "$ida" "same image ID for multistage"
like "$(grep 'RUN echo "compiled"' "$T/ms.log")" "cache miss" "min mode: the build stage ran on runner B"
like "$(grep -A1 'COPY --from=build' "$T/ms.log" | tail -1)" "remote hit" "min mode: the final stage's steps are remote hits"

# ---- a missing, a foreign and a corrupt cache are warnings ----
rm -rf "$T/m3"; cp -r "$T/m2" "$T/m3"
cbb build -q --cache-from "$REG/cache/none" --no-cache "$T/m3" >/dev/null 2>"$T/w0.log"; ok $? "--no-cache with --cache-from builds" || diag "$(cat "$T/w0.log")"
cbb build -q --cache-from "$REG/cache/none" "$T/m3" >/dev/null 2>"$T/w1.log"; ok $? "a missing cache: the build succeeds"
like "$(cat "$T/w1.log")" "warning: .*cache/none.*not found" "a missing cache is a warning"
skopeo copy -q --dest-tls-verify=false "oci:$RA:docker.io/library/busybox:latest" "docker://$REG/cache/foreign" 2>/dev/null
cbb build -q --cache-from "$REG/cache/foreign" "$T/m3" >/dev/null 2>"$T/w2.log"; ok $? "a foreign artifact: the build succeeds"
like "$(cat "$T/w2.log")" "warning: .*not a cbuild cache" "a foreign artifact is a warning"

# corrupt: a cbuild cache config that is not what it should be
put_blob() { # put_blob FILE REPO -> digest
	local d; d=sha256:$(sha256sum "$1" | cut -d' ' -f1)
	local loc; loc=$(curl -s -i -X POST "http://$REG/v2/$2/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
	case $loc in http*) ;; *) loc=http://$REG$loc ;; esac
	case $loc in *\?*) loc="$loc&digest=$d" ;; *) loc="$loc?digest=$d" ;; esac
	curl -s -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$1" "$loc" >/dev/null
	echo "$d"
}
printf '{"cbuild.cache": 1, "entries": [{"key": "sha256:%064d", "manifest": "{}", "config": "x"}]}' 0 > "$T/bad.json"
bd=$(put_blob "$T/bad.json" cache/bad)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cbuild.cache.config.v1+json","digest":"%s","size":%d},"layers":[]}' \
	"$bd" "$(stat -c %s "$T/bad.json")" > "$T/bad-m.json"
curl -s -f -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @"$T/bad-m.json" \
	"http://$REG/v2/cache/bad/manifests/1" >/dev/null; ok $? "a corrupt cache artifact is in the registry"
cbb build -q --cache-from "$REG/cache/bad:1,$REG/cache/ms" "$T/m3" >/dev/null 2>"$T/w3.log"; ok $? "a corrupt artifact: the build succeeds"
like "$(cat "$T/w3.log")" "warning: .*cache/bad:1.*entry 0" "a corrupt artifact is a warning"
ROOT=$RB no_leftovers; ok $? "no mount or temp dir left behind"
done_testing
