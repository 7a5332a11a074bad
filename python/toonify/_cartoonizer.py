"""Cartoonizer: models loaded once, conversions of numpy arrays or encoded bytes.

One Cartoonizer may be called from any number of threads at once: the loaded generators and face
models are immutable in the library, every call builds its own parameters, and ctypes releases
the GIL for the length of the conversion."""
import ctypes
import threading

import numpy as np

from . import _lib
from ._errors import ToonifyError, check

_LIB = None
_LIB_LOCK = threading.Lock()


def lib():
    global _LIB
    with _LIB_LOCK:
        if _LIB is None:
            _LIB = _lib.load()
    return _LIB


def _bytes_arg(s):
    return None if s is None else str(s).encode()


def _channels(ch):
    if ch not in _lib.CHANNELS:
        raise ValueError("channels must be 'RGB' or 'BGR', not %r" % (ch,))
    return _lib.CHANNELS[ch]


def _choice(table, value, what):
    if value not in table:
        raise ValueError("%s must be one of %s, not %r" % (what, sorted(table), value))
    return table[value]


def _as_image(array):
    """A struct toon_image over the array's memory (rows may be strided), and the array kept."""
    if not isinstance(array, np.ndarray):
        raise TypeError("expected a numpy array, not %s" % type(array).__name__)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 array, got %s %s" % (array.shape, array.dtype))
    if array.strides[2] != 1 or array.strides[1] != 3 or array.strides[0] < 3 * array.shape[1]:
        array = np.ascontiguousarray(array)
    img = _lib.Image(array.shape[1], array.shape[0], 3, array.strides[0],
                     array.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)))
    return img, array


def _take_image(L, img):
    """Copies a library-owned image into a new HxWx3 array and frees it."""
    try:
        flat = np.ctypeslib.as_array(img.data, shape=(img.h * img.stride,))
        return flat.reshape(img.h, img.stride)[:, : img.w * 3].reshape(img.h, img.w, 3).copy()
    finally:
        L.toon_image_free(ctypes.byref(img))


def _report(rep):
    return {name: getattr(rep, name) for name, _ in _lib.Report._fields_}


