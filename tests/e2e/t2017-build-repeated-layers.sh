#!/usr/bin/env bash
# Chains whose layers repeat (two steps that wrote the same bytes: `RUN true`
# twice, add/remove/add/remove of one file) and one-layer or empty sources:
# overlayfs refuses a directory twice in lowerdir (ELOOP) and a read-only
# mount of one lower. Build, COPY --from, RUN --mount=from, run, diff,
# commit and compose all mount such chains; the tree must stay what the
# layers say, which buildah (a peer that applies layers one by one onto a
# plain directory) shows.
. "$(dirname "$0")/lib.sh"

import_busybox
cd "$T" || exit 1

# tree_sig DIR: one line per entry: path, type, mode, owner, size, content
# hash, link target. Not mtimes: the peers stamp them differently.
tree_sig() {
	python3 - "$1" <<'EOF'
import hashlib, os, stat, sys
top = sys.argv[1]
for dirpath, dirs, files in os.walk(top):
    dirs.sort()
    for name in sorted(dirs + files):
        p = os.path.join(dirpath, name)
        st = os.lstat(p)
        rel = os.path.relpath(p, top)
        extra = ""
        if stat.S_ISREG(st.st_mode):
            extra = hashlib.sha256(open(p, "rb").read()).hexdigest()[:16]
        elif stat.S_ISLNK(st.st_mode):
            extra = "-> " + os.readlink(p)
        print(rel, oct(st.st_mode), st.st_uid, st.st_gid,
              st.st_size if not stat.S_ISDIR(st.st_mode) else "-", extra)
EOF
}

# repeated_ids NAME: how many diff IDs of NAME's chain appear more than once
repeated_ids() {
	cb inspect "$1" | python3 -c 'import json,sys
l = json.load(sys.stdin)[0]["RootFS"]["Layers"]
print(len(l) - len(set(l)))'
}

mkdir -p rep
echo payload > rep/f
touch -d @1700000000 rep/f
# --timestamp makes the steps that write the same files write the same bytes
cat > rep/Dockerfile <<'EOF'
FROM busybox
RUN true
RUN true
RUN echo hi > /hi
COPY f /f
RUN rm /f
COPY f /f
RUN rm /f
RUN mkdir -p /d/e && echo a > /d/e/a
RUN rm -r /d
RUN mkdir -p /d/e && echo a > /d/e/a
RUN rm -r /d
RUN echo done > /done
EOF
out=$(cb build --timestamp 0 -t rep:1 rep 2>&1); rc=$?
ok $rc "a chain with repeated layers builds"; [ $rc = 0 ] || diag "$out"
n=$(repeated_ids rep:1)
[ "${n:-0}" -ge 3 ]; ok $? "its chain does repeat diff IDs ($n repeats)"
is "$(cb run --rm rep:1 sh -c 'cat /hi /done; ls /f /d 2>&1 | wc -l')" "hi
done
2" "run: the merged view is what the layers say (/f and /d deleted)"

# The same Dockerfiles through buildah, from the same rootfs.
BUILDAH_OK=0
if command -v buildah >/dev/null; then
	B() { buildah --root "$T/buildah/root" --runroot "$T/buildah/run" --storage-driver vfs "$@"; }
	id=$(B pull -q "oci:$ROOT:docker.io/library/busybox:latest" 2>"$T/buildah.err") &&
		B tag "$id" docker.io/library/busybox:latest 2>>"$T/buildah.err" && BUILDAH_OK=1
	ok $((1 - BUILDAH_OK)) "buildah takes the same busybox"
	[ $BUILDAH_OK = 1 ] || diag "$(cat "$T/buildah.err")"
else
	fail "buildah is installed (make deps)"
fi
# same_as_buildah NAME CONTEXT [BUD ARGS...]: buildah builds CONTEXT as NAME
# and the tree cbuild built as NAME is its tree (paths, types, modes,
# owners, contents, link targets), but for what the peers do not agree on:
# - buildah 1.28 leaves behind the empty files and directory it mounted
#   over during RUN (/etc/hostname, /etc/hosts, /etc/resolv.conf, /run);
#   BuildKit (dockerd 20.10, checked) does not, nor does cbuild: dropped
#   from buildah's side;
# - the directory made for a RUN --mount target is kept by BuildKit (checked:
#   its RUN layer holds "m/") and by cbuild, removed by buildah: the
#   targets (DROP=regex of their lines) are dropped from both sides.
same_as_buildah() {
	local name=$1 ctx=$2; shift 2
	[ $BUILDAH_OK = 1 ] || return 0
	local d=$T/cmp-$name
	mkdir -p "$d"
	if ! B bud --isolation chroot --pull-never --timestamp 0 -q -t "$name" "$@" "$ctx" \
		>/dev/null 2>"$d/err" || ! B push -q "$name" "oci:$d/layout:x" 2>>"$d/err" ||
		! umoci unpack --image "$d/layout:x" "$d/b" >/dev/null 2>>"$d/err"; then
		fail "buildah builds $name" "$(cat "$d/err")"
		return
	fi
	unpack "$name" "$d/c" || { fail "umoci unpacks cbuild's $name"; return; }
	tree_sig "$d/b/rootfs" | grep -v -x -E \
		"run 0o40755 0 0 - |etc/(hostname|hosts|resolv.conf) 0o100755 0 0 0 e3b0c44298fc1c14${DROP:+|$DROP}" \
		> "$d/b.sig"
	tree_sig "$d/c/rootfs" | grep -v -x -E "${DROP:-^\$}" > "$d/c.sig"
	diff -u "$d/b.sig" "$d/c.sig" > "$d/diff" && grep -q '^bin/busybox ' "$d/c.sig"
	ok $? "$name: the tree is buildah's"
	[ -s "$d/diff" ] && diag "$(head -40 "$d/diff")"
}
same_as_buildah rep:1 rep

