#!/usr/bin/env bash
# run: output, environment, working directory, user, entrypoint, --rm.
. "$(dirname "$0")/lib.sh"
is "$(d run --rm busybox echo hello)" hello "the command's output"
is "$(d run --rm -e A=1 --env B=2 busybox sh -c 'echo $A$B')" 12 "-e and --env"
printf 'C=3\n# a comment\n' >"$T/env"
is "$(d run --rm --env-file "$T/env" busybox sh -c 'echo $C')" 3 "--env-file"
is "$(d run --rm -w /tmp busybox pwd)" /tmp "-w"
is "$(d run --rm --workdir /new/dir busybox pwd)" /new/dir "a missing workdir is made"
is "$(d run --rm -u 65534 busybox id -u)" 65534 "-u UID"
is "$(d run --rm -u nobody busybox id -un)" nobody "-u NAME"
is "$(d run --rm --entrypoint echo busybox hi there)" "hi there" "--entrypoint"
is "$(d ps -aq | wc -l)" 0 "--rm left no container"
done_testing
