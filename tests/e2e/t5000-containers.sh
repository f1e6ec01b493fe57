#!/usr/bin/env bash
# Containers: the course flow (run -d, diff, exec, commit, stop, rm), exit
# codes, --rm, ps output, nothing left behind.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "containers need root for now"
import_busybox

leftovers() { # mounts, processes or directories of containers in $ROOT
	grep -c " $ROOT/containers" /proc/self/mountinfo
	pgrep -f "cbuild --root $ROOT run" | wc -l
	find "$ROOT/containers" -mindepth 1 -maxdepth 1 | wc -l
}

id=$(cb run -d --name c1 busybox sh -c 'echo hi > /x; rm /etc/group; sleep 1000')
ok $? "run -d"
like "$id" '^[0-9a-f]{64}$' "run -d prints the full ID"
for i in $(seq 600); do cb exec c1 test -e /x 2>/dev/null && break; sleep 0.1; done
like "$(cb ps)" "${id:0:12} +busybox +\"sh -c echo hi > /x;…\" .* Up .* c1" "ps shows it up"
is "$(cb diff c1)" "$(printf 'C /etc\nD /etc/group\nA /x')" "diff: A /x, C /etc, D /etc/group"
is "$(cb diff "${id:0:5}")" "$(cb diff c1)" "a unique ID prefix names it"
is "$(cb exec c1 cat /x)" "hi" "exec c1 cat /x"
cb exec c1 sh -c 'exit 4'; is $? 4 "exec returns the process's exit code"
iid=$(cb commit -m "my snap" -a "me <me@x>" c1 snap:1); ok $? "commit c1 snap:1"
like "$iid" '^sha256:[0-9a-f]{64}$' "commit prints the image ID"
is "$(cb run --rm snap:1 cat /x)" "hi" "the committed image has /x"
cb run --rm snap:1 test -e /etc/group; is $? 1 "and no /etc/group"
like "$(cb history snap:1)" "my snap" "history records the commit message"
like "$(cb inspect snap:1)" '"Author": "me <me@x>"' "and the author"
is "$(cb run --rm snap:1 sh -c 'ls /etc/hosts /etc/hostname /proc/1 >/dev/null && echo ok')" ok \
	"mount points work in the committed image"
