"""Images whose pixel data ends early are refused at upload with that reason, however big, and a
whole PNG (interlaced or not) still passes."""

import io
import struct
import zlib

import pytest
from PIL import Image

from labeling.models import Item
from labeling.uploads import messages
from labeling.uploads.sniff import png_rows_missing
from tests.conftest import stored_files
from tests.factories import ProjectFactory, named
from tests.labeling.conftest import upload

pytestmark = pytest.mark.django_db

ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, *, rows: int | None = None, interlace: bool = False) -> bytes:
    """An RGB PNG built by hand; ``rows`` keeps only that many rows of pixel data (a complete zlib
    stream that simply holds too little, which Pillow decodes as black without a word)."""
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    lines = []
    for x0, y0, dx, dy in passes:
        pass_width, pass_height = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if pass_width > 0 and pass_height > 0:
            lines += [b"\x00" + bytes(range(3 * pass_width % 256)).ljust(3 * pass_width, b"\x07")] * pass_height
    raw = b"".join(lines if rows is None else lines[:rows])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))


@pytest.mark.parametrize("interlace", [False, True])
def test_whole_pngs_pass_and_pillow_reads_them(interlace):
    data = png(37, 23, interlace=interlace)
    assert Image.open(io.BytesIO(data)).convert("RGB").size == (37, 23)
    assert png_rows_missing(io.BytesIO(data)) == 0
    assert png_rows_missing(io.BytesIO(png(37, 23, rows=10, interlace=interlace))) > 0


def test_a_big_png_with_truncated_pixel_data_is_refused_with_its_reason(client, org, media_root):
    project = ProjectFactory(organization=org, project_type="image_classification")
    big = png(10000, 9999, rows=10)
    resp = upload(client, project, named(big, "big.png"), named(png(20, 10, rows=4), "small.png"),
                  named(png(20, 10), "whole.png"))
    assert resp.status_code == 201, resp.data
    assert (resp.data["accepted"], resp.data["rejected"]) == (1, 2)
    assert resp.data["report"]["rejected"] == [
        {"file": "big.png", "archive": "", "line": None,
         "reason": messages.IMAGE_PIXELS_MISSING.format(missing=9989, height=9999)},
        {"file": "small.png", "archive": "", "line": None,
         "reason": messages.IMAGE_PIXELS_MISSING.format(missing=6, height=10)},
    ]
    assert list(Item.objects.filter(project=project).values_list("original_name", "width", "height")) == [
        ("whole.png", 20, 10)]


def noise(fmt: str, size: tuple[int, int], **options) -> bytes:
    """A photo-like image (random pixels, so every part of the data matters) in ``fmt``."""
    import numpy as np

    pixels = np.random.default_rng(7).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **options)
    return buffer.getvalue()


def cut(data: bytes, fraction: float, *, end: bytes = b"") -> bytes:
    return data[:int(len(data) * fraction)] + end


SMALL, MEDIUM, LARGE = (64, 48), (800, 600), (3000, 2000)
EOI = b"\xff\xd9"
TRUNCATED = {  # name -> file; each one's data ends early
    "small.jpg": lambda: cut(noise("JPEG", SMALL), 0.5),
    "large.jpg": lambda: cut(noise("JPEG", LARGE), 0.5),
    # cut, then closed with an end marker: libjpeg fills the rest with grey and Pillow says nothing
    "small-closed.jpg": lambda: cut(noise("JPEG", SMALL), 0.6, end=EOI),
    "large-closed.jpg": lambda: cut(noise("JPEG", LARGE), 0.9, end=EOI),
    "progressive-closed.jpg": lambda: cut(noise("JPEG", LARGE, progressive=True), 0.9, end=EOI),
    "photo.webp": lambda: cut(noise("WEBP", SMALL), 0.7),
    "lossless.webp": lambda: cut(noise("WEBP", MEDIUM, lossless=True), 0.95),
    "scan.tif": lambda: cut(noise("TIFF", MEDIUM), 0.5),
    "lzw.tif": lambda: cut(noise("TIFF", SMALL, compression="tiff_lzw"), 0.8),  # its directory was at the end
    "icon.bmp": lambda: cut(noise("BMP", SMALL), 0.9),
    "cut.png": lambda: cut(noise("PNG", MEDIUM), 0.5),
}


