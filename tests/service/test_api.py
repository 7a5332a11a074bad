#!/usr/bin/env python3
"""API tests of `toonify serve` over real HTTP on loopback, against servers this script starts.

Usage: test_api.py TOONIFY SHARED_DIR WORK_DIR
Covers: health, readiness, status, metrics, the page's assets; jobs (raw and multipart bodies,
poll, result, cancel); the synchronous endpoint; batches and their ZIP; errors (400, 404, 409,
413 upload limit, 413 memory with the size that fits, automatic downgrade, 415, 503 queue full
with Retry-After, 503 without a model); graceful shutdown and history after a restart.
Images are small (128-256 px) so the whole file runs in well under a minute on two cores."""
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Runner, Server, image_size, multipart  # noqa: E402

EXE, SHARED, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
MODELS = os.path.join(SHARED, "models")
PHOTO = open(os.path.join(SHARED, "images", "astronaut.png"), "rb").read()
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
OUT = os.path.join(WORK, "outputs")
T = Runner()
srv = Server(EXE, OUT, os.path.join(WORK, "server1.log"), models=MODELS,
             args=["--upload-limit", "4M", "--workers", "1", "--grace", "600"])
done_ids = []


def check(cond, msg=""):
    if not cond:
        raise AssertionError(msg)


def submit(path, body=PHOTO, headers=None):
    st, h, j = srv.json("POST", path, body, headers or {"Content-Type": "image/png"})
    check(st == 202, "expected 202, got %d %s" % (st, j))
    check(len(j["id"]) == 32 and all(c in "0123456789abcdef" for c in j["id"]), j["id"])
    return j


def t_health():
    st, _, j = srv.json("GET", "/healthz")
    check(st == 200 and j["status"] == "ok", (st, j))
    st, _, j = srv.json("GET", "/readyz")
    check(st == 200, (st, j))


def t_status():
    st, _, j = srv.json("GET", "/api/v1/status")
    check(st == 200, st)
    m = j["memory"]
    check(m["rss_bytes"] > 0 and m["limit_bytes"] >= m["rss_bytes"], m)
    check(j["queue"]["capacity"] == 16 and j["queue"]["workers"] == 1, j["queue"])
    names = [s["name"] for s in j["styles"]]
    check("whitebox_cartoon_gan_fp16" in names, names)
    check(sum(1 for s in j["styles"] if s["default"]) == 1, j["styles"])


def t_page():
    st, h, body = srv.request("GET", "/")
    check(st == 200 and h["content-type"].startswith("text/html") and b"toonify" in body, (st, h))
    for path, ctype in (("/app.js", "text/javascript"), ("/app.css", "text/css")):
        st, h, body = srv.request("GET", path)
        check(st == 200 and h["content-type"].startswith(ctype) and len(body) > 100, (path, st, h))
    st, _, j = srv.json("GET", "/nope.html")
    check(st == 404 and j["error"], (st, j))


def t_job_raw():
    j = submit("/api/v1/jobs?size=256&strength=0.8")
    check(j["state"] in ("queued", "running"), j)
    check(j["memory"]["planned_bytes"] > 0, j["memory"])
    j = srv.wait_job(j["id"])
    check(j["state"] == "done", j)
    check(j["progress"] == 1 and j["output"]["w"] == 256 and j["output"]["h"] == 256, j)
    check(j["timings"]["run_s"] > 0 and j["memory"]["rss_peak_bytes"] > 0, j)
    check(re.fullmatch(r"outputs_\d{14}(_\d+)?\.png", j["output"]["file"]), j)
    st, h, data = srv.request("GET", j["output"]["url"])
    check(st == 200 and h["content-type"] == "image/png", (st, h))
    check(image_size(data) == ("png", 256, 256), image_size(data))
    check(os.path.exists(os.path.join(OUT, j["output"]["file"])), "result not on disk")
    check(os.path.exists(os.path.join(OUT, j["output"]["file"][:-4] + ".json")), "no sidecar")
    done_ids.append(j["id"])


def t_job_multipart():
    body, ct = multipart([("size", "200"), ("format", "jpg"), ("quality", "80"), ("style", "whitebox_cartoon_gan_fp16")],
                         [("file", "me.png", PHOTO, "image/png")])
    j = submit("/api/v1/jobs", body, {"Content-Type": ct})
    j = srv.wait_job(j["id"])
    check(j["state"] == "done" and j["filename"] == "me.png", j)
    st, h, data = srv.request("GET", "/api/v1/jobs/%s/result?download=1" % j["id"])
    check(st == 200 and h["content-type"] == "image/jpeg" and "attachment" in h.get("content-disposition", ""), h)
    check(image_size(data) == ("jpeg", 200, 200), image_size(data))
    done_ids.append(j["id"])


