#!/usr/bin/env bash
# Ctrl-P Ctrl-Q on a terminal: run -it and attach leave the container running; start -ai ends at stdin's EOF.
. "$(dirname "$0")/lib.sh"
term() { "$COMPAT/on-a-terminal" "$@"; }
up() { d ps --format '{{.Names}} {{.Status}}' | grep -q "^$1 Up"; }
# shellcheck disable=SC2086 # d's words
out=$(term 'e:# |w:echo one-$((1+1))\n|e:one-2|w:\x10\x11' $DOCKER run -it --name dk1 busybox sh); s=$?
is "$s" 0 "run -it, then Ctrl-P Ctrl-Q: exit 0"
like "$out" "one-2" "what was typed ran"
up dk1; ok $? "the container goes on"
# shellcheck disable=SC2086
out=$(term 'w:echo two-$((1+2))\n|e:two-3|w:\x10\x11' $DOCKER attach dk1); s=$?
is "$s" 1 "attach, then Ctrl-P Ctrl-Q: 1, as docker's"
like "$out" "read escape sequence" "with docker's words"
up dk1; ok $? "the container goes on"
# shellcheck disable=SC2086
out=$(term 'w:stty size; exit 3\n' $DOCKER attach dk1); s=$?
is "$s" 3 "attach again, exit 3: attach exits 3"
like "$out" "33 111" "the container's terminal has our size"
is "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' dk1)" "exited 3" "it exited"
# shellcheck disable=SC2086
out=$(term 'e:# |w:exit 4\n' $DOCKER run -it --name dk2 busybox sh); s=$?
is "$s" 4 "run -it: the shell's exit code"
# shellcheck disable=SC2086
out=$(term 'e:# |w:echo x\x10y\n|e:# |t:3' $DOCKER run -it --name dk3 busybox sh); s=$?
is "$s" 124 "Ctrl-P alone is input: still attached (the helper gave up)"
d rm -f dk3 >/dev/null
# shellcheck disable=SC2086
out=$(term 'e:# |w:echo r\n|e:r|w:\x10\x11' $DOCKER run -it --rm --name dk5 busybox sh); s=$?
is "$s" 0 "run -it --rm, then Ctrl-P Ctrl-Q: exit 0"
up dk5; ok $? "the container goes on"
# shellcheck disable=SC2086
out=$(term 'w:exit 5\n' $DOCKER attach dk5); s=$?
is "$s" 5 "attach, exit 5: 5"
gone() { [ -z "$(d ps -aq -f name=dk5)" ]; }
wait_until 20 gone; ok $? "--rm removed it at its exit"
# shellcheck disable=SC2086
out=$(term 'e:# |w:exit 7\n' $DOCKER run -it --rm busybox sh); s=$?
is "$s" 7 "run -it --rm: the shell's exit code"
d run -i --name dk4 busybox sh -c 'cat; echo end' </dev/null >/dev/null
is "$(echo hello | d start -ai dk4)" "hello
end" "start -ai: stdin to the container, it ends at stdin's EOF"
is "$(d inspect -f '{{.State.Status}}' dk4)" exited "and the container has exited"
done_testing
