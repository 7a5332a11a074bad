#!/usr/bin/env python3
"""Slow clients against `toonify serve` (issue 15, item 6): a trickle of bytes must not keep a
connection forever nor make the service unreachable.

Usage: test_slow_clients.py TOONIFY SHARED_DIR WORK_DIR
- 64 connections from 127.0.0.1 send their headers or their body one byte every 2 s (the
  default global connection limit is 64); meanwhile /healthz answers within 1 s every 0.2 s,
  /readyz too, and a normal job from another connection completes.
- Every slow connection is closed by its deadline (--header-timeout 3, --request-timeout 6
  here), counted from its first byte, although it was never idle for long.
- From one other address (127.0.0.2) at most --per-address (default 16) connections are held.
Runs in about 20 s."""
import os
import re
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Runner, Server, open_slow, trickler  # noqa: E402

EXE, SHARED, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
PHOTO = open(os.path.join(SHARED, "images", "astronaut.png"), "rb").read()
HEADER_S, REQUEST_S = 3, 6
N_SLOW = 64


def check(cond, msg=""):
    if not cond:
        raise AssertionError(msg)


def t_health_while_slow(srv):
    conns = open_slow(srv.port, N_SLOW)
    stop = threading.Event()
    threading.Thread(target=trickler, args=(conns, stop), daemon=True).start()
    job = {}

    def normal_job():
        try:
            st, _, j = srv.json("POST", "/api/v1/jobs?size=128", PHOTO, {"Content-Type": "image/png"},
                                timeout=10)
            job["submit"] = (st, j)
            if st == 202:
                job["end"] = srv.wait_job(j["id"], timeout=30)
        except Exception as e:  # noqa: BLE001 - reported below
            job["error"] = repr(e)

    worst, failures, polls = 0.0, [], 0
    t_job = threading.Thread(target=normal_job)
    t0 = time.time()
    t_job.start()
    try:
        while time.time() - t0 < REQUEST_S + 4:
            for path in ("/healthz", "/readyz"):
                t = time.time()
                try:
                    st, _, _ = srv.request("GET", path, timeout=1)
                    if st != 200:
                        failures.append("%s: %d" % (path, st))
                except OSError as e:
                    failures.append("%s after %.1f s: %r" % (path, time.time() - t0, e))
                worst = max(worst, time.time() - t)
                polls += 1
            time.sleep(0.2)
        t_job.join(30)
    finally:
        stop.set()
    print("   %d health polls, slowest %.3f s; %d of %d slow connections were accepted"
          % (polls, worst, sum(1 for c in conns if c.closed_at is None or c.closed_at - c.opened > 0.5),
             N_SLOW), flush=True)
    check(not failures, "health checks failed: %s" % failures[:5])
    check(worst < 1.0, "a health check took %.2f s" % worst)
    check(job.get("submit", (0,))[0] == 202, "the normal job was not accepted: %s" % job)
    check(job.get("end", {}).get("state") == "done", "the normal job did not complete: %s" % job)
    # Every slow connection is gone by its deadline (plus the reaper's period and some slack).
    for c in conns:
        c.poll()
    still = [c for c in conns if c.closed_at is None]
    check(not still, "%d slow connections are still open after %.0f s" % (len(still), time.time() - t0))
    late = [c.closed_at - c.opened for c in conns if c.closed_at - c.opened > REQUEST_S + 2]
    check(not late, "slow connections closed after %s s (deadline %d s)" % (late[:5], REQUEST_S))
    for c in conns:
        c.sock.close()
    st, _, text = srv.request("GET", "/metrics")
    closed = dict((reason, int(float(v))) for reason, v in re.findall(
        r'toonify_connections_closed_total\{reason="(\w+)"\} (\S+)', text.decode()))
    check(closed.get("deadline", 0) > 0 and closed.get("slowest", 0) > 0, closed)


def t_per_address(srv):
    # From an address that is not the loopback one a local proxy uses: bounded per address.
    conns = open_slow(srv.port, 24, source="127.0.0.2")
    time.sleep(0.5)
    open_now = [c for c in conns if c.poll()]
    for c in conns:
        c.sock.close()
    check(len(open_now) <= 16, "%d connections from one address held open (limit 16)" % len(open_now))
    check(len(open_now) >= 8, "only %d connections from 127.0.0.2 were accepted" % len(open_now))


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    T = Runner()
    srv = Server(EXE, os.path.join(WORK, "outputs"), os.path.join(WORK, "server.log"),
                 models=os.path.join(SHARED, "models"),
                 args=["--workers", "1", "--header-timeout", str(HEADER_S),
                       "--request-timeout", str(REQUEST_S)])
    try:
        T.run("health, readiness and a job while 64 clients trickle", t_health_while_slow, srv)
        T.run("connections per address", t_per_address, srv)
        st, _, _ = srv.request("GET", "/healthz", timeout=5)
        check(st == 200, "the server is unhealthy afterwards")
    finally:
        srv.stop()
    rc = T.finish()
    if rc:
        print("\n".join(srv.log_text().splitlines()[-40:]))
    sys.exit(rc)


main()
