#!/usr/bin/env python3
"""A full disk at each stage of a job (issue 15, item 8): spooling the upload, storing the input,
writing the result, writing its history sidecar.  Every stage must answer the same way -- 507
Insufficient Storage with the same error and detail -- and no answer may name a path of the
server's.

The outputs directory is a small tmpfs mounted by this test (a real ENOSPC, not a simulation);
before each stage a filler file leaves exactly the room that lets the earlier stages pass and
that stage fail.  Mounting needs root: when it is impossible the test FAILS with the reason.

Usage: test_disk_full.py TOONIFY SHARED_DIR WORK_DIR"""
import os
import shutil
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Runner, Server  # noqa: E402

EXE, SHARED, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
PAGE = 4096
MOUNT_BYTES = 8 << 20


def check(cond, msg=""):
    if not cond:
        raise AssertionError(msg)


def noise_png(w, h, seed):
    """An RGB PNG of pseudo-random pixels (it compresses poorly, so its size is about w*h*3)."""
    rows, x = [], seed
    for _ in range(h):
        row = bytearray(b"\0")
        for _ in range(w * 3):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            row.append(x >> 23)
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def pages(n):
    return (n + PAGE - 1) // PAGE


class Disk:
    """The tmpfs under outputs/ and its filler."""

    def __init__(self, path):
        self.path = path
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % MOUNT_BYTES, "tmpfs", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("[ FAIL ] disk full: cannot mount a tmpfs (run as root): " + r.stderr.strip())
            print("0 passed, 1 failed")
            sys.exit(1)
        self.filler = os.path.join(path, "filler")

    def free(self):
        s = os.statvfs(self.path)
        return s.f_bavail * s.f_frsize

    def leave(self, n_pages):
        """Grows or shrinks the filler until exactly n_pages are free, once the previous
        request's files under .work are gone (the server removes them after answering)."""
        work = os.path.join(self.path, ".work")
        for _ in range(100):
            if not os.path.isdir(work) or not os.listdir(work):
                break
            time.sleep(0.05)
        if os.path.exists(self.filler):
            os.unlink(self.filler)
        fill = self.free() - n_pages * PAGE
        check(fill >= 0, "the tmpfs is too small")
        with open(self.filler, "wb") as f:
            f.write(b"\0" * fill)
        check(self.free() == n_pages * PAGE, "free %d, wanted %d" % (self.free(), n_pages * PAGE))

    def umount(self):
        subprocess.run(["umount", "-l", self.path])


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    out = os.path.join(WORK, "outputs")
    disk = Disk(out)
    T = Runner()
    body = noise_png(128, 128, 7)
    srv = None
    try:
        srv = Server(EXE, out, os.path.join(WORK, "server.log"),
                     models=os.path.join(SHARED, "models"), args=["--workers", "1"])
        path = "/api/v1/jobs?size=512&format=png&mode=plain"
        hdr = {"Content-Type": "image/png"}
        answers = []

        def no_path(text):
            for p in (WORK, out, ".work", "/tmp", ".part", ".json"):
                check(p not in text, "an answer names a server path (%s): %s" % (p, text))

        def submit_fails(stage):
            st, _, j = srv.json("POST", path, body, hdr)
            check(st == 507, "%s: expected 507, got %d %s" % (stage, st, j))
            no_path(str(j))
            answers.append((stage, j["error"], j["detail"]))

        def job_fails(stage):
            st, _, j = srv.json("POST", path, body, hdr)
            check(st == 202, "%s: the job was not accepted: %d %s" % (stage, st, j))
            j = srv.wait_job(j["id"], timeout=120)
            check(j["state"] == "failed" and j["error"]["code"] == 507, "%s: %s" % (stage, j))
            no_path(str(j))
            st, _, r = srv.json("GET", "/api/v1/jobs/%s/result" % j["id"])
            check(st == 507, "%s: the result answers %d %s" % (stage, st, r))
            no_path(str(r))
            answers.append((stage, j["error"]["error"], j["error"]["detail"]))

        # The size of the result, from a run with room to spare (the output is deterministic).
        st, _, j = srv.json("POST", path, body, hdr)
        check(st == 202, (st, j))
        j = srv.wait_job(j["id"], timeout=120)
        check(j["state"] == "done", j)
        B, R = pages(len(body)), pages(j["output"]["bytes"])
        check(R > B + 2, "the result (%d pages) must be larger than the upload (%d)" % (R, B))
        print("   upload %d pages, result %d pages" % (B, R), flush=True)

        def spool():
            disk.leave(B - 1)
            submit_fails("spooling the upload")

        def store_input():
            disk.leave(2 * B - 1)  # the spooled body fits, the job's copy of it does not
            submit_fails("storing the input")

        def result():
            disk.leave(B + R - 1)  # the input stays while the result is written
            job_fails("writing the result")

        def sidecar():
            disk.leave(B + R)  # the result fits; the sidecar beside it does not
            job_fails("writing the history sidecar")

        for name, fn in (("full while spooling the upload", spool),
                         ("full while storing the input", store_input),
                         ("full while writing the result", result),
                         ("full while writing the sidecar", sidecar)):
            T.run(name, fn)
        disk.leave(4 * R)
        T.run("one answer for every stage", lambda: check(
            len(answers) == 4 and len(set(a[1:] for a in answers)) == 1, answers))
        st, _, j = srv.json("POST", path, body, hdr)
        T.run("room again: a job completes", lambda: check(
            st == 202 and srv.wait_job(j["id"], timeout=120)["state"] == "done", (st, j)))
    finally:
        if srv:
            srv.stop()
        disk.umount()
    rc = T.finish()
    if rc and srv:
        print("\n".join(srv.log_text().splitlines()[-30:]))
    sys.exit(rc)


main()
