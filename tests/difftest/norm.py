"""norm - compare cbuild's image with a peer's, after the normalisation rules.

Each rule is here because the peers themselves do not agree on it, or
because it is not a property of the image's content (README.md, "The
differential tests", lists them with their reasons). Nothing else is
normalised: every other difference is reported.
"""
import ocitree

MAX_DIFFS = 40


def _norm_entry(e):
    e = dict(e)
    # mtimes are not compared at all (not even kept by ocitree): buildah 1.28
    # ignores SOURCE_DATE_EPOCH, BuildKit 20.10 clamps only some, and a RUN's
    # files carry the wall clock of the build.
    return e


def _norm_tree(tree):
    out = {}
    for path, e in tree.items():
        if path == "":
            # the root directory's own entry: buildah writes none in its
            # layers, others do; its mode comes from the base either way
            continue
        out[path] = _norm_entry(e)
    return out


# Mount points buildah's RUN leaves behind as empty files/dirs (it binds
# them from the host during RUN); Docker and BuildKit leave nothing.
RUN_MOUNTPOINTS = ("etc/hosts", "etc/hostname", "etc/resolv.conf", "run")


def _drop_peer_mountpoints(a, b):
    for p in RUN_MOUNTPOINTS:
        e = b.get(p)
        if p not in a and e is not None and (e["type"] == "dir" or e.get("size") == 0):
            if not any(q.startswith(p + "/") for q in b):
                del b[p]


def _empty(v):
    return v in (None, {}, [], "")


def _norm_config(conf):
    c = dict((conf.get("config") or {}))
    out = {}
    for k in ocitree.CONFIG_KEYS:
        v = c.get(k)
        if k == "Labels" and v:
            # buildah stamps its own version on every image
            v = {lk: lv for lk, lv in v.items() if lk != "io.buildah.version"}
        # absent, null and empty mean the same to every runtime; the
        # builders differ on which one they write
        out[k] = None if _empty(v) else v
    return out


def _fmt(e):
    if e is None:
        return "(absent)"
    s = "%s %04o %d:%d" % (e["type"], e["mode"], e["uid"], e["gid"])
    if e["type"] == "file" and "size" in e:
        s += " size=%d sha=%s" % (e["size"], e["sha256"])
    if e["type"] == "symlink":
        s += " -> %s" % e["target"]
    if e.get("dev"):
        s += " dev=%s" % e["dev"]
    if e.get("xattrs"):
        s += " xattrs=%s" % e["xattrs"]
    return s


def _p(path):
    return path.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")


def compare(tree, conf, ptree, pconf, peer, apt=False):
    diffs = []
    a, b = _norm_tree(tree), _norm_tree(ptree)
    _drop_peer_mountpoints(a, b)
    if apt:
        _apt_rules(a, b)
    # BuildKit's COPY --from leaves fifos out; buildah copies them, as cbuild does
    if peer == "buildkit":
        for p in [p for p, e in a.items() if e["type"] == "fifo" and p not in b]:
            del a[p]
    # xattrs: buildah 1.28 keeps them through COPY, COPY --from and ADD of a
    # tar; BuildKit 20.10 drops them in all three; cbuild keeps them through
    # ADD of a tar only. The generator's xattrs are dropped from buildah's
    # entry when cbuild's has none (README, rule 9)
    # (and from cbuild's when BuildKit's has none)
    x, y = (b, a) if peer == "buildah" else (a, b)
    for p, e in x.items():
        if e.get("xattrs") and p in y and not y[p].get("xattrs"):
            e["xattrs"] = {k: v for k, v in e["xattrs"].items()
                           if k not in ("user.difftest", "user.fromtar")}
    # buildah 1.28 makes the directory of every VOLUME in the image; BuildKit
    # records VOLUME in the config only
    # (and the parents it made for it)
    for v in ((pconf.get("config") or {}).get("Volumes") or {}):
        p = v.strip("/")
        while p and p not in a and b.get(p, {}).get("type") == "dir" and \
                not any(q.startswith(p + "/") for q in b):
            del b[p]
            p = p.rpartition("/")[0]
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            diffs.append("tree /%s: cbuild %s, %s %s" % (_p(path), _fmt(a.get(path)), peer, _fmt(b.get(path))))
            if len(diffs) >= MAX_DIFFS:
                diffs.append("... (more tree differences)")
                break
    ca, cb = _norm_config(conf), _norm_config(pconf)
    if peer == "buildah":
        # buildah 1.28 adds the default PATH to a base without one only when
        # an ENV sets PATH, at that point of the list; BuildKit (and cbuild)
        # at the stage's start (README, rule 14): Env is compared as a set
        for c in (ca, cb):
            if c["Env"]:
                c["Env"] = sorted(c["Env"])
    for k in ocitree.CONFIG_KEYS:
        if ca[k] != cb[k]:
            diffs.append("config %s: cbuild %r, %s %r" % (k, ca[k], peer, cb[k]))
    return diffs


def _apt_rules(a, b):
    """Rules for images whose RUN steps ran apt-get/dpkg (the Debian e2e tests):
    files whose bytes record when and on which inodes the install ran are
    compared as entries (type, mode, owner), not by content."""
    for t in (a, b):
        for p, e in t.items():
            if e["type"] == "file" and (p.startswith("var/log/") or p == "var/cache/ldconfig/aux-cache"):
                e.pop("size", None)
                e.pop("sha256", None)
