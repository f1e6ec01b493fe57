#!/bin/bash
# ADD of a local archive goes through the store's one tar extractor
# (store/layer_read.c, layer_extract_at): --chown owns every entry,
# ".wh." names are plain files (not whiteouts), an entry through the
# archive's own symlink to "/" stays inside the destination, an archive
# that is not a tar is copied as a file, and an expansion past the limit
# is refused. All as with the libarchive writer it replaces, but for the
# symlink: libarchive refused to extract through it (the build failed);
# now it resolves inside the destination, as Docker's chrooted untar does.
. "$(dirname "$0")/lib.sh"
import_busybox

C=$T/ctx
mkdir -p "$C"
python3 - "$C" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
with tarfile.open(d + "/a.tar.gz", "w:gz") as t:
    for name, data in (("dir/f", b"hello\n"), (".wh.keep", b"plain\n")):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.uid = 7; ti.gid = 8; ti.mode = 0o640
        t.addfile(ti, io.BytesIO(data))
    ti = tarfile.TarInfo("up"); ti.type = tarfile.SYMTYPE; ti.linkname = "/"
    t.addfile(ti)
    ti = tarfile.TarInfo("up/inside"); ti.size = 3
    t.addfile(ti, io.BytesIO(b"in\n"))
open(d + "/plain.gz", "wb").write(__import__("gzip").compress(b"not a tar\n"))
PY
printf 'FROM busybox\nADD a.tar.gz /x/\nADD --chown=1234:5678 a.tar.gz /y/\nADD plain.gz /z/\n' >"$C/Dockerfile"
cb build -q --network none -t add-archive:1 "$C" >/dev/null 2>"$T/err"
is $? 0 "build with ADD of archives" || cat "$T/err" >&2

probe='stat -c "%u:%g %a %n" /x/dir/f /x/.wh.keep; echo "inside=$(cat /x/inside)"; ls /z; ls /inside 2>&1'
out=$(cb run --rm add-archive:1 sh -c "$probe" 2>&1)
# --chown owns what the archive holds: cbuild's behaviour before and after
# the extractor moved (BuildKit 20.10 leaves the archive's owners there)
chowned=$(cb run --rm add-archive:1 stat -c "%u:%g %a %n" /y/dir/f 2>&1)
like "$out" "7:8 640 /x/dir/f" "entries keep the archive's owner and mode"
is "$chowned" "1234:5678 640 /y/dir/f" "--chown owns the archive's files"
like "$out" "/x/.wh.keep" "a .wh. name is a plain file"
like "$out" "inside=in" "an entry through the archive's symlink to / lands inside the destination"
like "$out" "plain.gz" "a gzip that is not a tar is copied as a file"
like "$out" "No such file" "nothing is written outside the destination"

# BuildKit (Debian's dockerd, its own state, when it starts here) answers
# the same
bk_half() { dockerd_start && dockerd_load_busybox; }
WHY=
if bk_half; then
	DOCKER_BUILDKIT=1 dk build -q --network none \
		-t bkadd:1 "$C" >/dev/null 2>"$DD/build.err"
	ok $? "BuildKit builds the same Dockerfile" || diag "$(tail -3 "$DD/build.err")"
	is "$(dk run --rm --network none bkadd:1 sh -c "$probe" 2>&1)" "$out" "BuildKit's image answers the same"
	dockerd_stop "$DD"
else
	echo "# SKIP BuildKit half: $WHY"
fi

# the expansion limit: 1x the archive's size (at least 1 GiB) refuses a
# sparse tar declaring 2 GiB
mkdir -p "$T/bomb"
truncate -s 600M "$T/bomb/z1"; truncate -s 600M "$T/bomb/z2"
tar --sparse -cf "$C/bomb.tar" -C "$T/bomb" z1 z2
printf 'FROM busybox\nADD bomb.tar /b/\n' >"$C/Dockerfile"
CBUILD_ADD_MAX_RATIO=1 cb build -q --network none "$C" >/dev/null 2>"$T/err"
is $? 1 "an archive expanding past the limit is refused"
like "$(cat "$T/err")" "Dockerfile:2: .*archive expands to more than .*decompression bomb" "with the line and the reason"

done_testing
