#!/usr/bin/env bash
# ADD/COPY of a directory to a new destination, or to an existing one
# where it replaces nothing, writes its layer while it copies
# (builder/copy.c); every other copy snapshots the upper directory
# afterwards. Both must give the same image: the same build with the fused
# path turned off (CBUILD_COPY_NOFUSE=1) has the same image ID, and umoci
# finds what each COPY asked for.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
export SOURCE_DATE_EPOCH=0 # mtimes "now" (new directories) comparable
c=$T/c
mkdir -p "$c/src/sub/deeper" "$c/src/empty" "$c/src/a-directory-with-a-long-name-so-that-the-path-needs-more-than-a-hundred-bytes"
echo hello > "$c/src/hello"
printf 'x' > "$c/src/sub/one"
head -c 300000 /dev/urandom > "$c/src/sub/deeper/big"
seq 1 50000 > "$c/src/sub/text"
echo secret > "$c/src/skip.key"
echo long > "$c/src/a-directory-with-a-long-name-so-that-the-path-needs-more-than-a-hundred-bytes/and-a-long-file-name-too.txt"
echo run > "$c/src/tool"; chmod 4755 "$c/src/tool"
echo private > "$c/src/private"; chmod 600 "$c/src/private"
ln -s sub/one "$c/src/link"
mkfifo "$c/src/fifo"
echo 'src/*.key' > "$c/.dockerignore"
cat > "$c/Dockerfile" <<'DF'
FROM busybox
ADD src /src
COPY --chown=7:8 --chmod=0750 src /usr/local/app
COPY src/sub /new/deep/
COPY src /etc
COPY src/hello src/link /two/
COPY src/sub /src/sub
WORKDIR /app
COPY . .
RUN find /src /usr/local/app /new /etc /two /app | sort > /listing
CMD ["cat", "/listing"]
DF

cb build -q -t f:1 "$c" > "$T/f.id"; ok $? "build, layers written while copying"
CBUILD_COPY_NOFUSE=1 cb build -q --no-cache -t n:1 "$c" > "$T/n.id"; ok $? "build, layers snapshotted after"
is "$(cat "$T/f.id")" "$(cat "$T/n.id")" "the same image ID either way"

unpack f:1 "$T/u"; ok $? "umoci unpacks it"
r=$T/u/rootfs
is "$(cat "$r/src/hello")" hello "ADD src /src: contents copied"
is "$(stat -c %a "$r/src/tool") $(stat -c %a "$r/src/private")" "4755 600" "modes kept"
is "$(readlink "$r/src/link")" sub/one "symlinks kept"
test -p "$r/src/fifo"; ok $? "fifos kept"
test ! -e "$r/src/skip.key"; ok $? ".dockerignore applied"
cmp -s "$r/src/sub/deeper/big" "$c/src/sub/deeper/big"; ok $? "a 300 KB file intact"
is "$(stat -c '%u:%g %a' "$r/usr/local/app/sub/text")" "7:8 750" "--chown and --chmod applied"
is "$(stat -c '%u:%g' "$r/usr/local/app")" "7:8" "the new destination directory owned as asked"
is "$(cat "$r/new/deep/one")" x "COPY src/sub /new/deep/: parents made"
test -f "$r/etc/passwd" && test -f "$r/etc/hello"; ok $? "COPY into an existing /etc merges"
is "$(cat "$r/two/hello")" hello "several sources"
is "$(cat "$r/src/sub/one")" x "a copy over existing files"
is "$(cat "$r/app/src/hello")" hello "WORKDIR /app, then COPY . ."
no_leftovers; ok $? "nothing left behind"
done_testing
