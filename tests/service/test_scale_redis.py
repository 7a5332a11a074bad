#!/usr/bin/env python3
"""Scale-out test: redis-server, nginx (deploy/nginx-toonify.conf), two `toonify serve --redis`
replicas and `toonify worker --redis` processes, all started here on loopback ports.
Usage: test_scale_redis.py TOONIFY SOURCE_DIR SHARED_DIR WORK_DIR

0. Before any worker runs: /readyz says no worker, and jobs are refused with 503 at once.
1. 30 jobs submitted through nginx; one worker killed with SIGKILL while it runs a job; every
   job ends exactly once (Redis's done counter is 30), its result equals the CLI's output for the
   same photo and parameters byte for byte, and both replicas answer the same for every job.
2. A worker that cannot hold a job leaves it for a bigger one and says so in the job's note.
3. A batch with Redis killed (SIGKILL) and restarted from its AOF in the middle: every accepted
   job completes, the ZIP holds every result.
4. SIGTERM with no grace hands a running job back to another worker; DELETE cancels a running
   job on its worker; the page loads through nginx.
Needs redis-server and nginx (Debian packages; .ci/run installs them): fails, never skips,
without them."""
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Runner, Server, image_size, multipart  # noqa: E402

EXE, SRC, SHARED, WORK = sys.argv[1:5]
MODELS = os.path.join(SRC, "models")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
T = Runner()
CLAIM_MS = 3000


def check(cond, msg=""):
    if not cond:
        raise AssertionError(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %d" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not open port %d" % (what, port))


# ---- the photos and their expected results (the CLI, same engine) ----

PHOTOS = [os.path.join(SHARED, "images", "astronaut.png")]
PHOTOS += [os.path.join(MODELS, "demo", "sample%d.jpg" % i) for i in range(1, 7)]
for p in PHOTOS:
    check(os.path.exists(p), "missing %s (run tools/fetch-models.sh)" % p)
DATA = [open(p, "rb").read() for p in PHOTOS]
SIZE = 256
MODES = ["plain", "hd"]


def expected(i, mode):
    out = os.path.join(WORK, "ref_%d_%s.png" % (i, mode))
    if not os.path.exists(out):
        subprocess.run([EXE, PHOTOS[i], "--size", str(SIZE), "--mode", mode, "--model", MODELS,
                        "-o", out], check=True, stderr=subprocess.DEVNULL)
    return open(out, "rb").read()


# ---- the processes ----

REDIS_PORT = free_port()
REDIS_DIR = os.path.join(WORK, "redis")
os.makedirs(REDIS_DIR)
URL = "redis://127.0.0.1:%d/0" % REDIS_PORT
redis = None


def start_redis():
    global redis
    log = open(os.path.join(WORK, "redis.log"), "ab")
    # appendfsync always: an accepted job is on disk before the replica answers 202.
    redis = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                              "--dir", REDIS_DIR, "--appendonly", "yes", "--appendfsync",
                              "always", "--save", ""], stdout=log, stderr=log)
    wait_port(REDIS_PORT, redis, "redis-server")


def redis_cli(*args):
    r = subprocess.run(["redis-cli", "-p", str(REDIS_PORT)] + list(args), capture_output=True,
                       text=True, check=True)
    return r.stdout.strip()


workers = {}


def start_worker(name, *extra):
    log = open(os.path.join(WORK, "worker-%s.log" % name), "ab")
    wdir = os.path.join(WORK, "work-" + name)
    os.makedirs(wdir, exist_ok=True)
    p = subprocess.Popen([EXE, "worker", "--redis", URL, "--models", MODELS, "--threads", "1",
                          "--claim-idle", str(CLAIM_MS), "--note-after", "2", "--work", wdir,
                          "-v"] + list(extra), stdout=log, stderr=log)
    workers[name] = p
    # Its name in job records: host-pid-consumer.
    deadline = time.time() + 60
    while time.time() < deadline:
        if p.poll() is not None:
            raise RuntimeError("worker %s exited: %s" % (name, open(log.name).read()))
        if "room for" in open(log.name, errors="replace").read():
            return p
        time.sleep(0.05)
    raise RuntimeError("worker %s did not start" % name)


