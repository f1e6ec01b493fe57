"""ocitree - an OCI image's merged file tree and config, read straight from a layout.

No extractor of ours or of the peers' is trusted: each layer tar is read with
Python's tarfile and applied to an in-memory tree (whiteouts, opaque
directories, hard links), so the comparison sees what the layers say.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import tarfile

CONFIG_KEYS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts",
               "Volumes", "Labels", "StopSignal", "Healthcheck")


def _blob(layout, digest):
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(layout, "blobs", algo, hexd), "rb") as f:
        return f.read()


def manifest_of(layout, ref):
    """The manifest (dict) tagged REF (org.opencontainers.image.ref.name) in LAYOUT."""
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index.get("manifests", []):
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            doc = json.loads(_blob(layout, m["digest"]))
            if "manifests" in doc:  # an index: the first manifest is the one platform
                doc = json.loads(_blob(layout, doc["manifests"][0]["digest"]))
            return doc
    raise KeyError("no image %r in %s" % (ref, layout))


def config_of(layout, ref):
    man = manifest_of(layout, ref)
    return json.loads(_blob(layout, man["config"]["digest"]))


def _open_layer(data):
    if data[:4] == b"\x28\xb5\x2f\xfd":
        import subprocess
        data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
    elif data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:", encoding="utf-8",
                        errors="surrogateescape")


def _norm(name):
    name = name.lstrip("/")
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    return "" if name in (".", "") else name


def _xattrs(member):
    out = {}
    for k, v in member.pax_headers.items():
        if k.startswith("SCHILY.xattr."):
            out[k[len("SCHILY.xattr."):]] = v.encode("utf-8", "surrogateescape").hex()
        elif k.startswith("LIBARCHIVE.xattr."):
            name = k[len("LIBARCHIVE.xattr."):]
            out[name] = base64.b64decode(v + "=" * (-len(v) % 4)).hex()
    return out


def _remove_tree(tree, path):
    tree.pop(path, None)
    pre = path + "/" if path else ""
    for p in [p for p in tree if p.startswith(pre)]:
        del tree[p]


def apply_layer(tree, data):
    """Apply one layer (tar bytes, maybe compressed) to TREE (path -> entry)."""
    tf = _open_layer(data)
    members = tf.getmembers()
    # Whiteouts hide what the lower layers had, never what this layer adds,
    # whatever the order of the entries in the tar.
    for m in members:
        name = _norm(m.name)
        d, b = os.path.split(name)
        if b == ".wh..wh..opq":
            for p in [p for p in tree if p.startswith(d + "/" if d else "")]:
                del tree[p]
        elif b.startswith(".wh."):
            _remove_tree(tree, os.path.join(d, b[4:]))
    for m in members:
        name = _norm(m.name)
        b = os.path.basename(name)
        if b.startswith(".wh."):
            continue
        e = {"mode": m.mode & 0o7777, "uid": m.uid, "gid": m.gid, "xattrs": _xattrs(m)}
        if m.isdir():
            e["type"] = "dir"
        elif m.issym():
            e["type"] = "symlink"
            e["target"] = m.linkname
        elif m.islnk():
            # A hard link is its target's inode: same content, mode, owner.
            t = tree.get(_norm(m.linkname))
            if t is None:
                raise ValueError("hard link %r to missing %r" % (name, m.linkname))
            e = dict(t)
        elif m.ischr() or m.isblk():
            e["type"] = "chr" if m.ischr() else "blk"
            e["dev"] = "%d,%d" % (m.devmajor, m.devminor)
        elif m.isfifo():
            e["type"] = "fifo"
        elif m.isfile():
            e["type"] = "file"
            content = tf.extractfile(m).read()
            e["size"] = len(content)
            e["sha256"] = hashlib.sha256(content).hexdigest()[:16]
        else:
            raise ValueError("unknown tar type %r for %r" % (m.type, name))
        old = tree.get(name)
        if old is not None and old["type"] == "dir" and e["type"] != "dir":
            _remove_tree(tree, name)
        tree[name] = e


def tree_of(layout, ref):
    man = manifest_of(layout, ref)
    tree = {}
    for layer in man["layers"]:
        apply_layer(tree, _blob(layout, layer["digest"]))
    return tree


class DockerArchive:
    """A docker-archive tar (docker save, buildah push docker-archive:): the
    Docker config keeps Healthcheck, which an OCI config has no field for."""

    def __init__(self, path):
        self.tf = tarfile.open(path)
        self.man = json.load(self.tf.extractfile("manifest.json"))[0]

    def config(self):
        return json.load(self.tf.extractfile(self.man["Config"]))

    def tree(self):
        tree = {}
        for layer in self.man["Layers"]:
            apply_layer(tree, self.tf.extractfile(layer).read())
        return tree
