#!/usr/bin/env bash
# `cbuild plan`: the Dockerfile parser and planner from the command line.
. "$(dirname "$0")/lib.sh"

ctx=$T/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'DF'
ARG BASE=alpine:3.20
FROM $BASE AS build
ARG VERSION=dev
RUN echo "building $VERSION" > /v
FROM scratch AS final
COPY --from=build /v /v
CMD ["/v"]
DF

out=$(cd "$ctx" && cb plan 2>"$T/err"); ok $? "plan exits 0"
like "$out" "STEP 1/6: FROM \\\$BASE AS build" "text plan numbers the FROM"
like "$out" "STEP 6/6: CMD \\[\"/v\"\\]" "text plan numbers the last step"
like "$out" "stage 0 \\(build\\): from image alpine:3.20" "base image expanded with the global ARG"
is "$(cat "$T/err")" "" "no warnings"

cb plan --format json "$ctx" > "$T/plan.json"; ok $? "plan --format json exits 0"
python3 - "$T/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["target"] == 1, p["target"]
assert p["total_steps"] == 6
s0, s1 = p["stages"]
assert s0["base_image"] == "alpine:3.20"
assert s1["base"] == "scratch"
assert s1["steps"][0]["from_stage"] == 0
PY
ok $? "JSON plan is valid JSON with the expected stages"

out=$(cb plan --target build --build-arg VERSION=1.2 --build-arg NOPE=1 --format json "$ctx" 2>"$T/err")
ok $? "plan with --target and --build-arg"
like "$out" '"value": "1.2"' "build arg applied"
unlike "$out" '"name": "final"' "only the target's stages"
like "$(cat "$T/err")" "warning: one or more build-args were not consumed: \\[NOPE\\]" "unused build arg warned"

out=$(printf 'FROM busybox\nRUN true\n' | cb plan -f - 2>&1); ok $? "plan reads stdin with -f -"
like "$out" "STEP 2/2: RUN true" "stdin Dockerfile planned"

mkdir -p "$T/app"
printf 'FROM busybox\n\tRUNN echo\n' > "$T/app/Dockerfile.dev"
err=$(cb plan -f "$T/app/Dockerfile.dev" "$T/app" 2>&1); is $? 1 "a Dockerfile error exits 1"
like "$err" "^cbuild: error: $T/app/Dockerfile.dev:2:2: unknown instruction \"RUNN\" \\(did you mean \"RUN\"\\?\\)" \
	"error names file, line, column and the near miss"
like "$err" " 2 \\| 	RUNN echo" "error shows the offending line"
like "$err" "   \\| 	\\^" "error shows a caret under the column"

err=$(cb plan --target nope "$ctx" 2>&1); is $? 1 "unknown target exits 1"
like "$err" "target stage \"nope\" could not be found" "unknown target named"
cb plan --format yaml "$ctx" >/dev/null 2>&1; is $? 2 "bad --format is a usage error"
cb plan --bogus "$ctx" >/dev/null 2>&1; is $? 125 "unknown option: 125, as docker's flags"
err=$(cb plan "$T/nonexistent" 2>&1); is $? 1 "missing Dockerfile exits 1"
like "$err" "read Dockerfile '$T/nonexistent/Dockerfile'" "missing Dockerfile named"

# every golden case plans from the command line too
case_args() { # the options file of a case as command-line flags, into args[]
	args=()
	[ -f "$1/options" ] || return 0
	while IFS= read -r l; do
		case $l in
		target=*) args+=(--target "${l#target=}") ;;
		arg=*) args+=(--build-arg "${l#arg=}") ;;
		platform=*) args+=(--platform "${l#platform=}") ;;
		esac
	done < "$1/options"
}
n=0; bad=0
for d in "$TOP"/testdata/dockerfiles/*/; do
	n=$((n + 1))
	case_args "$d"
	cb plan "${args[@]}" -f "$d/Dockerfile" --format json "$d" 2>/dev/null | cmp -s - "$d/plan.json" || {
		bad=$((bad + 1)); diag "differs: $d"; }
done
is "$bad" 0 "cbuild plan matches all $n golden plans"
for d in "$TOP"/testdata/dockerfiles-negative/*/; do
	case_args "$d"
	cb plan "${args[@]}" -f "$d/Dockerfile" "$d" >/dev/null 2>&1
	[ $? -eq 1 ] || { bad=$((bad + 1)); diag "did not fail: $d"; }
done
is "$bad" 0 "cbuild plan fails on every negative case"
# plan is what the build runs (issue 22, bug 8): the build re-plans a stage
# with its base image's Env, WorkingDir and ONBUILD triggers; plan does the
# same when the base is in the store, and says so when it is not
import_busybox busybox:latest
pb=$T/planbase; mkdir -p "$pb"
cat > "$pb/Dockerfile" <<'DF'
FROM busybox
ENV BASEDIR=/opt/base
WORKDIR /srv
ONBUILD RUN echo trigger-ran > /onbuild
ONBUILD ENV FROM_TRIGGER=yes
DF
pa=$T/planapp; mkdir -p "$pa"
cat > "$pa/Dockerfile" <<'DF'
FROM planbase:1
ENV P=$BASEDIR/bin T=$FROM_TRIGGER
WORKDIR rel
RUN echo "$P" > /p
DF
out=$(cb plan "$pa" 2>&1); ok $? "plan with the base not in the store"
like "$out" '# base image "planbase:1" not in the store: its ENV, WORKDIR, SHELL, USER and ONBUILD are not applied' \
	"... says what it could not know"
cb build -q -t planbase:1 "$pb" >/dev/null; ok $? "a base with Env and ONBUILD"
cb plan "$pa" >"$T/plan.txt" 2>"$T/plan.err"; ok $? "plan with the base in the store"
unlike "$(cat "$T/plan.txt" "$T/plan.err")" "not in the store" "no note when the base is there"
cb build -t planapp:1 "$pa" >/dev/null 2>"$T/build.log"; ok $? "the build"
is "$(grep '^STEP' "$T/plan.txt" | sed 's/: (onbuild) /: /')" "$(grep '^STEP' "$T/build.log" | sed 's/  (cache miss: .*)$//')" \
	"plan's steps are the steps the build ran (ONBUILD triggers included)"
like "$(cat "$T/plan.txt")" 'STEP 2/[0-9]+: \(onbuild\) RUN echo trigger-ran > /onbuild' "the trigger is planned"
cb plan --format json "$pa" >"$T/plan.json"; ok $? "json plan"
cfg=$(config_of planapp:1)
want=$(python3 - "$T/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
st = p["stages"][-1]["steps"]
env = sorted(kv["key"] + "=" + kv["value"] for s in st if s["kind"] == "ENV" for kv in s["pairs"])
wd = [s["value"] for s in st if s["kind"] == "WORKDIR"][-1]
print(env, wd)
PY
)
got=$(printf '%s' "$cfg" | python3 -c 'import json,sys; c=json.load(sys.stdin); print(sorted(e for e in c["Env"] if e.split("=")[0] in ("P","T","FROM_TRIGGER")), c["WorkingDir"])')
is "$want" "['FROM_TRIGGER=yes', 'P=/opt/base/bin', 'T=yes'] /srv/rel" "plan expands ENV and WORKDIR with the base image's Env, WorkingDir and triggers"
is "$got" "$want" "the build made the same values"
done_testing
