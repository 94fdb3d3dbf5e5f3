"""An item's stored file, opened for download, and its bounded thumbnail for the data browser."""

from __future__ import annotations

import io

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from modelship.exceptions import NotFound

FILE_MISSING = "The stored file of this item is missing."
NO_THUMBNAIL = "Only image items have a thumbnail."
THUMBNAIL_UNREADABLE = "This item's image cannot be read."
THUMBNAIL_SIZE = 256  # the longest side, in pixels; the data browser shows tiles of at most 130 px high
THUMBNAIL_QUALITY = 80


def item_file_open(*, item) -> File:
    """An item's stored file, open for reading; 404 when storage has lost it."""
    if not item.file:
        raise NotFound(FILE_MISSING)
    try:
        return item.file.open("rb")
    except FileNotFoundError:
        raise NotFound(FILE_MISSING) from None


def thumbnail_name(*, project_id: int, content_hash: str) -> str:
    """Where an image's thumbnail is kept: under its project's prefix (so it goes with the project), by content."""
    return f"projects/{project_id}/thumbnails/{content_hash[:2]}/{content_hash}-{THUMBNAIL_SIZE}.jpg"


def _thumbnail_render(stream) -> bytes:
    with Image.open(stream) as image:
        image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # a JPEG decodes at 1/2 … 1/8 scale: fast
        image = ImageOps.exif_transpose(image)
        image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        if image.mode not in ("RGB", "L"):
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
            image = background
        out = io.BytesIO()
        image.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
        return out.getvalue()


def item_thumbnail(*, item) -> bytes:
    """An image item's thumbnail: a JPEG whose longest side is at most THUMBNAIL_SIZE, made from the stored
    file on first use and kept in storage (a cache: made again if lost). 404 for a text item, a lost file or
    an image that cannot be decoded."""
    if item.kind != item.Kind.IMAGE:
        raise NotFound(NO_THUMBNAIL)
    name = thumbnail_name(project_id=item.project_id, content_hash=item.content_hash)
    try:
        with default_storage.open(name, "rb") as kept:
            return kept.read()
    except FileNotFoundError:
        pass
    with item_file_open(item=item) as stream:
        try:
            data = _thumbnail_render(stream)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            raise NotFound(THUMBNAIL_UNREADABLE) from None
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:  # another request made it meanwhile: keep one
        default_storage.delete(saved)
    return data
