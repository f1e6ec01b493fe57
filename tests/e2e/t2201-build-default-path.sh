#!/bin/bash
# t2201: a base image without PATH gets the default one before the stage is
# expanded, so `ENV PATH=/x:$PATH` extends it (BuildKit and buildah agree;
# found by the differential tests, seed 12).
. "$(dirname "$0")/lib.sh"
import_busybox
mkdir -p "$T/ctx"
printf 'FROM busybox\nENV PATH=/w/bin:$PATH\nRUN echo "$PATH" > /path\n' > "$T/ctx/Dockerfile"
cb build -q -t p:1 "$T/ctx" >/dev/null 2>"$T/err"; ok $? "build"
like "$(config_of p:1)" '"Env":\["PATH=/w/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\]' \
	"the image's PATH extends the default"
unpack p:1 "$T/u"
is "$(cat "$T/u/rootfs/path")" "/w/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "and so does RUN's"
done_testing
