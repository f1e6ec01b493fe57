#!/usr/bin/env python3
"""Write an OCI image layout holding one image, for registry tests and benchmarks.

    mkimage.py --out DIR --tag TAG [--arch amd64] [--os linux] [--variant v8]
               [--tar FILE]... [--random SIZE]... [--gzip] [--seed N]

Layers come in order from --tar (an existing tar file) and --random (a tar
holding one file of SIZE random bytes; SIZE may end in K or M). --gzip
compresses the layers (gzip -1, via the gzip command). Several calls with
the same DIR add images to the same layout. Prints the manifest digest.
"""
import argparse
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile

BUF = 1 << 20


def put_file(out, path):
    h = hashlib.sha256()
    n = 0
    tmp = os.path.join(out, "blobs", "sha256", ".tmp")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        while True:
            b = src.read(BUF)
            if not b:
                break
            h.update(b)
            n += len(b)
            dst.write(b)
    d = h.hexdigest()
    os.replace(tmp, os.path.join(out, "blobs", "sha256", d))
    return "sha256:" + d, n


def put_bytes(out, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def size_arg(s):
    m = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * m[s[-1].upper()] if s[-1].upper() in m else int(s)


def random_tar(path, size, rng, name):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo(name)
        ti.size = size
        ti.mtime = 0
        ti.mode = 0o644

        class R(io.RawIOBase):
            left = size

            def readable(self):
                return True

            def readinto(self, b):
                n = min(len(b), self.left)
                b[:n] = rng.randbytes(n)
                self.left -= n
                return n

        t.addfile(ti, io.BufferedReader(R(), BUF))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--os", default="linux")
    ap.add_argument("--variant")
    ap.add_argument("--tar", action="append", default=[])
    ap.add_argument("--random", action="append", default=[])
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(a.out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    rng = random.Random(a.seed)
    tars = list(a.tar)
    tmpfiles = []
    for i, s in enumerate(a.random):
        p = os.path.join(a.out, ".layer%d.tar" % i)
        random_tar(p, size_arg(s), rng, "data/%d-%d.bin" % (a.seed, i))
        tars.append(p)
        tmpfiles.append(p)
    layers, diff_ids = [], []
    for i, p in enumerate(tars):
        diff_ids.append("sha256:" + hashlib.file_digest(open(p, "rb"), "sha256").hexdigest())
        mt = "application/vnd.oci.image.layer.v1.tar"
        if a.gzip:
            # in the layout being written, never beside a --tar input: that
            # may be the test cache another suite reads at the same moment
            gz = os.path.join(a.out, ".layer%d.tar.gz" % i)
            with open(gz, "wb") as f:
                subprocess.run(["gzip", "-1", "-n", "-c", p], stdout=f, check=True)
            tmpfiles.append(gz)
            p = gz
            mt += "+gzip"
        d, n = put_file(a.out, p)
        layers.append({"mediaType": mt, "digest": d, "size": n})
    for p in tmpfiles:
        os.unlink(p)
    plat = {"architecture": a.arch, "os": a.os}
    if a.variant:
        plat["variant"] = a.variant
    cfg = dict(plat, created="2026-01-01T00:00:00Z", config={"Cmd": ["sh"], "Labels": {"tag": a.tag}},
               rootfs={"type": "layers", "diff_ids": diff_ids},
               history=[{"created": "2026-01-01T00:00:00Z", "created_by": "mkimage"} for _ in layers])
    cd, cn = put_bytes(a.out, json.dumps(cfg, separators=(",", ":")).encode())
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
           "layers": layers}
    md, mn = put_bytes(a.out, json.dumps(man, separators=(",", ":")).encode())
    ip = os.path.join(a.out, "index.json")
    idx = json.load(open(ip)) if os.path.exists(ip) else {"schemaVersion": 2, "manifests": []}
    idx["manifests"] = [m for m in idx["manifests"]
                        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != a.tag]
    idx["manifests"].append({"mediaType": man["mediaType"], "digest": md, "size": mn,
                             "platform": plat,
                             "annotations": {"org.opencontainers.image.ref.name": a.tag}})
    with open(ip, "w") as f:
        json.dump(idx, f)
    print(md)


if __name__ == "__main__":
    sys.exit(main())