# sources with repeated layers: COPY --from and RUN --mount=from
cat > rep/Dockerfile.from <<'EOF'
FROM rep:1 AS src
FROM busybox
COPY --from=src /hi /done /out/
RUN --mount=from=src,target=/m cat /m/hi > /out/m && ! test -e /m/f
EOF
out=$(cb build --timestamp 0 -f rep/Dockerfile.from -t from:1 rep 2>&1); rc=$?
ok $rc "COPY --from and RUN --mount=from an image with repeated layers"
[ $rc = 0 ] || diag "$out"
is "$(cb run --rm from:1 cat /out/hi /out/done /out/m)" "hi
done
hi" "what they read is the merged view"
DROP='m 0o40755 0 0 - ' same_as_buildah from:1 rep -f rep/Dockerfile.from

# An image with repeated layers that no builder made (so run, diff, commit
# and compose are checked on their own): busybox, then +f, -f, +f, -f, +g.
cb save -o "$T/bb.tar" busybox
python3 - "$T/bb.tar" "$T/crafted.tar" <<'EOF'
import hashlib, io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
man = json.load(src.extractfile("manifest.json"))[0]
cfg = json.load(src.extractfile(man["Config"]))
def tar_of(name, data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000; ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
files = {"a.tar": tar_of("f", b"payload\n"), "b.tar": tar_of(".wh.f", b""),
         "c.tar": tar_of("g", b"top\n")}
for l in man["Layers"]:
    files[l] = src.extractfile(l).read()
layers = man["Layers"] + ["a.tar", "b.tar", "a.tar", "b.tar", "c.tar"]
for l in layers[len(man["Layers"]):]:
    cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(files[l]).hexdigest())
    cfg.setdefault("history", []).append({"created_by": "crafted " + l})
files["config.json"] = json.dumps(cfg).encode()
files["manifest.json"] = json.dumps([{"Config": "config.json", "RepoTags": ["crafted:1"],
                                      "Layers": layers}]).encode()
with tarfile.open(sys.argv[2], "w") as out:
    for name, data in files.items():
        ti = tarfile.TarInfo(name); ti.size = len(data)
        out.addfile(ti, io.BytesIO(data))
EOF
cb load -q -i "$T/crafted.tar" >/dev/null; ok $? "load an image whose chain repeats (+f -f +f -f +g)"
is "$(repeated_ids crafted:1)" 2 "its diff IDs repeat"
cb run --name rc crafted:1 sh -c 'echo x > /x; rm /g; ls /f 2>&1 | wc -l' >"$T/rc.out" 2>&1
ok $? "run a container on it"
is "$(cat "$T/rc.out")" 1 "the container does not see /f"
d=$(cb diff rc | sort | tr '\n' ' ')
like "$d" "^(C / )?A /x D /g $" "diff: /x added, /g deleted, nothing else"
cb commit rc snap:1 >/dev/null; ok $? "commit it"
is "$(cb run --rm snap:1 sh -c 'cat /x; ls /f /g 2>&1 | wc -l')" "x
2" "the committed image has /x, not /f or /g"
is "$(repeated_ids snap:1)" 2 "and keeps the repeated chain below its layer"
cb rm rc >/dev/null

# compose runs a service on it
mkdir -p "$T/proj"
cat > "$T/proj/compose.yaml" <<'EOF'
services:
  app:
    image: crafted:1
    command: ["sh", "-c", "cat /g; ls /f || echo no-f"]
EOF
compose() { (cd "$T/proj" && cb compose -p rep "$@"); }
compose up -d >/dev/null 2>"$T/compose.err"; rc=$?
ok $rc "compose up a service on it"; [ $rc = 0 ] || diag "$(cat "$T/compose.err")"
for i in $(seq 1 50); do
	compose logs app 2>/dev/null | grep -q 'no-f' && break
	sleep 0.2
done
like "$(compose logs app 2>&1 | tr '\n' ' ')" "top .*no-f" "the service saw the merged view"
compose down >/dev/null 2>&1; ok $? "compose down"

# one-layer and empty sources (read-only mounts of one lower or none)
mkdir -p one
echo one > one/f
cat > one/Dockerfile <<'EOF'
FROM scratch AS added
ADD f /f
FROM scratch AS empty
FROM busybox
COPY --from=busybox /bin/busybox /copied-busybox
COPY --from=added /f /from-added
RUN --mount=from=empty,target=/m test -z "$(ls -A /m)" && echo empty > /m-was-empty
RUN --mount=from=added,target=/a cp /a/f /mounted-f
EOF
out=$(cb build -t one:1 one 2>&1); rc=$?
ok $rc "COPY --from a one-layer image and a FROM scratch + ADD stage"
[ $rc = 0 ] || diag "$out"
is "$(cb run --rm one:1 sh -c 'cat /from-added /m-was-empty /mounted-f; cmp /bin/busybox /copied-busybox && echo same')" "one
empty
one
same" "what was copied and mounted is the sources' content"
DROP='(a|m) 0o40755 0 0 - ' same_as_buildah one:1 one
no_leftovers; ok $? "no mount or temp dir left behind"
done_testing