def t_sync():
    st, h, data = srv.request("POST", "/api/v1/cartoonize?size=160&format=webp", PHOTO, {"Content-Type": "image/png"})
    check(st == 200 and h["content-type"] == "image/webp", (st, h, data[:200]))
    check(image_size(data) == ("webp", 160, 160), image_size(data))
    check(len(h.get("x-toonify-job", "")) == 32, h)


def t_cancel():
    # A long job occupies the only worker, so the second one is certainly still queued.
    long_job = submit("/api/v1/jobs?size=1536")
    queued = submit("/api/v1/jobs?size=128")
    st, _, j = srv.json("DELETE", "/api/v1/jobs/" + queued["id"])
    check(st == 200 and j["state"] == "cancelled", (st, j))
    st, _, j = srv.json("GET", "/api/v1/jobs/%s/result" % queued["id"])
    check(st == 410 and j["error"] == "cancelled" and "cancelled" in j["detail"], (st, j))
    st, _, j = srv.json("DELETE", "/api/v1/jobs/" + long_job["id"])
    check(st == 200, (st, j))
    j = srv.wait_job(long_job["id"], timeout=120)
    check(j["state"] in ("cancelled", "done"), j)


def t_result_not_ready():
    long_job = submit("/api/v1/jobs?size=1024")
    st, _, j = srv.json("GET", "/api/v1/jobs/%s/result" % long_job["id"])
    check(st == 409 and j["error"] == "not ready", (st, j))
    srv.json("DELETE", "/api/v1/jobs/" + long_job["id"])
    srv.wait_job(long_job["id"])


def t_batch_zip():
    files = [("files", "a.png", PHOTO, "image/png"), ("files", "b.png", PHOTO, "image/png"),
             ("files", "notes.txt", b"hello, not a photo", "text/plain")]
    body, ct = multipart([("size", "128"), ("format", "png")], files)
    st, _, b = srv.json("POST", "/api/v1/batches", body, {"Content-Type": ct})
    check(st == 202 and b["total"] == 3 and len(b["jobs"]) == 3, (st, b))
    deadline = time.time() + 120
    while time.time() < deadline:
        st, _, s = srv.json("GET", "/api/v1/batches/" + b["id"])
        check(st == 200, (st, s))
        if s["state"] == "done":
            break
        time.sleep(0.2)
    check(s["state"] == "done" and s["done"] == 2 and s["failed"] == 1, s)
    bad = [j for j in s["jobs"] if j["state"] == "failed"][0]
    check(bad["filename"] == "notes.txt" and bad["error"]["code"] == 415, bad)
    st, h, data = srv.request("GET", s["zip_url"])
    check(st == 200 and h["content-type"] == "application/zip", (st, h))
    z = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(z.namelist())
    check(names == ["001_a.png", "002_b.png"], names)
    for n in names:
        check(image_size(z.read(n)) == ("png", 128, 128), n)
    done_ids.extend(j["id"] for j in s["jobs"] if j["state"] == "done")


def t_result_names():
    # Results are named by the second they were submitted in, as the original service named them;
    # two in the same second get _2, _3... (decided without replacing), and each sidecar names its
    # own result.
    files = [("files", "n%d.png" % i, small_png(), "image/png") for i in range(3)]
    body, ct = multipart([("size", "64"), ("format", "png")], files)
    st, _, b = srv.json("POST", "/api/v1/batches", body, {"Content-Type": ct})
    check(st == 202, (st, b))
    jobs = [srv.wait_job(x if isinstance(x, str) else x["id"]) for x in b["jobs"]]
    names = [j["output"]["file"] for j in jobs]
    check(all(re.fullmatch(r"outputs_\d{14}(_[2-9])?\.png", n) for n in names), names)
    check(len(set(names)) == 3, names)
    # A suffix is taken only when every name before it in that second is (by a result of any
    # format: the sidecar claims the stem).
    on_disk = set(os.listdir(OUT))
    for n in names:
        k = int(n[23:-4]) if n[22:23] == "_" else 1
        for i in range(1, k):
            stem = n[:22] + ("_%d" % i if i > 1 else "")
            check(stem + ".json" in on_disk, (n, stem, sorted(on_disk)))
    for j in jobs:
        side = json.load(open(os.path.join(OUT, j["output"]["file"][:-4] + ".json")))
        check(side["id"] == j["id"] and side["output"]["file"] == j["output"]["file"], side)
        st, _, data = srv.request("GET", j["output"]["url"])
        check(st == 200 and image_size(data) == ("png", 64, 64), st)
    done_ids.extend(j["id"] for j in jobs)


