# tests/e2e/lib.sh - shared helpers for end-to-end tests (TAP, run by prove).
#
# Each test sources this file, which gives it:
#   $CBUILD       the binary under test (CBUILD_BIN, else ./cbuild)
#   $T            a private temp directory, removed at exit (mounts inside are
#                 unmounted first; servers started with start_bg are killed)
#   $ROOT         a fresh store root under $T; `cb ARGS` runs cbuild on it
#   $ROOTFS_TAR   the busybox rootfs tarball (built once per run, cached)
#   ok/not_ok/is/like/done_testing   TAP output
#   start_registry [tls] [auth]      a real docker-registry on a free port
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CBUILD=${CBUILD_BIN:-$TOP/cbuild}
# lower case only: some tools (buildah) derive image names from paths
T=/tmp/cbuild-e2e-$$-$RANDOM$RANDOM
mkdir -m 700 "$T" || exit 1
ROOT=$T/root
export CBUILD_ROOT=$ROOT
_tap_n=0
_tap_fail=0
_bg_pids=()
_exit_hooks=()
at_exit() { _exit_hooks+=("$*"); } # at_exit CMD...: run at exit, before the rest of the cleanup

_cleanup() {
	local p h
	for h in "${_exit_hooks[@]}"; do eval "$h"; done
	for p in "${_bg_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	# containers this test left (it failed or was killed part-way): their
	# monitors, bridges' veths and NAT rules go with them
	if [ -d "$ROOT/containers" ] && [ -n "$(ls -A "$ROOT/containers" 2>/dev/null)" ]; then
		"$CBUILD" --root "$ROOT" ps -aq 2>/dev/null | xargs -r "$CBUILD" --root "$ROOT" rm -f >/dev/null 2>&1
	fi
	# the namespaces this store's builds keep ready (runtime/netpool.h):
	# with them, the default bridge and its NAT rules
	if [ -d "$ROOT" ] && [ -n "$(ls -A "${CBUILD_RUN_DIR:-/run/cbuild}/netpool" 2>/dev/null)" ]; then
		"$CBUILD" --root "$ROOT" network prune -f >/dev/null 2>&1
	fi
	# an aardvark-dns of a run directory of the test's (netavark's, left
	# running by a teardown cut short) holds port 53 of its gateways: the
	# next test given the same subnet would get it as its resolver
	local a
	for a in "$T"/*/aardvark/aardvark-dns/aardvark.pid; do
		[ -f "$a" ] && grep -qF "$T" "/proc/$(cat "$a")/cmdline" 2>/dev/null && kill "$(cat "$a")"
	done
	local m
	for m in $(awk -v t="$T" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$T"
}
trap _cleanup EXIT

cb() { "$CBUILD" --root "$ROOT" "$@"; }

# ok returns the condition, so that `ok $? NAME || diag ...` prints the
# diagnostics of a failure (it returned 0 always: they never showed)
ok() { # ok CONDITION-EXIT-STATUS NAME  (use: cmd; ok $? "name")
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"; return 0; fi
	echo "not ok $_tap_n - $2"
	_tap_fail=$((_tap_fail + 1))
	return 1
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; [ $# -gt 1 ] && diag "$2"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /' >&2; }
is() { # is GOT WANT NAME
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "got:  '$1'" "want: '$2'"; fi
}
isnt() { # isnt GOT UNWANTED NAME
	if [ "$1" != "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "both: '$1'"; fi
}
like() { # like GOT REGEX NAME
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else ok 1 "$3"; diag "got:  '$1'" "want match: '$2'"; fi
}
unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; diag "got:  '$1'" "must not match: '$2'"; else ok 0 "$3"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_fail" -eq 0 ]; exit $?; }

# The busybox rootfs, built once and shared by the tests of one run.
ROOTFS_CACHE=${CBUILD_TEST_CACHE:-/tmp/cbuild-test-cache}
mkdir -p "$ROOTFS_CACHE"
ROOTFS_TAR=$ROOTFS_CACHE/busybox-rootfs.tar
if [ ! -s "$ROOTFS_TAR" ]; then
	"$TOP/testdata/mkrootfs.sh" "$ROOTFS_TAR.$$" && mv "$ROOTFS_TAR.$$" "$ROOTFS_TAR"
fi

# Import the rootfs as NAME (default busybox:latest, CMD ["sh"] as the
# real busybox image has) into $ROOT.
import_busybox() { cb import -c 'CMD ["sh"]' "$ROOTFS_TAR" "${1:-busybox:latest}" >/dev/null; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_bg() { # start_bg CMD... ; remembers the PID for cleanup, sets BG_PID
	"$@" &
	BG_PID=$!
	_bg_pids+=("$BG_PID")
}

wait_port() { # wait_port PORT [SECONDS]
	local i
	for i in $(seq 1 $((${2:-10} * 10))); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_registry [tls] [auth]: sets REG (host:port), REG_PID, REG_DIR; with tls
# the CA is trusted through $T/certs.d (CBUILD_CERTS_DIR) and REG_CA; with auth
# the user is testuser / testpass.
. "$TOP/tests/tools/registry.sh"
start_registry() {
	local tls=0 auth=0 a
	for a in "$@"; do case $a in tls) tls=1 ;; auth) auth=1 ;; esac; done
	command -v docker-registry >/dev/null || { echo "# docker-registry not installed" >&2; return 1; }
	local port; port=$(free_port)
	REG_DIR=$T/registry-$port
	mkdir -p "$REG_DIR/data"
	{
		registry_config "$REG_DIR" "127.0.0.1:$port"
		if [ $tls = 1 ]; then
			openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
				-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
				-keyout "$REG_DIR/key.pem" -out "$REG_DIR/cert.pem" 2>/dev/null
			echo "  tls: {certificate: $REG_DIR/cert.pem, key: $REG_DIR/key.pem}"
			REG_CA=$REG_DIR/cert.pem
			mkdir -p "$T/certs.d/127.0.0.1:$port" "$T/certs.d/localhost:$port"
			cp "$REG_CA" "$T/certs.d/127.0.0.1:$port/ca.crt"
			cp "$REG_CA" "$T/certs.d/localhost:$port/ca.crt"
			export CBUILD_CERTS_DIR=$T/certs.d
		fi
		if [ $auth = 1 ]; then
			htpasswd -nbB testuser testpass > "$REG_DIR/htpasswd"
			echo "auth: {htpasswd: {realm: cbuild-test, path: $REG_DIR/htpasswd}}"
		fi
	} > "$REG_DIR/config.yml"
	start_bg docker-registry serve "$REG_DIR/config.yml" 2>>"$REG_DIR/registry.log"
	REG_PID=$BG_PID
	REG=127.0.0.1:$port
	wait_port "$port" 10
}
stop_registry() { kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null; }

# dockerd_start [DOCKERD ARGS...]: a private dockerd (tests/tools/dockerd.sh)
# under $T/dockerd ($DD), with no bridge and no iptables rules unless ARGS
# give its network; stopped at exit. `dk ARGS` is docker talking to it.
# Returns 1 with WHY set when it is not installed or did not start.
# dockerd_load_busybox: $ROOT's busybox:latest (imported when missing) into it.
. "$TOP/tests/tools/dockerd.sh"
dk() { DOCKER_HOST=unix://$DD/sock /usr/bin/docker "$@"; }
dockerd_start() {
	dockerd_has || { WHY="dockerd or /usr/bin/docker is not installed"; return 1; }
	DD=$T/dockerd
	[ $# -gt 0 ] || set -- --bridge none --iptables=false
	start_bg dockerd_private "$DD" "$@" >"$T/dockerd.log" 2>&1
	at_exit 'dockerd_stop "$DD"'
	dockerd_wait "$DD" 120 || { WHY="dockerd did not start: $(tail -1 "$T/dockerd.log")"; return 1; }
}
dockerd_load_busybox() {
	[ -n "$(cb images -q busybox:latest 2>/dev/null)" ] || import_busybox
	cb push -q busybox:latest "docker-archive:$T/bb.tar:busybox:latest" >/dev/null 2>"$DD/load.err" &&
		dk load -q -i "$T/bb.tar" >/dev/null 2>>"$DD/load.err" ||
		{ WHY="could not load busybox into dockerd: $(tail -1 "$DD/load.err")"; return 1; }
}

# octet [N]: a third octet X of 10.89.X.0/24 with no route and no address
# (a down interface has no route) on the host (an
# "unreachable" one is a claim, ours or another suite's) and no firewall
# rule (what a killed run elsewhere may have left). Where the search
# starts depends on the PID, $OCTET_SEED (a test's own) and N, so tests
# and a test's jobs running at once start apart.
# claim X: keep 10.89.X.0/24 from other suites until this test exits.
octet() {
	local x
	for x in $(seq $((100 + ($$ + ${OCTET_SEED:-0} + ${1:-0}) % 120)) 250) $(seq 100 250); do
		ip route | grep -q "10\.89\.$x\." ||
			ip -o -4 addr show | grep -q " 10\.89\.$x\." ||
			{ iptables -S; iptables -t nat -S; } 2>/dev/null | grep -q "10\.89\.$x\." ||
			{ echo "$x"; return; }
	done
}
claim() {
	ip route add unreachable "10.89.$1.0/24" metric 4000 2>/dev/null
	at_exit "ip route del unreachable 10.89.$1.0/24 metric 4000 2>/dev/null"
}

# upstream_host NAME: a host outside cbuild's networks, a namespace NAME of
# this test's joined to the host by a veth pair (NAMEh, NAMEc) on a claimed
# 10.89.X.0/30: the host side .1, the namespace .2 with its default route
# back through the host, answering "upstream-hello" on port 8080. Sets
# UP_OCTET (X). All of it goes at exit.
upstream_host() {
	local up=$1
	UP_OCTET=$(octet); claim "$UP_OCTET"
	ip netns add "$up" && at_exit "ip netns del $up 2>/dev/null"
	ip link add "${up}h" type veth peer name "${up}c" && at_exit "ip link del ${up}h 2>/dev/null"
	ip link set "${up}c" netns "$up"
	ip addr add "10.89.$UP_OCTET.1/30" dev "${up}h" && ip link set "${up}h" up
	ip -n "$up" addr add "10.89.$UP_OCTET.2/30" dev "${up}c" && ip -n "$up" link set "${up}c" up
	ip -n "$up" route add default via "10.89.$UP_OCTET.1"
	ip netns exec "$up" busybox nc -ll -p 8080 -e echo upstream-hello &
	_bg_pids+=($!)
}

# build_case CASE [ARGS...]: build testdata/builds/CASE as CASE:1 (quiet)
BUILDS=$TOP/testdata/builds
build_case() { local c=$1; shift; cb build -q -t "$c:1" "$@" "$BUILDS/$c"; }

# unpack NAME[:TAG] DIR: the image's tree, by umoci (a tool nobody here wrote)
unpack() {
	local full; full=$(printf '%s' "$1" | sed -e 's|^\([^/.:]*\)\(:.*\)\{0,1\}$|docker.io/library/\1\2|')
	case $full in *:*) ;; *) full=$full:latest ;; esac
	rm -rf "$2"
	umoci unpack --image "$ROOT:$full" "$2" >/dev/null 2>"$T/umoci.err" || { cat "$T/umoci.err" >&2; return 1; }
}

# config_of NAME: the image config's "config" object, compact JSON
config_of() { cb inspect "$1" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["Config"], sort_keys=True, separators=(",",":")))'; }

# no_leftovers: no mounts under the store, no step dirs in tmp/
no_leftovers() {
	! grep -q " $ROOT/" /proc/self/mountinfo && [ -z "$(ls -A "$ROOT/tmp" 2>/dev/null)" ]
}

# A marker only this test's processes carry: pass it to a build as
# `--build-arg CBUILD_TEST_MARK=$MARK` (with `ARG CBUILD_TEST_MARK` before a
# RUN) and every process of that RUN has it in its environment. Another
# suite's processes never have it, so nothing of theirs is seen or killed.
MARK=cbuild-test-${T##*/}
# own_pids [MARK]: PIDs of the processes whose environment holds the marker
own_pids() {
	grep -lzx -- "CBUILD_TEST_MARK=${1:-$MARK}" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}