def test_every_accepted_format_cut_short_is_refused_as_truncated_and_nothing_is_written(client, org, media_root):
    project = ProjectFactory(organization=org, project_type="image_classification")
    whole = noise("JPEG", LARGE)
    files = [named(make(), name) for name, make in TRUNCATED.items()]
    resp = upload(client, project, *files, named(whole, "whole.jpg"),
                  named(noise("JPEG", SMALL, progressive=True), "whole-progressive.jpg"),
                  named(cut(noise("GIF", SMALL), 0.5), "anim.gif"))
    assert resp.status_code == 201, resp.data
    assert (resp.data["accepted"], resp.data["rejected"]) == (2, len(TRUNCATED) + 1)
    assert resp.data["report"]["rejected"] == [
        {"file": name, "archive": "", "line": None, "reason": messages.IMAGE_TRUNCATED} for name in TRUNCATED
    ] + [{"file": "anim.gif", "archive": "", "line": None, "reason": messages.IMAGE_FORMAT.format(format="GIF")}]
    items = Item.objects.filter(project=project)
    assert sorted(items.values_list("original_name", "width", "height")) == [
        ("whole-progressive.jpg", 64, 48), ("whole.jpg", 3000, 2000)]
    assert stored_files(media_root) == sorted(item.file.name for item in items)


def test_a_whole_jpeg_with_data_after_its_end_marker_passes(client, org, media_root):
    """Cameras append a second (preview) JPEG, or other data, after the image's end marker."""
    project = ProjectFactory(organization=org, project_type="image_classification")
    trailer = noise("JPEG", (640, 480)) + noise("JPEG", (16, 16)) + b"vendor trailer"
    resp = upload(client, project, named(trailer, "camera.jpg"))
    assert (resp.status_code, resp.data["accepted"], resp.data["rejected"]) == (201, 1, 0)


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` and holds one row: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(width + 1)))
            + _chunk(b"IEND", b""))


def jpeg_header(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to declare ``width`` x ``height``."""
    data = bytearray(noise("JPEG", (16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_decompression_bombs_are_refused_with_their_pixel_count(client, org, media_root):
    project = ProjectFactory(organization=org, project_type="image_classification")
    limit = 100_000_000
    resp = upload(client, project,
                  named(png_header(12_000, 10_000), "over.png"),  # over the limit, under Pillow's own (twice it)
                  named(png_header(60_000, 60_000), "bomb.png"),  # over Pillow's: refused before any decode
                  named(jpeg_header(65_000, 65_000), "bomb.jpg"))
    assert resp.status_code == 201, resp.data
    assert resp.data["accepted"] == 0
    assert resp.data["report"]["rejected"] == [
        {"file": "over.png", "archive": "", "line": None,
         "reason": messages.IMAGE_TOO_MANY_PIXELS.format(pixels=120_000_000, limit=limit)},
        {"file": "bomb.png", "archive": "", "line": None,
         "reason": messages.IMAGE_TOO_MANY_PIXELS.format(pixels=3_600_000_000, limit=limit)},
        {"file": "bomb.jpg", "archive": "", "line": None,
         "reason": messages.IMAGE_TOO_MANY_PIXELS.format(pixels=4_225_000_000, limit=limit)},
    ]
    assert not Item.objects.exists()
    assert stored_files(media_root) == []


def test_classify_now_refuses_a_truncated_image_and_a_bomb_with_the_uploads_reason(client, org):
    for name, data, reason in [
        ("closed.jpg", cut(noise("JPEG", SMALL), 0.6, end=EOI), messages.IMAGE_TRUNCATED),
        ("bomb.png", png_header(60_000, 60_000),
         messages.IMAGE_TOO_MANY_PIXELS.format(pixels=3_600_000_000, limit=100_000_000)),
    ]:
        resp = client.post("/api/classify/image", {"file": named(data, name)}, format="multipart")
        assert (resp.status_code, resp.data) == (400, {"file": [reason]})
