#!/usr/bin/env python3
"""difftest - build generated Dockerfiles with cbuild and with peers, compare.

  difftest.py [--seeds 1-20 | -n 500 --start 1] [--peer buildah] [--peer buildkit]
              [--peer copy] [--peer none]
              [--cbuild BIN] [--keep] [--no-rebuild] [-v]

Each seed makes a Dockerfile and a context (gen.py). cbuild builds it; each
peer builds it; the merged trees and the configs are compared after the
normalisation written in README.md (norm.py). cbuild then rebuilds it twice:
unchanged (every step a cache hit, same image ID), and with one context file
changed (the steps before the first one reading it stay hits, that one
misses). A failing seed prints its Dockerfile and context listing.
Exit status: 0 when every seed passed, 1 otherwise.
"""
import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen  # noqa: E402
import norm  # noqa: E402
import ocitree  # noqa: E402

EPOCH = "1704067200"

# Errors of bugs being fixed elsewhere: a seed that hits one is counted as
# "known", not as a failure. Empty: issue 22's bugs 1 and 2 (repeated layers
# in lowerdir, one-layer COPY --from) are fixed, and their shapes are drawn.
KNOWN = []


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


class Peer:
    name = "?"

    def build(self, seed, ctx, args, outdir):
        """Build; return an ocitree.DockerArchive or raise RuntimeError(output)."""
        raise NotImplementedError


class Cbuild(Peer):
    name = "cbuild"

    def __init__(self, binary, work, rootfs):
        self.bin, self.root = binary, os.path.join(work, "cb")
        r = sh([self.bin, "--root", self.root, "import", "-c", 'CMD ["sh"]', rootfs, "busybox:latest"])
        if r.returncode:
            raise SystemExit("cbuild import failed: " + r.stdout.decode())

    def run_build(self, seed, ctx, args):
        cmd = [self.bin, "--root", self.root, "build", "--progress", "plain", "-t", "case%d:1" % seed]
        for k, v in sorted(args.items()):
            cmd += ["--build-arg", "%s=%s" % (k, v)]
        env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
        return sh(cmd + [ctx], env=env, timeout=600)

    def build(self, seed, ctx, args, outdir):
        r = self.run_build(seed, ctx, args)
        if r.returncode:
            raise RuntimeError(r.stdout.decode(errors="replace"))
        self.last_output = r.stdout.decode(errors="replace")
        return self.root, "docker.io/library/case%d:1" % seed

    def cleanup(self, seed):
        sh([self.bin, "--root", self.root, "rmi", "case%d:1" % seed])


class CbuildMode(Peer):
    """cbuild itself with another snapshotter or isolation (--peer copy,
    --peer none), in the same store, without the cache: its image must be
    the overlay build's, byte for byte (the same image ID)."""
    same_image = True
    flags = {"copy": ["--storage-driver", "copy"], "none": ["--isolation", "none"]}

    def __init__(self, cb, mode):
        self.cb, self.name = cb, "cbuild-" + mode
        self.mode = mode

    def build(self, seed, ctx, args, outdir):
        tag = "case%d-%s:1" % (seed, self.mode)
        cmd = [self.cb.bin, "--root", self.cb.root, "build", "-q", "--no-cache", "-t", tag]
        cmd += self.flags[self.mode]
        for k, v in sorted(args.items()):
            cmd += ["--build-arg", "%s=%s" % (k, v)]
        r = subprocess.run(cmd + [ctx], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH), timeout=600)
        if r.returncode:
            raise RuntimeError(r.stderr.decode(errors="replace"))
        self.image_id = r.stdout.decode().strip().splitlines()[-1]
        tar = os.path.join(outdir, "%s.tar" % self.mode)
        r = sh([self.cb.bin, "--root", self.cb.root, "save", "-o", tar, tag])
        if r.returncode:
            raise RuntimeError("save: " + r.stdout.decode(errors="replace"))
        return ocitree.DockerArchive(tar)

    def cleanup(self, seed):
        sh([self.cb.bin, "--root", self.cb.root, "rmi", "case%d-%s:1" % (seed, self.mode)])


