#!/usr/bin/python3
"""Writes tests/image/data/resize_vectors.bin: cv2.resize outputs for small random u8 images.

The source images are not stored: both this script and tests/image/test_image_resize.c make
them with the same generator (a 32-bit LCG, byte = bits 16..23), so only the expected outputs
are kept.  Run with Debian's python3-opencv:  /usr/bin/python3 tools/make_resize_vectors.py

File layout (little-endian u32): "TRZV", version 1, number of cases, then per case
seed, sw, sh, c, dw, dh, filter (0 = INTER_AREA, 1 = INTER_LINEAR), then dh*dw*c bytes.
"""
import os
import struct
import sys

import cv2
import numpy as np

CASES = [
    # sw, sh, c, dw, dh, filter
    (40, 40, 3, 20, 20, 0), (40, 40, 1, 20, 20, 0), (40, 40, 4, 20, 20, 0),
    (38, 26, 3, 19, 13, 0), (39, 27, 3, 13, 9, 0), (40, 40, 3, 10, 10, 0),
    (36, 20, 3, 12, 20, 0), (40, 40, 3, 17, 23, 0), (37, 29, 1, 14, 11, 0),
    (40, 30, 3, 30, 22, 0), (33, 33, 3, 32, 32, 0), (40, 40, 3, 1, 1, 0),
    (40, 37, 4, 23, 19, 0), (10, 10, 3, 25, 25, 0), (13, 7, 3, 40, 21, 0),
    (40, 10, 3, 20, 30, 0), (7, 40, 1, 30, 13, 0), (16, 12, 3, 32, 24, 0),
    (40, 40, 3, 40, 40, 0),
    (40, 40, 3, 20, 20, 1), (40, 40, 3, 17, 23, 1), (10, 10, 3, 25, 25, 1),
    (37, 29, 3, 14, 40, 1), (1, 40, 1, 5, 20, 1), (40, 1, 3, 20, 3, 1),
    (40, 40, 4, 39, 41, 1), (31, 17, 1, 40, 40, 1), (40, 40, 1, 13, 13, 1),
]


def source(seed, n):
    state = seed
    out = bytearray(n)
    for i in range(n):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = (state >> 16) & 0xFF
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "image", "data", "resize_vectors.bin")
    blob = bytearray(b"TRZV" + struct.pack("<II", 1, len(CASES)))
    for i, (sw, sh, c, dw, dh, f) in enumerate(CASES):
        seed = 1000 + i
        src = np.frombuffer(bytes(source(seed, sw * sh * c)), np.uint8).reshape(sh, sw, c)
        interp = cv2.INTER_AREA if f == 0 else cv2.INTER_LINEAR
        dst = cv2.resize(src, (dw, dh), interpolation=interp)
        dst = np.ascontiguousarray(dst.reshape(dh, dw, c))
        blob += struct.pack("<7I", seed, sw, sh, c, dw, dh, f) + dst.tobytes()
    with open(path, "wb") as fh:
        fh.write(blob)
    print(f"wrote {len(CASES)} cases, {len(blob)} bytes to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
