#!/bin/bash
# t2202: COPY --from keeps the owners the source stage gave its files
# (BuildKit, the classic builder and buildah agree); --chown still wins,
# and the directories the copy makes stay root's. Found by the differential
# tests (seeds 18, 19, 27).
. "$(dirname "$0")/lib.sh"
import_busybox
mkdir -p "$T/ctx"
cat > "$T/ctx/Dockerfile" <<'DF'
FROM busybox AS a
RUN mkdir -p /w/sub && echo f > /w/f && echo g > /w/sub/g && ln -s f /w/l && chown -R 7:8 /w && chown -h 9:9 /w/l
FROM busybox
COPY --from=a /w /plain
COPY --chmod=0700 --from=a /w /moded
COPY --chown=3:4 --from=a /w /chowned
COPY --from=a /w/f /one/f
DF
cb build -q -t o:1 "$T/ctx" >/dev/null 2>"$T/err"; ok $? "build" || diag "$(cat "$T/err")"
unpack o:1 "$T/u"
own() { stat -c '%u:%g' "$T/u/rootfs/$1"; }
is "$(own plain/f) $(own plain/sub) $(own plain/sub/g)" "7:8 7:8 7:8" "COPY --from keeps the source's owners"
is "$(stat -c '%u:%g' -L "$T/u/rootfs/plain/l" >/dev/null; own plain/l)" "9:9" "of a symlink too"
is "$(own moded/f) $(stat -c %a "$T/u/rootfs/moded/f")" "7:8 700" "--chmod alone keeps them too"
is "$(own chowned/f) $(own chowned/sub/g)" "3:4 3:4" "--chown wins"
is "$(own plain) $(own one) $(own one/f)" "0:0 0:0 7:8" "directories the copy makes are root's"
done_testing