def t_thumbnails():
    # ?thumb=N answers a JPEG whose longest side is N (clamped to 64..512, never upscaled),
    # cached in outputs/.thumbs/ (which the history ignores), and removed with its result.
    j = srv.wait_job(submit("/api/v1/jobs?size=384&format=webp")["id"])
    url = j["output"]["url"]
    st, h, data = srv.request("GET", url + "?thumb=128")
    check(st == 200 and h["content-type"] == "image/jpeg", (st, h, data[:200]))
    check(image_size(data) == ("jpeg", 128, 128), image_size(data))
    st, h, data = srv.request("GET", url + "?thumb=10")
    check(st == 200 and image_size(data) == ("jpeg", 64, 64), (st, image_size(data)))
    st, h, data = srv.request("GET", url + "?thumb=100000")
    check(st == 200 and image_size(data) == ("jpeg", 384, 384), (st, image_size(data)))
    stem = j["output"]["file"].rsplit(".", 1)[0]
    thumbs = sorted(os.listdir(os.path.join(OUT, ".thumbs")))
    check([t for t in thumbs if t.startswith(stem + "_")] == [stem + "_128.jpg", stem + "_512.jpg",
                                                              stem + "_64.jpg"], thumbs)
    st, h, again = srv.request("GET", url + "?thumb=128")
    check(st == 200 and image_size(again) == ("jpeg", 128, 128), st)
    st, _, d = srv.json("GET", "/api/v1/jobs/%s/result?thumb=128" % ("0" * 32))
    check(st == 404, (st, d))
    st, _, d = srv.json("DELETE", "/api/v1/history/" + j["id"])
    check(st == 200, (st, d))
    left = [t for t in os.listdir(os.path.join(OUT, ".thumbs")) if t.startswith(stem + "_")]
    check(left == [], left)


def t_delete_history():
    j = srv.wait_job(submit("/api/v1/jobs?size=96")["id"])
    name = j["output"]["file"]
    check(os.path.exists(os.path.join(OUT, name)), name)
    st, _, d = srv.json("DELETE", "/api/v1/history/" + j["id"])
    check(st == 200 and d["deleted"] == j["id"], (st, d))
    check(not os.path.exists(os.path.join(OUT, name)), "result still on disk")
    check(not os.path.exists(os.path.join(OUT, name[:-4] + ".json")), "sidecar still on disk")
    st, _, h = srv.json("GET", "/api/v1/history?limit=1000")
    check(j["id"] not in [x["id"] for x in h["items"]], "deleted job still listed")
    st, _, d = srv.json("GET", "/api/v1/jobs/" + j["id"])
    check(st == 404, (st, d))
    st, _, d = srv.json("DELETE", "/api/v1/history/" + j["id"])
    check(st == 404, (st, d))
    st, _, d = srv.json("DELETE", "/api/v1/history/" + "0" * 32)
    check(st == 404, (st, d))
    long_job = submit("/api/v1/jobs?size=1024")
    st, _, d = srv.json("DELETE", "/api/v1/history/" + long_job["id"])
    check(st == 409, (st, d))
    srv.json("DELETE", "/api/v1/jobs/" + long_job["id"])
    srv.wait_job(long_job["id"])


def t_style_display_names():
    st, _, j = srv.json("GET", "/api/v1/status")
    check(j["limits"]["max_pixels"] == 100000000 and j["limits"]["max_side"] == 16384, j["limits"])
    names = {s["name"]: s.get("display_name") for s in j["styles"]}
    check(names.get("whitebox_cartoon_gan_dr") == "Whitebox cartoon GAN (dynamic range)", names)
    check(names.get("whitebox_cartoon_gan_fp16") == "Whitebox cartoon GAN (FP16)", names)
    # A style directory of its own may name itself in toonify.json.
    d = os.path.join(WORK, "named-style")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(MODELS, "whitebox_cartoon_gan_fp16.tflite")
    if not os.path.exists(os.path.join(d, "g.tflite")):
        os.symlink(src, os.path.join(d, "g.tflite"))
    with open(os.path.join(d, "toonify.json"), "w") as f:
        json.dump({"name": "Sunny cartoon", "name_zh": "阳光卡通"}, f)
    s = Server(EXE, os.path.join(WORK, "out-named"), os.path.join(WORK, "server-named.log"), models=d)
    try:
        st, _, j = s.json("GET", "/api/v1/status")
        check(st == 200 and len(j["styles"]) == 1, j)
        check(j["styles"][0]["display_name"] == "Sunny cartoon", j["styles"])
        check(j["styles"][0]["display_name_zh"] == "阳光卡通", j["styles"])
    finally:
        s.stop()


