#!/usr/bin/python3
"""The pupil finder's primitives and the five points' eyes against OpenCV itself.

spec/PIPELINE.md §5.3 defines the pupil as DCT-Net's find_pupil computes it with OpenCV;
src/face/pupil.c rewrites those OpenCV calls.  This script makes random cases, has
tests/face/pupil_tool.c run our code on them and runs cv2 (python3-opencv, Debian) on the same
bytes: cv2.cvtColor BGR2GRAY, cv2.equalizeHist, the threshold cv2.threshold picks with THRESH_OTSU, the mask of
cv2.fillConvexPoly, and the two eyes of the five points (the reference's rule written out
below), all expected equal to the last bit.

usage: test_pupil_cv2.py TOOL [--cases N] [--seed S]
"""
import argparse
import struct
import subprocess
import sys

try:
    import cv2
    import numpy as np
except ImportError as e:  # a clear failure, not a skip: tools/install-deps.sh installs them
    sys.exit(f"test_pupil_cv2: {e}; install python3-opencv and python3-numpy "
             "(tools/install-deps.sh)")


def i32(*v):
    return struct.pack(f"<{len(v)}i", *v)


def grey_values(rng, n):
    """Pixels with many ties: few levels, narrow ranges, flat, or the full range."""
    kind = rng.integers(5)
    if kind == 0:
        return rng.choice(rng.integers(0, 256, rng.integers(1, 6)), n).astype(np.uint8)
    if kind == 1:
        lo = rng.integers(0, 250)
        return rng.integers(lo, lo + rng.integers(1, 7), n).astype(np.uint8)
    if kind == 2:
        return np.full(n, rng.integers(0, 256), np.uint8)
    if kind == 3:
        return rng.integers(0, 256, n).astype(np.uint8)
    return np.clip(rng.normal(rng.uniform(40, 200), rng.uniform(1, 60), n), 0, 255).astype(np.uint8)


def case_grey(rng):
    w, h = (int(v) for v in rng.integers(1, 48, 2))
    rgb = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
    want = cv2.cvtColor(rgb[:, :, ::-1], cv2.COLOR_BGR2GRAY)
    return b"G" + i32(w, h) + rgb.tobytes(), w * h, \
        lambda out: np.array_equal(np.frombuffer(out, np.uint8).reshape(h, w), want)


def case_equalize(rng):
    w, h = rng.integers(1, 48, 2)
    px = grey_values(rng, w * h).reshape(h, w)
    return b"E" + i32(px.size) + px.tobytes(), px.size, \
        lambda out: np.array_equal(np.frombuffer(out, np.uint8), cv2.equalizeHist(px).ravel())


def case_otsu(rng):
    w, h = rng.integers(1, 48, 2)
    px = grey_values(rng, w * h).reshape(h, w)
    t = int(cv2.threshold(px, 100, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0])
    return b"O" + i32(px.size) + px.tobytes(), 4, \
        lambda out: struct.unpack("<i", out)[0] == t


def polygon_points(rng, w, h):
    n = int(rng.integers(3, 7))
    if rng.integers(4) == 0:  # anywhere, a few beyond the mask, any order
        pts = np.stack([rng.integers(-4, w + 5, n), rng.integers(-4, h + 5, n)], 1)
    else:  # in [0, w] x [0, h] as find_pupil's are, often convex and in order
        pts = np.stack([rng.integers(0, w + 1, n), rng.integers(0, h + 1, n)], 1)
        if rng.integers(2):
            c = pts.mean(0)
            pts = pts[np.argsort(np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0]))]
    return pts.astype(np.int32)


def case_polygon(rng):
    w, h = (int(v) for v in rng.integers(1, 40, 2))
    pts = polygon_points(rng, w, h)
    want = cv2.fillConvexPoly(np.zeros((h, w), np.uint8), pts, 1)
    data = b"P" + i32(w, h, len(pts)) + pts.astype("<i4").tobytes()
    return data, w * h, lambda out: np.array_equal(np.frombuffer(out, np.uint8).reshape(h, w), want)


