"""Helpers for the service tests: start `toonify serve` on a free loopback port, talk HTTP to it
with the standard library only, build multipart bodies, read image headers."""
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import uuid


class Server:
    """A `toonify serve` process on 127.0.0.1 with port 0; .port is the one it bound."""

    def __init__(self, exe, outputs, log_path, args=(), models=None, preexec=None):
        cmd = [exe, "serve", "--host", "127.0.0.1", "--port", "0", "--outputs", outputs]
        if models:
            cmd += ["--models", models]
        cmd += list(args)
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.log_start = self.log.tell()  # the log may hold earlier servers' lines
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, preexec_fn=preexec)
        self.port = None
        deadline = time.time() + 60
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %d:\n%s" % (self.proc.returncode, self.log_text()))
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.log_text()[self.log_start:])
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.kill()
            raise RuntimeError("server did not start in 60 s:\n" + self.log_text())

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("latin-1")

    def request(self, method, path, body=None, headers=None, timeout=120):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None, timeout=120):
        st, h, data = self.request(method, path, body, headers, timeout)
        try:
            return st, h, json.loads(data.decode()) if data else None
        except ValueError:
            raise AssertionError("%s %s: not JSON (%d): %r" % (method, path, st, data[:200]))

    def wait_job(self, job_id, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st, _, j = self.json("GET", "/api/v1/jobs/" + job_id)
            assert st == 200, (st, j)
            if j["state"] in ("done", "failed", "cancelled"):
                return j
            time.sleep(0.1)
        raise AssertionError("job %s did not end in %d s" % (job_id, timeout))

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends sig and waits; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("server did not stop within %d s after signal %d" % (timeout, sig))
        self.log.close()
        text = self.log_text()[self.log_start:]
        for bad in ("Sanitizer", "runtime error:"):
            if bad in text:
                raise AssertionError("the server's log has a %s report:\n%s" % (bad, text[-3000:]))
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def multipart(fields, files):
    """fields: [(name, value)], files: [(name, filename, bytes, content_type)] -> (body, ctype)."""
    b = "----toonifytest" + uuid.uuid4().hex
    out = []
    for k, v in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (b, k, v)).encode())
    for k, fn, data, ct in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (b, k, fn, ct)).encode())
        out.append(data)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % b).encode())
    return b"".join(out), "multipart/form-data; boundary=" + b


def image_size(data):
    """(format, w, h) from a PNG, JPEG or WebP header, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24:
        w, h = struct.unpack(">II", data[16:24])
        return "png", w, h
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            seg = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return "jpeg", w, h
            i += 2 + seg
        return None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        chunk = data[12:16]
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return "webp", w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            b = data[21:25]
            w = 1 + (((b[1] & 0x3F) << 8) | b[0])
            h = 1 + (((b[3] & 0xF) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
            return "webp", w, h
        if chunk == b"VP8X":
            w = 1 + int.from_bytes(data[24:27], "little")
            h = 1 + int.from_bytes(data[27:30], "little")
            return "webp", w, h
    return None


class Slow:
    """One connection that sends its request a byte at a time; .closed_at is when the server
    closed it (None while it is open)."""

    def __init__(self, port, body, source="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        self.opened = time.time()
        self.closed_at = None
        if body:  # complete headers, then a body that never ends
            self.sock.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                              b"Content-Length: 100000\r\n\r\n")
            self.rest = b"\x89" * 100000
        else:  # headers that never end
            self.rest = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 1000
        self.sock.setblocking(False)

    def poll(self):
        """Returns True while the connection is open."""
        if self.closed_at is not None:
            return False
        try:
            if self.sock.recv(4096) == b"":
                raise ConnectionResetError
        except BlockingIOError:
            pass
        except OSError:
            self.closed_at = time.time()
            self.sock.close()
            return False
        return True

    def trickle(self):
        if self.poll():
            try:
                self.sock.send(self.rest[:1])
                self.rest = self.rest[1:]
            except BlockingIOError:
                pass
            except OSError:
                self.closed_at = time.time()
                self.sock.close()


def open_slow(port, n, source="127.0.0.1"):
    conns = []
    for i in range(n):
        try:
            conns.append(Slow(port, i % 2 == 1, source))
        except OSError:
            pass  # refused at once: that is allowed
    return conns


def trickler(conns, stop, trickle_s=2.0):
    """A byte from each connection every trickle_s; watches for closes every 0.1 s."""
    last = 0
    while not stop.is_set():
        send = time.time() - last >= trickle_s
        last = time.time() if send else last
        for c in conns:
            c.trickle() if send else c.poll()
        stop.wait(0.1)


class Runner:
    """A tiny test runner: run(name, fn) prints [  OK  ] / [ FAIL ] like the C harness."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn, *args):
        t0 = time.time()
        try:
            fn(*args)
            self.passed += 1
            print("[  OK  ] %s (%.1f s)" % (name, time.time() - t0), flush=True)
        except Exception as e:  # noqa: BLE001 - a test failure of any kind
            self.failed += 1
            print("[ FAIL ] %s: %s: %s" % (name, type(e).__name__, e), flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed or not self.passed else 0


def shared_dir(argv_dir):
    return os.environ.get("TOONIFY_SHARED", argv_dir)
