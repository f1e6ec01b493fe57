#!/usr/bin/env bash
# The plan is a value: `cbuild plan` prints the steps the build runs, made
# once with the base image's config (Env, WorkingDir, ONBUILD) known, so a
# word that needs a variable only the base image defines expands (BuildKit's
# dispatch expands with the image's Env), and the step numbers and texts the
# build prints are the plan's.
. "$(dirname "$0")/lib.sh"

import_busybox
mkdir -p "$T/base" "$T/app"
cat > "$T/base/Dockerfile" <<'DF'
FROM busybox:latest
ENV DIR=/srv/app
WORKDIR /opt
ONBUILD RUN echo "onbuild in $(pwd)" > /onbuild
DF
cb build -q -t t1020-base:1 "$T/base" >/dev/null; ok $? "base image with Env, WorkingDir and ONBUILD built"

cat > "$T/app/Dockerfile" <<'DF'
FROM t1020-base:1
WORKDIR ${DIR:?DIR must be set}
RUN pwd > /where
COPY f sub/
DF
echo hello > "$T/app/f"

plan=$(cb plan "$T/app" 2>"$T/plan.err"); ok $? "plan with the base in the store"
is "$(cat "$T/plan.err")" "" "plan: no warnings"
like "$plan" "STEP 2/5: \\(onbuild\\) RUN echo \"onbuild in \\\$\\(pwd\\)\" > /onbuild" "the base's ONBUILD trigger is a step of the plan"
cb plan --format json "$T/app" > "$T/plan.json"; ok $? "plan --format json"
python3 - "$T/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
steps = p["stages"][0]["steps"]
wd = [s for s in steps if s["kind"] == "WORKDIR"][0]
assert wd["value"] == "/srv/app", wd
cp = [s for s in steps if s["kind"] == "COPY"][0]
assert cp["workdir"] == "/srv/app", cp
PY
ok $? "words expand with the base image's Env; WORKDIR joins its WorkingDir"

cb build --no-cache -t t1020-app:1 "$T/app" > "$T/build.out" 2>&1; ok $? "build expands \${DIR:?} with the image's Env"
grep '^STEP ' "$T/build.out" | sed 's/  (cache miss.*//' > "$T/build.steps"
# the plan marks a trigger "(onbuild)"; the build prints the instruction
printf '%s\n' "$plan" | grep '^STEP ' | sed 's/^\(STEP [0-9/]*: \)(onbuild) /\1/' > "$T/plan.steps"
diff "$T/plan.steps" "$T/build.steps" >&2; ok $? "the plan's steps are the steps the build ran"
unpack t1020-app:1 "$T/u"
is "$(cat "$T/u/rootfs/where")" "/srv/app" "RUN ran in the expanded WORKDIR"
is "$(cat "$T/u/rootfs/onbuild")" "onbuild in /opt" "the trigger ran in the base's WorkingDir"
is "$(cat "$T/u/rootfs/srv/app/sub/f")" "hello" "COPY to a relative dest joined the expanded WORKDIR"

# the same steps, cached, with stages built concurrently from one plan
cat > "$T/app/Dockerfile.multi" <<'DF'
FROM t1020-base:1 AS a
WORKDIR ${DIR}/a
RUN pwd > /where
FROM t1020-base:1 AS b
WORKDIR ${DIR}/b
RUN pwd > /where
FROM busybox:latest
COPY --from=a /where /a
COPY --from=b /where /b
DF
plan=$(cb plan -f "$T/app/Dockerfile.multi" "$T/app" 2>/dev/null); ok $? "multi-stage plan"
cb build --jobs 2 -f "$T/app/Dockerfile.multi" -t t1020-multi:1 "$T/app" > "$T/multi.out" 2>&1
ok $? "concurrent stages build from the one plan"
for n in $(printf '%s\n' "$plan" | sed -n 's/^STEP \([0-9]*\/[0-9]*\): .*/\1/p'); do
	grep -q "STEP $n: " "$T/multi.out" || { diag "missing STEP $n"; false; } || break
done
ok $? "every step of the plan ran under the plan's number"
unpack t1020-multi:1 "$T/m"
is "$(cat "$T/m/rootfs/a")/$(cat "$T/m/rootfs/b")" "/srv/app/a//srv/app/b" "each stage expanded with the image's Env"

done_testing
