#!/usr/bin/python3
"""Compares two runs of bench/bench.py: per (size, precision) row, the ratio B/A of each median.

Usage: bench/compare.py A.json B.json [--threshold 0.05]

A and B are files written by `bench.py --json FILE`, or saved bench.py output holding its
`SUMMARY {json}` line. A ratio above 1 means B took longer or used more memory. A change counts
(and is listed at the end of the row) when it is larger than the noise: the larger of --threshold
and each side's own spread between its fastest and slowest run, relative to its median. The
`vs ort` column divides toonify's time ratio by ONNX Runtime's, which cancels a host that was
simply slower during one of the runs. Uses only the Python standard library; never fails
because of a change, only on unreadable input (exit status 2).
"""

import argparse
import json
import sys

# (column, label in the change list, where the per-run samples are, and what a rise means).
METRICS = (
    ("cli_s", "toonify cli time", ("toonify", "wall_s"), "slower"),
    ("net_s", "toonify network time", ("toonify", "stages_s", "network"), "slower"),
    ("cpu_s", "toonify cpu time", ("toonify", "cpu_s"), "more cpu"),
    ("rss_MB", "toonify peak RSS", ("toonify", "rss_mb"), "more memory"),
    ("plan_MB", "toonify planned", ("toonify", "planned_mb"), "plans more"),
    ("ort_s", "ort time", ("ort", "net_s"), "slower"),
    ("ort_MB", "ort peak RSS", ("ort", "hwm_mb"), "more memory"),
)


def load(path):
    """Reads a summary from a JSON file or from a log that holds a `SUMMARY {json}` line."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        sys.exit(f"compare: {e}")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
        for line in text.splitlines():
            if line.startswith("SUMMARY {"):
                try:
                    data = json.loads(line[len("SUMMARY "):])
                except ValueError:
                    pass
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        sys.exit(f"compare: {path} holds no bench.py summary")
    return data


def samples(row, where):
    """Returns the per-run values at where (an engine, then keys inside each run record)."""
    engine = row.get(where[0])
    if not isinstance(engine, dict):
        return []
    out = []
    for run in engine.get("runs", []):
        # Failed runs carry no meaningful figures: bench.py marks them with errors.
        if run.get("errors"):
            continue
        v = run
        for key in where[1:]:
            v = v.get(key) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            out.append(float(v))
    return out


def median(v):
    v = sorted(v)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def spread(v):
    """Returns (max - min) / median of the runs, or 0 with fewer than two runs."""
    m = median(v)
    return (max(v) - min(v)) / m if len(v) > 1 and m else 0.0


def compare_row(a, b, threshold):
    """Returns ({column: B/A or None}, [changes beyond noise], vs-ort ratio or None)."""
    ratios, changes = {}, []
    for col, label, where, rise in METRICS:
        sa, sb = samples(a, where), samples(b, where)
        ma, mb = median(sa), median(sb)
        if ma is None or mb is None or ma == 0:
            ratios[col] = None
            continue
        r = mb / ma
        ratios[col] = r
        noise = max(threshold, spread(sa), spread(sb))
        if abs(r - 1) > noise:
            word = rise if r > 1 else {"slower": "faster", "more cpu": "less cpu",
                                       "more memory": "less memory",
                                       "plans more": "plans less"}[rise]
            changes.append(f"{label} {100 * (r - 1):+.0f}% ({word}, noise {100 * noise:.0f}%)")
    vs_ort = None
    if ratios.get("cli_s") and ratios.get("ort_s"):
        vs_ort = ratios["cli_s"] / ratios["ort_s"]
    return ratios, changes, vs_ort


def describe(meta):
    keys = ("commit", "date", "cpu", "isa", "kernels", "threads")
    return "  ".join(f"{k} {meta.get(k, '?')}" for k in keys)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", help="the baseline summary")
    p.add_argument("b", help="the summary to compare with it")
    p.add_argument("--threshold", type=float, default=0.05,
                   help="smallest relative change that counts (default 0.05)")
    args = p.parse_args()
    a, b = load(args.a), load(args.b)
    ma, mb = a.get("meta", {}), b.get("meta", {})
    print(f"A: {args.a}\n   {describe(ma)}")
    print(f"B: {args.b}\n   {describe(mb)}")
    for k in ("cpu", "isa", "kernels", "threads"):
        if ma.get(k) != mb.get(k):
            print(f"warning: {k} differs ({ma.get(k)} vs {mb.get(k)}): not like with like")
    print(f"B/A of medians; a change counts when beyond max({args.threshold:.0%}, each side's "
          "run spread).\n")

    cols = [m[0] for m in METRICS]
    head = f"{'size':>5} {'prec':<5} " + " ".join(f"{c:>7}" for c in cols) + f" {'vs ort':>7}"
    print(head + "  changes beyond noise")
    rows_b = {(r.get("size"), r.get("precision")): r for r in b["rows"]}
    seen = set()
    n_changes = 0
    for ra in a["rows"]:
        key = (ra.get("size"), ra.get("precision"))
        rb = rows_b.get(key)
        if rb is None:
            print(f"{key[0]:>5} {key[1]:<5} only in A")
            continue
        seen.add(key)
        ratios, changes, vs_ort = compare_row(ra, rb, args.threshold)
        n_changes += len(changes)
        cells = " ".join("      -" if ratios[c] is None else f"{ratios[c]:7.3f}" for c in cols)
        vs = "      -" if vs_ort is None else f"{vs_ort:7.3f}"
        print(f"{key[0]:>5} {key[1]:<5} {cells} {vs}  " + ("; ".join(changes) or "-"))
    for key in rows_b:
        if key not in seen:
            print(f"{key[0]:>5} {key[1]:<5} only in B")
    print(f"\n{n_changes} change(s) beyond noise.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
