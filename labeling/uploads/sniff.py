"""What a file is, from its first bytes (images and archives) or its name (text formats)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from labeling.uploads import messages

ZIP = "zip"
IMAGE = "image"
CSV = "csv"
JSON = "json"
JSONL = "jsonl"
TXT = "txt"
UNSUPPORTED = "unsupported"
DAMAGED = "damaged"  # an archive entry whose data cannot be read

TEXT_KINDS = (CSV, JSON, JSONL, TXT)
EXTENSIONS = {".csv": CSV, ".json": JSON, ".jsonl": JSONL, ".ndjson": JSONL, ".txt": TXT, ".text": TXT}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".bmp", ".dib", ".webp", ".gif"}
ALLOWED_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")
FORMAT_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "BMP": ".bmp", "WEBP": ".webp"}
HEAD_BYTES = 16


class Rejected(Exception):
    """One file or row is refused, with the reason the user reads."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def suffix(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _image_magic(head: bytes) -> bool:
    return (
        head.startswith(b"\xff\xd8\xff")                      # JPEG
        or head.startswith(b"\x89PNG\r\n\x1a\n")               # PNG
        or head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # TIFF, BigTIFF
        or (head.startswith(b"BM") and head[6:10] == b"\x00\x00\x00\x00")  # BMP (reserved bytes are zero)
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
        or head.startswith((b"GIF87a", b"GIF89a"))
    )


def sniff(head: bytes, name: str) -> str:
    """The kind of a file: images and ZIPs by content, whatever their name; text formats by name."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if _image_magic(head):
        return IMAGE
    ext = suffix(name)
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if ext in IMAGE_EXTENSIONS:
        return IMAGE  # named like an image, but not one: it is refused as damaged
    return UNSUPPORTED


@dataclass(frozen=True)
class ImageInfo:
    format: str
    mime_type: str
    width: int
    height: int
    extension: str


def image_inspect(stream: BinaryIO, *, max_pixels: int) -> ImageInfo:
    """Open, verify and fully decode an image; raise Rejected with the reason when it is not usable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                fmt = image.format or ""
                if fmt not in ALLOWED_FORMATS:
                    raise Rejected(messages.IMAGE_FORMAT.format(format=fmt or "These"))
                width, height = image.size
                if width * height > max_pixels:
                    raise Rejected(messages.IMAGE_TOO_MANY_PIXELS.format(pixels=width * height, limit=max_pixels))
                image.verify()
            stream.seek(0)
            with Image.open(stream) as image:
                image.load()  # verify() misses truncated data; a full decode does not
    except Rejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise Rejected(messages.IMAGE_CORRUPT) from None
    except Exception:  # a damaged file can make a decoder fail in any way; none of them is usable
        raise Rejected(messages.IMAGE_CORRUPT) from None
    return ImageInfo(format=fmt, mime_type=Image.MIME.get(fmt, "application/octet-stream"),
                     width=width, height=height, extension=FORMAT_EXTENSIONS[fmt])