class Cartoonizer:
    """Loads a style's generators (and face models) once; converts images with the CLI's options.

    model: a model file, a style directory or a directory of styles (default: $TOONIFY_MODEL_DIR,
        ./models, PREFIX/share/toonify/models, ../shared/models of a checkout: the CLI's places).
    style: a style of that directory (default: an official one, else White-box fp16).
    mode: "hd", "official" or "plain" (default: hd when face models are found, else plain).
    faces: False skips the face pass (the CLI's --no-faces); face_models: their directory.
    size, strength, precision ("fp32"/"fast"), band, whole_image, max_memory (bytes, or a
    string such as "128M": a conversion whose planned bytes exceed it is refused), format and
    quality (for convert_bytes) are defaults that each call may override; progress (a callable
    given the fraction done, 0..1, from the converting thread) replaces the CLI's progress bar.
    threads: the library's thread count (process-wide; 0 = the CPUs this process may use)."""

    _CALL_OPTIONS = ("size", "strength", "mode", "precision", "band", "whole_image", "max_memory",
                     "faces", "format", "quality", "progress")

    def __init__(self, model=None, style=None, mode=None, faces=True, face_models=None,
                 size=1024, strength=0.7, precision="fp32", threads=None, max_memory=None,
                 band=16, whole_image=False, format="png", quality=0):
        L = self._lib = lib()
        self._model = self._head = None
        self._paths = _lib.ModelPaths()
        err = _lib.Err()
        want_faces = bool(faces) and mode != "plain"
        check(L, L.toon_models_find(_bytes_arg(model), _bytes_arg(style), _bytes_arg(face_models),
                                    int(want_faces), ctypes.byref(self._paths),
                                    ctypes.byref(err)), err)
        try:
            self._model = self._load(self._paths.bg)
            if self._paths.head != self._paths.bg:
                self._head = self._load(self._paths.head)
        except ToonifyError:
            self.close()
            raise
        if threads is not None:
            L.toon_set_threads(int(threads))
        has_faces = bool(self._paths.faces)
        self.defaults = dict(size=size, strength=strength,
                             mode=mode or ("hd" if has_faces else "plain"), precision=precision,
                             band=band, whole_image=whole_image, max_memory=max_memory,
                             faces=has_faces, format=format, quality=quality, progress=None)
        self._params(self.defaults)  # checks the values now rather than at the first call

    def _load(self, path):
        handle, err = ctypes.c_void_p(), _lib.Err()
        check(self._lib, self._lib.toon_model_load(path, ctypes.byref(handle), ctypes.byref(err)),
              err)
        return handle

    # ---- what was loaded ------------------------------------------------------------------
    @property
    def style(self):
        return self._paths.style.decode()

    @property
    def model_path(self):
        return self._paths.bg.decode()

    @property
    def head_model_path(self):
        return self._paths.head.decode()

    @property
    def has_faces(self):
        return bool(self._paths.faces)

    @property
    def description(self):
        return self._lib.toon_model_description(self._model).decode()

    # ---- parameters -------------------------------------------------------------------------
    def _options(self, overrides):
        unknown = set(overrides) - set(self._CALL_OPTIONS)
        if unknown:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(unknown)))
        o = dict(self.defaults)
        o.update({k: v for k, v in overrides.items() if v is not None})
        return o

    def _params(self, o):
        L = self._lib
        p = L.toon_convert_default_params()
        p.mode = _choice(_lib.MODE, o["mode"], "mode")
        p.size = int(o["size"])
        p.strength = float(o["strength"])
        p.format = _choice(_lib.FORMAT, o["format"], "format")
        p.quality = int(o["quality"])
        p.gen.precision = _choice(_lib.PRECISION, o["precision"], "precision")
        p.gen.band_rows = int(o["band"])
        p.gen.whole_image = int(bool(o["whole_image"]))
        p.head_model = self._head.value if self._head else None
        use_faces = o["faces"] and p.mode != _lib.MODE["plain"]
        p.face_models = self._paths.faces if use_faces else None
        p.alpha_path = self._paths.alpha if self._paths.alpha else None
        if o["progress"] is not None:
            callback = o["progress"]
            p.progress = _lib.PROGRESS_FN(lambda ctx, fraction: callback(fraction))
            p._keep = p.progress  # the C function pointer lives as long as the parameters
        return p

    def _check_budget(self, o, w, h, p):
        if o["max_memory"] is None:
            return
        limit = parse_bytes(o["max_memory"])
        ow, oh, need, err = ctypes.c_int(), ctypes.c_int(), ctypes.c_size_t(), _lib.Err()
        L = self._lib
        check(L, L.toon_convert_pixels_plan(self._model, w, h, ctypes.byref(p), ctypes.byref(ow),
                                            ctypes.byref(oh), ctypes.byref(need),
                                            ctypes.byref(err)), err)
        if need.value > limit:
            raise ToonifyError(L, _STATUS_OVER_BUDGET,
                               "at %d px this image needs %.1f MB, the limit is %.1f MB"
                               % (max(ow.value, oh.value), need.value / 1e6, limit / 1e6))

    # ---- conversions ------------------------------------------------------------------------
    def __call__(self, image, channels="RGB", **options):
        return self.convert(image, channels, **options)

    def convert(self, image, channels="RGB", return_report=False, **options):
        """HxWx3 uint8 array in (channels "RGB" or "BGR"), the cartoon out in the same order.
        With return_report, (array, report dict) with sizes, planned/used bytes and timings."""
        L, o = self._lib, self._options(options)
        img, keep = _as_image(image)
        p = self._params(o)
        self._check_budget(o, img.w, img.h, p)
        out, rep, err = _lib.Image(), _lib.Report(), _lib.Err()
        code = L.toon_convert_pixels(self._model, ctypes.byref(img), _channels(channels),
                                     ctypes.byref(p), ctypes.byref(out), ctypes.byref(rep),
                                     ctypes.byref(err))
        del keep
        check(L, code, err)
        result = _take_image(L, out)
        return (result, _report(rep)) if return_report else result

    def convert_bytes(self, data, **options):
        """Encoded photo (JPEG, PNG, WebP) in, encoded cartoon out (format, quality): what the
        CLI writes for the same file and options."""
        L, o = self._lib, self._options(options)
        data = bytes(data)
        p = self._params(o)
        if o["max_memory"] is not None:
            w, h = imsize(data)
            self._check_budget(o, w, h, p)
        chunks, err = [], _lib.Err()

        def sink(ctx, ptr, n):
            chunks.append(ctypes.string_at(ptr, n))
            return 0

        fn = _lib.WRITE_FN(sink)
        code = L.toon_convert(self._model, data, len(data), ctypes.byref(p), fn, None, None,
                              ctypes.byref(err))
        check(L, code, err)
        return b"".join(chunks)

    def plan(self, w, h, **options):
        """(out_w, out_h, bytes): the output size and the bytes a conversion of a w x h image
        adds to the process (the library's plan)."""
        L, o = self._lib, self._options(options)
        p = self._params(o)
        ow, oh, need, err = ctypes.c_int(), ctypes.c_int(), ctypes.c_size_t(), _lib.Err()
        check(L, L.toon_convert_pixels_plan(self._model, int(w), int(h), ctypes.byref(p),
                                            ctypes.byref(ow), ctypes.byref(oh),
                                            ctypes.byref(need), ctypes.byref(err)), err)
        return ow.value, oh.value, need.value

    def close(self):
        """Frees the models now (also done when the object is collected)."""
        L = getattr(self, "_lib", None)
        if L is None:
            return
        if self._model:
            L.toon_model_free(self._model)
        if self._head:
            L.toon_model_free(self._head)
        if getattr(self, "_paths", None) is not None and self._paths.faces:
            L.toon_face_models_free(self._paths.faces)
            self._paths.faces = None
        self._model = self._head = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_STATUS_OVER_BUDGET = 7


