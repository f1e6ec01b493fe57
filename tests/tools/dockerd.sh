# tests/tools/dockerd.sh - a private dockerd (Debian's docker.io) for the
# tests that compare with Docker: its own data root, exec root, socket and
# pid file under one directory, so it never meets the machine's dockerd or
# another suite's. Sourced by tests/e2e/lib.sh (dockerd_start) and
# tests/compat/with-dockerd.
#
#   dockerd_private DIR [DOCKERD ARGS...]  run dockerd in the foreground with
#                                          its state under DIR (no default
#                                          network arguments: the caller's)
#   dockerd_wait DIR SECONDS               until docker answers on DIR/sock
#   dockerd_stop DIR                       kill it and wait for its pid file
#                                          to go (its mounts with it)
#   dockerd_has                            dockerd and Debian's docker CLI
#                                          are installed

dockerd_has() { command -v dockerd >/dev/null && [ -x /usr/bin/docker ]; }

dockerd_private() {
	local dir=$1
	shift
	mkdir -p "$dir"
	exec dockerd --data-root "$dir/data" --exec-root "$dir/exec" -H "unix://$dir/sock" \
		--pidfile "$dir/pid" --storage-driver overlay2 "$@"
}

dockerd_wait() {
	local i
	for i in $(seq 1 $(($2 * 2))); do
		[ -S "$1/sock" ] && DOCKER_HOST=unix://$1/sock /usr/bin/docker version >/dev/null 2>&1 &&
			return 0
		sleep 0.5
	done
	return 1
}

dockerd_stop() {
	local i
	[ -s "$1/pid" ] || return 0
	kill "$(cat "$1/pid")" 2>/dev/null
	for i in $(seq 80); do [ -e "$1/pid" ] || break; sleep 0.25; done
}
