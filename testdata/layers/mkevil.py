#!/usr/bin/env python3
"""Write crafted hostile layer tars into OUTDIR, one file per kind of escape.

Each tar tries to write, link, delete or change something outside the
directory it is applied to. The applier is run with the target at
CASE/parent/target, next to CASE/parent/victim (a file) and
CASE/parent/victimdir/keep; ABS is an absolute path that must not appear.
tests/unit/test_layer.c applies each one and checks that nothing outside
the target changed (the apply may fail or succeed contained).

usage: mkevil.py OUTDIR ABS
"""
import io
import os
import sys
import tarfile

out, ABS = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def reg(name, data=b"pwned\n", mode=0o644, **kw):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti, data


def sym(name, target):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.SYMTYPE
    ti.linkname = target
    return ti, None


def hard(name, target):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.LNKTYPE
    ti.linkname = target
    return ti, None


def dirent(name, mode=0o755):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = mode
    return ti, None


def write(case, entries, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(os.path.join(out, case + ".tar"), "w", format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


def overlay_dir():
    ti = tarfile.TarInfo("dir")
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o755
    ti.pax_headers = {"SCHILY.xattr.trusted.overlay.redirect": "/victimdir",
                      "SCHILY.xattr.trusted.overlay.opaque": "y"}
    return ti


long_up = "../" * 40
cases = {
    # plain names
    "01-dotdot": [reg("../victim")],
    "02-dotdot-deep": [reg("a/../../victim")],
    "03-absolute": [reg(ABS)],
    "04-dotdot-long-pax": [reg(long_up + "victim")],
    "05-dotdot-dir": [dirent("../evildir/"), reg("../evildir/x")],
    # symlinks made earlier in the same layer
    "06-symlink-abs-parent": [sym("l", os.path.dirname(ABS)), reg("l/" + os.path.basename(ABS))],
    "07-symlink-rel-parent": [sym("l", ".."), reg("l/victim")],
    "08-symlink-chain": [sym("a", "b"), sym("b", "../.."), reg("a/parent/victim")],
    "09-symlink-then-file": [sym("x", "../victim"), reg("x")],
    "10-symlink-dir-then-dir": [sym("d", "../victimdir"), dirent("d/"), reg("d/keep")],
    "11-symlink-in-subdir": [dirent("s/"), sym("s/up", "../.."), reg("s/up/victim")],
    # hard links
    "12-hardlink-dotdot": [hard("h", "../victim")],
    "13-hardlink-abs": [hard("h", "/etc/passwd")],
    "14-hardlink-through-symlink": [sym("d", ".."), hard("h", "d/victim")],
    "15-hardlink-then-write": [sym("s", "../victim"), hard("h", "s"), reg("h/x")],
    # whiteouts
    "16-whiteout-dotdot": [reg("../.wh.victim", b"")],
    "17-whiteout-through-symlink": [sym("d", ".."), reg("d/.wh.victim", b"")],
    "18-opaque-through-symlink": [sym("d", "../victimdir"), reg("d/.wh..wh..opq", b"")],
    "19-whiteout-name-dotdot": [reg(".wh..."), reg("sub/.wh..", b"")],
    # metadata through links
    "20-symlink-chmod": [sym("v", "../victim"), reg("v/", mode=0o777)],
    "21-overlay-xattr": [(overlay_dir(), None)],
}

for name, entries in cases.items():
    write(name, entries)
# the same escape in the old GNU format (long names via ././@LongLink)
write("22-gnu-longlink-dotdot", [reg(long_up + "victim")], fmt=tarfile.GNU_FORMAT)
print(len(cases) + 1)