def t_chinese_errors():
    zh = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8", "Content-Type": "text/plain"}
    st, _, j = srv.json("POST", "/api/v1/jobs", b"this is text, not an image", zh)
    check(st == 415 and j["error"] == "不支持的格式", (st, j))
    check(any("\u4e00" <= c <= "\u9fff" for c in j["detail"]), j)
    st, _, j = srv.json("GET", "/api/v1/jobs/" + "0" * 32, headers={"Accept-Language": "zh-Hans"})
    check(st == 404 and j["error"] == "未找到" and "detail_en" in j, (st, j))
    st, _, j = srv.json("GET", "/api/v1/nope", headers={"Accept-Language": "zh"})
    check(st == 404 and j["detail"] == "没有这个 API 路径", (st, j))
    # English stays the default, and a lower q for Chinese keeps English.
    for lang in (None, "en-US,zh;q=0.5", "zh;q=0"):
        st, _, j = srv.json("GET", "/api/v1/nope", headers={"Accept-Language": lang} if lang else {})
        check(st == 404 and j["error"] == "not found" and j["detail"] == "no such API route", (lang, j))


def t_errors():
    st, _, j = srv.json("POST", "/api/v1/jobs", b"this is text, not an image", {"Content-Type": "text/plain"})
    check(st == 415 and j["error"] and "PNG, JPEG or WebP" in j["detail"], (st, j))
    st, _, j = srv.json("POST", "/api/v1/jobs", PHOTO[:100], {"Content-Type": "image/png"})
    check(st in (415, 422), (st, j))
    st, _, j = srv.json("GET", "/api/v1/jobs/0123456789abcdef0123456789abcdef")
    check(st == 404 and j["error"] == "not found" and j["detail"], (st, j))
    st, _, j = srv.json("GET", "/api/v1/batches/00000000000000000000000000000000")
    check(st == 404, (st, j))
    st, _, j = srv.json("POST", "/api/v1/jobs?size=big", PHOTO, {"Content-Type": "image/png"})
    check(st == 400 and "size" in j["detail"], (st, j))
    st, _, j = srv.json("POST", "/api/v1/jobs?strength=2", PHOTO, {"Content-Type": "image/png"})
    check(st == 400 and "strength" in j["detail"], (st, j))
    st, _, j = srv.json("POST", "/api/v1/jobs?colour=blue", PHOTO, {"Content-Type": "image/png"})
    check(st == 400 and "unknown parameter" in j["detail"], (st, j))
    st, _, j = srv.json("POST", "/api/v1/jobs?style=nonesuch", PHOTO, {"Content-Type": "image/png"})
    check(st == 400 and "whitebox_cartoon_gan_fp16" in j["detail"], (st, j))
    st, _, j = srv.json("POST", "/api/v1/jobs", b"", {"Content-Type": "image/png"})
    check(st == 400 and "no image" in j["detail"], (st, j))
    body, ct = multipart([], [("file", "x.png", PHOTO, "image/png")])
    st, _, j = srv.json("POST", "/api/v1/jobs", body[:-30], {"Content-Type": ct})
    check(st == 400 and "multipart" in j["detail"], (st, j))
    st, _, j = srv.json("PUT", "/api/v1/status")
    check(st == 405, (st, j))
    st, _, j = srv.json("GET", "/api/v1/nothing")
    check(st == 404, (st, j))
    # Upload limit (4M here): refused from Content-Length before the body is sent (the client
    # asks with Expect: 100-continue, so the answer comes before any byte of the body).
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    sock.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                 b"Content-Length: 5242880\r\nExpect: 100-continue\r\n\r\n")
    resp = b""
    while b"}" not in resp:
        chunk = sock.recv(4096)
        if not chunk:
            break
        resp += chunk
    sock.close()
    check(resp.startswith(b"HTTP/1.1 413") and b"upload" in resp, resp[:300])


