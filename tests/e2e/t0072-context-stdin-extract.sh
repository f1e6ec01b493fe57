#!/usr/bin/env bash
# Issue 24.2: `build -` unpacks its context with the store's hardened
# extractor, as it did with libarchive before: compressed tars, ".wh."
# names are plain files (the context is not a layer), and absolute or
# climbing names are refused with nothing written outside.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
ctx=$T/ctx
mkdir -p "$ctx/sub"
printf 'FROM busybox\nCOPY .wh.keep /kept\nCOPY sub/ /sub/\n' > "$ctx/Dockerfile"
echo whiteout-named > "$ctx/.wh.keep"
echo hello > "$ctx/sub/a.txt"

tar -C "$ctx" -czf - . | cb build -q -t gz:1 - > /dev/null; ok $? "a gzip'd context on stdin"
is "$(cb run --rm gz:1 cat /kept /sub/a.txt)" "whiteout-named
hello" "its '.wh.' file is a plain file, its tree whole"

python3 - "$ctx" "$T/evil.tar" <<'PY'
import io, os, sys, tarfile
ctx, dst = sys.argv[1:]
with tarfile.open(dst, "w") as d:
    d.add(ctx, arcname=".")
    i = tarfile.TarInfo("../../../../../../tmp/cbuild-t0072-escape-%d" % os.getppid())
    i.size = 1
    d.addfile(i, io.BytesIO(b"x"))
PY
cb build -q -t evil:1 - < "$T/evil.tar" > /dev/null 2> "$T/err"; is $? 1 "a context with a climbing name fails"
like "$(cat "$T/err")" "cbuild-t0072-escape-[0-9]+.* leaves the archive" "and names the entry"
[ -z "$(ls /tmp/cbuild-t0072-escape-* 2>/dev/null)" ] && [ -z "$(find "$ROOT" -name 'cbuild-t0072-escape-*')" ]
ok $? "nothing is written outside"
done_testing