class Buildah(Peer):
    name = "buildah"

    def __init__(self, work, cb_root):
        d = os.path.join(work, "bh")
        self.base = ["buildah", "--root", d + "/root", "--runroot", d + "/run", "--storage-driver", "vfs"]
        r = sh(self.base + ["pull", "-q", "oci:%s:docker.io/library/busybox:latest" % cb_root])
        if r.returncode:
            raise SystemExit("buildah pull failed: " + r.stdout.decode())
        sh(self.base + ["tag", r.stdout.decode().split()[-1], "docker.io/library/busybox:latest"])

    def build(self, seed, ctx, args, outdir):
        cmd = self.base + ["bud", "--isolation", "chroot", "--format", "docker", "--pull=never", "-q",
                           "-f", self.dockerfile, "-t", "case%d" % seed]
        for k, v in sorted(args.items()):
            cmd += ["--build-arg", "%s=%s" % (k, v)]
        # TMPDIR: buildah's cache mounts live under it, host-wide by default
        tmp = os.path.join(os.path.dirname(self.base[2]), "tmp")
        os.makedirs(tmp, exist_ok=True)
        r = sh(cmd + [ctx], env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, TMPDIR=tmp), timeout=600)
        if r.returncode:
            raise RuntimeError(r.stdout.decode(errors="replace"))
        # docker format: an OCI config has no Healthcheck (buildah drops it)
        tar = os.path.join(outdir, "buildah.tar")
        r = sh(self.base + ["push", "-q", "case%d" % seed, "docker-archive:%s:case:1" % tar])
        if r.returncode:
            raise RuntimeError("push: " + r.stdout.decode(errors="replace"))
        return ocitree.DockerArchive(tar)

    def cleanup(self, seed):
        sh(self.base + ["rmi", "-f", "case%d" % seed])
        sh(self.base + ["rmi", "--prune"])


class Buildkit(Peer):
    """Debian's dockerd 20.10 with BuildKit, started here with its own state."""
    name = "buildkit"

    def __init__(self, work, cb_root):
        self.d = d = os.path.join(work, "dk")
        os.makedirs(d)
        self.log = open(os.path.join(d, "dockerd.log"), "wb")
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", d + "/data", "--exec-root", d + "/exec", "-H", "unix://%s/sock" % d,
             "--pidfile", d + "/pid", "--storage-driver", "overlay2", "--bridge", "none", "--iptables=false"],
            stdout=self.log, stderr=self.log)
        self.env = dict(os.environ, DOCKER_HOST="unix://%s/sock" % d, DOCKER_BUILDKIT="1",
                        SOURCE_DATE_EPOCH=EPOCH)
        for _ in range(600):
            if sh(["/usr/bin/docker", "version"], env=self.env).returncode == 0:
                break
            time.sleep(0.1)
        tar = os.path.join(d, "base.tar")
        r = sh(["skopeo", "copy", "-q", "oci:%s:docker.io/library/busybox:latest" % cb_root,
                "docker-archive:%s:busybox:latest" % tar])
        r2 = sh(["/usr/bin/docker", "load", "-q", "-i", tar], env=self.env)
        if r.returncode or r2.returncode:
            self.stop()
            raise SystemExit("docker load failed: " + (r.stdout + r2.stdout).decode())

    def build(self, seed, ctx, args, outdir):
        cmd = ["/usr/bin/docker", "build", "-q", "--network", "none", "-f", self.dockerfile, "-t", "case%d" % seed]
        for k, v in sorted(args.items()):
            cmd += ["--build-arg", "%s=%s" % (k, v)]
        r = sh(cmd + [ctx], env=self.env, timeout=600)
        if r.returncode:
            raise RuntimeError(r.stdout.decode(errors="replace"))
        tar = os.path.join(outdir, "bk.tar")
        r = sh(["/usr/bin/docker", "save", "-o", tar, "case%d" % seed], env=self.env)
        if r.returncode:
            raise RuntimeError("save: " + r.stdout.decode(errors="replace"))
        return ocitree.DockerArchive(tar)

    def cleanup(self, seed):
        sh(["/usr/bin/docker", "rmi", "-f", "case%d" % seed], env=self.env)
        sh(["/usr/bin/docker", "builder", "prune", "-af"], env=self.env)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def known_bug(text):
    for rx, what in KNOWN:
        if rx.search(text):
            return what
    return None


def steps_of(output):
    """cbuild's plain progress: {step number: (text, hit)}."""
    steps, cur = {}, None
    for line in output.splitlines():
        m = re.match(r"STEP (\d+)/\d+: (.*)", line)
        if m:
            cur = int(m.group(1))
            # a step is a miss when it says why, a hit when "Using cache"
            # follows; ARG, FROM and the like are neither
            steps[cur] = [m.group(2), False if "(cache miss:" in m.group(2) else None]
        elif cur is not None and line.startswith("--> Using cache"):
            steps[cur][1] = True
    return steps