# wait_for SECONDS CMD...: poll CMD until it succeeds; 1 if it never did.
# The bound only ends a wait that has failed: it is never a timing assertion.
wait_for() {
	local s=$1 i; shift
	for i in $(seq 1 $((s * 10))); do "$@" && return 0; sleep 0.1; done
	return 1
}
# wait_line PID FILE REGEX: poll until FILE (a background command's log)
# has a line matching REGEX or PID is gone (then 1); the bound (300 s) only
# ends a wait that has failed
wait_line() {
	local n=0
	until grep -q -- "$3" "$2"; do
		kill -0 "$1" 2>/dev/null || return 1
		n=$((n + 1)); [ $n -gt 6000 ] && return 1
		sleep 0.05
	done
}
_has_own_pids() { [ -n "$(own_pids "$@")" ]; }
_no_own_pids() { [ -z "$(own_pids "$@")" ]; }

# own_user NAME [WITH_SUBIDS]: a user of this test's own (NAME-PID, so that a
# suite running beside this one never sees or kills its processes), with a
# subid range when WITH_SUBIDS is 1; removed, with its processes, at exit.
# Sets OWN_USER. Concurrent useradd/userdel wait on the passwd lock: retried.
# pasta_user NAME: for the rootless network tests, a user with subids who
# can run pasta (else the test skips, saying why); sets u and h (its home)
pasta_user() {
	[ "$(id -u)" = 0 ] || skip_all "needs root to create the test user and the upstream namespace"
	command -v runuser >/dev/null && command -v useradd >/dev/null || skip_all "no runuser/useradd"
	[ -x /usr/bin/newuidmap ] || skip_all "newuidmap missing (apt-get install uidmap)"
	command -v pasta >/dev/null || skip_all "pasta missing (apt-get install passt)"
	command -v busybox >/dev/null || skip_all "busybox missing (the upstream host's server)"
	chmod 711 "$T"
	own_user "$1" 1 || { fail "create a user with a subid range"; done_testing; }
	u=$OWN_USER h=$T/home-$OWN_USER
	runuser -u "$u" -- test -r /dev/net/tun -a -w /dev/net/tun ||
		skip_all "/dev/net/tun is not open to users (udev makes it 0666: chmod 666 /dev/net/tun)"
}