def t_chunked_413():
    """A chunked upload that passes the limit (4M here) is answered 413 at once and its
    connection closed: the server does not read the rest."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    sock.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"\x89" * 0x10000 + b"\r\n"
    sent, pending, resp, closed = 0, b"", b"", False
    sock.setblocking(False)
    while sent < (32 << 20) and not closed:  # 8 times the limit, and never the last chunk
        try:
            pending = pending or chunk
            k = sock.send(pending)
            pending = pending[k:]
            sent += k
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            closed = True
        try:
            data = sock.recv(65536)
            resp += data
            closed = closed or not data
        except BlockingIOError:
            pass
        except OSError:
            closed = True
    sock.close()
    check(resp.startswith(b"HTTP/1.1 413"), "no 413 while the body was still arriving (%d bytes "
          "sent): %r" % (sent, resp[:200]))
    check(b"4 MiB" in resp and b"connection: close" in resp.lower(), resp[:400])
    check(closed and sent < (12 << 20), "the server read %d bytes of a body over a 4 MiB limit" % sent)


def t_list_history():
    st, _, h = srv.json("GET", "/api/v1/history?limit=100")
    check(st == 200, st)
    ids = [j["id"] for j in h["items"]]
    for i in done_ids:
        check(i in ids, "done job %s missing from history" % i)
    check(all(j["state"] == "done" for j in h["items"]), "history lists only finished results")


def t_metrics():
    st, h, data = srv.request("GET", "/metrics")
    text = data.decode()
    check(st == 200 and h["content-type"].startswith("text/plain"), (st, h))
    for name in ("toonify_jobs_submitted_total", 'toonify_jobs_finished_total{state="done"}',
                 "toonify_memory_rss_bytes", "toonify_memory_limit_bytes", "toonify_queue_length",
                 'toonify_http_requests_total{code="2xx"}'):
        check(name in text, "missing " + name)
    done = [l for l in text.splitlines() if l.startswith('toonify_jobs_finished_total{state="done"}')][0]
    check(float(done.split()[-1]) >= 4, done)


def t_restart_history():
    # A job is running when SIGTERM arrives: the server lets it finish (grace), exits 0, and the
    # results, old and new, are listed again by the next server on the same outputs directory.
    j = submit("/api/v1/jobs?size=256")
    time.sleep(0.2)
    rc = srv.stop()
    check(rc == 0, "exit code %s" % rc)
    srv2 = Server(EXE, OUT, os.path.join(WORK, "server2.log"), models=MODELS)
    try:
        st, _, h = srv2.json("GET", "/api/v1/history?limit=200")
        ids = [x["id"] for x in h["items"]]
        for i in done_ids:
            check(i in ids, "job %s lost in the restart" % i)
        st, _, again = srv2.json("GET", "/api/v1/jobs/" + j["id"])
        check(st == 200 and again["state"] == "done", (st, again))
        st, hd, data = srv2.request("GET", "/api/v1/jobs/%s/result" % done_ids[0])
        check(st == 200 and image_size(data) == ("png", 256, 256), (st, hd))
        check(not [f for f in os.listdir(os.path.join(OUT, ".work"))], "leftover spool files")
    finally:
        srv2.stop()


def huge_png(w=60000, h=60000):
    """A valid PNG header declaring w x h pixels, with one tiny IDAT: a few hundred bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def small_png(w=48, h=48):
    """A w x h RGB gradient as a PNG: a few kilobytes, so many fit in one upload."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + b"".join(bytes((x * 5 % 256, y * 5 % 256, (x + y) * 3 % 256))
                                     for x in range(w)) for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def spooled():
    return [f for f in os.listdir(os.path.join(OUT, ".work")) if f.endswith(".in")]


def t_limits_at_submission():
    # The header's size is checked when the job is submitted: no 202, no queue slot, no spool.
    big = huge_png()
    check(len(big) < 300, len(big))
    before = srv.json("GET", "/api/v1/status")[2]["jobs"]["submitted"]
    st, _, j = srv.json("POST", "/api/v1/jobs", big, {"Content-Type": "image/png"})
    check(st == 413 and j["error"] == "too large" and "60000x60000" in j["detail"], (st, j))
    check(srv.json("GET", "/api/v1/status")[2]["jobs"]["submitted"] == before, "took a slot")
    check(not spooled(), "spooled: %s" % spooled())
    # In a batch the bad file gets its own error in the answer; the good one runs.
    body, ct = multipart([("size", "128"), ("mode", "plain")],
                         [("files", "ok.png", PHOTO, "image/png"), ("files", "huge.png", big, "image/png")])
    st, _, b = srv.json("POST", "/api/v1/batches", body, {"Content-Type": ct})
    check(st == 202 and b["total"] == 2 and len(b["jobs"]) == 2, (st, b))
    bad = b.get("failed", [])
    check(len(bad) == 1 and bad[0]["index"] == 1 and bad[0]["filename"] == "huge.png", b)
    check(bad[0]["code"] == 413 and "60000x60000" in bad[0]["detail"], b)
    st, _, j = srv.json("GET", "/api/v1/jobs/" + b["jobs"][1])
    check(st == 200 and j["state"] == "failed" and j["error"]["code"] == 413, (st, j))
    check(srv.wait_job(b["jobs"][0])["state"] == "done", "the good file of the batch")


def t_done_means_sidecar():
    # A job says done only once its result and its sidecar are both on disk: watch many small
    # jobs closely and look for the sidecar the moment each one is seen done (two batches, as
    # the queue holds 16).
    for _ in range(2):
        files = [("files", "s%02d.png" % i, small_png(), "image/png") for i in range(16)]
        body, ct = multipart([("size", "32"), ("mode", "plain")], files)
        st, _, b = srv.json("POST", "/api/v1/batches", body, {"Content-Type": ct})
        check(st == 202, (st, b))
        seen = set()
        deadline = time.time() + 120
        while len(seen) < 16 and time.time() < deadline:
            st, _, s = srv.json("GET", "/api/v1/batches/" + b["id"])
            for j in s["jobs"]:
                if j["state"] == "done" and j["id"] not in seen:
                    seen.add(j["id"])
                    side = os.path.join(OUT, j["output"]["file"].rsplit(".", 1)[0] + ".json")
                    check(os.path.exists(side), "job %s is done, its sidecar is not on disk" % j["id"])
                    check(json.load(open(side))["state"] == "done", side)
                check(j["state"] in ("queued", "running", "done"), j)
        check(len(seen) == 16, "%d of 16 done" % len(seen))


def plant_job(out, jid, name, batch=None, extra=None):
    """Writes a sidecar for a finished job whose result is `name` in `out`."""
    o = {"id": jid, "state": "done", "progress": 1, "filename": "x.png", "style": "s",
         "params": {"size": 64, "format": "png"}, "output": {"w": 64, "h": 64, "file": name, "bytes": 10},
         "timings": {"submitted": 1.0e9, "started": 1.0e9, "finished": 1.0e9 + 1}}
    if batch:
        o["batch"], o["index"] = batch, 0
    for path, v in (extra or {}).items():
        d = o
        for k in path[:-1]:
            d = d.setdefault(k, {})
        d[path[-1]] = v
    with open(os.path.join(out, name.rsplit(".", 1)[0] + ".json"), "w") as f:
        json.dump(o, f)


def t_result_symlink():
    # Results are opened without following links, and only regular files are served.
    out = os.path.join(WORK, "out-link")
    os.makedirs(out)
    secret = os.path.join(WORK, "secret.txt")
    open(secret, "wb").write(b"SECRET-" * 10)
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    os.symlink(secret, os.path.join(out, "outputs_20260101000000_aaaaaaaa.png"))
    plant_job(out, a, "outputs_20260101000000_aaaaaaaa.png", batch="d" * 32)
    open(os.path.join(out, "outputs_20260101000000_bbbbbbbb.png"), "wb").write(PHOTO)
    plant_job(out, b, "outputs_20260101000000_bbbbbbbb.png", batch="e" * 32)
    os.mkfifo(os.path.join(out, "outputs_20260101000000_cccccccc.png"))
    plant_job(out, c, "outputs_20260101000000_cccccccc.png")
    s = Server(EXE, out, os.path.join(WORK, "server-link.log"), models=MODELS)
    try:
        # b was a regular file at start-up, replaced by a link afterwards.
        os.unlink(os.path.join(out, "outputs_20260101000000_bbbbbbbb.png"))
        os.symlink(secret, os.path.join(out, "outputs_20260101000000_bbbbbbbb.png"))
        for jid, batch in ((a, "d" * 32), (b, "e" * 32), (c, None)):
            st, _, data = s.request("GET", "/api/v1/jobs/%s/result" % jid, timeout=10)
            check(st in (404, 410) and b"SECRET" not in data, (jid, st, data[:100]))
            if batch:
                st, _, data = s.request("GET", "/api/v1/batches/%s/zip" % batch, timeout=10)
                check(st != 200 and b"SECRET" not in data, (batch, st, data[:100]))
        st, _, j = s.json("GET", "/api/v1/jobs/" + a)
        check(st == 404, "a job whose result is a link was restored: %s" % j)
    finally:
        s.stop()


def t_sidecar_fifo():
    # A FIFO named like a sidecar must not hang start-up.
    out = os.path.join(WORK, "out-fifo")
    os.makedirs(out)
    os.mkfifo(os.path.join(out, "outputs_20260101000000_ffffffff.json"))
    t0 = time.time()
    s = Server(EXE, out, os.path.join(WORK, "server-fifo.log"), models=MODELS)
    try:
        check(time.time() - t0 < 30, "start-up took %.0f s" % (time.time() - t0))
        st, _, j = s.json("GET", "/readyz")
        check(st == 200, (st, j))
        check("outputs_20260101000000_ffffffff.json" in s.log_text(), "no log line for the FIFO")
    finally:
        s.stop()


def t_sidecar_numbers():
    # Every number read from a sidecar is checked; a bad sidecar is skipped with a log line.
    out = os.path.join(WORK, "out-nums")
    os.makedirs(out)
    good = "0" * 31 + "1"
    bad = {"0" * 31 + "2": {("output", "bytes"): -1},
           "0" * 31 + "3": {("input", "w"): 1.5},
           "0" * 31 + "4": {("timings", "finished"): 1e300},
           "0" * 31 + "5": {("memory", "planned_bytes"): 1e30},
           "0" * 31 + "6": {("params", "quality"): 1000},
           "0" * 31 + "7": {("output", "bytes"): "10"}}
    for jid, extra in [(good, {})] + list(bad.items()):
        name = "outputs_20260101000000_%s.png" % jid[-8:]
        open(os.path.join(out, name), "wb").write(PHOTO)
        plant_job(out, jid, name, extra=extra)
    s = Server(EXE, out, os.path.join(WORK, "server-nums.log"), models=MODELS)
    try:
        st, _, j = s.json("GET", "/api/v1/jobs/" + good)
        check(st == 200 and j["output"]["bytes"] == 10, (st, j))
        for jid in bad:
            st, _, j = s.json("GET", "/api/v1/jobs/" + jid)
            check(st == 404, "bad sidecar %s restored: %s" % (bad[jid], j))
            check(jid[-8:] + ".json" in s.log_text(), "no log line for %s" % bad[jid])
    finally:
        s.stop()


def chattr(flag, path):
    r = subprocess.run(["chattr", flag, path], capture_output=True, text=True)
    check(r.returncode == 0, "chattr %s %s: %s (the test needs a filesystem with the immutable "
          "attribute, and root)" % (flag, path, r.stderr))


def t_readyz_outputs_not_writable():
    # Root writes to read-only directories, so the outputs directory is made immutable instead.
    out = os.path.join(WORK, "out-ro")
    s = Server(EXE, out, os.path.join(WORK, "server-ro.log"), models=MODELS)
    try:
        st, _, j = s.json("GET", "/readyz")
        check(st == 200 and j["status"] == "ready", (st, j))
        chattr("+i", out)
        try:
            time.sleep(1.5)  # the check is cached for about a second
            st, _, j = s.json("GET", "/readyz")
            check(st == 503 and j["reason"] == "outputs-not-writable" and out in j["detail"], (st, j))
        finally:
            chattr("-i", out)
        time.sleep(1.5)
        st, _, j = s.json("GET", "/readyz")
        check(st == 200, (st, j))
    finally:
        s.stop()


def calibrated_server(name):
    """A server whose memory limit leaves about 64 MB for jobs beyond the idle server and the
    16 MB reserve: a 256 px job (about 41 MB planned) fits, a 4096 px one (about 92 MB) never
    does.  The idle server's size depends on the build (sanitizers inflate and vary it), so the
    limit is calibrated on the server's own baseline, restarting it until the room is right."""
    limit = 110 << 20
    for attempt in range(5):
        s = Server(EXE, os.path.join(WORK, "out-mem"), os.path.join(WORK, name + ".log"),
                   models=MODELS, args=["--memory-limit", str(limit)])
        m = s.json("GET", "/api/v1/status")[2]["memory"]
        room = m["limit_bytes"] - m["reserve_bytes"] - m["baseline_bytes"]
        if (48 << 20) <= room <= (80 << 20):
            return s
        s.stop()
        limit = m["baseline_bytes"] + m["reserve_bytes"] + (64 << 20)
    raise AssertionError("could not calibrate the memory limit: %s" % m)


