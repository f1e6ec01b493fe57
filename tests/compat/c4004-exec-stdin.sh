#!/usr/bin/env bash
# exec -i: stdin to the command; a file made by exec stays in the container.
. "$(dirname "$0")/lib.sh"
d run -d --name x1 busybox sleep 100 >/dev/null
echo data | d exec -i x1 sh -c 'cat > /tmp/from-stdin'
is "$(d exec x1 cat /tmp/from-stdin)" data "exec -i writes what stdin holds"
is "$(echo ignored | d exec x1 cat)" "" "without -i: no stdin"
is "$(d diff x1 | grep from-stdin)" "A /tmp/from-stdin" "diff shows the exec's file"
done_testing