def parse_bytes(value):
    """128M, 1.5G, 300000000 -> bytes (as the CLI's --max-memory)."""
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value).strip().upper().rstrip("B").rstrip("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:], 1)
    return int(float(s[:-1] if mult > 1 else s) * mult)


def imread(source, channels="RGB"):
    """A JPEG, PNG or WebP file (path) or its bytes, decoded by the library to HxWx3 uint8."""
    L = lib()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        with open(source, "rb") as f:
            data = f.read()
    img, err = _lib.Image(), _lib.Err()
    check(L, L.toon_image_decode(data, len(data), None, ctypes.byref(img), ctypes.byref(err)), err)
    out = _take_image(L, img)
    return out[:, :, ::-1].copy() if _channels(channels) else out


def imencode(array, format="png", quality=0, channels="RGB"):
    """HxWx3 uint8 array to PNG, JPEG or WebP bytes (the library's encoders)."""
    L = lib()
    if _channels(channels):
        array = np.ascontiguousarray(array[:, :, ::-1])
    img, keep = _as_image(array)
    chunks, err = [], _lib.Err()

    def sink(ctx, ptr, n):
        chunks.append(ctypes.string_at(ptr, n))
        return 0

    fn = _lib.WRITE_FN(sink)
    code = L.toon_image_encode(ctypes.byref(img), _choice(_lib.FORMAT, format, "format"),
                               int(quality), fn, None, ctypes.byref(err))
    del keep
    check(L, code, err)
    return b"".join(chunks)


def imsize(data):
    """(w, h) of an encoded image as displayed, from its header."""
    L, info, err = lib(), _lib.ImageInfo(), _lib.Err()
    check(L, L.toon_probe(data, len(data), ctypes.byref(info), ctypes.byref(err)), err)
    return info.w, info.h
