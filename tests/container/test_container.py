#!/usr/bin/env python3
"""The container of the Dockerfile under a 300 MB memory limit, as compose.yaml runs it: the
image's size, the service answering /healthz, 12 clients at once asking for 2048 and 4096 px
cartoons (each completes with an intact image or is refused 413/503 with a reason), no OOM kill
in the container's cgroup, and the HEALTHCHECK's own command passing afterwards.

Needs podman (or docker: $TOONIFY_ENGINE) and the image built from the Dockerfile:
    tools/container-context.sh ctx && podman build -t localhost/toonify:latest ctx
Sandboxes that forbid raising rlimits or run hybrid cgroups need flags for `run` in
$TOONIFY_RUN_FLAGS (e.g. "--ulimit nofile=1024:1024 --ulimit nproc=4096:4096") and
$TOONIFY_ENGINE_FLAGS (e.g. "--cgroup-manager=cgroupfs").

Usage: test_container.py IMAGE SHARED_DIR [PORT]"""
import http.client
import os
import shlex
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "service"))
from svc import image_size  # noqa: E402

IMAGE, SHARED = sys.argv[1], sys.argv[2]
PORT = int(sys.argv[3]) if len(sys.argv) > 3 else 17860
ENGINE = [os.environ.get("TOONIFY_ENGINE", "podman")] + shlex.split(
    os.environ.get("TOONIFY_ENGINE_FLAGS", ""))
LIMIT = 300 << 20
SIZES = [2048, 4096]
N_CLIENTS = 12


def engine(*args, check=True):
    r = subprocess.run(ENGINE + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        fail("%s: %s" % (" ".join(ENGINE + list(args)), r.stderr.strip()))
    return r.stdout.strip()


def fail(msg):
    print("[ FAIL ] container: " + msg)
    print("0 passed, 1 failed")
    sys.exit(1)


def request(method, path, body=None, headers=None, timeout=900):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def cgroup_file(cid, name):
    """A file of the container's memory cgroup (v1 or v2), read from the host."""
    pid = engine("inspect", "-f", "{{.State.Pid}}", cid)
    for line in open("/proc/%s/cgroup" % pid).read().splitlines():
        _, ctl, path = line.split(":", 2)
        for root in (["/sys/fs/cgroup/memory"] if "memory" in ctl.split(",") else
                     ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] if ctl == "" else []):
            f = root + path + "/" + name
            if os.path.exists(f):
                return open(f).read()
    return ""


def oom_kills(cid):
    for name in ("memory.oom_control", "memory.events"):
        for line in cgroup_file(cid, name).splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
    return 0


def main():
    size_mb = int(engine("image", "inspect", "-f", "{{.Size}}", IMAGE)) / 1e6
    print("image %s: %.0f MB" % (IMAGE, size_mb), flush=True)
    cid = engine("run", "-d", "--rm", "--network", "host", "--memory", "300m",
                 "--memory-swap", "300m", *shlex.split(os.environ.get("TOONIFY_RUN_FLAGS", "")),
                 IMAGE, "serve", "--host", "127.0.0.1", "--port", str(PORT), "--workers", "2",
                 "--queue", "2", "--sync-timeout", "900", "--outputs",
                 "/var/lib/toonify/outputs")
    try:
        run(cid, size_mb)
    finally:
        print(engine("logs", cid, check=False)[-1500:])
        engine("stop", "-t", "30", cid, check=False)


def run(cid, size_mb):
    for _ in range(100):
        try:
            if request("GET", "/healthz", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        fail("the service did not answer /healthz")
    st, _, body = request("GET", "/api/v1/status")
    print("status: %s" % body[:300].decode(errors="replace"), flush=True)
    if b'"limit_bytes":%d' % LIMIT not in body.replace(b" ", b""):
        fail("the service did not take the container's 300 MB limit: %r" % body[:300])
    photo = open(os.path.join(SHARED, "images", "astronaut.png"), "rb").read()
    results = [None] * N_CLIENTS

    def client(i):
        size = SIZES[i % 2]
        st, h, data = request("POST", "/api/v1/cartoonize?size=%d" % size, photo,
                              {"Content-Type": "image/png"})
        results[i] = (size, st, h, data)

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(N_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    elapsed = time.time() - t0
    problems, done, refused = [], 0, 0
    for i, r in enumerate(results):
        if r is None:
            problems.append("client %d got no answer" % i)
            continue
        size, st, h, data = r
        if st == 200:
            got = image_size(data)
            if not got or got[1:] != (size, size):
                problems.append("client %d: not a %d px PNG: %s" % (i, size, got))
            done += 1
        elif st in (413, 503) and b'"detail"' in data:
            refused += 1
        else:
            problems.append("client %d: HTTP %d %r" % (i, st, data[:200]))
    peak = cgroup_file(cid, "memory.max_usage_in_bytes") or cgroup_file(cid, "memory.peak")
    kills = oom_kills(cid)
    health = engine("healthcheck", "run", cid, check=False) if "podman" in ENGINE[0] else ""
    hc = subprocess.run(ENGINE + ["exec", cid, "bash", "-c",
                                  "exec 3<>/dev/tcp/127.0.0.1/%d && printf 'GET /healthz "
                                  "HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3" % PORT],
                        capture_output=True, text=True)
    print("image %.0f MB; %d completed, %d refused (413/503) in %.0f s; cgroup peak %d MB of "
          "300 MB; oom kills %d; healthz from inside: %s %s" % (
              size_mb, done, refused, elapsed, int(peak or 0) >> 20, kills, hc.stdout.strip(),
              health))
    if kills:
        problems.append("%d OOM kill(s)" % kills)
    if " 200 " not in hc.stdout:
        problems.append("the HEALTHCHECK command failed: %s %s" % (hc.stdout, hc.stderr))
    if done < 2:
        problems.append("fewer than 2 jobs completed")
    if problems:
        fail("; ".join(problems))
    print("[  OK  ] 12 clients at 2048/4096 px in a 300 MB container")
    print("1 passed, 0 failed")


main()
