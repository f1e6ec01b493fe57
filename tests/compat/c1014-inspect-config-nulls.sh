#!/usr/bin/env bash
# inspect's Config: null Env, Entrypoint and Volumes where docker has none; a run's Env, Cmd and WorkingDir.
. "$(dirname "$0")/lib.sh"
cfg() { d inspect -f "{{json .Config.$1}}" "$2"; }
is "$(cfg Env busybox)" null "an image without ENV: Env null"
is "$(cfg Entrypoint busybox)" null "no ENTRYPOINT: null"
is "$(cfg Volumes busybox)" null "no VOLUME: null"
d run --name n1 busybox true
is "$(cfg Env n1)" null "its container: Env null too"
is "$(cfg Cmd n1)" '["true"]' "Cmd: the run's command"
is "$(cfg Entrypoint n1)" null "Entrypoint null"
is "$(cfg WorkingDir n1)" '""' "WorkingDir empty without WORKDIR or -w"
is "$(cfg Volumes n1)" null "Volumes null"
is "$(d inspect -f '{{json .HostConfig.Binds}}' n1)" null "HostConfig.Binds null"
d run --name n2 -e A=1 -w /tmp busybox true
is "$(cfg Env n2)" '["A=1"]' "-e A=1: just that"
is "$(cfg WorkingDir n2)" '"/tmp"' "-w /tmp"
ctx "$T/ep" <<'DF'
FROM busybox
ENV B=2
WORKDIR /srv
ENTRYPOINT ["echo", "hi"]
CMD ["x"]
DF
d build -q -t nulls:ep "$T/ep" >/dev/null
is "$(d run --name n3 nulls:ep)" "hi x" "entrypoint and cmd run"
like "$(cfg Env n3)" '"B=2"\]$' "the image's ENV"
is "$(cfg Entrypoint n3)" '["echo","hi"]' "Entrypoint: the image's"
is "$(cfg Cmd n3)" '["x"]' "Cmd: the image's CMD alone"
is "$(d inspect -f '{{.Path}} {{json .Args}}' n3)" 'echo ["hi","x"]' "Path and Args: the whole command line"
is "$(cfg WorkingDir n3)" '"/srv"' "WorkingDir: the image's"
d run --name n4 -v /anon -v "$T:/host" busybox true
is "$(cfg Volumes n4)" '{"/anon":{}}' "-v /path: in Config.Volumes"
is "$(d inspect -f '{{json .HostConfig.Binds}}' n4)" "[\"$T:/host\"]" "-v SRC:DST: in HostConfig.Binds"
d rm -v n4 >/dev/null
done_testing
