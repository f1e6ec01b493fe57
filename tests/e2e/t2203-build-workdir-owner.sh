#!/bin/bash
# t2203: the directories WORKDIR makes belong to the stage's USER (BuildKit
# and buildah agree); existing ones keep their owner. Found by the
# differential tests (seed 31).
. "$(dirname "$0")/lib.sh"
import_busybox
mkdir -p "$T/ctx"
cat > "$T/ctx/Dockerfile" <<'DF'
FROM busybox
RUN mkdir -p /srv/old && chown 5:5 /srv/old
USER nobody
WORKDIR /srv/old/new/deeper
RUN touch mine
USER 1000:2000
WORKDIR /opt/app
USER 1000
WORKDIR /bare
USER root
WORKDIR /rootdir
DF
cb build -q -t wd:1 "$T/ctx" >/dev/null 2>"$T/err"; ok $? "a USER's RUN can write in the WORKDIR it made" || diag "$(cat "$T/err")"
unpack wd:1 "$T/u"
own() { stat -c '%u:%g' "$T/u/rootfs/$1"; }
is "$(own srv/old/new) $(own srv/old/new/deeper)" "65534:65534 65534:65534" "WORKDIR made them as nobody"
is "$(own srv/old) $(own srv)" "5:5 0:0" "the existing ones keep their owners"
is "$(own opt) $(own opt/app)" "1000:2000 1000:2000" "uid:gid without a passwd entry"
is "$(own bare)" "1000:1000" "a bare uid means uid:uid, as for --chown (seed 191)"
is "$(own rootdir)" "0:0" "and root's are root's"
done_testing
