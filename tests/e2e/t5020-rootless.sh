#!/usr/bin/env bash
# Rootless: an unprivileged user builds, runs, lists, logs, diffs, commits
# and removes containers in a store of its own (~/.local/share/cbuild), with
# a /etc/subuid range (newuidmap) and without one (only root mapped). Files
# owned by root in the image are owned by uid 0 in the layers, never by the
# user's host uid.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root to create the test users"
command -v runuser >/dev/null && command -v useradd >/dev/null || skip_all "no runuser/useradd"
[ -x /usr/bin/newuidmap ] || skip_all "newuidmap missing (apt-get install uidmap)"
chmod 711 "$T"

# Each run has users of its own (lib.sh own_user): a suite running beside
# this one has other users, so `ps -u` below sees only this run's processes.

# The blob of REF's layer IDX (-1 = the last) in the store at ROOT.
layer_blob() { # layer_blob ROOT REF [IDX]
	python3 - "$1" "$2" "${3:--1}" <<'EOF'
import json, sys
root, ref, idx = sys.argv[1], sys.argv[2], int(sys.argv[3])
def blob(d):
    return "%s/blobs/%s" % (root, d.replace(":", "/"))
for m in json.load(open(root + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
        print(blob(json.load(open(blob(m["digest"])))["layers"][idx]["digest"]))
EOF
}

flow() { # flow USER WITH_SUBIDS
	local u=$1 sub=$2 h=$T/home-$1
	mkdir -p "$h/ctx"
	chown -R "$u:" "$h"
	cp "$ROOTFS_TAR" "$h/rootfs.tar"
	chmod 644 "$h/rootfs.tar"
	# as the user, with its own HOME and no CBUILD_ROOT: the default store
	ucb() { runuser -u "$u" -- env -u CBUILD_ROOT -u XDG_DATA_HOME HOME="$h" "$CBUILD" "$@"; }
	local st=$h/.local/share/cbuild what="$u ($([ "$sub" = 1 ] && echo subids || echo no subids))"

	ucb import -c 'CMD ["sh"]' "$h/rootfs.tar" busybox >/dev/null
	ok $? "$what: import"
	[ -f "$st/index.json" ]; ok $? "$what: the store is ~/.local/share/cbuild"

	local chown_step='true'
	[ "$sub" = 1 ] && chown_step='chown 5:6 /dd'
	printf 'FROM busybox\nRUN echo b > /b && mkdir /dd && %s\nCOPY f /f\n' "$chown_step" > "$h/ctx/Dockerfile"
	echo f > "$h/ctx/f"
	chown -R "$u:" "$h/ctx"
	ucb build -q -t built:1 "$h/ctx" >/dev/null
	ok $? "$what: build"
	is "$(ucb run --rm built:1 sh -c 'cat /b /f; stat -c %u:%g /b /f')" "$(printf 'b\nf\n0:0\n0:0')" \
		"$what: run the built image, its files are root's inside"
	is "$(tar --numeric-owner -tvf "$(layer_blob "$st" docker.io/library/built:1)" | awk '{print $2}' | sort -u)" \
		"0/0" "$what: COPY layer records uid 0 (tar tv)"
	local run_layer; run_layer=$(layer_blob "$st" docker.io/library/built:1 -2)
	local want='0/0 dd/'
	[ "$sub" = 1 ] && want='5/6 dd/'
	like "$(tar --numeric-owner -tvf "$run_layer" | awk '{print $2, $6}')" "^0/0 b\$" \
		"$what: RUN layer: /b is 0/0"
	like "$(tar --numeric-owner -tvf "$run_layer" | awk '{print $2, $6}')" "$want" \
		"$what: RUN layer: /dd as chowned"

	# repeated layers and one-layer or empty read-only sources, in the
	# user namespace (userxattr overlays, bind mounts of its own)
	mkdir -p "$h/rep"
	printf 'FROM busybox AS one\nFROM scratch AS empty\nFROM busybox\nRUN true\nRUN true\n%s\n%s\n%s\n' \
		'COPY --from=one /bin/busybox /bb' 'RUN --mount=from=empty,target=/m test -z "$(ls -A /m)"' \
		'COPY f /f
RUN rm /f
COPY f /f
RUN rm /f
RUN echo ok > /ok' > "$h/rep/Dockerfile"
	echo f > "$h/rep/f"
	chown -R "$u:" "$h/rep"
	ucb build --timestamp 0 -q -t rep:1 "$h/rep" >/dev/null
	ok $? "$what: build with repeated layers, COPY --from a one-layer stage, a scratch mount"
	is "$(ucb run --rm rep:1 sh -c 'cat /ok; ls /f 2>&1 | wc -l; cmp /bb /bin/busybox && echo same')" \
		"$(printf 'ok\n1\nsame')" "$what: run it: the tree is what the layers say"
	ucb rmi rep:1 >/dev/null

	local id
	id=$(ucb run -d --name c1 busybox sh -c 'echo hi > /x; echo out; rm /etc/group; sleep 1000')
	like "$id" '^[0-9a-f]{64}$' "$what: run -d"
	for _ in $(seq 600); do ucb exec c1 test -e /x 2>/dev/null && break; sleep 0.1; done
	like "$(ucb ps)" "${id:0:12} +busybox .* Up .* c1" "$what: ps shows it up"
	is "$(ucb logs c1)" out "$what: logs"
	is "$(ucb diff c1)" "$(printf 'C /etc\nD /etc/group\nA /x')" "$what: diff"
	is "$(ucb exec c1 cat /x)" hi "$what: exec"
	ucb commit c1 snap:1 >/dev/null; ok $? "$what: commit"
	is "$(tar --numeric-owner -tvf "$(layer_blob "$st" docker.io/library/snap:1)" | awk '{print $2, $6}' | sort)" \
		"$(printf '0/0 etc/\n0/0 etc/.wh.group\n0/0 x')" "$what: the commit's layer is uid 0, with the whiteout"
	is "$(ucb run --rm snap:1 sh -c 'cat /x; test -e /etc/group || echo gone')" "$(printf 'hi\ngone')" \
		"$what: run the committed image"
	# a foreign layer with an opaque directory: unpacked with user.overlay.opaque
	mkdir -p "$h/opq/usr" && touch "$h/opq/usr/.wh..wh..opq" "$h/opq/usr/y"
	tar -C "$h/opq" -cf "$h/opq.tar" usr && chmod 644 "$h/opq.tar"
	ucb import "$h/opq.tar" opq:1 >/dev/null
	is "$(ucb run --rm -v /usr/bin/busybox:/bin/busybox:ro opq:1 /bin/busybox ls /usr 2>&1)" y \
		"$what: a layer with an opaque directory unpacks and mounts"
	ucb stop -t 1 c1 >/dev/null; ok $? "$what: stop"
	like "$(ucb ps -a)" "Exited \(137\) .* c1" "$what: ps -a shows it exited"
	ucb run busybox sh -c 'exit 3'; is $? 3 "$what: exit code of run"
	# the rest of the container suite, rootless: logs -f, -p, kill -9 of the monitor
	ucb run -d --name l1 busybox sh -c \
		'i=0; while [ $i -lt 10 ]; do echo line $i; i=$((i+1)); usleep 100000; done' >/dev/null
	is "$(ucb logs -f l1 | wc -l)" 10 "$what: logs -f follows to the container's end"
	mkdir -p "$h/www" && echo "rootless page" > "$h/www/index.html" && chown -R "$u:" "$h/www"
	local port page=; port=$(free_port)
	ucb run -d --name web -p "$port:8080" -v "$h/www:/www:ro" busybox httpd -f -p 8080 -h /www >/dev/null
	for _ in $(seq 600); do
		page=$(curl -s --max-time 2 "http://127.0.0.1:$port/") && [ -n "$page" ] && break
		sleep 0.1
	done
	is "$page" "rootless page" "$what: -p forwards a host port into the container"
	ucb stop -t 1 web >/dev/null
	ucb run -d --name k1 busybox sleep 1000 >/dev/null
	local kid mon
	kid=$(ucb inspect k1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
	mon=$(python3 -c "import json; print(json.load(open('$st/containers/$kid/state.json'))['monitor_pid'])")
	kill -9 "$mon"
	for _ in $(seq 600); do ucb ps -q | grep -q . || break; sleep 0.1; done
	like "$(ucb ps -a)" "Exited \(137\) .* k1" "$what: kill -9 of the monitor: ps -a shows it exited"
	ucb rm $(ucb ps -aq) >/dev/null; ok $? "$what: rm"
	is "$(find "$st/containers" -mindepth 1 -maxdepth 1 | wc -l)" 0 "$what: rm leaves no directory"
	# (zombies aside: an orphaned monitor is reaped by whatever PID 1 is, when it likes)
	is "$(ps -o stat= -u "$u" | grep -vc '^Z')" 0 "$what: and no process"
	is "$(grep -c " $st/" /proc/self/mountinfo)" 0 "$what: and no mount on the host"
	# prune removes unpacked layers holding files of other mapped ids
	ucb rmi built:1 snap:1 opq:1 >/dev/null
	ucb prune >/dev/null; ok $? "$what: prune"
	is "$(ls "$st/layers/sha256" | wc -l)" 1 "$what: prune leaves only busybox's unpacked layer"
	# the user's files, not root's: everything the user owns on the host
	is "$(find "$st/blobs" "$st/index.json" ! -user "$u" | wc -l)" 0 "$what: blobs belong to the user"
}

if own_user cbuild-rl-sub 1 && grep -q "^$OWN_USER:" /etc/subuid; then
	flow "$OWN_USER" 1
else
	fail "create a user with a subid range"
fi
if own_user cbuild-rl-nosub 0 && ! grep -q "^$OWN_USER:" /etc/subuid; then
	flow "$OWN_USER" 0
else
	fail "create a user without a subid range"
fi
done_testing