def find_pupil(lm, bgr):
    """DCT-Net's find_pupil as spec/PIPELINE.md §5.3 states it; None for an invalid box."""
    h, w, _ = bgr.shape
    x0, x1 = int(lm[:, 0].min()), int(lm[:, 0].max())
    y0, y1 = int(lm[:, 1].min()), int(lm[:, 1].max())
    if y0 >= y1 or x0 >= x1 or y0 < 0 or x0 < 0 or y1 > h or x1 > w:
        return None
    grey = cv2.equalizeHist(cv2.cvtColor(bgr[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY))
    mask = cv2.fillConvexPoly(np.zeros_like(grey), (lm - [x0, y0]).astype(np.int32), 1)
    _, bright = cv2.threshold(grey, 100, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ys, xs = np.nonzero((bright == 0) & (mask == 1))
    if len(xs) == 0:
        return (x1 - x0) / 2 + x0, (y1 - y0) / 2 + y0
    return sorted(xs)[len(xs) // 2] + x0, sorted(ys)[len(ys) // 2] + y0


def eye_points(rng, w, h):
    """Six points around an eye-shaped ellipse; whole or fractional, sometimes off the picture."""
    cx, cy = rng.uniform(-3, w + 3), rng.uniform(-3, h + 3)
    rx, ry = rng.uniform(0, w / 3), rng.uniform(0, h / 4)
    a = np.array([180, 240, 300, 0, 60, 120]) + rng.uniform(-15, 15, 6)
    pts = np.stack([cx + rx * np.cos(np.radians(a)), cy + ry * np.sin(np.radians(a))], 1)
    if rng.integers(2):
        pts = np.trunc(pts)  # official landmarks are whole numbers
    return pts.astype(np.float32)


def eye_picture(rng, w, h):
    img = np.full((h, w, 3), rng.integers(120, 256, 3), np.uint8)
    for _ in range(rng.integers(0, 6)):
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        centre = tuple(int(v) for v in rng.integers(0, max(w, h), 2))
        axes = tuple(int(v) for v in rng.integers(1, 8, 2))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, c, -1)
    noise = rng.integers(-12, 13, img.shape)
    return np.clip(img.astype(int) + noise * rng.integers(2), 0, 255).astype(np.uint8)


def case_eyes(rng):
    w, h = (int(v) for v in rng.integers(6, 64, 2))
    rgb = eye_picture(rng, w, h)
    lm = np.concatenate([eye_points(rng, w, h), eye_points(rng, w, h)])
    official = int(rng.integers(2))
    n = 5 if official else 6
    left, right = lm[0:n].astype(np.float64), lm[6:6 + n].astype(np.float64)
    a, b = find_pupil(left, rgb[:, :, ::-1]), find_pupil(right, rgb[:, :, ::-1])
    if a is None or b is None:
        a, b = left.mean(0), right.mean(0)
    want = np.array([a, b], np.float64).astype(np.float32)
    data = b"F" + i32(w, h, official) + rgb.tobytes() + lm.astype("<f4").tobytes()
    return data, 16, lambda out: np.array_equal(np.frombuffer(out, "<f4").reshape(2, 2), want)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    kinds = {"cvtColor BGR2GRAY": case_grey, "equalizeHist": case_equalize, "Otsu threshold": case_otsu,
             "fillConvexPoly": case_polygon, "find_pupil eyes": case_eyes}
    cases = [(name, *make(rng)) for name, make in kinds.items() for _ in range(args.cases)]
    run = subprocess.run([args.tool], input=b"".join(c[1] for c in cases), capture_output=True)
    if run.returncode != 0:
        sys.exit(f"test_pupil_cv2: {args.tool} exited with {run.returncode}:\n"
                 + run.stderr.decode(errors="replace")[-4000:])
    out = run.stdout
    failed, pos = {}, 0
    for i, (name, data, size, ok) in enumerate(cases):
        if not ok(out[pos:pos + size]):
            failed.setdefault(name, []).append(i % args.cases)
        pos += size
    if pos != len(out):
        sys.exit(f"test_pupil_cv2: {len(out)} output bytes, expected {pos}")
    for name in kinds:
        bad = failed.get(name, [])
        print(f"{name}: {args.cases - len(bad)}/{args.cases} equal to cv2 {cv2.__version__}"
              + (f"; first differing cases {bad[:5]}" if bad else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
