#!/usr/bin/python3
"""The service row of `make bench`: jobs per minute at 1024 px with 4 concurrent clients, and
the server's peak RSS during it.

Starts `toonify serve` on a free loopback port, has 4 client threads each send JOBS photos to
the synchronous endpoint (so the queue and the admission are exercised), and prints one row.
Usage: bench/service_bench.py [--toonify build/toonify] [--models DIR] [--jobs 3] [--size 1024]
"""
import argparse
import os
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "service"))
import svc  # noqa: E402  (the tests' server helper: start, HTTP, multipart)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toonify", default=os.path.join(REPO, "build", "toonify"))
    ap.add_argument("--models", default=os.path.join(REPO, "models"))
    ap.add_argument("--image", default=os.path.join(REPO, "build", "bench-inputs", "in_1024.jpg"))
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=3, help="jobs per client")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--mode", default="hd")
    args = ap.parse_args()
    if not os.path.exists(args.image):
        print("missing %s: run bench/bench.py first (it makes the inputs)" % args.image)
        return 2
    with open(args.image, "rb") as f:
        photo = f.read()
    work = tempfile.mkdtemp(prefix="toonify-svc-bench-")
    server = svc.Server(args.toonify, os.path.join(work, "outputs"), os.path.join(work, "log"),
                        args=["-q"], models=args.models)
    results, lock = [], threading.Lock()

    def client():
        for _ in range(args.jobs):
            body, ctype = svc.multipart([("size", str(args.size)), ("mode", args.mode)],
                                        [("file", "photo.jpg", photo, "image/jpeg")])
            t0 = time.time()
            st, _, data = server.request("POST", "/api/v1/cartoonize", body,
                                         {"Content-Type": ctype}, timeout=600)
            with lock:
                results.append((st, time.time() - t0, len(data)))

    try:
        t0 = time.time()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - t0
        st, _, status = server.json("GET", "/api/v1/status")
        mem = status.get("memory", {}) if st == 200 and status else {}
    finally:
        server.stop()
    ok = sum(1 for r in results if r[0] == 200)
    lat = sorted(r[1] for r in results if r[0] == 200)
    print("service: %d clients x %d jobs, %d px, mode %s: %d/%d ok in %.1f s = %.1f jobs/min, "
          "median latency %.1f s, server peak RSS %.1f MB (limit %.0f MB)"
          % (args.clients, args.jobs, args.size, args.mode, ok, len(results), wall,
             60.0 * ok / wall if wall > 0 else 0, lat[len(lat) // 2] if lat else 0,
             mem.get("peak_rss_bytes", 0) / 1e6, mem.get("limit_bytes", 0) / 1e6))
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