def worker_prefix(p):
    return "%s-%d-" % (socket.gethostname(), p.pid)


start_redis()
replicas = [Server(EXE, os.path.join(WORK, "out%d" % i), os.path.join(WORK, "serve%d.log" % i),
                   models=MODELS, args=["--redis", URL, "--queue", "200", "--timeout", "60"])
            for i in (1, 2)]

NGINX_PORT = free_port()
conf = open(os.path.join(SRC, "deploy", "nginx-toonify.conf")).read()
check("127.0.0.1:7861" in conf and "127.0.0.1:7862" in conf and "listen 127.0.0.1:7860" in conf,
      "deploy/nginx-toonify.conf no longer has the replica lines this test replaces")
conf = conf.replace("127.0.0.1:7861", "127.0.0.1:%d" % replicas[0].port)
conf = conf.replace("127.0.0.1:7862", "127.0.0.1:%d" % replicas[1].port)
conf = conf.replace("listen 127.0.0.1:7860", "listen 127.0.0.1:%d" % NGINX_PORT)
NGINX_PREFIX = os.path.join(WORK, "nginx")
os.makedirs(NGINX_PREFIX)
open(os.path.join(NGINX_PREFIX, "nginx.conf"), "w").write(conf)
nginx_log = open(os.path.join(WORK, "nginx.log"), "ab")
nginx = subprocess.Popen(["nginx", "-p", NGINX_PREFIX, "-c", os.path.join(NGINX_PREFIX, "nginx.conf"),
                          "-e", "stderr", "-g", "daemon off;"], stdout=nginx_log, stderr=nginx_log)
wait_port(NGINX_PORT, nginx, "nginx")


class Front(Server):
    """nginx's port, spoken to like a server."""

    def __init__(self, port):  # noqa: D107 - no process of its own
        self.port = port


front = Front(NGINX_PORT)


def get_json(srv, path, tolerate=(502, 503, 504)):
    """GET that waits out a restarting Redis (503) or replica (502)."""
    deadline = time.time() + 60
    while True:
        try:
            st, h, j = srv.json("GET", path, timeout=30)
        except (ConnectionError, OSError):
            st, j = 0, None
        if st == 200:
            return j
        if (st in tolerate or st == 0) and time.time() < deadline:
            time.sleep(0.2)
            continue
        raise AssertionError("GET %s: %d %s" % (path, st, j))


def submit(i, mode, size=SIZE):
    body, ct = multipart([("size", str(size)), ("mode", mode)],
                         [("file", os.path.basename(PHOTOS[i]), DATA[i], "application/octet-stream")])
    st, h, j = front.json("POST", "/api/v1/jobs", body, {"Content-Type": ct})
    check(st == 202, "submit: %d %s" % (st, j))
    return j["id"]


def wait_all(ids, timeout=300):
    deadline = time.time() + timeout
    pending = set(ids)
    while pending and time.time() < deadline:
        for jid in list(pending):
            j = get_json(front, "/api/v1/jobs/" + jid)
            if j["state"] in ("done", "failed", "cancelled"):
                pending.discard(jid)
        time.sleep(0.2)
    check(not pending, "%d jobs did not end in %d s: %s" % (len(pending), timeout, sorted(pending)[:3]))


def status():
    return get_json(front, "/api/v1/status")["redis"]


# ---- 0: no worker yet ----

def t_no_worker_not_ready():
    # Ready means a job can complete: with Redis up but no worker alive, /readyz says why, and
    # a job is refused at once (503, Retry-After) instead of waiting for a worker that may never
    # come (a /cartoonize used to wait its whole 600 s for a 504).
    check(not workers, "workers already started")
    for r in replicas:
        st, _, j = r.json("GET", "/readyz")
        check(st == 503 and j["reason"] == "no-worker" and "worker" in j["detail"], (st, j))
    body, ct = multipart([("size", "128"), ("mode", "plain")],
                         [("file", "a.png", DATA[0], "application/octet-stream")])
    for path in ("/api/v1/cartoonize", "/api/v1/jobs", "/api/v1/batches"):
        t0 = time.time()
        st, h, j = front.json("POST", path, body, {"Content-Type": ct}, timeout=20)
        check(st == 503 and "no worker" in j["detail"] and int(h.get("retry-after", 0)) >= 1,
              (path, st, h, j))
        check(time.time() - t0 < 10, "%s took %.1f s to refuse" % (path, time.time() - t0))
    check(status()["unfinished"] == 0, "a refused job was queued: %s" % status())


