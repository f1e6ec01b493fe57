#!/usr/bin/env bash
# Build cases from testdata/builds, each checked in the unpacked image.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest

build_case multistage --target final >/dev/null; ok $? "multi-stage build with --target"
unpack multistage:1 "$T/u"
is "$(cat "$T/u/rootfs/usr/local/bin/app.bin")" "compiled" "COPY --from=build copied the artifact"
[ ! -e "$T/u/rootfs/src/junk.txt" ] && [ ! -e "$T/u/rootfs/tests.txt" ]; ok $? "nothing else from other stages"
build_case multistage --target test 2>"$T/log" >/dev/null
unlike "$(cat "$T/log")" "compiled" "--target test does not build the unneeded stage"

build_case copyfrom-user >/dev/null; ok $? "COPY --chown/--chmod and USER"
unpack copyfrom-user:1 "$T/u"
is "$(stat -c %u:%g "$T/u/rootfs/home/owned.txt")" "65534:65534" "--chown by names from the image"
is "$(stat -c %u:%g "$T/u/rootfs/home/num.txt")" "1000:1000" "--chown numeric"
is "$(stat -c %a "$T/u/rootfs/home/private.txt")" "600" "--chmod"
is "$(cat "$T/u/rootfs/tmp/uid")" "65534" "RUN after USER nobody runs as 65534"
is "$(stat -c %u "$T/u/rootfs/tmp/by-nobody")" "65534" "files RUN creates belong to nobody"

build_case addtar >/dev/null; ok $? "ADD of a tar.gz"
unpack addtar:1 "$T/u"
is "$(cat "$T/u/rootfs/opt/pkg/sub/file.txt")" "inside tar" "ADD extracted the archive"
is "$(readlink "$T/u/rootfs/opt/pkg/sub/link")" "file.txt" "symlinks inside the archive kept"
[ -f "$T/u/rootfs/opt/copied.tar.gz" ]; ok $? "COPY does not extract"

build_case deletes >/dev/null; ok $? "deletes across layers"
unpack deletes:1 "$T/u"
[ ! -e "$T/u/rootfs/data/dir" ] && [ ! -e "$T/u/rootfs/etc/group" ]; ok $? "deleted file and directory are gone"
is "$(cat "$T/u/rootfs/data/a")" "file-again" "file -> dir -> file again"
is "$(cat "$T/u/rootfs/data/keep")" "keep" "untouched file stays"

build_case ignore >/dev/null; ok $? ".dockerignore build"
unpack ignore:1 "$T/u"
[ ! -e "$T/u/rootfs/ctx/node_modules" ]; ok $? "ignored directory not copied"
[ ! -e "$T/u/rootfs/ctx/logs/a.log" ] && [ ! -e "$T/u/rootfs/ctx/.env" ]; ok $? "ignored files not copied"
is "$(cat "$T/u/rootfs/ctx/logs/keep.log")" "important" "exception !logs/keep.log is copied"
is "$(cat "$T/u/rootfs/ctx/src/main.c")" "code" "other files copied"

build_case buildargs --build-arg VERSION=2.5 >/dev/null; ok $? "build args"
unpack buildargs:1 "$T/u"
is "$(cat "$T/u/rootfs/version.txt")" "version 2.5" "--build-arg reaches RUN"
like "$(config_of buildargs:1)" '"APP_VERSION=2.5"' "ARG expands in ENV"
like "$(config_of buildargs:1)" '"version":"2.5"' "ARG expands in LABEL"
unlike "$(config_of buildargs:1)" '"VERSION=' "ARG itself is not in the image Env"

cb build -q -t onbuild-base:1 "$BUILDS/onbuild-base" >/dev/null; ok $? "image with ONBUILD triggers"
like "$(config_of onbuild-base:1)" '"OnBuild":\["COPY trigger.txt /trigger.txt"' "triggers recorded"
build_case onbuild-child >/dev/null; ok $? "child of an ONBUILD image"
unpack onbuild-child:1 "$T/u"
is "$(cat "$T/u/rootfs/seen.txt")" "from the child context" "ONBUILD COPY ran in the child's context"
is "$(cat "$T/u/rootfs/onbuild.txt")" "onbuild ran" "ONBUILD RUN ran"
unlike "$(config_of onbuild-child:1)" '"OnBuild":\[' "triggers do not pass to grandchildren"

