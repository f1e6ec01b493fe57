#!/usr/bin/env bash
# the environment a process gets: PATH, HOSTNAME and HOME from the user's passwd entry.
. "$(dirname "$0")/lib.sh"
env=$(d run --rm busybox env | sort)
is "$(printf '%s\n' "$env" | cut -d= -f1 | tr '\n' ' ')" "HOME HOSTNAME PATH " "run: exactly HOME, HOSTNAME, PATH"
like "$env" "^HOME=/root$" "HOME is root's home"
like "$env" "^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$" "docker's PATH"
is "$(d run --rm -u nobody busybox sh -c 'echo $HOME')" /nonexistent "-u nobody: its passwd home"
is "$(d run --rm -u 4321 busybox sh -c 'echo $HOME')" / "a uid without a passwd entry: /"
is "$(d run --rm -e HOME=/mine busybox sh -c 'echo $HOME')" /mine "-e HOME wins"
is "$(d run --rm -h box busybox sh -c 'echo $HOSTNAME')" box "HOSTNAME follows -h"
d run -d --name envx busybox sleep 60 >/dev/null
is "$(d exec envx sh -c 'echo $HOME')" /root "exec: HOME too"
is "$(d exec -u nobody envx sh -c 'echo $HOME')" /nonexistent "exec -u nobody: its home"
unlike "$(d inspect -f "{{json .Config.Env}}" envx)" HOME "HOME is not written into the config"
d rm -f envx >/dev/null
done_testing