# ---- 1: 30 jobs, a worker killed ----

jobs = []  # (id, photo index, mode)
killed = {}


def t_thirty_jobs_one_worker_killed():
    a = start_worker("a")
    start_worker("b")
    st = status()
    check(len(st["workers"]) == 2, st)
    st, _, j = front.json("GET", "/readyz")
    check(st == 200 and j["status"] == "ready", (st, j))
    for n in range(30):
        i, mode = n % len(PHOTOS), MODES[(n // len(PHOTOS)) % 2]
        jobs.append((submit(i, mode), i, mode))
    # Kill worker a while it runs a job.
    prefix = worker_prefix(a)
    deadline = time.time() + 120
    victim = None
    while victim is None and time.time() < deadline:
        for j in get_json(front, "/api/v1/jobs?limit=100")["jobs"]:
            if j["state"] == "running" and j.get("worker", "").startswith(prefix):
                victim = j["id"]
                break
        else:
            time.sleep(0.05)
    check(victim, "worker a never ran a job")
    a.send_signal(signal.SIGKILL)
    a.wait()
    killed["job"] = victim
    killed["prefix"] = prefix
    start_worker("c")  # a replacement, as an orchestrator would start
    wait_all([j[0] for j in jobs])
    for jid, i, mode in jobs:
        j = get_json(front, "/api/v1/jobs/" + jid)
        check(j["state"] == "done", (jid, j["state"], j.get("error")))
        st, h, data = front.request("GET", "/api/v1/jobs/%s/result" % jid)
        check(st == 200, (jid, st))
        check(image_size(data) is not None, "result of %s is not an image" % jid)
        check(data == expected(i, mode),
              "result of %s (%s, %s) differs from the CLI's" % (jid, PHOTOS[i], mode))
    v = get_json(front, "/api/v1/jobs/" + victim)
    check(v["attempts"] >= 2 and not v["worker"].startswith(prefix),
          "the killed worker's job was not run again by another: %s" % v)
    st = status()
    check(st["counts"].get("done") == 30, "done counter %s, expected exactly 30" % st["counts"])
    check(st["counts"].get("reclaimed", 0) >= 1, st["counts"])
    check(st["unfinished"] == 0 and st["taken"] == 0, st)


def t_both_replicas_answer():
    check(jobs, "no jobs from the first test")
    for jid, _, _ in jobs:
        a = get_json(replicas[0], "/api/v1/jobs/" + jid)
        b = get_json(replicas[1], "/api/v1/jobs/" + jid)
        check(a == b and a["state"] == "done", (a, b))
        st1, _, d1 = replicas[0].request("GET", "/api/v1/jobs/%s/result" % jid)
        st2, _, d2 = replicas[1].request("GET", "/api/v1/jobs/%s/result" % jid)
        check(st1 == st2 == 200 and d1 == d2, jid)
    h1 = get_json(replicas[0], "/api/v1/history?limit=100")["items"]
    h2 = get_json(replicas[1], "/api/v1/history?limit=100")["items"]
    check(len(h1) >= 30 and [x["id"] for x in h1] == [x["id"] for x in h2], (len(h1), len(h2)))
    st, _, j = replicas[1].json("GET", "/api/v1/jobs/" + "0" * 32)
    check(st == 404, (st, j))


# ---- 2: a job too big for one worker waits for a bigger one ----

def t_small_worker_leaves_big_job():
    for name in list(workers):
        if workers[name].poll() is None:
            workers[name].send_signal(signal.SIGTERM)
            check(workers[name].wait(60) == 0, "worker %s did not stop cleanly" % name)
    small = start_worker("small", "--memory-limit", "90M")
    big = start_worker("big")
    # The big worker pauses (as if swapped out or busy elsewhere): it is still registered, so the
    # replicas accept a job only it can hold, and the small worker is the one that reads it.
    big.send_signal(signal.SIGSTOP)
    try:
        target = submit(1, "plain", 1024)
        noted, j = None, None
        deadline = time.time() + 60
        while not noted and time.time() < deadline:
            j = get_json(front, "/api/v1/jobs/" + target)
            check(j["state"] == "queued", "the small worker took a job it cannot hold: %s" % j)
            if "waiting for a worker with room" in j.get("note", ""):
                noted = j["note"]
            time.sleep(0.1)
        check(noted and worker_prefix(small).rstrip("-") in noted,
              "the small worker never said it left the job: %s" % j)
    finally:
        big.send_signal(signal.SIGCONT)
    wait_all([target])
    j = get_json(front, "/api/v1/jobs/" + target)
    check(j["state"] == "done" and j["worker"].startswith(worker_prefix(big)), j)
    small.send_signal(signal.SIGTERM)
    check(small.wait(60) == 0, "the small worker did not stop cleanly")


# ---- 3: Redis restarted from its AOF in the middle of a batch ----

def t_redis_restart_mid_batch():
    if "w2" not in workers:
        start_worker("w2")
    files = [("file", "p%02d_%s" % (n, os.path.basename(PHOTOS[n % len(PHOTOS)])),
              DATA[n % len(PHOTOS)], "application/octet-stream") for n in range(12)]
    body, ct = multipart([("size", str(SIZE)), ("mode", "plain")], files)
    st, h, b = front.json("POST", "/api/v1/batches", body, {"Content-Type": ct})
    check(st == 202 and b["total"] == 12, (st, b))
    bid = b["id"]
    deadline = time.time() + 120
    while time.time() < deadline:
        s = get_json(front, "/api/v1/batches/" + bid)
        if s["done"] >= 2:
            break
        time.sleep(0.05)
    check(s["done"] < 12, "the batch ended before Redis could be restarted: %s" % s["done"])
    redis.send_signal(signal.SIGKILL)
    redis.wait()
    st, _, _ = front.json("GET", "/api/v1/batches/" + bid)
    check(st == 503, "with Redis down a replica answered %d" % st)
    st, _, j = replicas[0].json("GET", "/readyz")
    check(st == 503 and "Redis" in j["detail"], (st, j))
    time.sleep(1)
    start_redis()
    deadline = time.time() + 300
    while time.time() < deadline:
        s = get_json(front, "/api/v1/batches/" + bid)
        if s["state"] == "done":
            break
        time.sleep(0.2)
    check(s["done"] == 12, "after the restart: %d done, %d failed, %d queued, %d running" %
          (s["done"], s["failed"], s["queued"], s["running"]))
    st, h, data = front.request("GET", "/api/v1/batches/%s/zip" % bid)
    check(st == 200, st)
    z = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(z.namelist())
    check(len(names) == 12, names)
    for n, name in enumerate(names):
        check(z.read(name) == expected(n % len(PHOTOS), "plain"), "%s differs from the CLI's" % name)
    # The first 30 jobs survived the restart too.
    for jid, _, _ in jobs[:5]:
        check(get_json(front, "/api/v1/jobs/" + jid)["state"] == "done", jid)


def wait_state(jid, pred, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        j = get_json(front, "/api/v1/jobs/" + jid)
        if pred(j):
            return j
        time.sleep(0.05)
    raise AssertionError("job %s: %s never happened: %s" % (jid, what, j))


def t_sigterm_hands_back_and_cancel():
    others = [p for p in workers.values() if p.poll() is None]
    for p in others:
        p.send_signal(signal.SIGSTOP)
    try:
        g = start_worker("g", "--grace", "0")
        prefix = worker_prefix(g)
        jid = submit(2, "plain", 1536)
        wait_state(jid, lambda j: j["state"] == "running" and j["worker"].startswith(prefix),
                   "running on worker g")
    finally:
        for p in others:
            p.send_signal(signal.SIGCONT)
    g.send_signal(signal.SIGTERM)
    check(g.wait(60) == 0, "worker g did not stop cleanly")
    j = wait_state(jid, lambda j: j["state"] in ("done", "failed", "cancelled"), "an end")
    check(j["state"] == "done" and not j["worker"].startswith(prefix) and j["attempts"] >= 2, j)
    # Cancelling a running job reaches its worker.
    jid = submit(3, "plain", 2048)
    wait_state(jid, lambda j: j["state"] == "running", "running")
    st, _, j = front.json("DELETE", "/api/v1/jobs/" + jid)
    check(st == 200, (st, j))
    j = wait_state(jid, lambda j: j["state"] in ("done", "failed", "cancelled"), "an end")
    check(j["state"] == "cancelled", j)
    st, _, j = front.json("GET", "/api/v1/jobs/%s/result" % jid)
    check(st == 410 and j["error"] == "cancelled", "result of a cancelled job: %d %s" % (st, j))
    # The page itself comes through the balancer too.
    st, h, data = front.request("GET", "/")
    check(st == 200 and b"<html" in data.lower(), st)


def t_stop_cleanly():
    for name, p in workers.items():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            check(p.wait(60) == 0, "worker %s: exit %s" % (name, p.returncode))
    for r in replicas:
        check(r.stop() == 0, "replica did not stop cleanly")
    # Only the killed worker, which could not say goodbye, may still be registered (live
    # workers remove it after a minute of silence; the replicas ignore it after 15 s).
    left = [n for n in redis_cli("HKEYS", "toonify:workers").split() if n]
    check(all(n + "-" == killed["prefix"] for n in left),
          "workers still registered after stopping: %s (killed: %s)" % (left, killed["prefix"]))
    for name in workers:
        text = open(os.path.join(WORK, "worker-%s.log" % name), errors="replace").read()
        for bad in ("Sanitizer", "runtime error:"):
            check(bad not in text, "worker %s log: %s" % (name, text[-2000:]))


def t_command_line():
    r = subprocess.run([EXE, "worker", "--models", MODELS], capture_output=True, text=True,
                       env=dict(os.environ, TOONIFY_REDIS_URL=""))
    check(r.returncode == 2 and "--redis URL is required" in r.stderr, (r.returncode, r.stderr))
    r = subprocess.run([EXE, "serve", "--claim-idle", "5"], capture_output=True, text=True)
    check(r.returncode == 2 and "--claim-idle is for `toonify worker`" in r.stderr, r.stderr)
    port = free_port()  # nothing listens there
    r = subprocess.run([EXE, "worker", "--models", MODELS], capture_output=True, text=True,
                       env=dict(os.environ, TOONIFY_REDIS_URL="redis://127.0.0.1:%d" % port))
    check(r.returncode == 10 and "cannot reach Redis" in r.stderr, (r.returncode, r.stderr))
    r = subprocess.run([EXE, "worker", "--models", MODELS, "--redis", "http://x"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "redis://" in r.stderr, (r.returncode, r.stderr))


try:
    T.run("command line: worker and serve options, unreachable Redis", t_command_line)
    T.run("no worker alive: not ready, jobs refused with 503", t_no_worker_not_ready)
    T.run("30 jobs through nginx, a worker killed, each ends once", t_thirty_jobs_one_worker_killed)
    T.run("both replicas answer every job the same", t_both_replicas_answer)
    T.run("a worker leaves a job it cannot hold to a bigger one", t_small_worker_leaves_big_job)
    T.run("Redis killed and restarted mid-batch loses no job", t_redis_restart_mid_batch)
    T.run("SIGTERM hands a running job back; cancel reaches the worker",
          t_sigterm_hands_back_and_cancel)
    T.run("workers and replicas stop cleanly", t_stop_cleanly)
finally:
    # nginx's master must stop its workers itself (SIGQUIT), or they outlive it.
    for p, sig in [(w, signal.SIGKILL) for w in workers.values()] + [(nginx, signal.SIGQUIT),
                                                                    (redis, signal.SIGTERM)]:
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    for r in replicas:
        r.kill()
sys.exit(T.finish())
