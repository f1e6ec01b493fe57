#!/usr/bin/env bash
# logs: -t, --since/--until (RFC 3339, Unix seconds, durations), --tail with
# them, and --log-opt max-size/max-file rotation (logs and logs -f read
# across the rotated files).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root (t5020 covers rootless)"
import_busybox

cb run --name l1 busybox sh -c 'echo a; sleep 1.1; echo b; sleep 1.1; echo c; echo err >&2' 2>/dev/null
out=$(cb logs -t l1 2>&1)
like "$(printf '%s\n' "$out" | head -1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z a$' "-t: RFC 3339 nano timestamps"
is "$(printf '%s\n' "$out" | wc -l)" 4 "-t: one stamp per line"
tb=$(printf '%s\n' "$out" | sed -n 2p | cut -d' ' -f1)
tc=$(printf '%s\n' "$out" | sed -n 3p | cut -d' ' -f1)
is "$(cb logs --since "$tb" l1 2>/dev/null | tr '\n' ' ')" "b c " "--since RFC 3339 (inclusive)"
is "$(cb logs --until "$tb" l1 2>/dev/null | tr '\n' ' ')" "a b " "--until RFC 3339 (inclusive)"
is "$(cb logs --since "$tb" --until "$tb" l1 2>/dev/null)" "b" "--since and --until"
# the same instant as an offset and as Unix seconds
sec=$(date -u -d "${tc%.*}Z" +%s)
is "$(cb logs --since "$((sec + 1))" l1 2>&1)" "" "--since Unix seconds after the last line: nothing"
is "$(cb logs --since "$((sec - 3600))" l1 2>/dev/null | wc -l)" 3 "--since Unix seconds an hour ago: everything"
off=$(date -d "@$((sec - 3600))" +%Y-%m-%dT%H:%M:%S-01:00)
is "$(cb logs --since "$off" l1 2>/dev/null | wc -l)" 1 "--since with a -01:00 offset (= the last second)"
is "$(cb logs --since 1h l1 2>/dev/null | wc -l)" 3 "--since 1h: everything"
is "$(cb logs --since 2099-01-01 l1 2>&1)" "" "--since a future date: nothing"
is "$(cb logs --until 2000-01-01T00:00:00Z l1 2>&1)" "" "--until the past: nothing"
is "$(cb logs --since 1h --tail 2 l1 2>&1 | tr "\n" " ")" "c err " "--tail counts the lines in the window"
is "$(cb logs --until "$tb" --tail 1 l1 2>/dev/null)" "b" "--tail with --until"
cb logs --since yesterday l1 >/dev/null 2>&1; is $? 2 "a bad --since: usage error"

# rotation
cb run --name r1 --log-opt max-size=1k --log-opt max-file=3 busybox sh -c 'for i in $(seq 100); do echo line-$i; done' >/dev/null
d=$ROOT/containers/$(cb ps -aq --no-trunc -f name=r1)
ok "$([ -f "$d/log.1" ] && [ -f "$d/log.2" ] && [ ! -e "$d/log.3" ]; echo $?)" "max-file=3: log, log.1, log.2"
size_ok=0
for f in "$d"/log*; do [ "$(stat -c %s "$f")" -lt 1100 ] || size_ok=1; done
ok $size_ok "each file near max-size=1k"
out=$(cb logs r1)
is "$(printf '%s\n' "$out" | tail -1)" line-100 "logs ends with the last line"
n=$(printf '%s\n' "$out" | wc -l)
first=$(printf '%s\n' "$out" | head -1); first=${first#line-}
is "$(printf '%s\n' "$out" | tr '\n' ' ')" "$(seq "$first" 100 | sed 's/^/line-/' | tr '\n' ' ')" \
	"logs reads the rotated files in order, nothing missing ($n lines kept)"
[ "$first" -gt 1 ]; ok $? "the oldest lines were dropped"
is "$(cb logs --tail 2 r1 | tr '\n' ' ')" "line-99 line-100 " "--tail across files"
cb run --name r2 --log-opt max-size=1k busybox sh -c 'for i in $(seq 100); do echo line-$i; done' >/dev/null
is "$(cb logs r2 | tail -1)" line-100 "max-file=1: the log is truncated, the newest lines kept"
d2=$ROOT/containers/$(cb ps -aq --no-trunc -f name=r2)
[ ! -e "$d2/log.1" ]; ok $? "max-file=1: no log.1"
cb run --log-opt max-size=big busybox true 2>/dev/null; is $? 125 "a bad max-size: usage error (125, as docker run)"
cb run --log-opt color=red busybox true 2>/dev/null; is $? 125 "an unknown --log-opt: usage error (125)"

# logs -f across rotations
cb run -d --name f1 --log-opt max-size=2k --log-opt max-file=2 busybox \
	sh -c 'sleep 0.5; for i in $(seq 150); do echo line-$i; sleep 0.01; done' >/dev/null
cb logs -f f1 > "$T/follow.out"
is "$(tr '\n' ' ' < "$T/follow.out")" "$(seq 150 | sed 's/^/line-/' | tr '\n' ' ')" \
	"logs -f follows across rotations: every line once, in order"
is "$(cb ps -a -f name=f1 --format '{{.State}}')" exited "and ends when the container exits"
cb rm -f $(cb ps -aq) >/dev/null
done_testing
