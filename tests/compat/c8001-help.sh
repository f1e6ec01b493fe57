#!/usr/bin/env bash
# --help: usage and every option with its meaning; exit 0.
. "$(dirname "$0")/lib.sh"
for v in run build ps images exec logs rm rmi stop tag push pull login inspect commit; do
	out=$(d "$v" --help 2>&1)
	s=$?
	[ $s = 0 ] && printf '%s\n' "$out" | grep -qi "^usage: "
	ok $? "$v --help"
done
out=$(d run --help)
for o in "-d, --detach" "-e, --env" "-i, --interactive" "--name" "-p, --publish" "--rm" "-t, --tty" "-v, --volume" "-w, --workdir" "-u, --user" "--entrypoint" "--network"; do
	printf '%s\n' "$out" | grep -q -- "$o"; ok $? "run --help lists $o"
done
done_testing
