#!/usr/bin/env bash
# run and exec: the container's exit code, 125 for the tool's own errors,
# 126 for a command that cannot be run, 127 for one not found.
. "$(dirname "$0")/lib.sh"
is "$(rc d run --rm busybox sh -c 'exit 3')" 3 "run: the container's exit code"
is "$(rc d run --rm busybox nosuchcmd)" 127 "run: a command not found: 127"
is "$(rc d run --rm busybox /nosuch)" 127 "run: a missing path: 127"
is "$(rc d run --rm busybox /etc)" 126 "run: a directory: 126"
is "$(rc d run --rm busybox /etc/passwd)" 126 "run: not executable: 126"
is "$(rc d run --rm --bogus-flag busybox true)" 125 "run: an unknown flag: 125"
is "$(rc d run --rm nosuchimage-compat:1 true)" 125 "run: a missing image: 125"
d run -d --name ex1 busybox sleep 100 >/dev/null
is "$(rc d exec ex1 sh -c 'exit 4')" 4 "exec: the command's exit code"
is "$(rc d exec ex1 /etc)" 126 "exec: a directory: 126"
is "$(rc d exec ex1 nosuchcmd)" 126 "exec: a command not found: 126 (docker exec's, not run's 127)"
is "$(rc d exec --bogus-flag ex1 true)" 125 "exec: an unknown flag: 125"
is "$(rc d exec nosuchcontainer true)" 1 "exec: a missing container: 1"
is "$(rc d run --name ex1 busybox true)" 125 "run: a name in use: 125"
d stop -t 0 ex1 >/dev/null
is "$(rc d exec ex1 true)" 1 "exec: a stopped container: 1"
done_testing