build_case heredoc >/dev/null; ok $? "heredocs"
unpack heredoc:1 "$T/u"
is "$(cat "$T/u/rootfs/heredoc.txt" | tr '\n' '|')" "line one|line two|" "RUN <<EOF script ran"
is "$(cat "$T/u/rootfs/etc/motd")" "welcome to cbuild" "COPY <<EOT wrote the file"

build_case wildcards >/dev/null; ok $? "wildcards and multiple sources"
unpack wildcards:1 "$T/u"
is "$(ls "$T/u/rootfs/texts" | tr '\n' ' ')" "a.txt b.txt " "*.txt selected only .txt files"
is "$(ls "$T/u/rootfs/two" | tr '\n' ' ')" "a.txt b.txt " "two sources into a directory"
is "$(cat "$T/u/rootfs/copied-dir/inner/d.txt")" "d" "a directory's contents are copied"
is "$(cat "$T/u/rootfs/copied-dir2/inner/d.txt")" "d" "same with a trailing slash"
is "$(ls "$T/u/rootfs/filtered" | tr '\n' ' ')" "Dockerfile a.txt b.txt " "COPY --exclude leaves out what it names"
like "$(config_of wildcards:1)" '"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"' "an image without PATH gets the default one"

build_case entrypoint --target inherited >/dev/null; ok $? "ENTRYPOINT on a base with CMD"
cfg=$(config_of entrypoint:1)
like "$cfg" '"Entrypoint":\["/bin/echo","entry"\]' "ENTRYPOINT recorded"
unlike "$cfg" '"Cmd":\[' "ENTRYPOINT resets the inherited CMD"
build_case entrypoint --target same-stage >/dev/null
like "$(config_of entrypoint:1)" '"Cmd":\["base-cmd"\]' "a CMD set earlier in the stage stays"

build_case config >/dev/null; ok $? "config instructions"
cfg=$(config_of config:1)
like "$cfg" '"StopSignal":"SIGQUIT"' "STOPSIGNAL"
like "$cfg" '"Volumes":\{"/data":\{\},"/logs":\{\}\}' "VOLUME"
like "$cfg" '"User":"nobody"' "USER"
like "$cfg" '"Healthcheck":\{[^}]*"Retries":3' "HEALTHCHECK"
like "$cfg" '"org.example.team":"builders"' "LABEL"
like "$cfg" '"description":"a \\"quoted\\" label"' "LABEL with quotes"
like "$cfg" '"Shell":\["/bin/sh","-ec"\]' "SHELL"
like "$(cb inspect config:1)" '"Author": "Some One <some@example.com>"' "MAINTAINER sets the author"
# heredoc corners, as BuildKit reads them (issue 22, bug 7)
mkdir -p "$T/hd"
cat > "$T/hd/Dockerfile" <<'DF'
FROM busybox
RUN <<  EOF
echo blanks > /blanks
EOF
RUN <<'one two'
echo quoted > /quoted
one two
DF
cb build -q -t hd:1 "$T/hd" >/dev/null; ok $? "heredoc corners build"
unpack hd:1 "$T/u"
is "$(cat "$T/u/rootfs/blanks" 2>/dev/null)" "blanks" "RUN <<  EOF ran its body"
is "$(cat "$T/u/rootfs/quoted" 2>/dev/null)" "quoted" "RUN <<'one two' ran its body"
printf 'FROM busybox\nCOPY /foo <<EOF\nx\nEOF\n' > "$T/hd/Dockerfile"
err=$(cb build -q "$T/hd" 2>&1); is $? 1 "COPY to a heredoc fails"
like "$err" "COPY cannot accept a heredoc as a destination" "... as BuildKit says it"
no_leftovers; ok $? "no mount or temp dir left behind"
done_testing
