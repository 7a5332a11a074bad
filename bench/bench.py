#!/usr/bin/python3
"""Benchmarks the toonify CLI against ONNX Runtime running the same network on the same photo.

What and why: toonify promises to be at least as fast as the engines people use today while
needing a small, planned amount of memory. This program measures both promises on this machine,
in one run, with the peer interleaved so that a noisy host slows both sides alike; people judge
the speed targets from its numbers, so it never fails because of speed. It fails (exit 1) only
when the toonify CLI fails or when a run breaks the memory-plan contract
(measured <= planned <= 1.5 x measured).

How: the inputs (the public-domain astronaut photo resized to N x N, as JPEG for toonify and as
PNG for ONNX Runtime's JS harness) are made once in build/bench-inputs/. Every toonify run is a
fresh process, JPEG in to PNG out through the CLI; every peer run is a fresh
`node run_ort.js ... --runs 1 --warmup 1`. Each process is started by a small measuring helper
(another Python interpreter, no modules) that forks, execs and reaps it with os.wait4, so the peak
RSS it reports belongs to that process alone: a child started straight from this interpreter would
inherit our own peak RSS, because Linux folds the pre-exec address space's peak into ru_maxrss.
One row per (size, precision) gives medians and the ratios against the peer; a JSON summary at the
end is what bench/compare.py reads.

Usage: bench/bench.py --toonify build/toonify [--sizes 512,1024] [--runs 3] [--precision fp32,fast]
       [--threads T] [--peer ort|none] [--quick] [--json FILE]
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile

FLOP_PER_PX = 249216  # Multiply-adds times two of the generator's convolutions, per pixel.
PLAN_SLACK = 1.5  # The plan may exceed the measured peak by at most this factor.
MIB = 1 << 20
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
SYSTEM_PYTHON = "/usr/bin/python3"
PRECISIONS = ("fp32", "fast")

# The measuring helper. It runs in a fresh interpreter (-I -S: no site packages, so its own
# address space stays near 5 MB), forks, execs argv in the child and reaps it with wait4, then
# writes wall time, CPU time and peak RSS as JSON to the file named by its first argument. A
# SIGALRM after the time limit kills the child, which then reads as timed out.
MEASURE_HELPER = r"""
import json, os, signal, sys, time
result_path, limit, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
timed_out = []
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    except OSError as e:
        os.write(2, ("cannot run %s: %s\n" % (argv[0], e)).encode())
    os._exit(127)
