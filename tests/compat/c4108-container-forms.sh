#!/usr/bin/env bash
# The rest of docker's container management forms: container run, port, top, pause, exec, cp, diff, commit, rename, restart, kill, wait, prune.
. "$(dirname "$0")/lib.sh"
is "$(d container run -d --name cf1 -p 127.0.0.1::80 busybox sleep 300 | wc -c)" 65 "container run -d prints the ID"
like "$(d container port cf1)" "^80/tcp -> 127\.0\.0\.1:[0-9]+$" "container port"
like "$(d container top cf1)" "sleep 300" "container top"
d container pause cf1 >/dev/null
is "$(d inspect -f '{{.State.Status}}' cf1)" paused "container pause"
d container unpause cf1 >/dev/null
is "$(d inspect -f '{{.State.Status}}' cf1)" running "container unpause"
is "$(d container stats --no-stream --format '{{.Name}}' cf1)" cf1 "container stats --no-stream"
d container exec cf1 sh -c 'echo made > /made'
echo host > "$T/h"
d container cp "$T/h" cf1:/from-host
is "$(d container exec cf1 cat /from-host)" host "container cp in"
d container cp cf1:/made "$T/made"
is "$(cat "$T/made")" made "container cp out"
like "$(d container diff cf1)" "A /made" "container diff"
d container commit cf1 forms:commit >/dev/null
is "$(d run --rm forms:commit cat /made)" made "container commit"
d container rename cf1 cf2
is "$(d ps --format '{{.Names}}')" cf2 "container rename"
d container restart -t 1 cf2 >/dev/null
is "$(d inspect -f '{{.State.Running}}' cf2)" true "container restart"
d container kill cf2 >/dev/null
is "$(d container wait cf2)" 137 "container kill, then container wait: 137"
d container run --name cf3 busybox true
is "$(d container prune -f | grep -c '^[0-9a-f]\{64\}$')" 2 "container prune -f: both stopped ones, by ID"
is "$(d ps -aq | wc -l)" 0 "none left"
like "$(d container prune -f)" "^Total reclaimed space: " "nothing more to prune"
done_testing
