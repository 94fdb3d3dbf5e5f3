"""Real test inputs: scikit-image's sample photos as JPEG bytes, and broken files."""

import io

import numpy as np
from PIL import Image


def jpeg(array: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def coffee_jpeg() -> bytes:
    from skimage import data

    return jpeg(data.coffee())


def cat_jpeg() -> bytes:
    from skimage import data

    return jpeg(data.chelsea())


def astronaut_jpeg() -> bytes:
    from skimage import data

    return jpeg(data.astronaut())


NOT_AN_IMAGE = b"%PDF-1.4 this is not an image"
