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
