#!/usr/bin/env bash
# Two processes tagging 50 names each at once end with all 100 tags.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
tagger() { for i in $(seq 1 50); do cb tag busybox "p$1/img:$i" || exit 1; done; }
tagger a & a=$!
tagger b & b=$!
wait $a; ok $? "first tagger succeeded"
wait $b; ok $? "second tagger succeeded"
is "$(cb images | grep -c '^p[ab]/img')" 100 "all 100 tags present"
done_testing
