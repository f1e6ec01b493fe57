#!/usr/bin/env bash
# RepoDigests after push; pull by digest; run by REPO@DIGEST.
. "$(dirname "$0")/lib.sh"
reg_start || { echo "1..0 # SKIP no registry"; exit 0; }
ctx "$T/c" <<'DF'
FROM busybox
RUN echo by-digest > /d
DF
d build -q -t "$REG/dig/app:1" "$T/c" >/dev/null
d push "$REG/dig/app:1" >/dev/null 2>&1; ok $? "push"
rd=$(d inspect -f '{{index .RepoDigests 0}}' "$REG/dig/app:1")
like "$rd" "^$REG/dig/app@sha256:[0-9a-f]{64}$" "RepoDigests names the pushed manifest"
d rmi "$REG/dig/app:1" >/dev/null
d pull "$rd" >/dev/null 2>&1; ok $? "pull REPO@DIGEST"
is "$(d run --rm "$rd" cat /d)" by-digest "run REPO@DIGEST"
done_testing
