#!/bin/bash
# The copy snapshotter gives the overlay snapshotter's layers byte for byte
# where a step only links or touches a file of an earlier layer (issue 27;
# the differential generator's seeds 1, 7, 10, 26, 27, 31, 34, 46 and 47
# differed so). overlayfs copies such a file up, so its layer holds the
# file (and a new name of it as a hard link), although nothing a tar
# records changed; the tree walk found it unchanged. Each case is built
# with overlay snapshots, with --storage-driver copy and with --isolation
# none (whose mounts are files moved aside and back): one image ID. Cases:
#   - `ln /f /g` of a single-link file: f and g in the layer, g a link;
#   - `ln /f /g && rm /g`: f in the layer (the link count is back to one);
#   - `chmod 644` of a 644 file, `chown 0:0` of a root file;
#   - a pair linked in an earlier step, one name removed: only the whiteout
#     (the other name's ctime changes, its copy-up would not happen), also
#     when the pair's step was the previous one (its tree kept for the next
#     step must keep the pair linked);
#   - a RUN without namespaces beside the image's own /etc/hosts and a
#     secret over an existing file: not in the layer.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (the overlay build's sandbox, chroot)"
export SOURCE_DATE_EPOCH=1704067200
import_busybox

mkdir -p "$T/ctx"
echo hosts >"$T/ctx/hosts"
echo s3cret >"$T/secret"
# layers: name -> entries, of an image's last N layers
layer_names() { # layer_names IMAGE N
	cb save -o "$T/l.tar" "$1" &&
		python3 - "$T/l.tar" "$2" <<'PY'
import io, json, sys, tarfile, gzip
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile("manifest.json"))[0]
for l in m["Layers"][-int(sys.argv[2]):]:
    data = t.extractfile(l).read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    ents = tarfile.open(fileobj=io.BytesIO(data)).getmembers()
    print(" ".join(e.name + ("->" + e.linkname if e.islnk() else "") for e in ents))
PY
}

# case NAME LAYERS EXPECTED-LAST-LAYERS DOCKERFILE-BODY
case_() {
	local name=$1 n=$2 want=$3 body=$4
	printf 'FROM busybox\n%s\n' "$body" >"$T/ctx/Dockerfile.$name"
	local ids=() mode id
	for mode in "" "--storage-driver=copy" "--isolation=none"; do
		id=$(cb build -q --no-cache $mode --secret "id=tok,src=$T/secret" -t "$name${mode:+-${mode##*=}}" \
			-f "$T/ctx/Dockerfile.$name" "$T/ctx" 2>"$T/err") ||
			{ diag "$name $mode:" "$(cat "$T/err")"; id=failed; }
		ids+=("$id")
	done
	is "$(layer_names "$name" "$n" | tr '\n' '|')" "$want" "$name: overlay's layers"
	is "${ids[1]}" "${ids[0]}" "$name: --storage-driver copy gives overlay's image"
	[ "${ids[1]}" = "${ids[0]}" ] || diag "copy's layers:" "$(layer_names "$name-copy" "$n")"
	is "${ids[2]}" "${ids[0]}" "$name: --isolation none gives overlay's image"
}

case_ link 1 "f g->f|" 'RUN echo a >/f
RUN ln /f /g'
case_ link-unlink 1 "f|" 'RUN echo a >/f
RUN ln /f /g && rm /g'
case_ same-mode 1 "f|" 'RUN echo a >/f && chmod 644 /f
RUN chmod 644 /f'
case_ same-owner 1 "f|" 'RUN echo a >/f
RUN chown 0:0 /f'
case_ pair-rm 1 ".wh.q|" 'RUN echo a >/p && ln /p /q
RUN echo b >/other
RUN rm /q'
case_ pair-rm-next 1 ".wh.q|" 'RUN echo a >/p && ln /p /q
RUN rm /q'
case_ pair-rm-link 1 "p .wh.q r->p|" 'RUN echo a >/p && ln /p /q
RUN rm /q && ln /p /r'
case_ mounts 1 "ran|" 'COPY hosts /etc/hosts
RUN mkdir -p /run/secrets && echo old >/run/secrets/tok && echo x >/etc/hostname
RUN --mount=type=secret,id=tok cat /run/secrets/tok >/dev/null && echo >/ran'

done_testing