own_user() {
	local u=$1-$$ i
	for i in $(seq 60); do
		if [ "${2:-1}" = 1 ]; then
			useradd -M -s /bin/sh "$u" 2>/dev/null
		else
			useradd -M -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$u" 2>/dev/null
		fi
		id "$u" >/dev/null 2>&1 && break
		sleep 0.5
	done
	id "$u" >/dev/null 2>&1 || return 1
	at_exit "_drop_user $u"
	OWN_USER=$u
}
_drop_user() {
	local i
	pkill -KILL -u "$1" 2>/dev/null # the user is this test's own: only its processes
	for i in $(seq 60); do userdel "$1" 2>/dev/null && return 0; id "$1" >/dev/null 2>&1 || return 0; sleep 0.5; done
}

# The Debian bookworm base (testdata/mkdebian.sh), built once per machine
# into the cache dir (flock: parallel tests wait for one build). import_debian
# [NAME] imports it as NAME (default debian:bookworm) or skips the whole test
# when the mirror is unreachable.
DEBIAN_TAR=$ROOTFS_CACHE/debian-bookworm.tar
ensure_debian_tar() { # the tar only (a peer loads it itself)
	if [ ! -s "$DEBIAN_TAR" ]; then
		(
			flock 9
			[ -s "$DEBIAN_TAR" ] && exit 0
			"$TOP/testdata/mkdebian.sh" "$DEBIAN_TAR.$$" && mv "$DEBIAN_TAR.$$" "$DEBIAN_TAR"
		) 9>"$ROOTFS_CACHE/debian.lock"
		case $? in
		0) ;;
		3) skip_all "the Debian mirror is unreachable: no bookworm base (testdata/mkdebian.sh)" ;;
		*) echo "Bail out! testdata/mkdebian.sh failed"; exit 1 ;;
		esac
	fi
}
import_debian() {
	ensure_debian_tar
	cb import -c 'CMD ["bash"]' "$DEBIAN_TAR" "${1:-debian:bookworm}" >/dev/null
}