def on_alarm(signum, frame):
    timed_out.append(True)
    os.kill(pid, signal.SIGKILL)
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, limit)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
signal.setitimer(signal.ITIMER_REAL, 0)
with open(result_path, "w") as f:
    json.dump({"wall_s": wall, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
               "maxrss_kib": ru.ru_maxrss, "timed_out": bool(timed_out),
               "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
               "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}, f)
"""


def import_cv2():
    """Returns the cv2 module, re-running this script under Debian's Python when it lacks it."""
    try:
        import cv2  # noqa: F401 (numpy comes with it)

        return cv2
    except ImportError:
        pass
    # The `python3` on PATH may be a pyenv build without Debian's python3-opencv and python3-numpy.
    if (
        os.path.exists(SYSTEM_PYTHON)
        and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)
        and not os.environ.get("TOONIFY_BENCH_REEXEC")
    ):
        os.environ["TOONIFY_BENCH_REEXEC"] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit(
        "bench: needs OpenCV and numpy for Python (Debian: python3-opencv python3-numpy); "
        "run it with " + SYSTEM_PYTHON
    )


def median(values):
    """Returns the median of a list of numbers, or None for an empty list."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def ratio(num, den):
    return num / den if num is not None and den else None


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def read_text(path, limit=1 << 20):
    """Returns the last limit bytes of a file as text: the lines bench.py parses come last."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def with_tail(message, text, n=6):
    """Appends the last n lines of a process's output to a failure message."""
    lines = text.strip().splitlines()[-n:]
    return "\n".join([message] + ["    | " + line for line in lines])


def measure(argv, workdir, tag, timeout, env=None):
    """Runs argv as its own process through the measuring helper.

    Returns the helper's JSON (wall_s, user_s, sys_s, maxrss_kib, exit_code, signal, timed_out)
    plus cpu_s, rss_mb, the process's stdout and stderr text and ok (exited with status 0).
    """
    result_path = os.path.join(workdir, tag + ".json")
    out_path = os.path.join(workdir, tag + ".stdout")
    err_path = os.path.join(workdir, tag + ".stderr")
    if os.path.exists(result_path):
        os.remove(result_path)
    helper = [sys.executable, "-I", "-S", "-c", MEASURE_HELPER, result_path, str(timeout)]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        subprocess.run(helper + argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
    try:
        with open(result_path) as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = {"wall_s": None, "user_s": None, "sys_s": None, "maxrss_kib": None,
               "exit_code": None, "signal": None, "timed_out": False}
    res["stdout"] = read_text(out_path)
    res["stderr"] = read_text(err_path)
    res["cpu_s"] = (res["user_s"] + res["sys_s"]) if res["user_s"] is not None else None
    res["rss_mb"] = res["maxrss_kib"] / 1024 if res["maxrss_kib"] is not None else None
    res["ok"] = res["exit_code"] == 0
    return res


def describe_failure(res):
    if res["timed_out"]:
        return "timed out"
    if res["signal"] is not None:
        name = {9: "SIGKILL, out of memory?", 11: "SIGSEGV", 6: "SIGABRT"}.get(res["signal"], "")
        return f"killed by signal {res['signal']}" + (f" ({name})" if name else "")
    if res["exit_code"] is None:
        return "measuring helper failed"
    return f"exit status {res['exit_code']}"


MEMORY_RE = re.compile(r"^memory:\s+planned=(\d+)\s+measured=(\d+)", re.M)
TIME_RE = re.compile(r"^time:(.*)$", re.M)
STAGE_RE = re.compile(r"(\w+)=([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)s?\b")


def parse_verbose(stderr):
    """Returns (planned bytes, measured bytes) or None, and {stage: seconds} from --verbose."""
    memory = None
    m = MEMORY_RE.findall(stderr)
    if m:
        memory = (int(m[-1][0]), int(m[-1][1]))
    stages = {}
    t = TIME_RE.findall(stderr)
    if t:
        stages = {k: float(v) for k, v in STAGE_RE.findall(t[-1])}
    return memory, stages


def png_size(path):
    """Returns (w, h) from a PNG file's IHDR, or None when it is not a PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def run_toonify(args, size, precision, inputs, workdir, tag):
    """Runs the CLI once and returns a run record with its checks."""
    out_png = os.path.join(workdir, f"toonify_{size}_{precision}.png")
    if os.path.exists(out_png):
        os.remove(out_png)
    argv = [args.toonify, inputs[size]["jpg"], "-o", out_png, "--size", str(size),
            "--threads", str(args.threads), "--precision", precision, "--format", "png",
            "--mode", args.mode, "--verbose"]
    res = measure(argv, workdir, tag, args.timeout)
    run = {"ok": res["ok"], "wall_s": res["wall_s"], "cpu_s": res["cpu_s"],
           "rss_mb": res["rss_mb"], "planned_mb": None, "measured_mb": None, "stages_s": {},
           "errors": [], "plan_errors": []}
    if not res["ok"]:
        run["errors"].append(with_tail(describe_failure(res), res["stderr"]))
        return run
    dims = png_size(out_png)
    if dims is None:
        run["errors"].append("no PNG written to " + out_png)
    elif max(dims) != size:
        run["errors"].append(f"output is {dims[0]}x{dims[1]}, expected longest side {size}")
    memory, run["stages_s"] = parse_verbose(res["stderr"])
    if memory is None:
        run["plan_errors"].append("no 'memory: planned=... measured=...' line on stderr")
    else:
        planned, measured = memory
        run["planned_mb"], run["measured_mb"] = planned / MIB, measured / MIB
        if measured > planned:
            run["plan_errors"].append(f"measured {measured} > planned {planned} bytes")
        elif planned > PLAN_SLACK * measured:
            run["plan_errors"].append(f"planned {planned} > {PLAN_SLACK} x measured {measured}")
    run["ok"] = not run["errors"] and not run["plan_errors"]
    return run


ORT_RESULT_RE = re.compile(r"^RESULT (\{.*\})\s*$", re.M)


def run_ort(args, size, inputs, workdir, tag):
    """Runs ONNX Runtime's harness once (one warm-up and one timed session.run)."""
    env = dict(os.environ, NODE_PATH=args.node_modules)
    argv = [args.node, args.run_ort, inputs[size]["png"], "--runs", "1", "--warmup",
            str(args.ort_warmup), "--threads", str(args.threads), "--no-mempattern", "--out",
            os.path.join(workdir, f"ort_{size}.png")]
    res = measure(argv, workdir, tag, args.timeout, env=env)
    run = {"ok": False, "net_s": None, "cpu_s": None, "hwm_mb": None,
           "process_wall_s": res["wall_s"], "process_rss_mb": res["rss_mb"], "errors": []}
    m = ORT_RESULT_RE.findall(res["stdout"])
    if not res["ok"] or not m:
        why = describe_failure(res) if not res["ok"] else "no RESULT line"
        run["errors"].append(with_tail(why, res["stderr"] or res["stdout"]))
        return run
    result = json.loads(m[-1])
    run.update(ok=True, net_s=result["median_s"], cpu_s=result.get("cpu_median_s"),
               hwm_mb=result.get("hwm_mb"), version=result.get("version"))
    return run


def prepare_inputs(args):
    """Makes in_N.jpg (quality 95, for toonify) and in_N.png (for the peer) once per size."""
    os.makedirs(args.inputs_dir, exist_ok=True)
    src_mtime = os.path.getmtime(args.image)
    inputs, source = {}, None
    for size in args.sizes:
        paths = {ext: os.path.join(args.inputs_dir, f"in_{size}.{ext}") for ext in ("jpg", "png")}
        inputs[size] = paths
        if all(os.path.exists(p) and os.path.getmtime(p) >= src_mtime for p in paths.values()):
            continue
        cv2 = import_cv2()
        if source is None:
            source = cv2.imread(args.image, cv2.IMREAD_COLOR)
            if source is None:
                sys.exit(f"bench: cannot read {args.image}")
        h, w = source.shape[:2]
        if (w, h) == (size, size):
            img = source
        else:
            down = size * size < w * h
            img = cv2.resize(source, (size, size),
                             interpolation=cv2.INTER_AREA if down else cv2.INTER_CUBIC)
        for ext, path in paths.items():
            # Written under a temporary name first so that an interrupted run leaves no
            # half-written input behind; OpenCV picks the format from the extension.
            tmp = os.path.join(args.inputs_dir, f".tmp-in_{size}.{ext}")
            params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == "jpg" else []
            if not cv2.imwrite(tmp, img, params):
                sys.exit(f"bench: cannot write {tmp}")
            os.replace(tmp, path)
        log(f"bench: made {paths['jpg']} and {paths['png']}")
    return inputs


def command_output(argv, cwd=None):
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() if p.returncode == 0 else None


def git_commit():
    commit = command_output(["git", "rev-parse", "--short", "HEAD"], cwd=REPO)
    if commit is None:
        return "unknown"
    # --no-optional-locks keeps `git status` from rewriting the index while others work in it.
    status = command_output(
        ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"], cwd=REPO)
    return commit + ("-dirty" if status else "")


def proc_field(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def toonify_info(path):
    """Returns the `key: value` pairs `toonify info` prints, or None when it fails."""
    out = command_output([path, "info"])
    if out is None:
        return None
    info = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            info[key.strip()] = value.strip()
    return info


def find_node_modules(args):
    """Returns the node_modules folder that holds onnxruntime-node, or None."""
    candidates = [args.node_modules] if args.node_modules else (
        [os.path.join(args.peers_dir, "node_modules")]
        + [p for p in os.environ.get("NODE_PATH", "").split(os.pathsep) if p])
    for c in candidates:
        if os.path.exists(os.path.join(c, "onnxruntime-node", "package.json")):
            return os.path.abspath(c)
    return None


def package_version(node_modules, name):
    try:
        with open(os.path.join(node_modules, name, "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--toonify", default=os.path.join(REPO, "build", "toonify"),
                   help="the CLI to measure (default: build/toonify)")
    p.add_argument("--sizes", help="comma-separated N for N x N (default 512,1024,2048,4096)")
    p.add_argument("--runs", type=int, help="timed runs per size and engine (default 3)")
    p.add_argument("--precision", default="fp32,fast", help="comma-separated: fp32, fast")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="threads for both engines (default: the CPUs this process may use)")
    p.add_argument("--peer", choices=("ort", "none"), default="ort")
    p.add_argument("--mode", choices=("plain", "hd", "official"), default="plain",
                   help="toonify's mode (default plain: the generator over the whole photo, "
                        "the same work as the peer's)")
    p.add_argument("--quick", action="store_true", help="smoke test: sizes 512,1024, one run")
    p.add_argument("--json", metavar="FILE", help="also write the JSON summary to FILE")
    p.add_argument("--image", default=os.path.join(SHARED, "images", "astronaut.png"))
    p.add_argument("--inputs-dir", default=os.path.join(REPO, "build", "bench-inputs"))
    p.add_argument("--peers-dir", default=os.path.join(REPO, "build", "peers"),
                   help="where tools/setup_peers.sh installed the peers (default build/peers)")
    p.add_argument("--node-modules", help="node_modules holding onnxruntime-node (overrides "
                   "--peers-dir and $NODE_PATH)")
    p.add_argument("--run-ort", default=os.path.join(SHARED, "peers", "run_ort.js"))
    p.add_argument("--ort-warmup", type=int, default=1, help="untimed peer runs per process")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    args = p.parse_args()

    if args.sizes is None:
        args.sizes = "512,1024" if args.quick else "512,1024,2048,4096"
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error("--sizes takes comma-separated integers")
    if not args.sizes or any(s <= 0 or s % 4 for s in args.sizes):
        p.error("--sizes must be positive multiples of 4 (the peer needs H and W % 4 == 0)")
    args.precision = [s.strip() for s in args.precision.split(",") if s.strip()]
    if not args.precision or any(s not in PRECISIONS for s in args.precision):
        p.error("--precision takes a comma-separated list of fp32, fast")
    if args.runs < 1 or args.threads < 1:
        p.error("--runs and --threads must be at least 1")
    args.toonify = os.path.abspath(args.toonify)
    if not os.access(args.toonify, os.X_OK):
        p.error(f"{args.toonify} is not an executable (build it with `make`)")
    if not os.path.exists(args.image):
        p.error(f"{args.image} does not exist")
    if args.peer == "ort":
        args.node = shutil.which("node")
        args.node_modules = find_node_modules(args)
        if args.node is None:
            p.error("node is not installed (or pass --peer none)")
        if args.node_modules is None:
            p.error("onnxruntime-node is not installed: run tools/setup_peers.sh "
                    "(or pass --node-modules DIR, or --peer none)")
        if not os.path.exists(args.run_ort):
            p.error(f"{args.run_ort} does not exist")
    return args


def print_header(args, meta):
    lines = [
        f"toonify bench  {meta['date']}  commit {meta['commit']}",
        f"cpu: {meta['cpu']}  ({meta['cpus_online']} online, {meta['mem_total']} memory, "
        f"load {meta['loadavg']})",
        f"toonify: {args.toonify}  isa: {meta['isa']}  kernels: {meta['kernels']}",
        f"threads: {args.threads}  runs: {args.runs}  sizes: {args.sizes}  "
        f"precision: {','.join(args.precision)}",
        f"peer: {meta['peer']}",
        f"rss floor: {fmt(meta['rss_floor_mb'], 1)} MB (peak RSS the measuring helper reports "
        f"for /bin/true; smaller peaks read as this)",
        "",
        "What is timed:",
        "  cli_s  toonify, the whole CLI process: start, model load, JPEG decode, network and",
        "         PNG encode",
        "  net_s  toonify's own network time (`time: network=` in --verbose), if it prints one",
        f"  ort_s  ONNX Runtime's session.run alone, after {args.ort_warmup} warm-up run(s) in "
        "the same",
        "         process (PNG decode and tensor set-up excluded); fp32 only, so the fast rows",
        "         compare against ORT fp32",
        "Ratios, same run, interleaved: speed = ort_s / cli_s, net = ort_s / net_s (> 1: toonify",
        "  faster; net is like with like), mem = ort_MB / rss_MB (peaks of the whole processes).",
        f"GF/s = {FLOP_PER_PX} FLOP per pixel / cli_s (GF/s_n: / net_s). Medians over runs.",
        f"MB = 2^20 bytes. check: measured <= planned <= {PLAN_SLACK} x measured, from toonify's",
        "  --verbose `memory:` line; a failure there or of the CLI sets the exit status.",
    ]
    print("\n".join(lines))


COLUMNS = ("size", "prec", "cli_s", "cpu_s", "net_s", "rss_MB", "plan_MB", "ort_s", "ort_MB",
           "speed", "net", "mem", "GF/s", "GF/s_n", "check")
ROW_FMT = "{:>5} {:<5} {:>8} {:>7} {:>8} {:>7} {:>7} {:>8} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6}  {}"


def summarize_row(size, precision, t_runs, o_runs):
    """Builds one (size, precision) row from its toonify and peer runs."""
    good = [r for r in t_runs if r["errors"] == []]
    t = {"runs": t_runs}
    for key in ("wall_s", "cpu_s", "rss_mb", "planned_mb", "measured_mb"):
        t[key] = median([r[key] for r in good])
    stage_names = sorted({k for r in good for k in r["stages_s"]})
    t["stages_s"] = {k: median([r["stages_s"].get(k) for r in good]) for k in stage_names}
    t["network_s"] = t["stages_s"].get("network")
    flop = FLOP_PER_PX * size * size
    t["gflops"] = ratio(flop / 1e9, t["wall_s"])
    t["gflops_network"] = ratio(flop / 1e9, t["network_s"])

    o = None
    if o_runs is not None:
        ok = [r for r in o_runs if r["ok"]]
        o = {"runs": o_runs}
        for key in ("net_s", "cpu_s", "hwm_mb", "process_wall_s", "process_rss_mb"):
            o[key] = median([r[key] for r in ok])
        o["gflops"] = ratio(flop / 1e9, o["net_s"])
        o["version"] = next((r.get("version") for r in ok), None)

    flags = []
    failed = sum(1 for r in t_runs if r["errors"])
    if failed:
        flags.append(f"FAILED {failed}/{len(t_runs)}")
    plan_bad = sum(1 for r in t_runs if r["plan_errors"])
    if plan_bad:
        flags.append(f"PLAN CHECK FAILED {plan_bad}/{len(t_runs)}")
    if t["rss_mb"] and t["planned_mb"] and t["rss_mb"] > 1.05 * t["planned_mb"]:
        # Not a failure: the contract is about toonify's own figure, but a process peak above
        # the plan means something after the measurement, or outside it, was not planned.
        flags.append("note: process peak > planned")
    if o_runs is not None and any(not r["ok"] for r in o_runs):
        flags.append(f"ort failed {sum(1 for r in o_runs if not r['ok'])}/{len(o_runs)}")
    row = {
        "size": size, "precision": precision, "pixels": size * size, "toonify": t, "ort": o,
        "speed_ratio": ratio(o and o["net_s"], t["wall_s"]),
        "speed_ratio_network": ratio(o and o["net_s"], t["network_s"]),
        "memory_ratio": ratio(o and o["hwm_mb"], t["rss_mb"]),
        "flags": flags, "ok": not failed and not plan_bad,
    }
    return row


def print_row(row):
    t, o = row["toonify"], row["ort"] or {}
    check = "; ".join(row["flags"]) if row["flags"] else "ok"
    if not row["ok"]:
        check = "!!! " + check
    print(ROW_FMT.format(
        row["size"], row["precision"], fmt(t["wall_s"], 3), fmt(t["cpu_s"]),
        fmt(t["network_s"], 3), fmt(t["rss_mb"], 1), fmt(t["planned_mb"], 1),
        fmt(o.get("net_s"), 3), fmt(o.get("hwm_mb"), 0), fmt(row["speed_ratio"]),
        fmt(row["speed_ratio_network"]), fmt(row["memory_ratio"], 1), fmt(t["gflops"], 0),
        fmt(t["gflops_network"], 0), check), flush=True)


def main():
    args = parse_args()
    inputs = prepare_inputs(args)
    workdir = tempfile.mkdtemp(prefix="toonify-bench-")
    try:
        return bench(args, inputs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def bench(args, inputs, workdir):
    failures = []
    info = toonify_info(args.toonify)
    if info is None:
        failures.append("`toonify info` failed")
        info = {}
    mem_total = proc_field("/proc/meminfo", "MemTotal")
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": git_commit(),
        "cpu": proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cpus_online": os.cpu_count(),
        "mem_total": f"{int(mem_total.split()[0]) / MIB:.1f} GiB" if mem_total else "unknown",
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "isa": info.get("isa", "unknown"), "kernels": info.get("kernels", "unknown"),
        "toonify_info": info, "toonify": args.toonify, "threads": args.threads,
        "runs": args.runs, "sizes": args.sizes, "precisions": args.precision,
        "flop_per_pixel": FLOP_PER_PX, "plan_slack": PLAN_SLACK,
        "rss_floor_mb": measure(["/bin/true"], workdir, "floor", 60)["rss_mb"],
        "peer": "none",
    }
    if args.peer == "ort":
        node_version = command_output([args.node, "--version"]) or "unknown"
        versions = {name: package_version(args.node_modules, name)
                    for name in ("onnxruntime-node", "pngjs", "jpeg-js")}
        meta["peer"] = (f"ONNX Runtime (onnxruntime-node {versions['onnxruntime-node']}, "
                        f"node {node_version}, pngjs {versions['pngjs']}) from "
                        f"{args.node_modules}; memory pattern off")
        meta["peer_versions"] = dict(versions, node=node_version)
    print_header(args, meta)

    # One untimed run per precision puts the binary and the model file in the page cache.
    for precision in args.precision:
        run_toonify(args, args.sizes[0], precision, inputs, workdir, "warmup")

    print()
    print(ROW_FMT.format(*COLUMNS), flush=True)
    rows = []
    for size in args.sizes:
        t_runs = {p: [] for p in args.precision}
        o_runs = [] if args.peer == "ort" else None
        jobs = list(args.precision) + (["ort"] if args.peer == "ort" else [])
        for r in range(args.runs):
            # Each round runs every engine once, in an order that rotates from round to round,
            # so that a slow stretch of the host does not always land on the same engine.
            k = r % len(jobs)
            for job in jobs[k:] + jobs[:k]:
                where = f"[{size} run {r + 1}/{args.runs}]"
                if job == "ort":
                    run = run_ort(args, size, inputs, workdir, f"ort_{size}_{r}")
                    o_runs.append(run)
                    log(f"{where} ort {fmt(run['net_s'], 3)} s, peak {fmt(run['hwm_mb'], 0)} MB"
                        + ("" if run["ok"] else " FAILED: " + "; ".join(run["errors"])))
                    continue
                run = run_toonify(args, size, job, inputs, workdir, f"toonify_{size}_{job}_{r}")
                t_runs[job].append(run)
                problems = run["errors"] + run["plan_errors"]
                log(f"{where} toonify {job} {fmt(run['wall_s'], 3)} s, cpu {fmt(run['cpu_s'])} s,"
                    f" peak {fmt(run['rss_mb'], 1)} MB, planned {fmt(run['planned_mb'], 1)} MB"
                    + (" FAILED: " + "; ".join(problems) if problems else ""))
                failures += [f"{size} {job} run {r + 1}: {e}" for e in problems]
        for precision in args.precision:
            row = summarize_row(size, precision, t_runs[precision], o_runs)
            rows.append(row)
            print_row(row)

    summary = {"schema": "toonify-bench/1", "meta": meta, "rows": rows,
               "failures": failures, "ok": not failures}
    print()
    print("SUMMARY " + json.dumps(summary, separators=(",", ":")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
            f.write("\n")
    if failures:
        print(f"\nbench: FAILED ({len(failures)} problem(s)):", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("\nbench: ok (speed is for people to judge; the exit status covers failures and the "
          "memory plan)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
