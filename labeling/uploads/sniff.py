"""What a file is, from its first bytes (images and archives) or its name (text formats)."""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Literal

from PIL import Image

from labeling.uploads import messages
from labeling.uploads.jpeg import jpeg_ends_early

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
    """Open, verify and fully decode an image; raise Rejected with the reason when it is not usable:
    too many pixels (however many its header declares), data that ends before the last pixel, or
    data no decoder can read."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if _header_end(head) > size:
        raise Rejected(messages.IMAGE_TRUNCATED)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # TIFF's "Truncated File Read": we raise our own
            try:
                opened = Image.open(stream)
            except Image.DecompressionBombError as exc:  # Pillow refuses at twice its limit, before the size
                raise Rejected(_too_many_pixels(str(exc), max_pixels)) from None
            with opened as image:
                fmt = image.format or ""
                if fmt not in ALLOWED_FORMATS:
                    raise Rejected(messages.IMAGE_FORMAT.format(format=fmt or "These"))
                width, height = image.size
                if width * height > max_pixels:
                    raise Rejected(messages.IMAGE_TOO_MANY_PIXELS.format(pixels=width * height, limit=max_pixels))
                if fmt == "TIFF" and _tiff_data_end(image) > size:
                    raise Rejected(messages.IMAGE_TRUNCATED)
                image.verify()
            stream.seek(0)
            if fmt == "JPEG":
                if jpeg_ends_early(stream):
                    raise Rejected(messages.IMAGE_TRUNCATED)
            else:
                with Image.open(stream) as image:
                    image.load()  # verify() misses truncated data; a full decode does not
            if fmt == "PNG":
                stream.seek(0)
                missing = png_rows_missing(stream)
                if missing:
                    raise Rejected(messages.IMAGE_PIXELS_MISSING.format(missing=missing, height=height))
    except Rejected:
        raise
    except OSError as exc:
        # Pillow's words for data that stops early: "image file is truncated (…)", "Truncated File Read"
        truncated = "truncated" in str(exc).lower()
        raise Rejected(messages.IMAGE_TRUNCATED if truncated else messages.IMAGE_CORRUPT) from None
    except Exception:  # a damaged file can make a decoder fail in any way; none of them is usable
        raise Rejected(messages.IMAGE_CORRUPT) from None
    stream.seek(0)
    return ImageInfo(format=fmt, mime_type=Image.MIME.get(fmt, "application/octet-stream"),
                     width=width, height=height, extension=FORMAT_EXTENSIONS[fmt])


def _too_many_pixels(error: str, max_pixels: int) -> str:
    """Our message for Pillow's DecompressionBombError ("Image size (N pixels) exceeds limit of …")."""
    found = re.search(r"\((\d+) pixels\)", error)
    pixels = int(found.group(1)) if found else 2 * max_pixels + 1
    return messages.IMAGE_TOO_MANY_PIXELS.format(pixels=pixels, limit=max_pixels)


def _header_end(head: bytes) -> int:
    """The least size the file's first bytes promise (0 where they promise none): a WebP's RIFF
    size, or past the first directory of a TIFF (which a writer may put after the pixel data)."""
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return int.from_bytes(head[4:8], "little") + 8
    if head[:2] not in (b"II", b"MM"):
        return 0
    order: Literal["little", "big"] = "little" if head[:2] == b"II" else "big"
    version = int.from_bytes(head[2:4], order)
    if version == 42:
        return int.from_bytes(head[4:8], order) + 2
    if version == 43:  # BigTIFF
        return int.from_bytes(head[8:16], order) + 8
    return 0


def _tiff_data_end(image: Image.Image) -> int:
    """Where a TIFF's strips (or tiles) end by its own offsets and byte counts."""
    tags = getattr(image, "tag_v2", {})
    offsets = tags.get(273) or tags.get(324) or ()  # StripOffsets, TileOffsets
    counts = tags.get(279) or tags.get(325) or ()  # StripByteCounts, TileByteCounts
    return max((offset + count for offset, count in zip(offsets, counts, strict=False)), default=0)


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png_rows_missing(stream: BinaryIO) -> int:
    """How many rows' worth of pixel data a PNG lacks (0 for a whole image).

    Pillow fills an image whose compressed data ends early (a complete zlib stream that holds fewer
    rows than the header promises) with black and reports nothing; this counts the bytes the IDAT
    stream really inflates to, without keeping them.
    """
    stream.read(8)
    length, kind = struct.unpack(">I4s", stream.read(8))
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", stream.read(13))
    stream.read(length - 13 + 4)
    bits = depth * _PNG_CHANNELS.get(colour, 4)
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    rows, expected = 0, 0
    for x0, y0, dx, dy in passes:
        pass_width, pass_height = math.ceil(max(width - x0, 0) / dx), math.ceil(max(height - y0, 0) / dy)
        if pass_width and pass_height:
            rows += pass_height
            expected += pass_height * (1 + math.ceil(pass_width * bits / 8))
    inflater = zlib.decompressobj()
    inflated = 0
    while header := stream.read(8):
        if len(header) < 8:
            break
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IEND":
            break
        data = stream.read(length)
        stream.read(4)
        if kind != b"IDAT":
            continue
        while data and not inflater.eof:
            inflated += len(inflater.decompress(data, 1 << 20))
            data = inflater.unconsumed_tail
    if inflated >= expected:
        return 0
    return max(1, math.ceil((expected - inflated) / expected * rows))