def t_memory_413_and_downgrade():
    # Both answers come before any job has run (a finished job may raise the baseline).
    s = calibrated_server("server-mem")
    try:
        st, _, j = s.json("POST", "/api/v1/jobs?size=4096", PHOTO, {"Content-Type": "image/png"})
        check(st == 413 and j["error"] == "over the memory budget", (st, j))
        fit = j.get("fit_size", 0)
        check(0 < fit < 4096 and ("%d px would fit" % fit) in j["detail"], j)
        check("the memory limit is" in j["detail"], j)
        # The same job with downgrade on runs at that size and says so.
        st, _, j = s.json("POST", "/api/v1/jobs?size=4096&downgrade=true", PHOTO, {"Content-Type": "image/png"})
        check(st == 202 and j["downgraded"] and j["size"] == fit and "instead of 4096" in j["note"], (st, j))
        s.json("DELETE", "/api/v1/jobs/" + j["id"])
        s.wait_job(j["id"])
    finally:
        s.stop()
    # A size that fits is accepted and runs under the same limit.
    s = calibrated_server("server-mem2")
    try:
        st, _, j = s.json("POST", "/api/v1/jobs?size=256", PHOTO, {"Content-Type": "image/png"})
        check(st == 202, (st, j))
        check(s.wait_job(j["id"])["state"] == "done", "small job under the limit")
    finally:
        s.stop()