# buildah with its own store under $T: bh ARGS...
# (TMPDIR: buildah keeps RUN --mount=type=cache under it, host-wide by
# default: two suites' apt caches would share one apt lock)
bh() {
	mkdir -p "$T/bh/tmp"
	TMPDIR=$T/bh/tmp buildah --root "$T/bh/root" --runroot "$T/bh/run" --storage-driver vfs "$@"
}
# bh_base NAME: give buildah the image NAME from cbuild's store
bh_base() {
	local full; full=$(printf '%s' "$1" | sed -e 's|^\([^/.:]*\)\(:.*\)\{0,1\}$|docker.io/library/\1\2|')
	case $full in *:*) ;; *) full=$full:latest ;; esac
	local id; id=$(bh pull -q "oci:$ROOT:$full" 2>"$T/bh.err" | tail -1) && bh tag "$id" "$full"
}
# bh_build NAME CONTEXT: buildah bud (docker format: it keeps Healthcheck)
# and push to $T/bh.tar as NAME:1; errors in $T/bh.err
bh_build() {
	SOURCE_DATE_EPOCH=1704067200 bh bud --isolation chroot --format docker --pull=never -q -t "$1" "$2" \
		>/dev/null 2>"$T/bh.err" && bh push -q "$1" "docker-archive:$T/bh.tar:$1:1" 2>>"$T/bh.err"
}
# same_tree NAME DOCKER-ARCHIVE [--apt]: cbuild's NAME and a peer's image are
# the same tree and config under tests/difftest's normalisation
same_tree() {
	local full; full=$(printf '%s' "$1" | sed -e 's|^\([^/.:]*\)\(:.*\)\{0,1\}$|docker.io/library/\1\2|')
	case $full in *:*) ;; *) full=$full:latest ;; esac
	shift
	python3 "$TOP/tests/difftest/compare.py" "$ROOT" "$full" "$@"
}