def first_reader(case, path):
    """Index in case.lines of the first COPY/ADD whose sources take PATH."""
    for i, line in enumerate(case.lines):
        words = line.split()
        if not words or words[0] not in ("COPY", "ADD") or any(w.startswith("--from") for w in words):
            continue
        if words[1].startswith("--") or words[1].startswith("["):
            args = [w for w in words[1:] if not w.startswith("--")]
            if args and args[0].startswith("["):
                args = json.loads(" ".join(args))
        else:
            args = words[1:]
        # a file an --exclude leaves out is not read (gen.py's patterns are
        # all **/NAME-GLOB)
        excl = [w.split("=", 1)[1] for w in words if w.startswith("--exclude=")]
        if any(fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], x[3:]) for x in excl if x.startswith("**/")):
            continue
        for src in args[:-1]:
            pat = [c for c in src.rstrip("/").split("/") if c not in ("", ".")]
            comps = path.split("/")
            if len(pat) <= len(comps) and all(fnmatch.fnmatchcase(c, p) for c, p in zip(comps, pat)):
                return i
    return None


def rebuild_checks(cb, case, ctx, image_id):
    """Second build all hits with the same ID; one file changed misses from its reader on."""
    errs = []
    r = cb.run_build(case.seed, ctx, case.build_args)
    out = r.stdout.decode(errors="replace")
    if r.returncode:
        return ["rebuild failed: " + out[-2000:]]
    misses = [s for s, (t, hit) in steps_of(out).items() if hit is False]
    if misses:
        errs.append("unchanged rebuild re-ran steps %s" % misses)
    if out.strip().splitlines()[-1] != image_id:
        errs.append("unchanged rebuild gave %s, not %s" % (out.strip().splitlines()[-1], image_id))
    cands = sorted({p for _, p in case.reads})
    if not cands:
        return errs
    path = cands[case.seed % len(cands)]
    k = first_reader(case, path)
    if k is None:
        return errs + ["harness: no reader for %s" % path]
    # bytes no earlier build of this run saw: the store is shared by the
    # seeds, and a file changed to content an earlier seed built is a hit
    with open(os.path.join(ctx, path), "ab") as f:
        f.write(b"changed %d %d\n" % (case.seed, time.time_ns()))
    r = cb.run_build(case.seed, ctx, case.build_args)
    out = r.stdout.decode(errors="replace")
    if r.returncode:
        return errs + ["rebuild after changing %s failed: %s" % (path, out[-2000:])]
    # Step numbers skip the stages the target does not need: steps are
    # matched to Dockerfile lines by their text, in order.
    def flat(t):
        return " ".join(t.replace("\\\n", " ").split())
    pos = 0
    for s, (text, hit) in sorted(steps_of(out).items()):
        text = flat(re.sub(r"\s+\(cache miss: .*\)$", "", text))
        i = next((j for j in range(pos, len(case.lines)) if flat(case.lines[j]) == text), None)
        if i is None:
            continue
        pos = i + 1
        if i < k and hit is False:
            errs.append("after changing %s: step %d (%s) re-ran, before its first reader (line %d)"
                        % (path, s, text, k + 1))
        if i == k and hit is not False:
            errs.append("after changing %s: step %d (%s) was a cache hit" % (path, s, text))
    return errs


def run_seed(seed, cb, peers, work, opts):
    sdir = os.path.join(work, "s%d" % seed)
    ctx = os.path.join(sdir, "ctx")
    case = gen.generate(seed, ctx)
    result = {"seed": seed, "status": "pass", "diffs": []}
    try:
        lay, ref = cb.build(seed, ctx, case.build_args, sdir)
        cb_err = None
    except RuntimeError as e:
        cb_err = str(e)
    built = {}
    peer_err = {}
    for p in peers:
        p.dockerfile = case.peer_dockerfile
        try:
            built[p.name] = p.build(seed, ctx, case.build_args, sdir)
        except RuntimeError as e:
            peer_err[p.name] = str(e)
    if cb_err is not None:
        kb = known_bug(cb_err)
        if kb:
            result["status"], result["known"] = "known", kb
        elif peers and len(peer_err) == len(peers):
            result["status"] = "invalid"
            result["diffs"].append("every builder failed (generator bug?): " + cb_err[-1500:])
        else:
            result["status"] = "fail"
            result["diffs"].append("cbuild failed, peers did not: " + cb_err[-3000:])
    else:
        tree = ocitree.tree_of(lay, ref)
        conf = ocitree.config_of(lay, ref)
        for name, err in peer_err.items():
            result["diffs"].append("%s failed, cbuild did not: %s" % (name, err[-1500:]))
        iid = ocitree.manifest_of(lay, ref)["config"]["digest"]
        for name, arch in built.items():
            ptree, pconf = arch.tree(), arch.config()
            result["diffs"] += norm.compare(tree, conf, ptree, pconf, name)
        for p in peers:
            if getattr(p, "same_image", False) and p.name in built and p.image_id != iid:
                result["diffs"].append("%s: image %s, not the overlay build's %s (layers differ)"
                                       % (p.name, p.image_id, iid))
        if opts.rebuild:
            result["diffs"] += rebuild_checks(cb, case, ctx, iid)
        if result["diffs"]:
            result["status"] = "fail"
    for p in peers:
        p.cleanup(seed)
    cb.cleanup(seed)
    if result["status"] in ("fail", "invalid"):
        result["dockerfile"] = case.text
        if case.peer_text != case.text:
            result["dockerfile"] += "---- the peers' Dockerfile\n" + case.peer_text
        result["listing"] = gen.listing(ctx)
        result["build_args"] = case.build_args
    if not opts.keep and result["status"] != "fail":
        shutil.rmtree(sdir, ignore_errors=True)
    return result


