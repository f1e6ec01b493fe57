#!/usr/bin/env python3
"""tests/deps/check.py - the house rules a compiler does not check (make check-deps).

1. Arrows point down. A file in module M may include headers of M and of
   the modules in ALLOWED[M] only:
       cmd -> builder, registry, runtime, parser, store, common
       builder -> runtime, parser, store, common
       runtime -> store, common;  registry -> store, common
       parser -> common;  store -> common;  common -> nothing
   No allowlist: the tree has no upward include today.

2. Only store/ joins paths under the store root. Outside store/, a line that
   calls store_path(), formats a path onto store_root() ("%s/cache/%s.json"),
   or formats a relative path that starts with one of the store's folder
   names ("containers/%s", "blobs/sha256/%s") is a join. Today's are known debts, counted per
   file in store-paths.allow (issue 24: the store hands out places through
   its API); a file with more joins than its allowance, or a new file with
   any, fails.

3. No file over 1,000 lines (every tracked or new file outside testdata/),
   with no allowlist: the last ones were split (issue 24), so a file that
   passes the limit fails until it is split along a seam.

Counts, not line numbers, so that edits elsewhere in a file do not break the
check. When a debt shrinks the check says so: lower the number in the file.
`--update` rewrites store-paths.allow from the tree (review the diff: it
accepts every debt as it is).
"""
import os
import re
import subprocess
import sys

TOP = os.environ.get("CHECK_DEPS_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(TOP, "tests", "deps")
LIMIT = 1000

MODULES = ["cmd", "builder", "runtime", "registry", "parser", "store", "common"]
ALLOWED = {
    "cmd": {"builder", "registry", "runtime", "parser", "store", "common"},
    "builder": {"runtime", "parser", "store", "common"},
    "runtime": {"store", "common"},
    "registry": {"store", "common"},
    "parser": {"common"},
    "store": {"common"},
    "common": set(),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
STORE_DIRS = r"(?:blobs|layers|cache|containers|mounts|volumes|networks|compose|tmp)"
PATH_CALL = r"(?:asprintf|path_join|snprintf)\s*\("
JOINS = [
    re.compile(r"\bstore_path\s*\("),
    re.compile(PATH_CALL + r".*\bstore_root\s*\("),
    re.compile(PATH_CALL + r'\s*"' + STORE_DIRS + r"/"),
]


def tree_files():
    try:
        out = subprocess.run(["git", "-C", TOP, "ls-files", "--cached", "--others",
                              "--exclude-standard"], check=True, capture_output=True,
                             text=True).stdout.split("\n")
        files = [f for f in out if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, subdirs, names in os.walk(TOP):
            subdirs[:] = [s for s in subdirs if not (s.startswith(".") or s == "build" or s.startswith("build-"))]
            files += [os.path.relpath(os.path.join(d, n), TOP) for n in names]
    # set(): during a merge conflict ls-files names a file once per stage
    return sorted(set(f for f in files if os.path.isfile(os.path.join(TOP, f))))


def read_allow(name, comments=None):
    allow = {}
    path = os.path.join(HERE, name)
    for n, line in enumerate(open(path), 1):
        line, _, comment = line.partition("#")
        line = line.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            sys.exit("%s:%d: expected 'PATH COUNT'" % (path, n))
        allow[parts[0]] = int(parts[1])
        if comments is not None and comment.strip():
            comments[parts[0]] = comment.strip()
    return allow


def write_allow(name, header, counts):
    comments = {}
    if os.path.exists(os.path.join(HERE, name)):
        read_allow(name, comments)
    with open(os.path.join(HERE, name), "w") as f:
        f.write(header)
        for k in sorted(counts):
            line = "%s %d" % (k, counts[k])
            if k in comments:
                line = "%-28s # %s" % (line, comments[k])
            f.write(line + "\n")


def code_lines(text):
    """Lines with comments blanked (a comment may name ROOT/containers/ID)."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return [re.sub(r"//.*", "", l) for l in text.split("\n")]


def main():
    update = "--update" in sys.argv[1:]
    errors, notes = [], []
    lengths, joins = {}, {}
    for f in tree_files():
        if f.startswith("testdata/"):
            continue
        try:
            text = open(os.path.join(TOP, f), encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        n = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if n > LIMIT:
            lengths[f] = n
        mod = f.split("/", 1)[0]
        if mod not in MODULES or not f.endswith((".c", ".h")):
            continue
        for i, line in enumerate(text.split("\n"), 1):
            m = INCLUDE.match(line)
            if m and m.group(1) in MODULES and m.group(1) != mod and m.group(1) not in ALLOWED[mod]:
                errors.append("%s:%d: %s/ may not include %s/ (arrows point down: %s -> %s)"
                              % (f, i, mod, m.group(1), mod,
                                 ", ".join(sorted(ALLOWED[mod])) or "nothing"))
        if mod == "store":
            continue
        for i, line in enumerate(code_lines(text), 1):
            if any(j.search(line) for j in JOINS):
                joins.setdefault(f, []).append(i)

    if update:
        write_allow("store-paths.allow",
                    "# Files outside store/ that join paths under the store root, and how many\n"
                    "# lines do (tests/deps/check.py). Each is a known debt: the store should hand\n"
                    "# out these places through its API (issue 24). Lower a count when you can.\n",
                    {f: len(v) for f, v in joins.items()})
        print("check-deps: store-paths.allow rewritten; review 'git diff tests/deps'")
        for f, n in sorted(lengths.items()):
            print("check-deps: %s: %d lines, over %d: split it (no allowlist)" % (f, n, LIMIT))
        return 0

    allow = read_allow("store-paths.allow")
    for f, lines in sorted(joins.items()):
        have = allow.get(f, 0)
        if len(lines) > have:
            errors.append("%s: joins paths under the store root on %d line(s) (%s), %d allowed: "
                          "ask store/ for the place instead (tests/deps/store-paths.allow)"
                          % (f, len(lines), ", ".join(map(str, lines)), have))
        elif len(lines) < have:
            notes.append("%s: %d store path join(s), allowance %d: lower it in store-paths.allow"
                         % (f, len(lines), have))
    for f, have in sorted(allow.items()):
        if f not in joins:
            notes.append("%s: no store path joins left: remove it from store-paths.allow" % f)

    for f, n in sorted(lengths.items()):
        errors.append("%s: %d lines, over %d: split it" % (f, n, LIMIT))

    for n in notes:
        print("check-deps: note: " + n)
    for e in errors:
        print("check-deps: " + e, file=sys.stderr)
    if errors:
        return 1
    print("check-deps: ok (arrows down; store path joins within their allowances; no file over %d lines)" % LIMIT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
