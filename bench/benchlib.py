"""bench/benchlib.py - the machinery under bench/run: undo actions run on
any exit, processes and daemons (start, stop, settle, their CPU and peak
RSS), a fresh ext4 on a loop device per run, and measure(), which times one
command. bench/run imports it; nothing here knows the cases or the tools.
"""

import ctypes
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

LOOP_SIZE = "12G"
CLK_TCK = os.sysconf("SC_CLK_TCK")
TIMEOUT = 900  # seconds for one measured command
GNU_TIME = "/usr/bin/time"  # Debian package time (make bench-deps)
SETTLE_DAEMON_MAX = 3.0  # seconds to wait for an idle dockerd at most


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, check=True, **kw):
    """Run an untimed helper command; its output goes to the caller's log."""
    r = subprocess.run(cmd, **kw)
    if check and r.returncode != 0:
        raise BenchError("failed (%d): %s" % (r.returncode, shlex.join(cmd)))
    return r


def out(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


# ---------------------------------------------------------------- cleanup ---

class Cleanup:
    """A stack of undo actions, run in reverse on any exit (Ctrl-C included)."""

    def __init__(self):
        self.stack = []

    def push(self, fn, what):
        self.stack.append((fn, what))
        return len(self.stack) - 1

    def pop(self, token):
        fn, what = self.stack[token]
        self.stack[token] = (None, what)
        if fn:
            fn()

    def run_all(self):
        while self.stack:
            fn, what = self.stack.pop()
            if fn is None:
                continue
            try:
                fn()
            except Exception as e:  # keep undoing the rest
                log("cleanup of %s: %s" % (what, e))


CLEANUP = Cleanup()


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


# -------------------------------------------------------------- processes ---

def proc_stat(pid):
    """(ppid, cpu ticks of the process and its reaped children) or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[1]), sum(int(x) for x in rest[11:15])


def proc_tree(root):
    """PIDs of root and all its living descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                kids.setdefault(st[0], []).append(int(d))
    tree, todo = [], [root]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(kids.get(p, []))
    return tree


def tree_ticks(root):
    res = {}
    for p in proc_tree(root):
        st = proc_stat(p)
        if st:
            res[p] = st[1]
    return res


def vm_hwm_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_hwm(pid):
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")  # 5 = reset the peak RSS (VmHWM) to the current RSS
    except OSError:
        pass


def stop_pid(pid, name, timeout=20):
    """SIGTERM, wait, SIGKILL: only this PID, never by name."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:  # not our child: poll for its end
            if not os.path.exists("/proc/%d" % pid):
                return
        time.sleep(0.05)
    log("%s (pid %d) did not stop in %ds: SIGKILL" % (name, pid, timeout))
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def start_daemon(cmd, logf, env=None):
    """Start a daemon in its own session, so Ctrl-C reaches us, not it."""
    with open(logf, "ab") as lf:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                             env=env, start_new_session=True)
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- loop fs ---

def mounts_under(path):
    res = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path + "/"):
                res.append(mp)
    return res


class LoopFs:
    """A fresh ext4 on a loop device over a sparse file, mounted at self.mnt."""

    def __init__(self, workdir, name):
        self.img = os.path.join(workdir, name + ".img")
        self.mnt = os.path.join(workdir, name)
        self.dev = None
        os.makedirs(self.mnt, exist_ok=True)
        sh(["truncate", "-s", LOOP_SIZE, self.img])
        self.token = CLEANUP.push(self._destroy, "loop fs " + self.mnt)
        sh(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1",
            self.img])
        # Direct I/O: a buffered loop device caches every block twice (its
        # own page cache and the backing file's), and writeback goes through
        # both; a real disk does not. With it, a 538 MB push by cbuild took
        # 2.6-4.5 s (1.8-1.9 s with direct I/O, 2.0 s after drop_caches):
        # the double cache, not the tool, was most of the push's time.
        self.dev = out(["losetup", "-f", "--show", "--direct-io=on", self.img])
        if not self.dev:
            raise BenchError("losetup -f --show %s failed" % self.img)
        sh(["mount", self.dev, self.mnt])

    def _destroy(self):
        # whatever the tools left mounted below (overlays, shm), deepest first
        for mp in sorted(mounts_under(self.mnt), key=len, reverse=True):
            if subprocess.run(["umount", mp], stderr=subprocess.DEVNULL).returncode:
                subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)
        if self.dev:
            subprocess.run(["losetup", "-d", self.dev], stderr=subprocess.DEVNULL)
        if os.path.exists(self.img):
            os.unlink(self.img)
        shutil.rmtree(self.mnt, ignore_errors=True)

    def destroy(self):
        CLEANUP.pop(self.token)


# ---------------------------------------------------------------- measure ---

class Sample:
    def __init__(self, wall, cpu, rss_kib, watched_cpu=None):
        self.wall, self.cpu, self.rss_kib = wall, cpu, rss_kib
        self.watched_cpu = watched_cpu  # CPU s of measure()'s `watch` process tree


class SettleClock:
    """Untimed seconds spent settling, so the report can say what they cost."""
    count = 0
    seconds = 0.0


LIBC = ctypes.CDLL(None, use_errno=True)


def sync_fs(fs):
    """Write back everything of this loop fs down to the disk: syncfs() of the
    mounted fs (its flush reaches the loop device, which fsyncs its backing
    file), then fdatasync() of the backing file for good measure. Unlike
    sync(), it does not wait for what other work on the machine dirtied."""
    fd = os.open(fs.mnt, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if LIBC.syncfs(fd) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "syncfs %s: %s" % (fs.mnt, os.strerror(e)))
    finally:
        os.close(fd)
    fd = os.open(fs.img, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def settle(fs, daemon=None):
    """Untimed, before every timed command, for every tool alike.

    Write back the loop fs: the dirty pages an earlier step left there (512
    MiB after bigfile's RUN, plus its layer) would otherwise be written back
    while the next command is timed, and charged to it (the push of one
    tool, the build of the next). Then, for docker, wait until its daemons
    are idle: work they finish after the client has returned belongs to no
    later command."""
    t0 = time.monotonic()
    sync_fs(fs)
    if daemon:
        end = time.monotonic() + SETTLE_DAEMON_MAX
        last = sum(tree_ticks(daemon.pid).values())
        while time.monotonic() < end:
            time.sleep(0.1)
            now = sum(tree_ticks(daemon.pid).values())
            if now - last <= 1:  # at most one tick (1/CLK_TCK s) of CPU in 0.1 s: idle
                break
            last = now
        else:
            log("  settle: docker's daemons still busy after %.0f s; going on" % SETTLE_DAEMON_MAX)
    SettleClock.count += 1
    SettleClock.seconds += time.monotonic() - t0


def kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:  # already gone
        pass


def measure(cmd, logf, fs, env=None, daemon=None, watch=None):
    """Run cmd once, timed, after an untimed settle() of fs, the loop fs it works on.
    daemon: a Docker whose daemons' CPU and VmHWM count.
    watch: a PID whose process tree's CPU is reported apart (the registry).

    The command runs under GNU time, which reports its child's peak RSS: a
    child forked by this script would carry this script's own resident set
    (~27 MiB of Python) into its ru_maxrss, since the kernel folds the
    pre-exec memory into it. GNU time's CPU and wall are not used; ours
    include its ~1 ms."""
    settle(fs, daemon)
    if daemon:
        before = tree_ticks(daemon.pid)
        for p in daemon.rss_pids():
            reset_hwm(p)
    if watch:
        watch_before = tree_ticks(watch)
    rssf = logf + ".rss"
    with open(logf, "ab") as lf:
        lf.write(("\n$ %s\n" % shlex.join(cmd)).encode())
        lf.flush()
        t0 = time.monotonic()
        # its own process group: a timeout or Ctrl-C stops the tool, not only GNU time
        p = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", rssf, "--"] + cmd,
                             stdin=subprocess.DEVNULL, stdout=lf, stderr=lf, env=env,
                             process_group=0)
        timer = threading.Timer(TIMEOUT, lambda: kill_group(p.pid, signal.SIGKILL))
        timer.start()  # a hung tool must not hang the run
        try:
            _, status, ru = os.wait4(p.pid, 0)
        except BaseException:  # interrupted: the tool must not outlive its mounts
            kill_group(p.pid, signal.SIGTERM)
            p.wait()
            raise
        finally:
            timer.cancel()
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        why = "timed out after %d s" % TIMEOUT if wall >= TIMEOUT else "exit %d" % p.returncode
        with open(logf, "rb") as lf:
            lf.seek(max(0, os.path.getsize(logf) - 300))
            tail = lf.read().decode(errors="replace").strip().splitlines()[-1:]
        raise BenchError("%s: %s: %s" % (why, shlex.join(cmd), " ".join(tail)))
    cpu = ru.ru_utime + ru.ru_stime
    with open(rssf) as f:
        rss = int(f.read().split()[-1])
    os.unlink(rssf)
    if daemon:
        after = tree_ticks(daemon.pid)
        cpu += sum(t - before.get(p, 0) for p, t in after.items()) / CLK_TCK
        rss = sum(vm_hwm_kib(p) for p in daemon.rss_pids())
    if watch:
        watched = sum(t - watch_before.get(p, 0) for p, t in tree_ticks(watch).items())
        return Sample(wall, cpu, rss, watched / CLK_TCK)
    return Sample(wall, cpu, rss)