def t_concurrent_jobs_own_memory():
    """Each job's measured heap is its own, also while another job runs beside it."""
    s = Server(EXE, os.path.join(WORK, "out-two"), os.path.join(WORK, "server-two.log"),
               models=MODELS, args=["--workers", "2", "--threads", "1", "--grace", "0"])
    try:
        def run_jobs(n):
            ids = []
            for _ in range(n):
                st, _, j = s.json("POST", "/api/v1/jobs?size=512", PHOTO,
                                  {"Content-Type": "image/png"})
                check(st == 202, (st, j))
                ids.append(j["id"])
            jobs = [s.wait_job(i) for i in ids]
            check(all(j["state"] == "done" for j in jobs), jobs)
            return jobs

        alone = run_jobs(1)[0]["memory"]["measured_heap_bytes"]
        both = run_jobs(2)
        # Both ran at the same time (each started before the other finished).
        t = [(j["timings"]["started"], j["timings"]["finished"]) for j in both]
        check(t[0][0] < t[1][1] and t[1][0] < t[0][1], "the two jobs did not overlap: %s" % t)
        for j in both:
            m = j["memory"]["measured_heap_bytes"]
            check(abs(m - alone) <= alone / 8, "alone %d, beside another job %d (%s)" % (alone, m, t))
    finally:
        s.stop()