def parse_seeds(opts):
    if opts.seeds:
        out = []
        for part in opts.seeds.split(","):
            a, _, b = part.partition("-")
            out += list(range(int(a), int(b or a) + 1))
        return out
    return list(range(opts.start, opts.start + opts.n))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds")
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--peer", action="append", choices=["buildah", "buildkit", "copy", "none"],
                    help="copy, none: cbuild with --storage-driver copy or --isolation none, "
                    "which must give the same image ID")
    ap.add_argument("--cbuild", default=os.environ.get("CBUILD_BIN", os.path.join(TOP, "build/cbuild")))
    ap.add_argument("--keep", action="store_true", help="keep every seed's work dir")
    ap.add_argument("--no-rebuild", dest="rebuild", action="store_false")
    ap.add_argument("--work")
    ap.add_argument("-v", action="store_true")
    opts = ap.parse_args()
    peers_wanted = opts.peer or ["buildah"]
    cache = os.environ.get("CBUILD_TEST_CACHE", "/tmp/cbuild-test-cache")
    os.makedirs(cache, exist_ok=True)
    rootfs = os.path.join(cache, "busybox-rootfs.tar")
    if not os.path.exists(rootfs):
        subprocess.run([os.path.join(TOP, "testdata/mkrootfs.sh"), rootfs + ".%d" % os.getpid()], check=True)
        os.rename(rootfs + ".%d" % os.getpid(), rootfs)
    work = opts.work or tempfile.mkdtemp(prefix="cbuild-difftest-")
    cb = Cbuild(opts.cbuild, work, rootfs)
    peers = []
    try:
        for p in peers_wanted:
            if p == "buildah":
                if not shutil.which("buildah"):
                    raise SystemExit("difftest: buildah is not installed (make deps)")
                peers.append(Buildah(work, cb.root))
            elif p in ("copy", "none"):
                peers.append(CbuildMode(cb, p))
            elif p == "buildkit":
                if not (shutil.which("dockerd") and os.path.exists("/usr/bin/docker")):
                    print("# buildkit: Debian's docker.io is not installed, skipped")
                    continue
                peers.append(Buildkit(work, cb.root))
        counts = {}
        failed = []
        for seed in parse_seeds(opts):
            t0 = time.time()
            res = run_seed(seed, cb, peers, work, opts)
            counts[res["status"]] = counts.get(res["status"], 0) + 1
            line = "seed %d: %s (%.1fs)" % (seed, res["status"], time.time() - t0)
            if res["status"] == "known":
                line += " - " + res["known"]
            print(line, flush=True)
            if res["status"] in ("fail", "invalid"):
                failed.append(seed)
                print("---- seed %d: Dockerfile (build args %s)" % (seed, res["build_args"]))
                print(res["dockerfile"], end="")
                print("---- context")
                print("\n".join(res["listing"]))
                print("---- differences")
                for d in res["diffs"]:
                    print("  " + d.replace("\n", "\n    "))
                print("---- work dir: %s" % os.path.join(work, "s%d" % seed), flush=True)
        print("difftest: %s; peers: %s" % (", ".join("%s %d" % kv for kv in sorted(counts.items())),
                                           ", ".join(p.name for p in peers) or "none"))
        if failed:
            print("difftest: failing seeds: %s" % ",".join(map(str, failed)))
        return 1 if failed else 0
    finally:
        for p in peers:
            if isinstance(p, Buildkit):
                p.stop()
        if not opts.keep and not opts.work:
            # buildah's vfs layers and the stores: only the failing seeds' dirs stay
            for n in ("cb", "bh", "dk"):
                shutil.rmtree(os.path.join(work, n), ignore_errors=True)
            if not os.listdir(work):
                os.rmdir(work)


if __name__ == "__main__":
    sys.exit(main())
