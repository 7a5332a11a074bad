#!/usr/bin/env python3
"""The seed's failure, reproduced and survived: `toonify serve` inside a 300 MB memory cgroup,
12 clients at once asking for 2048 and 4096 px cartoons.  Every job must either complete with an
intact image or be refused with a clear 413/503; the cgroup's OOM-kill counter must stay 0 and
the server must still be healthy afterwards.

Meanwhile a hostile mix arrives (issue 15): a 1024 px lossy WebP with two ALPH chunks (the first
raw, a later one lossless; libwebp decodes the last), two PNG bombs (a tiny file declaring
100000 x 100000 px, and a 9000 x 9000 px one, under the 100 Mpx limit, whose zlib stream
expands about 1000 times), and
16 slow clients trickling a byte every 2 s, reconnecting when closed.  Each hostile upload must
get an HTTP answer (retried while the queue is full), and /healthz, polled every 0.2 s, must
answer within 1 s throughout.

The test creates a child of this process's own memory cgroup (v2: memory.max, enabling the
memory controller in the parent's subtree_control if needed; v1: memory.limit_in_bytes) and
starts the server inside it.  Creating a cgroup needs root (or a delegated cgroup); when that is
impossible the test FAILS with the reason -- it never passes without having run.

Usage: test_memory_cgroup.py TOONIFY SHARED_DIR WORK_DIR"""
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Server, image_size, open_slow, trickler  # noqa: E402

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


def riff_chunk(kind, data):
    return kind + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def vp8l_constant_alpha(value):
    """A VP8L image stream without its header, as a lossless ALPH chunk holds it: no transform,
    no colour cache, five one-symbol prefix codes (green = value, the others 0), so that every
    pixel takes no bits at all."""
    bits = []

    def put(v, n):
        bits.extend((v >> i) & 1 for i in range(n))

    put(0, 3)  # no transform, no colour cache, no meta prefix codes
    put(1, 1), put(0, 1), put(1, 1), put(value, 8)  # green: simple code, 1 symbol of 8 bits
    for _ in range(4):  # red, blue, alpha, distance: simple code, 1 symbol of 1 bit: 0
        put(1, 1), put(0, 1), put(0, 1), put(0, 1)
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        out[i >> 3] |= b << (i & 7)
    return bytes(out)


def webp_two_alph(lossy):
    """A VP8X WebP made of a simple lossy one's VP8 frame and two ALPH chunks: the first raw
    (compression method 0), the later lossless (method 1)."""
    if lossy[:4] != b"RIFF" or lossy[12:16] != b"VP8 ":
        fail("toonify did not write a simple lossy WebP")
    w = struct.unpack("<H", lossy[26:28])[0] & 0x3FFF
    h = struct.unpack("<H", lossy[28:30])[0] & 0x3FFF
    vp8x = struct.pack("<I", 0x10) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
    body = (b"WEBP" + riff_chunk(b"VP8X", vp8x) + riff_chunk(b"ALPH", b"\x00" + b"\xff" * (w * h))
            + riff_chunk(b"ALPH", b"\x01" + vp8l_constant_alpha(0x80)) + lossy[12:])
    return b"RIFF" + struct.pack("<I", len(body)) + body


def png(w, h, color_type, idat):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def hostile_files(photo):
    """(name, bytes, content type) of the hostile uploads."""
    lossy = os.path.join(WORK, "lossy1024.webp")
    r = subprocess.run([EXE, os.path.join(SHARED, "images", "astronaut.png"), "-o", lossy, "--size",
                        "1024", "--mode", "plain", "--model", os.path.join(SHARED, "models")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("cannot make the lossy WebP: " + r.stderr)
    z = zlib.compressobj(9)
    row = b"\0" * 9001  # filter byte + 9000 grey pixels
    bomb = b"".join(z.compress(row) for _ in range(9000)) + z.flush()
    return [("webp-two-alph", webp_two_alph(open(lossy, "rb").read()), "image/webp"),
            ("png-declares-100000px", png(100000, 100000, 6, zlib.compress(b"\0" * 64)), "image/png"),
            ("png-zlib-bomb-9000px", png(9000, 9000, 0, bomb), "image/png")]


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
        print("server: limit %d MiB (%s), baseline %d MiB" % (
            mem["limit_bytes"] >> 20, mem["limit_source"], mem["baseline_bytes"] >> 20), flush=True)
        if mem["limit_bytes"] != LIMIT or not mem["limit_source"].startswith("cgroup"):
            fail("the server did not detect the cgroup's limit: %s" % mem)

        results = [None] * N_CLIENTS
        rss_max = [0]
        stop = threading.Event()
        hostile = hostile_files(photo)
        hostile_results = {}
        health = {"n": 0, "worst": 0.0, "failures": []}

        def send_hostile(name, data, ctype):
            deadline = time.time() + 600
            while time.time() < deadline:
                try:
                    st, _, body = srv.request("POST", "/api/v1/cartoonize?size=1024", data,
                                              {"Content-Type": ctype}, timeout=900)
                except OSError as e:
                    hostile_results[name] = "no answer: %r" % e
                    return
                hostile_results[name] = "%d %s" % (st, body[:160] if st != 200 else "image")
                if st != 503:
                    return
                time.sleep(1)

        def health_poller():
            while not stop.is_set():
                t = time.time()
                try:
                    st, _, _ = srv.request("GET", "/healthz", timeout=1)
                    if st != 200:
                        health["failures"].append("HTTP %d" % st)
                except OSError as e:
                    health["failures"].append("%.1f s in: %r" % (t - t0, e))
                health["worst"] = max(health["worst"], time.time() - t)
                health["n"] += 1
                stop.wait(0.2)

        def slow_clients():
            conns = []
            while not stop.is_set():  # 16 open at all times: closed ones are replaced
                conns = [c for c in conns if c.poll()]
                conns += open_slow(srv.port, 16 - len(conns))
                trick = threading.Event()
                threading.Thread(target=trickler, args=(conns, trick), daemon=True).start()
                stop.wait(2)
                trick.set()
            for c in conns:
                c.sock.close()

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
        side = [threading.Thread(target=health_poller), threading.Thread(target=slow_clients)]
        threads = [threading.Thread(target=client, args=(i,)) for i in range(N_CLIENTS)]
        threads += [threading.Thread(target=send_hostile, args=h) for h in hostile]
        for t in side + threads:
            t.start()
        for t in threads:
            t.join(900)
        stop.set()
        for t in side:
            t.join(30)
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
        print("%d completed, %d refused (413/503) in %.0f s; server RSS peak %d MiB, cgroup peak "
              "%d MiB, limit %d MiB, oom kills %d" % (done, refused, elapsed, rss_max[0] >> 20,
                                                    peak_usage(kind, cg) >> 20, LIMIT >> 20, kills))
        for name, _, _ in hostile:
            print("hostile %s: %s" % (name, hostile_results.get(name)))
            if not hostile_results.get(name, "no answer").split()[0].isdigit():
                problems.append("hostile %s: %s" % (name, hostile_results.get(name)))
        print("/healthz: %d polls, slowest %.3f s, %d failures" % (
            health["n"], health["worst"], len(health["failures"])))
        if health["failures"] or health["worst"] >= 1.0:
            problems.append("/healthz failed or was slow (%.2f s): %s" % (
                health["worst"], health["failures"][:5]))
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
        print("[  OK  ] 12 clients at 2048/4096 px and a hostile mix in a 300 MiB cgroup")
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
