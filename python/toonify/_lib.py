"""ctypes declarations of libtoonify's public API (include/toonify/toonify.h, status.h).

The library is looked for in $TOONIFY_LIBRARY, then the build directory recorded when the package
was installed from a checkout (_build_info.py), the checkout's build/ when run from one, and the
system's linker path (an installed libtoonify.so.0).  ctypes releases the GIL for every call,
so conversions run in parallel with other Python threads."""
import ctypes
import ctypes.util
import os

SONAME = "libtoonify.so.0"


def _candidates():
    env = os.environ.get("TOONIFY_LIBRARY")
    if env:
        yield env
    try:
        from . import _build_info

        yield os.path.join(_build_info.BUILD_DIR, SONAME)
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "..", "..", "build", SONAME)  # python/toonify in a checkout
    yield SONAME  # the dynamic linker's path: an installed library
    found = ctypes.util.find_library("toonify")
    if found:
        yield found
    for prefix in ("/usr/local", "/usr"):
        yield os.path.join(prefix, "lib", SONAME)


def load():
    # As the CLI does (toon_cli_omp_tame_spinning): OpenMP's idle threads spin for a long time by
    # default, which costs a loaded or shared machine most of its CPU.  libgomp reads this when
    # it is loaded, so it is set before the library is.
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            return _declare(ctypes.CDLL(path))
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise OSError("libtoonify not found (build it with `make build`, install it with "
                  "`make install`, or set TOONIFY_LIBRARY): " + "; ".join(errors))


class Err(ctypes.Structure):
    _fields_ = [("msg", ctypes.c_char * 512)]


class Image(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int), ("h", ctypes.c_int), ("c", ctypes.c_int),
                ("stride", ctypes.c_size_t), ("data", ctypes.POINTER(ctypes.c_uint8))]


class DecodeLimits(ctypes.Structure):
    _fields_ = [("max_w", ctypes.c_int), ("max_h", ctypes.c_int), ("max_pixels", ctypes.c_uint64)]


class GeneratorParams(ctypes.Structure):
    _fields_ = [("precision", ctypes.c_int), ("band_rows", ctypes.c_int),
                ("whole_image", ctypes.c_int)]


PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_double)
WRITE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


class ConvertParams(ctypes.Structure):
    _fields_ = [("mode", ctypes.c_int), ("head_model", ctypes.c_void_p),
                ("face_models", ctypes.c_void_p), ("alpha_path", ctypes.c_char_p),
                ("size", ctypes.c_int), ("strength", ctypes.c_float), ("format", ctypes.c_int),
                ("quality", ctypes.c_int), ("gen", GeneratorParams), ("limits", DecodeLimits),
                ("progress", PROGRESS_FN), ("progress_ctx", ctypes.c_void_p),
                ("cancel", ctypes.POINTER(ctypes.c_int))]


class Report(ctypes.Structure):
    _fields_ = [("in_w", ctypes.c_int), ("in_h", ctypes.c_int), ("out_w", ctypes.c_int),
                ("out_h", ctypes.c_int), ("planned_bytes", ctypes.c_size_t),
                ("used_bytes", ctypes.c_size_t), ("seconds_total", ctypes.c_double),
                ("seconds_decode", ctypes.c_double), ("seconds_network", ctypes.c_double),
                ("seconds_encode", ctypes.c_double)]


class ImageInfo(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int),
                ("file_w", ctypes.c_int), ("file_h", ctypes.c_int), ("orientation", ctypes.c_int),
                ("channels", ctypes.c_int), ("bit_depth", ctypes.c_int),
                ("progressive", ctypes.c_int)]


class ModelPaths(ctypes.Structure):
    _fields_ = [("style", ctypes.c_char * 64), ("bg", ctypes.c_char * 4096),
                ("head", ctypes.c_char * 4096), ("alpha", ctypes.c_char * 4096),
                ("dir", ctypes.c_char * 4096), ("faces", ctypes.c_void_p)]


# enum values (toonify.h)
MODE = {"plain": 0, "official": 1, "hd": 2}
FORMAT = {"jpg": 1, "jpeg": 1, "png": 2, "webp": 3}
PRECISION = {"fp32": 0, "fast": 1}
CHANNELS = {"RGB": 0, "BGR": 1}
STATUS_OK = 0


def _declare(lib):
    P, I, S = ctypes.POINTER, ctypes.c_int, ctypes.c_size_t
    E = P(Err)
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    sigs = {
        "toon_status_str": (cp, [I]),
        "toon_status_exit_code": (I, [I]),
        "toon_status_http_code": (I, [I]),
        "toon_model_load": (I, [cp, P(vp), E]),
        "toon_model_free": (None, [vp]),
        "toon_model_name": (cp, [vp]),
        "toon_model_description": (cp, [vp]),
        "toon_face_models_free": (None, [vp]),
        "toon_models_find": (I, [cp, cp, cp, I, P(ModelPaths), E]),
        "toon_model_search_dirs": (I, [cp, vp, I]),
        "toon_convert_default_params": (ConvertParams, []),
        "toon_convert_pixels": (I, [vp, P(Image), I, P(ConvertParams), P(Image), P(Report), E]),
        "toon_convert_pixels_plan": (I, [vp, I, I, P(ConvertParams), P(I), P(I), P(S), E]),
        "toon_convert": (I, [vp, vp, S, P(ConvertParams), WRITE_FN, vp, P(Report), E]),
        "toon_probe": (I, [vp, S, P(ImageInfo), E]),
        "toon_image_decode": (I, [vp, S, vp, P(Image), E]),
        "toon_image_encode": (I, [P(Image), I, I, WRITE_FN, vp, E]),
        "toon_image_free": (None, [P(Image)]),
        "toon_set_threads": (None, [I]),
        "toon_get_threads": (I, []),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib
