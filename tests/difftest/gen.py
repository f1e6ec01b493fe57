"""gen - a seeded generator of Dockerfiles and their build contexts.

generate(seed, dir) writes DIR/Dockerfile, DIR/.dockerignore and the context
files, and returns a Case: what the harness needs to know (build args, which
step reads which context file). The same seed gives the same bytes.

RUN steps are drawn from a model of the files each stage has under /w, so
that every command is valid for the tree it runs on (no case fails because
the generator lost track: a failure is a difference between builders).
Everything runs on the busybox rootfs (testdata/mkrootfs.sh).
"""
import os
import random
import tarfile
import io
import subprocess

# Shapes left out, each for a bug another branch is fixing. Set to True when
# that branch is merged, and the generator draws them again.
ALLOW_REPEATED_LAYERS = False  # issue 22 bug 1: identical layers twice in a chain -> ELOOP (wip/overlay)
ALLOW_COPY_FROM_IMAGE = True  # issue 22 bug 2 (one-layer COPY --from) is fixed: drawn

NOBODY = "65534"


class Case:
    def __init__(self, seed):
        self.seed = seed
        self.build_args = {}
        self.lines = []          # Dockerfile lines
        self.peer_lines = []     # the peers' Dockerfile (rewrites of new flags)
        self.reads = []          # (line index of a COPY/ADD, context path it reads)
        self.peer_only = {}      # peer name -> replacement Dockerfile text (flag rewrites)
        self.notes = []


class Stage:
    """The generator's model of one stage's /w tree: path -> 'f' 'd' 'l' 'p'."""

    def __init__(self, name, model=None):
        self.name = name
        self.model = dict(model or {})
        self.user_root = True
        self.workdir = "/"
        self.had_noop = False
        self.shell_set = False


def _q(s):
    return "'" + s.replace("'", "'\\''") + "'"


class Gen:
    def __init__(self, seed, ctx):
        self.r = random.Random(seed)
        self.ctx = ctx
        self.case = Case(seed)
        self.ctx_files = []   # context-relative paths of regular files (not ignored)
        self.ctx_dirs = []
        self.ignored = set()
        self.n = 0

    # ---- the context ----
    def content(self):
        r = self.r
        k = r.choice(["empty", "text", "text", "bin", "big"])
        if k == "empty":
            return b""
        if k == "text":
            return ("line %d\n" % r.randrange(1000)).encode() * r.randint(1, 5)
        if k == "bin":
            return bytes(r.randrange(256) for _ in range(r.randint(1, 300)))
        return bytes(r.randrange(256) for _ in range(64)) * r.randint(100, 2000)

    def write(self, rel, data, mode=None):
        p = os.path.join(self.ctx, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        # no setuid/setgid in the context: buildah 1.28 clears them on COPY,
        # BuildKit keeps them (even under --chmod) (README, rule 5)
        os.chmod(p, mode if mode is not None else self.r.choice([0o644, 0o644, 0o755, 0o600, 0o444]))

    def make_context(self):
        r = self.r
        for i in range(r.randint(2, 5)):
            self.write("f%d.txt" % i, self.content())
            self.ctx_files.append("f%d.txt" % i)
        for d in ["d0", "d0/sub", "d1"]:
            os.makedirs(os.path.join(self.ctx, d), exist_ok=True)
            self.ctx_dirs.append(d)
        for rel in ["d0/a.txt", "d0/b.log", "d0/sub/c.txt", "d0/sub/d.log", "d1/e.bin"]:
            self.write(rel, self.content())
            self.ctx_files.append(rel)
        os.chmod(os.path.join(self.ctx, "d1"), r.choice([0o755, 0o700, 0o775]))
        os.symlink("a.txt", os.path.join(self.ctx, "d0/link-a"))
        os.symlink("/nonexistent/target", os.path.join(self.ctx, "d0/dangling"))
        if r.random() < 0.5:
            long = "L" * r.randint(100, 250)
            self.write("d1/" + long, b"long name\n", 0o644)
            self.ctx_files.append("d1/" + long)
        if r.random() < 0.4:
            # the xattr travels through COPY (busybox has no setfattr for RUN)
            self.write("x.attr", b"has an xattr\n", 0o644)
            subprocess.run(["setfattr", "-n", "user.difftest", "-v", "v%d" % r.randrange(100),
                            os.path.join(self.ctx, "x.attr")], check=True)
            self.ctx_files.append("x.attr")
        # tars for ADD: a plain one and a gzipped one, with dirs, a symlink, modes
        for name, comp in (("t0.tar", ""), ("t1.tar.gz", "gz")):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:" + comp, format=tarfile.PAX_FORMAT) as tf:
                for tn, data, mode in (("tdir/", None, 0o750), ("tdir/one", b"one\n", 0o640),
                                       ("tdir/two", self.content(), 0o755), ("top", b"top\n", 0o600)):
                    ti = tarfile.TarInfo(tn.rstrip("/"))
                    ti.mode, ti.mtime, ti.uid, ti.gid = mode, 1700000000, r.choice([0, 0, 12]), 0
                    if data is None:
                        ti.type = tarfile.DIRTYPE
                        tf.addfile(ti)
                    else:
                        ti.size = len(data)
                        tf.addfile(ti, io.BytesIO(data))
                ti = tarfile.TarInfo("tdir/xa")
                ti.mtime, ti.size, ti.mode = 1700000000, 3, 0o644
                ti.pax_headers = {"SCHILY.xattr.user.fromtar": "t%d" % r.randrange(100)}
                tf.addfile(ti, io.BytesIO(b"xa\n"))
                ti = tarfile.TarInfo("tdir/ln")
                ti.type, ti.linkname, ti.mtime = tarfile.SYMTYPE, "one", 1700000000
                tf.addfile(ti)
            self.write(name, buf.getvalue(), 0o644)
            self.ctx_files.append(name)
        self.make_dockerignore()

    def make_dockerignore(self):
        r = self.r
        pats = []
        if r.random() < 0.7:
            pats += ["**/*.log"]
            self.ignored |= {"d0/b.log", "d0/sub/d.log"}
            if r.random() < 0.5:
                pats += ["!d0/sub/d.log"]
                self.ignored.discard("d0/sub/d.log")
        if r.random() < 0.4:
            pats += ["f1.txt"]
            self.ignored.add("f1.txt")
        if r.random() < 0.3:
            pats += ["d1/**", "!d1/e.bin"]
            self.ignored |= {f for f in self.ctx_files if f.startswith("d1/") and f != "d1/e.bin"}
        pats += ["Dockerfile", ".dockerignore"]
        with open(os.path.join(self.ctx, ".dockerignore"), "w") as f:
            f.write("# generated\n" + "\n".join(pats) + "\n")
        self.ctx_files = [f for f in self.ctx_files if f not in self.ignored]

    # ---- Dockerfile helpers ----
    def emit(self, line, reads=(), peer=None):
        """Add LINE to cbuild's Dockerfile; PEER (lines) to the peers' one
        in its place (flags buildah 1.28 and BuildKit 20.10 do not know,
        rewritten to what they mean: README, "Rewrites")."""
        for rd in reads:
            self.case.reads.append((len(self.case.lines), rd))
        self.case.lines.append(line)
        self.case.peer_lines.extend([line] if peer is None else peer)

    def fresh(self, st, parent=None):
        self.n += 1
        dirs = [p for p, t in st.model.items() if t == "d"]
        parent = parent or self.r.choice(dirs)
        kind = self.r.random()
        if kind < 0.08:
            base = "n%d-" % self.n + "x" * self.r.randint(120, 230)
        elif kind < 0.14:
            base = "n%d-\\377\\376" % self.n  # not UTF-8, written through printf
        else:
            base = "n%d" % self.n
        return parent + "/" + base

    @staticmethod
    def sh_path(p):
        """P as a shell word: names with \\ooo escapes go through printf."""
        if "\\" in p:
            return '"$(printf \'%s\')"' % p
        return p

    # ---- RUN ops on the model ----
    def op(self, st):
        r, m = self.r, st.model
        files = [p for p, t in m.items() if t == "f"]
        dirs = [p for p, t in m.items() if t == "d"]
        subdirs = [d for d in dirs if d != "/w"]
        anyp = [p for p in m if p != "/w"]
        S = self.sh_path
        choices = ["create", "mkdir", "symlink", "fifo", "sparse"]
        if files:
            choices += ["overwrite", "append", "chmod", "chown", "hardlink", "rename", "delete", "file2dir"]
        if subdirs:
            choices += ["chmod", "dir2file", "rename_dir", "rmtree"]
        if any(p for p in subdirs if not any(q.startswith(p + "/") for q in m)):
            choices += ["rmdir"]
        if anyp:
            choices += ["delete", "chown"]
        c = r.choice(choices)
        if c == "create":
            p = self.fresh(st)
            m[p] = "f"
            return "printf %s > %s" % (_q(r.choice(["a", "hello\\n", "x" * 300, ""])), S(p))
        if c == "mkdir":
            p = self.fresh(st)
            if r.random() < 0.3:
                q = p + "/deep/er"
                m[p], m[p + "/deep"], m[q] = "d", "d", "d"
                return "mkdir -p %s/deep/er" % S(p)
            m[p] = "d"
            return "mkdir %s" % S(p)
        if c == "symlink":
            p = self.fresh(st)
            tgt = r.choice([r.choice(anyp) if anyp else "/w", "../nowhere", "rel-target", "/etc/passwd"])
            m[p] = "l"
            return "ln -s %s %s" % (S(tgt), S(p))
        if c == "fifo":
            p = self.fresh(st)
            m[p] = "p"
            return "mkfifo %s" % S(p)
        if c == "sparse":
            p = self.fresh(st)
            m[p] = "f"
            if r.random() < 0.5:
                return "truncate -s %d %s" % (r.choice([4096, 1 << 20, 3 << 20]), S(p))
            return "printf z | dd of=%s bs=1 seek=%d conv=notrunc 2>/dev/null" % (S(p), r.choice([65536, 1 << 20]))
        if c == "overwrite":
            return "printf %s > %s" % (_q("over%d\\n" % r.randrange(99)), S(r.choice(files)))
        if c == "append":
            return "echo more >> %s" % S(r.choice(files))
        if c == "chmod":
            p = r.choice(files + subdirs)
            mode = r.choice(["0600", "0755", "4755", "2755", "1777", "0444", "0700", "g+w", "o-r"])
            return "chmod %s %s" % (mode, S(p))
        if c == "chown":
            p = r.choice([q for q in anyp if m[q] != "x"] or ["/w"])
            own = r.choice(["1:1", NOBODY + ":" + NOBODY, "1000:2000", "0:12", "5"])
            flag = "-h " if m[p] == "l" else ""
            return "chown %s%s %s" % (flag, own, S(p))
        if c == "hardlink":
            # Both names leave the drawing set: a later step changing one
            # through overlayfs' copy-up splits the pair (BuildKit, cbuild)
            # where buildah's vfs keeps them one inode (README, rule 6)
            p, src = self.fresh(st), r.choice(files)
            m[p] = m[src] = "x"
            return "ln %s %s" % (S(src), S(p))
        if c == "rename":
            src = r.choice(files)
            dst = self.fresh(st)
            del m[src]
            m[dst] = "f"
            return "mv %s %s" % (S(src), S(dst))
        if c == "rename_dir":
            src = r.choice(subdirs)
            dst = self.fresh(st, parent=r.choice([d for d in dirs if d != src and not d.startswith(src + "/")]))
            for p in sorted(m):
                if p == src or p.startswith(src + "/"):
                    m[dst + p[len(src):]] = m.pop(p)
            return "mv %s %s" % (S(src), S(dst))
        if c == "delete":
            p = r.choice(anyp)
            for q in [q for q in m if q == p or q.startswith(p + "/")]:
                del m[q]
            return "rm -rf %s" % S(p)
        if c == "rmtree":
            p = r.choice(subdirs)
            for q in [q for q in m if q == p or q.startswith(p + "/")]:
                del m[q]
            return "rm -r %s" % S(p)
        if c == "rmdir":
            p = r.choice([p for p in subdirs if not any(q.startswith(p + "/") for q in m)])
            del m[p]
            return "rmdir %s" % S(p)
        if c == "dir2file":
            p = r.choice(subdirs)
            for q in [q for q in m if q == p or q.startswith(p + "/")]:
                del m[q]
            m[p] = "f"
            return "rm -r %s && echo wasdir > %s" % (S(p), S(p))
        if c == "file2dir":
            p = r.choice(files)
            m[p] = "d"
            return "rm %s && mkdir %s && echo in > %s/inner" % (S(p), S(p), S(p)) + self._add(m, p + "/inner", "f")
        raise AssertionError(c)

    @staticmethod
    def _add(m, p, t):
        m[p] = t
        return ""

    def run_step(self, st):
        r = self.r
        if not st.user_root:
            self.n += 1
            self.emit("RUN id -u > /tmp/uid%d && id -g >> /tmp/uid%d && touch /tmp/made-by-user%d" % ((self.n,) * 3))
            return
        if r.random() < 0.12 and (not st.had_noop or ALLOW_REPEATED_LAYERS):
            st.had_noop = True
            self.emit("RUN " + r.choice(["true", "echo no-op", "ls / >/dev/null", ": nothing"]))
            return
        ops = [self.op(st) for _ in range(r.randint(1, 5))]
        if r.random() < 0.15:
            self.emit('RUN ["/bin/sh", "-c", "%s"]' % " && ".join(ops).replace("\\", "\\\\").replace('"', '\\"'))
        elif r.random() < 0.2 and len(ops) > 1:
            self.emit("RUN " + " && \\\n    ".join(ops))
        else:
            self.emit("RUN " + " && ".join(ops))

    # ---- COPY / ADD ----
    def copy_new_flags(self, st):
        """COPY --link / --parents / --exclude, and the peers' equivalent."""
        r = self.r
        self.n += 1
        dest = "/w/c%d" % self.n
        plain = [f for f in self.ctx_files if ".tar" not in f and not f.startswith("d1/")]
        kind = r.choice(["link", "link", "parents", "exclude"])
        if kind == "link":
            # the destination is new and its parents real directories of
            # the base: the merged tree is the plain COPY's
            src = r.choice(plain + ["d0", "d0/"])
            flags = r.choice(["", "--chmod=0755 ", "--chown=1:1 "])
            reads = [src] if src in self.ctx_files else []
            self.emit("COPY --link %s%s %s" % (flags, src, dest), reads,
                      peer=["COPY %s%s %s" % (flags, src, dest)])
        elif kind == "parents":
            # files under 0755 context dirs only: the parents --parents makes
            # are then the plain COPY's mkdir -p (0755 root)
            srcs = r.sample([f for f in plain if "/" in f], 2)
            self.emit("COPY --parents %s %s/" % (" ".join(srcs), dest), srcs,
                      peer=["COPY %s %s/%s" % (f, dest, f) for f in srcs])
        else:
            pat = r.choice(["**/*.txt", "**/c.txt", "**/*.log"])
            src = r.choice(["d0", "d0/", "."])
            reads = [] if src == "." else []
            name = pat.split("/")[-1]
            self.emit("COPY --exclude=%s %s %s" % (pat, src, dest), reads,
                      peer=["COPY %s %s" % (src, dest),
                            "RUN find %s -name '%s' -type f -exec rm -f {} +" % (dest, name)])
        st.model[dest] = "x"

    def copy_step(self, st):
        r = self.r
        if r.random() < 0.2 and st.user_root:
            return self.copy_new_flags(st)
        flags = []
        if r.random() < 0.3:
            flags.append("--chown=" + r.choice(["1:1", "nobody", "nobody:nogroup", "1000", "0:65534", "root:root"]))
        if r.random() < 0.25:
            flags.append("--chmod=" + r.choice(["0755", "0600", "0444", "0700"]))
        kind = r.choice(["file", "files", "dir", "dirslash", "glob", "tar", "targz", "addfile", "xattr"])
        self.n += 1
        dest = "/w/c%d" % self.n
        srcs = []
        instr = "COPY"
        if kind == "file":
            srcs = [r.choice(self.ctx_files)]
            dst = dest if r.random() < 0.5 else dest + "/"
        elif kind == "files":
            srcs = r.sample([f for f in self.ctx_files if not f.endswith(".tar") and not f.endswith(".gz")], 2)
            dst = dest + "/"
        elif kind in ("dir", "dirslash"):
            srcs = [r.choice(self.ctx_dirs) + ("/" if kind == "dirslash" else "")]
            dst = dest
        elif kind == "glob":
            # no glob reaches d0/dangling: a dangling source fails everywhere
            srcs = [r.choice(["f*.txt", "d0/*.txt", "d?/*.bin", "*.tar*"])]
            dst = dest + "/"
        elif kind in ("tar", "targz"):
            instr = "ADD"
            srcs = ["t0.tar" if kind == "tar" else "t1.tar.gz"]
            dst = dest + "/"
        elif kind == "addfile":
            instr = "ADD"
            srcs = [r.choice([f for f in self.ctx_files if ".tar" not in f])]
            dst = dest
        else:
            if "x.attr" not in self.ctx_files:
                srcs, dst = ["f0.txt"], dest
            else:
                srcs, dst = ["x.attr"], dest
        if instr == "ADD" and srcs[0].startswith("t"):
            # Peers disagree on --chown/--chmod of an ADDed archive's entries:
            # BuildKit >= 0.23 applies them, buildah 1.28 and older BuildKit
            # keep the tar's own (README, normalisation rule 4)
            flags = []
        if r.random() < 0.2 and st.workdir != "/":
            dst = "rel%d/" % self.n  # relative to WORKDIR
        reads = []
        for s in srcs:
            if "*" in s or "?" in s or s.endswith("/") or s in self.ctx_dirs:
                continue
            reads.append(s)
        if r.random() < 0.25 and len(srcs) == 1 and not any(c in srcs[0] for c in "*?"):
            self.emit("%s %s[%s]" % (instr, " ".join(flags) + " " if flags else "",
                                     ", ".join('"%s"' % s for s in srcs + [dst])), reads)
        else:
            self.emit(" ".join([instr] + flags + srcs + [dst]), reads)
        # the model: whatever was copied sits under a fresh name, opaque to RUN ops
        if dst.startswith("/w/"):
            st.model[dest] = "x"

    def meta_step(self, st):
        r = self.r
        c = r.choice(["env", "env", "arg", "label", "expose", "volume", "workdir", "user", "cmd",
                      "entrypoint", "stopsignal", "healthcheck", "shell", "onbuild", "maintainer"])
        self.n += 1
        n = self.n
        if c == "env":
            self.emit(r.choice(["ENV E%d=v%d" % (n, n),
                                'ENV E%d="a b $E%d" F%d=${HOME:-nohome}' % (n, n - 1, n),
                                "ENV E%d legacy form %d" % (n, n),
                                "ENV PATH=/w/bin:$PATH",
                                'ENV E%d=${A0:-def}-${UNSET:+alt}-x' % n]))
        elif c == "arg":
            self.emit(r.choice(["ARG A%d=d%d" % (n, n), "ARG A0", "ARG A%d" % n, "ARG BA"]))
            if r.random() < 0.5:
                self.emit("RUN echo \"$A0 ${BA:-none}\" > /tmp/arg%d" % n)
        elif c == "label":
            self.emit(r.choice(['LABEL l%d=v%d' % (n, n), 'LABEL "k %d"="v w" o%d=$HOME' % (n, n),
                                'LABEL com.example.n%d="${A0}"' % n]))
        elif c == "expose":
            self.emit("EXPOSE " + r.choice(["80", "53/udp", "8080/tcp 9090", "%d" % (1000 + n)]))
        elif c == "volume":
            # outside /w: buildah makes a VOLUME's directory, BuildKit does not,
            # and a COPY --from of /w would carry it elsewhere (rule 7)
            self.emit(r.choice(['VOLUME /vol%d' % n, 'VOLUME ["/vol%d", "/srv/v%d"]' % (n, n)]))
        elif c == "workdir":
            w = r.choice(["/w/wd%d" % n, "wd%d" % n, "$HOME/wd%d" % n, "/srv/x%d/y" % n])
            self.emit("WORKDIR " + w)
            if not w.startswith("/") and not w.startswith("$"):
                st.workdir = os.path.join(st.workdir, w)
            else:
                st.workdir = w.replace("$HOME", "/root")
            # The WORKDIR stays out of the model: no RUN removes it (buildah
            # makes it again for each later step, BuildKit and cbuild do not;
            # README, rule 8)
            if r.random() < 0.6 and st.user_root:
                self.emit("RUN pwd > /tmp/pwd%d && printf r > relfile%d" % (n, n))
        elif c == "user":
            u = r.choice(["nobody", "1000", "1000:2000", NOBODY + ":" + NOBODY, "root", "0"])
            self.emit("USER " + u)
            st.user_root = u in ("root", "0")
        # After SHELL, only exec forms: buildah 1.28 ignores SHELL for the
        # shell forms of CMD, ENTRYPOINT and HEALTHCHECK, BuildKit (and
        # cbuild) use it (README, rule 13)
        elif c == "cmd":
            self.emit(r.choice(['CMD ["sh", "-c", "echo %d"]' % n, 'CMD []'] +
                               ([] if st.shell_set else ["CMD echo shell form %d" % n])))
        elif c == "entrypoint":
            self.emit(r.choice(['ENTRYPOINT ["/bin/echo", "e%d"]' % n] +
                               ([] if st.shell_set else ["ENTRYPOINT exec top"])))
        elif c == "stopsignal":
            self.emit("STOPSIGNAL " + r.choice(["SIGTERM", "SIGKILL", "9", "SIGUSR1"]))
        elif c == "healthcheck":
            self.emit(r.choice(["HEALTHCHECK NONE",
                                'HEALTHCHECK --interval=5s --timeout=3s --retries=2 CMD ["true"]'] +
                               ([] if st.shell_set else
                                ["HEALTHCHECK --start-period=1s CMD wget -q localhost || exit 1"])))
        elif c == "shell":
            self.emit('SHELL ["/bin/sh", "-ec"]')
            st.shell_set = True
        elif c == "onbuild":
            self.emit("ONBUILD RUN echo triggered")
        elif c == "maintainer":
            self.emit("MAINTAINER someone <s@example.com>")

    def stage_body(self, st, nsteps):
        r = self.r
        if "/w" not in st.model:
            self.emit("RUN mkdir -p /w && chmod 0755 /w")
            st.model["/w"] = "d"
        for _ in range(nsteps):
            x = r.random()
            if x < 0.45:
                self.run_step(st)
            elif x < 0.7:
                self.copy_step(st)
            else:
                self.meta_step(st)

    def generate(self):
        r = self.r
        self.make_context()
        if r.random() < 0.3:
            self.emit("ARG BASE=busybox")
            base = "$BASE"
        else:
            base = "busybox"
        self.emit("ARG A0=global%d" % self.case.seed)
        self.case.build_args["BA"] = "from-cli-%d" % (self.case.seed % 7)
        nstages = r.choice([1, 1, 2, 2, 3])
        stages = []
        for i in range(nstages):
            name = "s%d" % i
            if i > 0 and r.random() < 0.4:
                frm = r.choice([s.name for s in stages])
                par = next(s for s in stages if s.name == frm)
                st = Stage(name, par.model)
                st.user_root, st.workdir, st.had_noop = par.user_root, par.workdir, par.had_noop
                st.shell_set = par.shell_set
                self.emit("FROM %s AS %s" % (frm, name))
            else:
                st = Stage(name)
                self.emit("FROM %s AS %s" % (base, name))
            self.stage_body(st, r.randint(3, 10))
            if stages and r.random() < 0.8:
                src = r.choice(stages)
                ref = r.choice([src.name, str(stages.index(src))])
                self.n += 1
                dst = "/w/from%d" % self.n
                # stage sources are real files: /w (the whole tree) or /etc/passwd
                what = r.choice(["/w", "/w/", "/etc/passwd"])
                flags = r.choice(["", "--chown=1:2 ", "--chmod=0700 "])
                if not st.user_root:
                    self.emit("USER root")
                    st.user_root = True
                self.emit("COPY %s--from=%s %s %s" % (flags, ref, what, dst))
                st.model[dst] = "x"
            if ALLOW_COPY_FROM_IMAGE and r.random() < 0.2:
                self.emit("COPY --from=busybox /bin/busybox /w/bb")
            stages.append(st)
        return self.case


def generate(seed, ctx):
    os.makedirs(ctx, exist_ok=True)
    g = Gen(seed, ctx)
    case = g.generate()
    text = "\n".join(case.lines) + "\n"
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(text)
    case.text = text
    case.peer_text = "\n".join(case.peer_lines) + "\n"
    # beside the context, not in it: its bytes are no step's input
    case.peer_dockerfile = os.path.join(os.path.dirname(ctx.rstrip("/")), "Dockerfile.peer")
    with open(case.peer_dockerfile, "w") as f:
        f.write(case.peer_text)
    return case


def listing(ctx):
    """The context as `ls -lR`-like lines, for a failure report."""
    out = []
    for root, dirs, files in os.walk(ctx):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, ctx)
            extra = " -> " + os.readlink(p) if os.path.islink(p) else ""
            out.append("%o %5d %s%s" % (st.st_mode, st.st_size, rel.encode("utf-8", "surrogateescape")
                                        .decode("ascii", "backslashreplace"), extra))
    return out
