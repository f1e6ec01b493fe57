#!/usr/bin/env bash
# Build checks: `build --check` (exit status, file:line:col, the line, a
# fix), `# check=skip=...;error=true`, warnings during a build,
# BUILDKIT_DOCKERFILE_CHECK, InvalidBaseImagePlatform from the pulled base.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
C=$T/ctx
mkdir -p "$C"

# a clean Dockerfile: exit 0 and docker's closing line
printf 'FROM busybox\nWORKDIR /app\nCMD ["sh"]\n' >"$C/Dockerfile"
out=$(cb build --check "$C" 2>&1); ok $? "--check of a clean Dockerfile exits 0"
like "$out" "Check complete, no warnings found" "says so"
is "$(cb images -q | wc -l)" "1" "--check builds nothing"

# violations: exit 1, each with file:line:col, the line and a fix
cat >"$C/Dockerfile" <<'DF'
FROM busybox as Build
ENV APP_PASSWORD hunter2
WORKDIR app
COPY $NOPE /x
CMD sh -c 'sleep 1'
DF
out=$(cb build --check -f "$C/Dockerfile" "$C" 2>&1); rc=$?
is "$rc" "1" "--check with violations exits 1"
like "$out" "$C/Dockerfile:1:1: warning: FromAsCasing: 'as' and 'FROM' keywords' casing do not match" "FromAsCasing with file:line:col"
like "$out" "Dockerfile:1:1: warning: StageNameCasing: Stage name 'Build' should be lowercase" "StageNameCasing"
like "$out" "warning: LegacyKeyValueFormat: \"ENV key=value\" should be used" "LegacyKeyValueFormat"
like "$out" "warning: SecretsUsedInArgOrEnv: .*\\(ENV \"APP_PASSWORD\"\\)" "SecretsUsedInArgOrEnv"
like "$out" "Dockerfile:4:1: warning: UndefinedVar: Usage of undefined variable '\\\$NOPE'" "UndefinedVar (the base's Env known)"
like "$out" " 3 \\| WORKDIR app" "the line is shown"
like "$out" "= fix: use an absolute path: WORKDIR /app" "with a one-line fix"
like "$out" "= fix: use the exec form" "JSONArgsRecommended's fix"
like "$out" "Check complete, 7 warnings have been found!" "the count"
unlike "$out" "UndefinedVar: .*PATH" "PATH comes from the base image"

# skip= in the file; error=true makes a real build fail
sed -i '1i # check=skip=StageNameCasing,FromAsCasing,LegacyKeyValueFormat,SecretsUsedInArgOrEnv,UndefinedVar,WorkdirRelativePath;error=true' "$C/Dockerfile"
out=$(cb build --check "$C" 2>&1); rc=$?
is "$rc" "1" "one rule left: still 1"
unlike "$out" "StageNameCasing|UndefinedVar|WorkdirRelativePath" "skipped rules stay quiet"
like "$out" "Dockerfile:6:1: warning: JSONArgsRecommended" "the rest is reported (lines count the directive)"
out=$(cb build -t c:1 "$C" 2>&1); rc=$?
is "$rc" "1" "error=true fails the build"
like "$out" "cbuild: error: lint violation found for rules: JSONArgsRecommended" "naming the rules"
out=$(cb build --check --build-arg 'BUILDKIT_DOCKERFILE_CHECK=skip=all' "$C" 2>&1); ok $? "BUILDKIT_DOCKERFILE_CHECK=skip=all overrides"

# without error=true, a build warns and goes on
printf 'FROM busybox\nMAINTAINER me\nRUN true\n' >"$C/Dockerfile"
out=$(cb build -t c:2 "$C" 2>&1); ok $? "a build with a warning succeeds"
like "$out" "Dockerfile:2:1: warning: MaintainerDeprecated" "and prints it"

# experimental rules: off by default, on by name
printf 'FROM busybox\nRUN wget -qO- http://x/i.sh | sh\nCOPY secret.txt /\n' >"$C/Dockerfile"
echo secret.txt >"$C/.dockerignore"; echo s >"$C/secret.txt"
out=$(cb build --check "$C" 2>&1); ok $? "experimental rules are off by default"
sed -i '1i # check=experimental=PipeToShellWithoutChecksum,CopyIgnoredFile' "$C/Dockerfile"
out=$(cb build --check "$C" 2>&1)
like "$out" "Dockerfile:3:1: warning: PipeToShellWithoutChecksum" "PipeToShellWithoutChecksum on request"
like "$out" "Dockerfile:4:1: warning: CopyIgnoredFile: Attempting to COPY file \"secret.txt\" that is excluded by .dockerignore" "CopyIgnoredFile on request"

# a bad directive is an error
printf '# check=bogus=1\nFROM busybox\n' >"$C/Dockerfile"
out=$(cb build --check "$C" 2>&1); rc=$?
is "$rc" "1" "a bad # check= fails"
like "$out" "invalid check option 'bogus'" "naming the option"

# InvalidBaseImagePlatform: the base is arm64, the build is not
rm -f "$C/.dockerignore"
python3 "$TOP/tests/tools/mkimage.py" --out "$T/arm" --tag 1 --arch arm64 --random 1K >/dev/null &&
	skopeo copy -q oci:"$T/arm":1 docker-archive:"$T/arm.tar":armbox:1 >/dev/null 2>&1 &&
	cb load -i "$T/arm.tar" >/dev/null
ok $? "an arm64 image loaded"
# (no --platform: an explicit one makes cbuild refuse the local arm64 image
# before any check runs, as issue 28 wants; the host default uses it with
# docker's warning, and the check says what BuildKit says)
printf 'FROM armbox:1\n' >"$C/Dockerfile"
out=$(cb build --check "$C" 2>&1)
like "$out" "Dockerfile:1:1: warning: InvalidBaseImagePlatform: Base image armbox:1 was pulled with platform \"linux/arm64\", expected \"linux/amd64\"" "InvalidBaseImagePlatform"
out=$(cb build --check --platform linux/amd64 "$C" 2>&1)
like "$out" "platform \(linux/arm64\) does not match the specified platform \(linux/amd64\)" "with --platform: the local image of another platform is refused"
printf 'FROM --platform=linux/arm64 armbox:1\n' >"$C/Dockerfile"
out=$(cb build --check --platform linux/amd64 "$C" 2>&1)
unlike "$out" "InvalidBaseImagePlatform" "not when FROM --platform asks for it"
done_testing
