# tests/tools/reglib.sh - helpers for the registry e2e tests (t4NNN), sourced
# after tests/e2e/lib.sh.
#   mkimage LAYOUT TAG ARGS...      an OCI layout image (tests/tools/mkimage.py)
#   to_store LAYOUT TAG REF [ROOT]  copy it into a store root (skopeo, independent of cbuild)
#   start_proxy UPSTREAM FAULT...   the fault proxy; sets PROXY (host:port), PROXY_LOG
#                                   (an argument starting with -- is a proxy option)
#   blobs_ok ROOT                   every blob's name is the sha256 of its bytes
TOOLS=$TOP/tests/tools

mkimage() { local out=$1 tag=$2; shift 2; python3 "$TOOLS/mkimage.py" --out "$out" --tag "$tag" "$@"; }

to_store() {
	skopeo copy -q "oci:$1:$2" "oci:${4:-$ROOT}:$3" >/dev/null
}

start_proxy() {
	local up=$1 port f args=()
	shift
	port=$(free_port)
	PROXY_LOG=$T/proxy-$port.log
	for f in "$@"; do
		case $f in --*) args+=("$f") ;; *) args+=(--fault "$f") ;; esac
	done
	start_bg python3 "$TOOLS/faultproxy.py" --port "$port" --upstream "$up" --log "$PROXY_LOG" "${args[@]}"
	PROXY=127.0.0.1:$port
	wait_port "$port" 10
}

blobs_ok() {
	local f bad=0
	for f in "$1"/blobs/sha256/*; do
		[ -f "$f" ] || continue
		[ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "# bad blob $f" >&2; bad=1; }
	done
	return $bad
}

# The registry's access log is noise in TAP output.
quiet_registry() { start_registry "$@" >/dev/null 2>&1; }

# layers REF [ROOT]: "mediaType digest" of each layer of an image in a
# store, one a line; pushed REF: the same for a manifest on a registry.
layers() {
	skopeo inspect --raw "oci:${2:-$ROOT}:$1" |
		python3 -c 'import json,sys; [print(l["mediaType"], l["digest"]) for l in json.load(sys.stdin)["layers"]]'
}
pushed() {
	skopeo inspect --tls-verify=false --raw "docker://$1" |
		python3 -c 'import json,sys; [print(l["mediaType"], l["digest"]) for l in json.load(sys.stdin)["layers"]]'
}
