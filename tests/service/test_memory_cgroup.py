#!/usr/bin/env python3
"""The seed's failure, reproduced and survived: `toonify serve` inside a 300 MB memory cgroup,
12 clients at once asking for 2048 and 4096 px cartoons.  Every job must either complete with an
intact image or be refused with a clear 413/503; the cgroup's OOM-kill counter must stay 0 and
the server must still be healthy afterwards.

The test creates a child of this process's own memory cgroup (v2: memory.max, enabling the
memory controller in the parent's subtree_control if needed; v1: memory.limit_in_bytes) and
starts the server inside it.  Creating a cgroup needs root (or a delegated cgroup); when that is
impossible the test FAILS with the reason -- it never passes without having run.

Usage: test_memory_cgroup.py TOONIFY SHARED_DIR WORK_DIR"""
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Server, image_size  # noqa: E402

EXE, SHARED, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
LIMIT = 300 << 20
N_CLIENTS = 12
SIZES = [2048, 4096]


def fail(msg):
    print("[ FAIL ] memory cgroup: " + msg)
    print("0 passed, 1 failed")
    sys.exit(1)


def make_cgroup():
    """Returns (kind, dir) of a fresh child cgroup limited to LIMIT bytes."""
    lines = open("/proc/self/cgroup").read().splitlines()
    name = "toonify-test-%d" % os.getpid()
    v1 = [l for l in lines if l.split(":")[1].split(",").count("memory")]
    errors = []
    if v1:
        parent = "/sys/fs/cgroup/memory" + v1[0].split(":", 2)[2]
        d = os.path.join(parent.rstrip("/"), name)
        try:
            os.mkdir(d)
            open(os.path.join(d, "memory.limit_in_bytes"), "w").write(str(LIMIT))
            return "v1", d
        except OSError as e:
            errors.append("cgroup v1 %s: %s" % (d, e))
    v2 = [l for l in lines if l.startswith("0::")]
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if not v2 or not os.path.exists(os.path.join(root, "cgroup.controllers")):
            continue
        parent = (root + v2[0][3:]).rstrip("/")
        d = os.path.join(parent, name)
        try:
            ctl = open(os.path.join(parent, "cgroup.subtree_control")).read().split()
            if "memory" not in ctl:
                open(os.path.join(parent, "cgroup.subtree_control"), "w").write("+memory")
            os.mkdir(d)
            open(os.path.join(d, "memory.max"), "w").write(str(LIMIT))
            open(os.path.join(d, "memory.swap.max"), "w").write("0") if os.path.exists(
                os.path.join(d, "memory.swap.max")) else None
            return "v2", d
        except OSError as e:
            errors.append("cgroup v2 %s: %s" % (d, e))
    fail("cannot create a memory cgroup (run as root, or in a container with a delegated "
         "cgroup): " + ("; ".join(errors) or "no memory controller in /proc/self/cgroup"))


def oom_kills(kind, d):
    if kind == "v1":
        for l in open(os.path.join(d, "memory.oom_control")).read().splitlines():
            if l.startswith("oom_kill "):
                return int(l.split()[1])
        return 0
    for l in open(os.path.join(d, "memory.events")).read().splitlines():
        if l.startswith("oom_kill "):
            return int(l.split()[1])
    return 0


def peak_usage(kind, d):
    f = "memory.max_usage_in_bytes" if kind == "v1" else "memory.peak"
    try:
        return int(open(os.path.join(d, f)).read())
    except OSError:
        return 0


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    photo = open(os.path.join(SHARED, "images", "astronaut.png"), "rb").read()
    kind, cg = make_cgroup()
    procs = os.path.join(cg, "cgroup.procs")

    def enter():
        with open(procs, "w") as f:
            f.write(str(os.getpid()))

    srv = None
    try:
        srv = Server(EXE, os.path.join(WORK, "outputs"), os.path.join(WORK, "server.log"),
                     models=os.path.join(SHARED, "models"), preexec=enter,
                     args=["--workers", "2", "--queue", "2", "--sync-timeout", "900"])
        st, _, status = srv.json("GET", "/api/v1/status")
        mem = status["memory"]
        print("server: limit %d MB (%s), baseline %d MB" % (
            mem["limit_bytes"] >> 20, mem["limit_source"], mem["baseline_bytes"] >> 20), flush=True)
        if mem["limit_bytes"] != LIMIT or not mem["limit_source"].startswith("cgroup"):
            fail("the server did not detect the cgroup's limit: %s" % mem)

        results = [None] * N_CLIENTS
        rss_max = [0]
        stop = threading.Event()

        def client(i):
            size = SIZES[i % len(SIZES)]
            st, h, data = srv.request("POST", "/api/v1/cartoonize?size=%d" % size, photo,
                                      {"Content-Type": "image/png"}, timeout=900)
            results[i] = (size, st, h, data)

        def sampler():
            while not stop.is_set():
                try:
                    for l in open("/proc/%d/status" % srv.proc.pid):
                        if l.startswith("VmRSS:"):
                            rss_max[0] = max(rss_max[0], int(l.split()[1]) * 1024)
                except OSError:
                    pass
                time.sleep(0.1)

        t0 = time.time()
        threading.Thread(target=sampler, daemon=True).start()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(N_CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(900)
        stop.set()
        elapsed = time.time() - t0

        problems = []
        done = refused = 0
        for i, r in enumerate(results):
            if r is None:
                problems.append("client %d got no answer" % i)
                continue
            size, st, h, data = r
            if st == 200:
                got = image_size(data)
                if not got or got[1:] != (size, size):
                    problems.append("client %d: result is not a %d px PNG: %s" % (i, size, got))
                    continue
                path = os.path.join(WORK, "r%d.png" % i)
                open(path, "wb").write(data)
                ident = subprocess.run([EXE, "identify", path], capture_output=True, text=True)
                if ident.returncode != 0:
                    problems.append("client %d: result does not decode: %s" % (i, ident.stderr))
                done += 1
            elif st in (413, 503) and b'"detail"' in data:
                refused += 1
                if st == 503 and "retry-after" not in h:
                    problems.append("client %d: 503 without Retry-After" % i)
            else:
                problems.append("client %d: HTTP %d %r" % (i, st, data[:200]))
        kills = oom_kills(kind, cg)
        alive = srv.proc.poll() is None
        st, _, _ = srv.json("GET", "/healthz") if alive else (0, 0, 0)
        print("%d completed, %d refused (413/503) in %.0f s; server RSS peak %d MB, cgroup peak "
              "%d MB, limit %d MB, oom kills %d" % (done, refused, elapsed, rss_max[0] >> 20,
                                                    peak_usage(kind, cg) >> 20, LIMIT >> 20, kills))
        if kills:
            problems.append("the cgroup recorded %d OOM kill(s)" % kills)
        if not alive or st != 200:
            problems.append("the server died or is unhealthy")
        if done < 2:
            problems.append("fewer than 2 jobs completed")
        if rss_max[0] > LIMIT:
            problems.append("RSS went above the limit")
        if problems:
            print(srv.log_text()[-3000:])
            fail("; ".join(problems))
        print("[  OK  ] 12 clients at 2048/4096 px in a 300 MB cgroup")
        print("1 passed, 0 failed")
    finally:
        if srv:
            srv.stop()
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)


main()
