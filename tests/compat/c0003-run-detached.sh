#!/usr/bin/env bash
# run -d: the ID on stdout, ps, logs, stop, ps -a, rm.
. "$(dirname "$0")/lib.sh"
id=$(d run -d --name web busybox sh -c 'echo started; exec sleep 100')
like "$id" "^[0-9a-f]{64}$" "run -d prints the full ID"
like "$(d ps --format '{{.Names}} {{.Status}}')" "^web Up" "ps shows it up"
like "$(d ps --no-trunc -q)" "^$id$" "ps -q --no-trunc is the ID"
is "$(d ps -q)" "${id:0:12}" "ps -q is the short ID"
wait_until 10 sh -c "$DOCKER logs web | grep -q started"
is "$(d logs web)" started "logs"
is "$(d stop -t 1 web)" web "stop prints the name"
is "$(d ps -q)" "" "ps hides it"
like "$(d ps -a --format '{{.Names}} {{.Status}}')" "^web Exited \(137\)" "ps -a: exited 137 (killed: sleep ignores TERM as PID 1)"
is "$(d rm web)" web "rm prints the name"
is "$(d ps -aq)" "" "gone"
done_testing