def t_queue_full_503():
    s = Server(EXE, os.path.join(WORK, "out-q"), os.path.join(WORK, "server-q.log"), models=MODELS,
               args=["--queue", "1", "--workers", "1", "--grace", "0"])
    try:
        codes, retry = [], []

        def client():
            st, h, j = s.json("POST", "/api/v1/jobs?size=1024", PHOTO, {"Content-Type": "image/png"})
            codes.append(st)
            if st == 503:
                retry.append(h.get("retry-after"))
                check("queue is full" in j["detail"], j)

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        # One runs, one waits, the rest are refused (at least 4 of the 6, since the first job
        # takes seconds and the six requests milliseconds).
        check(codes.count(202) <= 2 and codes.count(503) >= 4, codes)
        check(all(r and int(r) >= 1 for r in retry), retry)
        st, _, j = s.json("GET", "/api/v1/status")
        check(j["queue"]["queued"] <= 1, j["queue"])
        st, _, j = s.json("GET", "/healthz")
        check(st == 200, "server still healthy")
    finally:
        rc = s.stop()
        check(rc == 0, "exit code %s after SIGTERM with --grace 0" % rc)


def t_no_model():
    empty = os.path.join(WORK, "no-models")
    os.makedirs(empty, exist_ok=True)
    s = Server(EXE, os.path.join(WORK, "out-none"), os.path.join(WORK, "server-none.log"), models=empty)
    try:
        st, _, j = s.json("GET", "/readyz")
        check(st == 503 and "fetch-models.sh" in j["detail"] and j["reason"] == "no-model", (st, j))
        st, _, j = s.json("GET", "/api/v1/status")
        check(not j["ready"] and "fetch-models.sh" in j["model_error"], j)
        st, h, j = s.json("POST", "/api/v1/jobs", PHOTO, {"Content-Type": "image/png"})
        check(st == 503 and "fetch-models.sh" in j["detail"], (st, j))
        st, _, body = s.request("GET", "/")
        check(st == 200, "the page is still served")
    finally:
        s.stop()


try:
    for name, fn in [("health and readiness", t_health), ("status", t_status), ("page assets", t_page),
                     ("job with a raw body", t_job_raw), ("job with a multipart body", t_job_multipart),
                     ("synchronous cartoonize", t_sync), ("cancel queued and running", t_cancel),
                     ("result before it is ready: 409", t_result_not_ready),
                     ("batch with a ZIP and a bad file", t_batch_zip), ("errors", t_errors),
                     ("result names: outputs_YYYYMMDDHHMMSS[_N]", t_result_names),
                     ("delete one history entry", t_delete_history),
                     ("thumbnails of results", t_thumbnails),
                     ("style display names and decode limits", t_style_display_names),
                     ("Accept-Language: zh answers in Chinese", t_chinese_errors),
                     ("header limits at submission", t_limits_at_submission),
                     ("done only with the sidecar on disk", t_done_means_sidecar),
                     ("chunked upload over the limit: 413 at once", t_chunked_413),
                     ("history lists finished jobs", t_list_history), ("metrics", t_metrics),
                     ("graceful stop, history after a restart", t_restart_history),
                     ("413 with the size that fits, downgrade", t_memory_413_and_downgrade),
                     ("queue full: 503 with Retry-After", t_queue_full_503),
                     ("two jobs at once, each its own memory", t_concurrent_jobs_own_memory),
                     ("no model: 503 and instructions", t_no_model),
                     ("results: no links, regular files only", t_result_symlink),
                     ("a FIFO sidecar does not hang start-up", t_sidecar_fifo),
                     ("sidecar numbers are checked", t_sidecar_numbers),
                     ("/readyz: outputs not writable", t_readyz_outputs_not_writable)]:
        T.run(name, fn)
finally:
    srv.kill()
rc = T.finish()
if rc:
    for f in sorted(os.listdir(WORK)):
        if f.endswith(".log"):
            print("---- %s (last 40 lines)" % f)
            print("\n".join(open(os.path.join(WORK, f), errors="replace").read().splitlines()[-40:]))
sys.exit(rc)
