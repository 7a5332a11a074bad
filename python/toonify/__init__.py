"""toonify: portraits to cartoons with DCT-Net, from Python, over libtoonify (ctypes).

    import toonify
    c = toonify.Cartoonizer()                      # the default models, loaded once
    cartoon = c(rgb_array)                         # HxWx3 uint8 in, HxWx3 uint8 out
    cartoon = c(bgr_array, channels="BGR", size=2048, strength=1.0)
    png = c.convert_bytes(open("photo.jpg", "rb").read(), format="png")

    # ModelScope's call shape (portrait stylization): BGR out, under "output_img"
    result = toonify.pipeline()("photo.jpg")
    bgr = result["output_img"]

Errors raise toonify.ToonifyError with the library's status (e.g. "OVER_BUDGET").
"""
from ._cartoonizer import Cartoonizer, imencode, imread, imsize, parse_bytes
from ._errors import ToonifyError
from ._pipeline import OutputKeys, pipeline

__version__ = "0.1.0"
__all__ = ["Cartoonizer", "OutputKeys", "ToonifyError", "imencode", "imread", "imsize",
           "pipeline"]
