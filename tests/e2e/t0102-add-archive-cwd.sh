#!/bin/bash
# Regression: ADD of a local archive extracted with libarchive's disk
# writer after an fchdir into the destination, and fchdir'd back before
# archive_write_free ran its deferred directory fix-ups (modes, times):
# those then landed on the same relative paths under the directory cbuild
# was started in, changing the user's files, while the image's directories
# kept the extraction time instead of the archive's. The store's extractor
# works on directory fds only: the working directory is never touched, and
# directories get the archive's modes and times (as Docker's untar gives).
. "$(dirname "$0")/lib.sh"
import_busybox

C=$T/ctx W=$T/cwd
mkdir -p "$C" "$W/pkg/sub"
python3 - "$C" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1] + "/a.tar.gz", "w:gz") as t:
    for name in ("pkg", "pkg/sub"):
        ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
        ti.mtime = 1500000000
        t.addfile(ti)
    ti = tarfile.TarInfo("pkg/sub/f"); ti.size = 3; ti.mtime = 1500000000
    t.addfile(ti, io.BytesIO(b"hi\n"))
PY
printf 'FROM busybox\nADD a.tar.gz /src/\n' >"$C/Dockerfile"
chmod 700 "$W/pkg/sub"
touch -d @1700000000 "$W/pkg/sub"
before=$(stat -c '%a %Y' "$W/pkg/sub")
(cd "$W" && "$CBUILD" --root "$ROOT" build -q --network none -t cwd:1 "$C" >/dev/null 2>"$T/err")
is $? 0 "build with ADD of an archive from a directory holding the same names" || cat "$T/err" >&2
is "$(stat -c '%a %Y' "$W/pkg/sub")" "$before" "the working directory's files are left alone"
is "$(cb run --rm cwd:1 stat -c '%a %Y' /src/pkg/sub 2>&1)" "755 1500000000" \
	"the image's directory has the archive's mode and time"

# BuildKit (Debian's dockerd, its own state, when it starts here) gives the
# same mode and time
bk_half() { dockerd_start && dockerd_load_busybox; }
WHY=
if bk_half; then
	DOCKER_BUILDKIT=1 dk build -q --network none \
		-t bkcwd:1 "$C" >/dev/null 2>"$DD/build.err"
	ok $? "BuildKit builds the same Dockerfile" || diag "$(tail -3 "$DD/build.err")"
	is "$(dk run --rm --network none bkcwd:1 stat -c '%a %Y' /src/pkg/sub 2>&1)" "755 1500000000" \
		"BuildKit's image has the same mode and time"
	dockerd_stop "$DD"
else
	echo "# SKIP BuildKit half: $WHY"
fi

done_testing
