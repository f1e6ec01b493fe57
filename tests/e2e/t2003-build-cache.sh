#!/usr/bin/env bash
# The build cache: hits give the same image; a changed file or build arg
# re-runs only from the first step that uses it.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
ctx=$T/ctx
mkdir -p "$ctx/src"
echo one > "$ctx/src/a.txt"; echo two > "$ctx/src/b.txt"; echo cfg > "$ctx/config.txt"
cat > "$ctx/Dockerfile" <<'DF'
FROM busybox
COPY config.txt /etc/app.cfg
RUN echo "static" > /static
COPY src/ /src/
RUN cat /src/*.txt > /all.txt
ARG FLAVOR=plain
RUN echo "flavor $FLAVOR" > /flavor
CMD ["cat", "/all.txt"]
DF
id1=$(cb build -q -t c:1 "$ctx"); ok $? "first build"
ino=$(stat -c %i "$ROOT/index.json")
cb build -t c:1 "$ctx" >"$T/out2" 2>"$T/log2"; ok $? "second build"
is "$(cat "$T/out2")" "$id1" "no-op rebuild gives the same image ID"
is "$(grep -c 'Using cache' "$T/log2")" 6 "every step is a cache hit"
# issue 29: the tag already names the image, so index.json is not written
# again (a rewrite is a rename to a new inode, and two fsyncs)
is "$(stat -c %i "$ROOT/index.json")" "$ino" "a no-op rebuild leaves index.json as it was"
cb build -q -t c:1 -t c:extra "$ctx" >/dev/null; ok $? "no-op rebuild with one more tag"
is "$(cb images -q c:extra 2>/dev/null | head -1)" "${id1:7:12}" \
	"the new tag is written, the old one kept"
cb rmi c:extra >/dev/null 2>&1

sleep 1.1; touch "$ctx/src/a.txt"
id3=$(cb build -q -t c:1 "$ctx")
is "$id3" "$id1" "touching a file (mtime only) changes nothing"

echo ONE > "$ctx/src/a.txt"
cb build -t c:1 "$ctx" >"$T/out4" 2>"$T/log4"; ok $? "build after changing src/a.txt"
hits=$(grep -c 'Using cache' "$T/log4")
is "$hits" 2 "steps before COPY src/ are hits, the rest re-run"
like "$(cat "$T/log4")" 'COPY src/ /src/  \(cache miss: src/a.txt changed\)' "the miss names the changed file"
like "$(cat "$T/log4")" 'RUN cat /src/\*.txt > /all.txt  \(cache miss: a step before it changed\)' "later misses say why"
unpack c:1 "$T/u"
is "$(head -1 "$T/u/rootfs/all.txt")" "ONE" "the new content is in the image"

cb build -t c:1 --build-arg FLAVOR=spicy "$ctx" >/dev/null 2>"$T/log5"; ok $? "build with a new build arg"
# as in Docker, every RUN after an ARG sees it in its environment: the
# steps before the ARG stay cached, the RUN that uses it and later ones re-run
is "$(grep -c 'Using cache' "$T/log5")" 4 "steps before the ARG are cache hits"
is "$(grep -c '^--> sha256' "$T/log5")" 2 "the RUN using the arg and the CMD after it re-run"
like "$(cat "$T/log5")" '\(cache miss: build arg FLAVOR changed\)' "the miss names the build arg"
unpack c:1 "$T/u"
is "$(cat "$T/u/rootfs/flavor")" "flavor spicy" "the arg reached RUN"

cb build -t c:1 --no-cache "$ctx" >/dev/null 2>"$T/log6"; ok $? "--no-cache build"
is "$(grep -c 'Using cache' "$T/log6")" 0 "--no-cache ignores the cache"
cb build -t c:1 --no-cache=true "$ctx" >/dev/null 2>"$T/log6b"; ok $? "--no-cache=true build"
is "$(grep -c 'Using cache' "$T/log6b")" 0 "--no-cache=true ignores the cache"
cb build -t c:1 --no-cache=false --pull=false "$ctx" >/dev/null 2>"$T/log6c"; ok $? "--no-cache=false"
is "$(grep -c 'Using cache' "$T/log6c")" 6 "--no-cache=false uses the cache"
# the course's CI stage: docker build --force-rm=true -t IMAGE .
cb build --force-rm=true --rm -t c:ci "$ctx" >/dev/null 2>&1; ok $? "--force-rm=true and --rm are accepted"
err=$(cb build --force-rm=maybe -t c:ci "$ctx" 2>&1); is $? 2 "--force-rm=maybe: usage error"
like "$err" "invalid value 'maybe' for --force-rm" "and it says which flag"

# a miss on a metadata step says what changed in it (issue 22, bug 3: it
# said "build args changed" for any ENV, LABEL or CMD edit)
m=$T/meta; mkdir -p "$m"
meta_df() { printf 'FROM busybox\nENV A=%s B=1\nLABEL version=%s\nCMD ["echo", "%s"]\n' "$1" "$2" "$3" > "$m/Dockerfile"; }
meta_df 1 1 hi; cb build -t meta:1 "$m" >/dev/null 2>&1; ok $? "metadata image built"
meta_df 2 1 hi; cb build -t meta:1 "$m" >/dev/null 2>"$T/logm1"
like "$(cat "$T/logm1")" 'ENV A=2 B=1  \(cache miss: ENV A changed\)' "an ENV edit names the variable"
meta_df 2 2 hi; cb build -t meta:1 "$m" >/dev/null 2>"$T/logm2"
like "$(cat "$T/logm2")" 'LABEL version=2  \(cache miss: LABEL version changed\)' "a LABEL edit names the label"
meta_df 2 2 ho; cb build -t meta:1 "$m" >/dev/null 2>"$T/logm3"
like "$(cat "$T/logm3")" 'CMD \["echo", "ho"\]  \(cache miss: CMD changed\)' "a CMD edit says CMD changed"
unlike "$(cat "$T/logm1" "$T/logm2" "$T/logm3")" 'build args changed' "no build-arg reason without build args"

out=$(cb prune); ok $? "prune"
like "$out" "Deleted [0-9]+ blobs" "prune reports what it deleted"
cb build -t c:1 "$ctx" >/dev/null 2>"$T/log7"; ok $? "build after prune"
is "$(grep -c 'Using cache' "$T/log7")" 0 "prune cleared the cache"
unpack c:1 "$T/u"; ok $? "image still whole after prune"
done_testing
