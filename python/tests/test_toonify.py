#!/usr/bin/env python3
"""The Python package against the CLI, byte for byte: pixels and encoded bytes in, in each
mode, RGB and BGR; ModelScope's pipeline shape; errors as ToonifyError with the library's
status; one Cartoonizer shared by threads; the GIL released while converting.

Usage: test_toonify.py TOONIFY_EXE SHARED_DIR WORK_DIR  (TOONIFY_LIBRARY names the library)"""
import os
import subprocess
import sys
import threading
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import toonify  # noqa: E402

EXE, SHARED, WORK = sys.argv[1:4]
PHOTO = os.path.join(SHARED, "images", "astronaut.png")
SIZE = 320


def cli(*args):
    """The CLI's PNG for the photo with these options."""
    out = os.path.join(WORK, "cli-%d.png" % abs(hash(args)))
    subprocess.run([EXE, PHOTO, "-o", out, "--no-progress"] + list(args), check=True)
    with open(out, "rb") as f:
        return f.read()


class Toonify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(WORK, exist_ok=True)
        cls.c = toonify.Cartoonizer()
        cls.rgb = toonify.imread(PHOTO)
        with open(PHOTO, "rb") as f:
            cls.data = f.read()

    def same_as_cli(self, cli_args, **options):
        want = cli(*cli_args)
        got = toonify.imencode(self.c.convert(self.rgb, **options), "png")
        self.assertEqual(got, want, "pixels differ from the CLI's (%s)" % (cli_args,))
        got = self.c.convert_bytes(self.data, format="png", **options)
        self.assertEqual(got, want, "bytes differ from the CLI's (%s)" % (cli_args,))

    def test_hd_faces_equals_cli(self):
        self.assertTrue(self.c.has_faces, "face models not found beside the default style")
        self.assertEqual(self.c.defaults["mode"], "hd")
        self.same_as_cli(["--size", str(SIZE)], size=SIZE)

    def test_official_and_plain_equal_cli(self):
        self.same_as_cli(["--size", str(SIZE), "--mode", "official"], size=SIZE, mode="official")
        self.same_as_cli(["--size", "200", "--mode", "plain", "--strength", "1"], size=200,
                         mode="plain", strength=1.0)
        self.same_as_cli(["--size", "200", "--no-faces", "--band", "8"], size=200, faces=False,
                         band=8)

    def test_bgr_in_bgr_out(self):
        rgb = self.c.convert(self.rgb, size=200, mode="plain")
        bgr = self.c.convert(self.rgb[:, :, ::-1], channels="BGR", size=200, mode="plain")
        self.assertEqual(bgr.dtype, np.uint8)
        np.testing.assert_array_equal(bgr[:, :, ::-1], rgb)

    def test_jpeg_bytes_equal_cli(self):
        want = cli("--size", "200", "--format", "jpg", "--quality", "80")
        got = self.c.convert_bytes(self.data, size=200, format="jpg", quality=80)
        self.assertEqual(got, want)

    def test_modelscope_pipeline(self):
        p = toonify.pipeline("image-portrait-stylization")
        result = p(PHOTO, size=SIZE)
        self.assertEqual(set(result), {"output_img"})
        bgr = result[toonify.OutputKeys.OUTPUT_IMG]
        want = toonify.imread(cli("--size", str(SIZE)), channels="BGR")
        np.testing.assert_array_equal(bgr, want)
        # Arrays are taken as BGR (OpenCV's order), as ModelScope does.
        from_array = p(np.ascontiguousarray(self.rgb[:, :, ::-1]), size=SIZE)["output_img"]
        np.testing.assert_array_equal(from_array, want)
        self.assertEqual(toonify.pipeline()(PHOTO)["output_img"].shape, self.rgb.shape)

    def test_errors_carry_the_status(self):
        cases = [
            (lambda: self.c.convert_bytes(b"not an image"), "UNSUPPORTED", 4, 415),
            (lambda: self.c.convert_bytes(self.data[:2000]), "CORRUPT", 4, 422),
            (lambda: self.c.convert(self.rgb, strength=2.0), "INVALID_ARGUMENT", 2, 400),
            (lambda: self.c.convert(self.rgb, size=4096, max_memory="20M"), "OVER_BUDGET", 5, 413),
            (lambda: toonify.Cartoonizer(model="/nonexistent/models"), "NOT_FOUND", 3, 404),
            (lambda: toonify.Cartoonizer(style="nosuchstyle"), "NOT_FOUND", 3, 404),
        ]
        for fn, status, exit_code, http in cases:
            with self.assertRaises(toonify.ToonifyError) as cm:
                fn()
            e = cm.exception
            self.assertEqual((e.status, e.exit_code, e.http_code), (status, exit_code, http),
                             str(e))
            self.assertTrue(e.message)
        with self.assertRaises(ValueError):
            self.c.convert(self.rgb.astype(np.float32))
        with self.assertRaises(ValueError):
            self.c.convert(self.rgb, mode="cubist")

    def test_status_names_follow_the_header(self):
        import re
        from toonify import _errors
        header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include",
                              "toonify", "status.h")
        with open(header) as f:
            names = re.findall(r"^\s*X\((\w+),", f.read(), re.M)
        self.assertEqual(_errors._STATUS_NAMES, names)

    def test_threads_share_one_cartoonizer(self):
        want = self.c.convert(self.rgb, size=160)
        results, errors = [None] * 3, []

        def run(i):
            try:
                results[i] = self.c.convert(self.rgb, size=160)
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for r in results:
            np.testing.assert_array_equal(r, want)

    def test_gil_released_while_converting(self):
        done = threading.Event()
        t = threading.Thread(target=lambda: (self.c.convert(self.rgb, size=SIZE), done.set()))
        ticks, start = 0, time.monotonic()
        t.start()
        while not done.is_set():
            ticks += 1  # runs only while the converting thread does not hold the GIL
            time.sleep(0.001)
        t.join()
        seconds = time.monotonic() - start
        self.assertGreater(seconds, 0.05)
        self.assertGreater(ticks, seconds * 100, "the main thread was starved: GIL held?")

    def test_progress(self):
        for mode in ("plain", "hd"):
            seen = []
            self.c.convert(self.rgb, size=160, mode=mode, progress=seen.append)
            self.assertTrue(seen, mode)
            self.assertEqual(seen, sorted(seen), mode)
            self.assertEqual(seen[-1], 1.0, mode)

    def test_report_and_plan(self):
        out, rep = self.c.convert(self.rgb, size=200, return_report=True)
        w, h, planned = self.c.plan(self.rgb.shape[1], self.rgb.shape[0], size=200)
        self.assertEqual((w, h), (out.shape[1], out.shape[0]))
        self.assertEqual(rep["planned_bytes"], planned)
        self.assertLessEqual(rep["used_bytes"], rep["planned_bytes"])
        self.assertGreaterEqual(rep["used_bytes"], out.nbytes)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
