#!/usr/bin/env bash
# compose build: three services from one file, built concurrently where
# independent, tagged as image: or PROJECT-SERVICE; bad input stops
# everything before the first build.
. "$(dirname "$0")/lib.sh"

import_busybox
cp -r "$TOP/testdata/compose/three" "$T/three"
cd "$T/three"

out=$(cb compose build 2>&1); ok $? "compose build of three services"
imgs=$(cb images)
like "$imgs" "three-base +latest" "base tagged from image:"
like "$imgs" "three-api +latest" "api tagged PROJECT-SERVICE"
like "$imgs" "three-worker +latest" "worker tagged PROJECT-SERVICE"
like "$out" "^api +\| STEP 1/4: FROM busybox" "output prefixed with the service name"
# base and api are independent: each starts before the other finishes
first_api=$(printf '%s\n' "$out" | grep -n '^api ' | head -1 | cut -d: -f1)
last_api=$(printf '%s\n' "$out" | grep -n '^api ' | tail -1 | cut -d: -f1)
first_base=$(printf '%s\n' "$out" | grep -n '^base ' | head -1 | cut -d: -f1)
last_base=$(printf '%s\n' "$out" | grep -n '^base ' | tail -1 | cut -d: -f1)
[ "$first_base" -lt "$last_api" ] && [ "$first_api" -lt "$last_base" ]
ok $? "independent services build concurrently (their output interleaves)"
# worker builds FROM base's image: it starts after base is tagged
tagged_base=$(printf '%s\n' "$out" | grep -n '^base .*Successfully tagged' | cut -d: -f1)
first_worker=$(printf '%s\n' "$out" | grep -n '^worker ' | head -1 | cut -d: -f1)
[ "$tagged_base" -lt "$first_worker" ]; ok $? "a service building FROM another's image waits for it"

umoci unpack --image "$ROOT:docker.io/library/three-api:latest" "$T/api-bundle" >/dev/null 2>&1
ok $? "umoci unpacks the api image"
is "$(cat "$T/api-bundle/rootfs/greeting" 2>/dev/null)" "hello from api" "build.args reach the build"
label=$(skopeo inspect --config "oci:$ROOT:docker.io/library/three-api:latest" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["Labels"]["org.example.role"])')
is "$label" "api" "build.labels become image labels"

# --build-arg overrides build.args; SERVICE selects; TAG from the environment
out=$(TAG=2 cb compose build --build-arg GREETING=overridden api base 2>&1); ok $? "build api and base only"
umoci unpack --image "$ROOT:docker.io/library/three-api:latest" "$T/api2" >/dev/null 2>&1
is "$(cat "$T/api2/rootfs/greeting" 2>/dev/null)" "overridden" "--build-arg wins over build.args"
like "$(cb images)" "three-base +2 " "image: interpolated from the environment (TAG=2)"
unlike "$out" "^worker" "an unselected service is not built"

# a missing build context: an error before anything starts
mkdir "$T/bad" && cat > "$T/bad/compose.yaml" <<'Y'
services:
  good:
    build: ./good
    image: should-not-exist
  broken:
    build: ./nowhere
Y
mkdir "$T/bad/good" && printf 'FROM busybox\nRUN true\n' > "$T/bad/good/Dockerfile"
err=$(cb compose -f "$T/bad/compose.yaml" build 2>&1); is $? 1 "missing context fails"
like "$err" "service 'broken': build context '$T/bad/nowhere' is not a directory" "the error names the service and path"
unlike "$(cb images)" "should-not-exist" "nothing was built"

# a failing build: exit 1, names the service, the others still finish
printf 'FROM busybox\nRUN exit 3\n' > "$T/bad/good/Dockerfile"
mkdir "$T/bad/nowhere" && printf 'FROM busybox\nRUN true\n' > "$T/bad/nowhere/Dockerfile"
err=$(cb compose -f "$T/bad/compose.yaml" build 2>&1); is $? 1 "a failed build fails compose build"
like "$err" "service 'good' failed to build" "the failed service is named"
like "$(cb images)" "bad-broken" "the other service was built"

err=$(cb compose -f "$T/bad/compose.yaml" build nosuch 2>&1); is $? 1 "unknown service"
like "$err" "no such service: 'nosuch'" "unknown service named"
done_testing