# an independent reader of the layer: the whiteout is a .wh. entry
blob=$(cb inspect snap:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RootFS"]["Layers"][-1])')
ok $? "inspect lists the new layer"
umoci unpack --image "$ROOT:docker.io/library/snap:1" "$T/unpacked" >/dev/null 2>&1
if [ -d "$T/unpacked/rootfs" ]; then
	is "$(cat "$T/unpacked/rootfs/x")" hi "umoci unpacks the commit: /x"
	[ ! -e "$T/unpacked/rootfs/etc/group" ]; ok $? "umoci: /etc/group deleted"
	[ ! -e "$T/unpacked/rootfs/etc/hosts" ] || [ -s "$T/unpacked/rootfs/etc/hosts" ]
	ok $? "umoci: no empty mount-point files in the layer"
else
	fail "umoci unpack of the committed image"
fi

cb commit -c 'CMD ["cat", "/x"]' c1 snap:2 >/dev/null; ok $? "commit -c"
is "$(cb run --rm snap:2)" hi "commit -c sets CMD"

cb rm c1 2>/dev/null; is $? 1 "rm of a running container needs -f"
start=$(date +%s)
cb stop -t 2 c1 >/dev/null; ok $? "stop"
end=$(date +%s)
[ $((end - start)) -le 6 ]; ok $? "stop returns within the timeout ($((end - start))s)"
like "$(cb ps -a)" "Exited \(137\) .* c1" "ps -a shows it exited (sh ignores SIGTERM: killed)"
is "$(cb ps -q)" "" "ps without -a hides it"
cb rm c1 >/dev/null; ok $? "rm c1"
is "$(leftovers | tr '\n' ' ')" "0 0 0 " "no mount, process or directory left"

cb run --name o1 busybox sh -c 'rm -rf /usr; mkdir /usr; touch /usr/x; mkdir -p /var/a/b; touch /var/a/b/f'
is "$(cb diff o1)" "$(printf 'C /usr\nD /usr/bin\nD /usr/sbin\nA /usr/x\nC /var\nA /var/a\nA /var/a/b\nA /var/a/b/f')" \
	"diff: an opaque directory's hidden entries are D, new parents A, changed parents C"
cb rm o1 >/dev/null
cb run busybox sh -c 'exit 3'; is $? 3 "exit code of run is the container's"
cb run --name n1 busybox true; cb run --name n1 busybox true 2>/dev/null
is $? 125 "names are unique (a second one: 125, as docker run)"
cb rm $(cb ps -aq) >/dev/null
is "$(cb run --rm busybox echo hello)" hello "run --rm prints the output"
is "$(leftovers | tr '\n' ' ')" "0 0 0 " "run --rm leaves nothing"
cb run --rm -d busybox true >/dev/null
nothing_left() { [ "$(leftovers | tr '\n' ' ')" = "0 0 0 " ]; }
wait_for 60 nothing_left
is "$(leftovers | tr '\n' ' ')" "0 0 0 " "run --rm -d leaves nothing"

# run options
is "$(cb run --rm -e A=1 -e B=2 busybox sh -c 'echo $A$B')" 12 "-e"
printf 'C=3\n# comment\n' > "$T/envf"
is "$(cb run --rm --env-file "$T/envf" busybox sh -c 'echo $C')" 3 "--env-file"
is "$(cb run --rm -w /tmp/w busybox pwd)" /tmp/w "-w"
is "$(cb run --rm -u 1000:1000 busybox id -u)" 1000 "-u"
is "$(cb run --rm --hostname box busybox hostname)" box "--hostname"
id=$(cb run -d busybox hostname)
exited() { cb ps -a | grep -q "^${id:0:12} .*Exited"; }
wait_for 60 exited
is "$(cb logs "$id")" "${id:0:12}" "default hostname is the short ID"
mkdir -p "$T/vol"; echo data > "$T/vol/f"
is "$(cb run --rm -v "$T/vol:/v:ro" busybox cat /v/f)" data "-v HOST:CTR:ro"
cb run --rm -v "$T/vol:/v:ro" busybox sh -c 'echo x > /v/g' 2>/dev/null
ok $(( $? == 0 )) "a :ro volume is read-only"
is "$(cb run --rm --entrypoint echo busybox a b)" "a b" "--entrypoint"
is "$(cb run --rm --network none busybox ls /sys/class/net)" lo "--network none: only lo"
is "$(echo from-stdin | cb run --rm -i busybox cat)" from-stdin "-i passes stdin"
out=$(script -qec "$CBUILD --root $ROOT run --rm -it busybox sh -c 'tty; echo \$TERM'" /dev/null </dev/null)
like "$out" "/dev/pts/[0-9]" "-it: the process has a pty"
like "$out" "xterm" "-t sets TERM"
# commit keeps the container's Config.Env as docker does (checked with
# dockerd 20.10): the -e values, then the image's Env; not the TERM a tty
# got, nor HOSTNAME or a PATH the image did not have
env_of() { cb inspect "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["Config"].get("Env")))'; }
script -qec "$CBUILD --root $ROOT run -it --name tty1 -e FOO=bar busybox true" /dev/null </dev/null >/dev/null
cb commit tty1 tty:1 >/dev/null
is "$(env_of tty:1)" '["FOO=bar"]' "commit of an -it container: no TERM, HOSTNAME or PATH baked in"
is "$(env_of tty1)" '["FOO=bar"]' "inspect shows the container's Config.Env"
cb commit -c 'ENV PATH=/bin:/usr/bin X=1 Z=9' tty1 withenv:1 >/dev/null
script -qec "$CBUILD --root $ROOT run -it --name tty2 -e X=2 -e Y=3 withenv:1 true" /dev/null </dev/null >/dev/null
cb commit tty2 tty:2 >/dev/null
is "$(env_of tty:2)" '["X=2", "Y=3", "FOO=bar", "PATH=/bin:/usr/bin", "Z=9"]' "-e values first, then the image's Env"
script -qec "$CBUILD --root $ROOT run -it --name tty3 -e TERM=vt100 withenv:1 sh -c 'echo \$TERM'" /dev/null </dev/null >"$T/tty3.out"
like "$(cat "$T/tty3.out")" "vt100" "-e TERM wins over the tty's"
cb commit tty3 tty:3 >/dev/null
is "$(env_of tty:3)" '["TERM=vt100", "FOO=bar", "PATH=/bin:/usr/bin", "X=1", "Z=9"]' "and a TERM the user gave is committed"
cb rm tty1 tty2 tty3 >/dev/null
# run -it attaches to a container it started: one that is gone before the
# attach connects still gives its output and code (it was refused).
# util-linux script, its stdin at EOF, writes an end-of-file byte to its
# terminal, a NUL once run -it has made that terminal raw (strace: run
# reads "\0" from fd 0); run forwards it, as docker does, and the
# container's tty echoes "^@" before or after the line (in 77 of 120
# rounds here, 33 times before it): script's input, not cbuild's output
for i in 1 2 3 4 5 6 7 8; do
	script -qec "$CBUILD --root $ROOT run -it --rm busybox sh -c 'echo quick-$i; exit $i'" /dev/null </dev/null
	echo "code $?"
done 2>&1 | tr -d '\r' | sed 's/\^@//g' >"$T/quick.out"
is "$(grep -c -E '^quick-[1-8]$' "$T/quick.out")" 8 "run -it of a command that ends at once: its output, 8 of 8"
is "$(grep -E '^code [0-9]+$' "$T/quick.out" | cut -d' ' -f2 | tr '\n' ' ')" "1 2 3 4 5 6 7 8 " \
	"and its exit code, 8 of 8"
cb run -d --name e1 busybox sleep 100 >/dev/null
like "$(script -qec "$CBUILD --root $ROOT exec -it e1 tty" /dev/null </dev/null)" "/dev/pts/[0-9]" \
	"exec -it: a pty too"
is "$(cb exec -e X=5 -w /tmp e1 sh -c 'echo $X $(pwd)')" "5 /tmp" "exec -e -w"
is "$(cb exec -u 1000 e1 id -u)" 1000 "exec -u"
cb rm -f e1 >/dev/null
if start_registry; then
	skopeo copy -q --dest-tls-verify=false "oci:$ROOT:docker.io/library/busybox:latest" \
		"docker://$REG/bb:1" >/dev/null 2>&1
	is "$(cb run --rm "$REG/bb:1" echo pulled 2>/dev/null)" pulled "a missing image is pulled"
	cb run --rm "$REG/nosuch:1" true 2>/dev/null; ok $(( $? == 0 )) "an image nowhere fails"
else
	fail "start a registry"
fi

# start: an exited container runs again on its upper dir
cb run --name s1 busybox sh -c 'echo run >> /count; cat /count' >/dev/null
cb start s1 >/dev/null; ok $? "start"
for i in $(seq 600); do [ "$(cb ps -q)" = "" ] && break; sleep 0.1; done
is "$(cb logs --tail 2 s1 | tr '\n' ' ')" "run run " "start keeps the container's files"

cb rm -f $(cb ps -aq) >/dev/null
is "$(leftovers | tr '\n' ' ')" "0 0 0 " "all removed"
done_testing
