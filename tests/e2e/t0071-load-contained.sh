#!/usr/bin/env bash
# Issue 24.2: load unpacks an archive with the store's one hardened
# extractor (the layer reader's): a hostile archive's symlinks resolve
# inside it and its ".." or absolute names are refused, so it reads and
# writes nothing of the host.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
cb save -o "$T/bb.tar" busybox:latest; ok $? "save busybox"
mkdir -p "$T/host" && tar -xf "$T/bb.tar" -C "$T/host"; ok $? "the archive, unpacked on the host"
cb rmi busybox:latest > /dev/null

# the same archive, but blobs/ a symlink to the host's copy
python3 - "$T/bb.tar" "$T/link.tar" "$T/host/blobs" <<'PY'
import sys, tarfile
src, dst, target = sys.argv[1:]
with tarfile.open(src) as s, tarfile.open(dst, "w") as d:
    for m in s.getmembers():
        if m.name.startswith("blobs"):
            continue
        d.addfile(m, s.extractfile(m) if m.isfile() else None)
    l = tarfile.TarInfo("blobs"); l.type = tarfile.SYMTYPE; l.linkname = target
    d.addfile(l)
PY
cb load -i "$T/link.tar" > /dev/null 2> "$T/err"; is $? 1 "an archive whose blobs/ leaves it fails"
like "$(cat "$T/err")" "lacks blob" "its blobs are not found"
[ -z "$(cb images -q)" ]; ok $? "nothing is loaded"

# names that climb out, and an absolute one
python3 - "$T/bb.tar" "$T/dots.tar" <<'PY'
import io, sys, tarfile
src, dst = sys.argv[1:]
with tarfile.open(src) as s, tarfile.open(dst, "w") as d:
    for name in ("../../../../../escape-dots", "/tmp/escape-abs-cbuild-t0071"):
        i = tarfile.TarInfo(name); data = b"x"; i.size = len(data)
        d.addfile(i, io.BytesIO(data))
    for m in s.getmembers():
        d.addfile(m, s.extractfile(m) if m.isfile() else None)
PY
cb load -i "$T/dots.tar" > /dev/null 2> "$T/err"; is $? 1 "an archive with climbing names is refused (as docker does)"
like "$(cat "$T/err")" "escape-dots' leaves the archive" "the entry is named"
[ -z "$(find "$T" "$ROOT" / -xdev -maxdepth 1 -name 'escape-*' 2>/dev/null)" ] &&
	[ ! -e /tmp/escape-abs-cbuild-t0071 ] && [ -z "$(find "$ROOT" -name 'escape-*')" ]
ok $? "nothing is written outside the archive's directory"
done_testing
