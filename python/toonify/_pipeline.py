"""toonify.pipeline(): the call shape of ModelScope's portrait-stylization pipeline.

    from toonify import pipeline, OutputKeys
    img_cartoon = pipeline("image-portrait-stylization")   # or pipeline(): the default models
    result = img_cartoon("input.png")                      # a path, encoded bytes or an array
    cv2.imwrite("result.png", result[OutputKeys.OUTPUT_IMG])

As in ModelScope, arrays given to the pipeline are taken as BGR (OpenCV's order; pass
input_channels="RGB" otherwise) and "output_img" is a BGR uint8 array.  The result keeps the
input's size (ModelScope's pipeline does too) unless size= says otherwise."""
import os

import numpy as np

from ._cartoonizer import Cartoonizer, imread

TASKS = ("image-portrait-stylization", "portrait-stylization", None)


class OutputKeys:
    OUTPUT_IMG = "output_img"


class CartoonPipeline:
    def __init__(self, cartoonizer, input_channels):
        self.cartoonizer = cartoonizer
        self.input_channels = input_channels

    def __call__(self, image, **options):
        if isinstance(image, np.ndarray):
            bgr, channels = image, self.input_channels
        elif isinstance(image, (bytes, bytearray, memoryview, str, os.PathLike)):
            bgr, channels = imread(image, channels="BGR"), "BGR"
        else:
            raise TypeError("expected a path, encoded bytes or an HxWx3 uint8 array")
        out = self.cartoonizer.convert(bgr, channels=channels, **options)
        if channels == "RGB":
            out = np.ascontiguousarray(out[:, :, ::-1])
        return {OutputKeys.OUTPUT_IMG: out}


def pipeline(task=None, model=None, input_channels="BGR", size=0, **options):
    """A callable image -> {"output_img": BGR array}.  task: "image-portrait-stylization" (or
    None); model: a model file or directory, or None for the default models; the other keywords
    are Cartoonizer's (style, mode, strength, precision, ...).  size=0 keeps the input's size."""
    if task not in TASKS:
        raise ValueError("toonify's pipeline does %s, not %r" % (TASKS[0], task))
    if input_channels not in ("BGR", "RGB"):
        raise ValueError("input_channels must be 'BGR' or 'RGB'")
    return CartoonPipeline(Cartoonizer(model=model, size=size, **options), input_channels)
