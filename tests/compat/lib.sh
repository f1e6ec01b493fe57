# tests/compat/lib.sh - what a Docker compatibility scenario sources.
#
# A scenario (tests/compat/cNNNN-*.sh) is written once against `d`, which is
# $DOCKER: cbuild (own store root per scenario) under `make check-compat`,
# Debian's docker (a private dockerd, see ./with-dockerd) under
# `make compat-docker`. It compares what a user sees: exit codes, the lines
# and columns a script greps, files in containers, image configs. Never
# timings, never IDs (they differ by design).
#
#   d ARGS...          the tool under test
#   is GOT WANT NAME / like GOT REGEX NAME / ok STATUS NAME  (TAP)
#   rc CMD...          run CMD quietly and print its exit status
#   ctx DIR <<EOF      a build context whose Dockerfile is stdin
#   probe PORT         an HTTP GET to 127.0.0.1:PORT where the tool's
#                      published ports are (dockerd lives in its own netns)
#   reg_start          a docker-registry where the tool sees it: sets REG
#   wait_until SECS CMD...  poll CMD until it succeeds
#
# Every scenario starts with only busybox:latest (CMD ["sh"]) and leaves
# nothing behind: lib.sh removes its containers and other images at exit.
set -u
COMPAT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$COMPAT/../.." && pwd)
: "${DOCKER:?run through tests/compat/with (make check-compat / make compat-docker)}"
T=$(mktemp -d /tmp/cbuild-compat-XXXXXX)
_n=0
_fail=0
_pids=()

d() { $DOCKER "$@"; }
rc() { "$@" >/dev/null 2>&1; echo $?; }
ok() {
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _fail=$((_fail + 1)); fi
}
is() {
	[ "$1" = "$2" ]; ok $? "$3" || true
	[ "$1" = "$2" ] || printf '# got:  %s\n# want: %s\n' "$1" "$2" >&2
}
like() {
	printf '%s\n' "$1" | grep -Eq -- "$2"; local s=$?
	ok $s "$3"
	[ $s = 0 ] || printf '# got:  %s\n# want /%s/\n' "$1" "$2" >&2
}
unlike() {
	printf '%s\n' "$1" | grep -Eq -- "$2"; local s=$?
	[ $s != 0 ]; ok $? "$3"
}
done_testing() { echo "1..$_n"; [ "$_fail" -eq 0 ]; exit $?; }
wait_until() {
	local secs=$1 i; shift
	for i in $(seq 1 $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
ctx() { mkdir -p "$1" && cat >"$1/Dockerfile"; }

# The host side of the tool's network: dockerd runs in a namespace of its own
# (its bridge and iptables rules stay there), cbuild on the host.
NS_EXEC=${COMPAT_NS_EXEC:-}
free_port() { $NS_EXEC python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
probe() { printf 'GET / HTTP/1.0\r\n\r\n' | $NS_EXEC busybox nc -w 3 127.0.0.1 "$1" 2>/dev/null; }

. "$TOP/tests/tools/registry.sh"
reg_start() {
	local port
	port=$(free_port)
	mkdir -p "$T/reg"
	registry_config "$T/reg" "127.0.0.1:$port" >"$T/reg/config.yml"
	$NS_EXEC docker-registry serve "$T/reg/config.yml" >"$T/reg/log" 2>&1 &
	_pids+=($!)
	REG=localhost:$port
	wait_until 20 probe "$port" || { echo "# registry did not start" >&2; return 1; }
}

# the base every scenario starts with; put back if a scenario untagged it
BB_ID=$(d images -q --no-trunc busybox:latest 2>/dev/null)

_cleanup() {
	local p
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	d ps -aq 2>/dev/null | xargs -r $DOCKER rm -f >/dev/null 2>&1
	d images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '^busybox:latest$' |
		xargs -r $DOCKER rmi -f >/dev/null 2>&1
	d images -q 2>/dev/null | sort -u | while read -r i; do
		[ "$i" = "$(d images -q busybox:latest)" ] || d rmi -f "$i" >/dev/null 2>&1
	done
	[ -n "$(d images -q busybox:latest 2>/dev/null)" ] || d tag "$BB_ID" busybox:latest 2>/dev/null
	# cbuild keeps its builds' network namespaces ready (runtime/netpool.h)
	d network prune -f >/dev/null 2>&1
	rm -rf "$T"
}
trap _cleanup EXIT
