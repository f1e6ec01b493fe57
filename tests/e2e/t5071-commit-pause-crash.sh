#!/usr/bin/env bash
# Issue 23.3: kill -9 of `commit` while it has the container stopped
# (SIGSTOP) must not leave it stopped forever: the pause is recorded with
# its owner, and the next command that looks at the container resumes it.
. "$(dirname "$0")/lib.sh"
import_busybox
cb run -d --name p1 busybox sh -c 'dd if=/dev/urandom of=/big bs=1M count=48 2>/dev/null; touch /ready; sleep 1000' > /dev/null
ok $? "run -d"
id=$(cb inspect --type container p1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
for i in $(seq 1 600); do [ -e "$ROOT/containers/$id/upper/ready" ] && break; sleep 0.1; done
pid=$(cb inspect --type container p1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
[ "$pid" -gt 0 ]; ok $? "the container runs (pid $pid)"
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
"$CBUILD" --root "$ROOT" commit p1 snap:1 > /dev/null 2>&1 &
cpid=$!
while kill -0 "$cpid" 2>/dev/null && [ "$(state "$pid")" != T ]; do :; done
is "$(state "$pid")" T "commit stopped the container"
kill -9 "$cpid"; wait "$cpid" 2>/dev/null
is "$(state "$pid")" T "still stopped after the kill"
like "$(cb ps)" "p1" "ps lists it"
# SIGCONT is sent by ps; the state follows at once but is read racily
for i in $(seq 1 50); do [ "$(state "$pid")" != T ] && break; sleep 0.1; done
isnt_t=$(state "$pid")
[ "$isnt_t" != T ]; ok $? "the next command resumed it (state $isnt_t)"
[ ! -e "$ROOT/containers/$id/paused" ]; ok $? "the pause record is gone"
cb exec p1 true; ok $? "exec works in it"
cb commit p1 snap:2 > /dev/null; ok $? "a later commit works"
[ "$(state "$pid")" != T ]; ok $? "and resumes it itself"
cb rm -f p1 > /dev/null
done_testing
