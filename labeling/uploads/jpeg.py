"""Whether a JPEG's compressed data ends before its last pixel.

A JPEG cut short without its end marker makes Pillow raise "image file is truncated". One cut short
and then closed with an end marker (``FF D9``) does not: libjpeg meets the marker where it expects
more data, warns (a warning Pillow drops), fills every missing block with mid-grey and reports
success. So the check decodes the image twice, the second time with other bytes spliced in just
before the first image's end marker: a whole image never reads past its last block, so both decodes
agree; a short one reads the spliced bytes as pixels, so they differ.

A sequential JPEG is decoded with libjpeg's DCT scaling (1/8 of each side): every coefficient is
still read, and a block read from the wrong bits changes its first coefficient, which is what the
small image shows, at 1/64 of the memory of a full-size decode. A progressive one is decoded at full
size: its later scans refine only the coefficients a small image does not show. The one cut this
misses in a sequential JPEG is one inside the fine detail of its very last block (its first
coefficient already read), which leaves every pixel but those of one 8 to 16 pixel square right.
"""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from PIL import Image

CHUNK = 1 << 20
# Bytes no decoder would mistake for a marker (no 0xFF), varied enough to decode as non-zero pixels.
FILLER = bytes((i * 73 + 41) % 255 for i in range(512))
STRIP_ROWS = 256
STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0..7 carry no length


def _find_ff(stream: BinaryIO, start: int) -> int | None:
    """The offset of the next 0xFF byte at or after ``start``, or None at the end of the stream."""
    stream.seek(start)
    position = start
    while chunk := stream.read(CHUNK):
        found = chunk.find(b"\xff")
        if found >= 0:
            return position + found
        position += len(chunk)
    return None


def end_marker_offset(stream: BinaryIO) -> int | None:
    """The offset of the first image's end marker (EOI), walking segments and scans; None without one."""
    position = 2  # after SOI
    while True:
        stream.seek(position)
        head = stream.read(2)
        if len(head) < 2:
            return None
        if head[0] != 0xFF:  # stray bytes between segments, which libjpeg skips too
            found = _find_ff(stream, position)
            if found is None:
                return None
            position = found
            continue
        marker = head[1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:
            return position
        if marker in STANDALONE:
            position += 2
            continue
        length = stream.read(2)
        if len(length) < 2:
            return None
        position += 2 + int.from_bytes(length, "big")
        if marker != 0xDA:
            continue
        while True:  # a scan's entropy-coded data runs to the next marker that is not a stuffed byte or RSTn
            found = _find_ff(stream, position)
            if found is None:
                return None
            stream.seek(found + 1)
            following = stream.read(1)
            if not following:
                return None
            if following[0] == 0x00 or following[0] in STANDALONE:
                position = found + 2
            elif following[0] == 0xFF:
                position = found + 1
            else:
                position = found
                break


class _Spliced(io.RawIOBase):
    """A read-only view of ``stream`` with ``insert`` placed at ``at``, without copying the stream."""

    def __init__(self, stream: BinaryIO, *, at: int, insert: bytes):
        stream.seek(0, io.SEEK_END)
        self._stream, self._at, self._insert, self._size = stream, at, insert, stream.tell() + len(insert)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        wanted, position = len(view), self._position
        if position < self._at:
            self._stream.seek(position)
            data = self._stream.read(min(wanted, self._at - position))
        elif position < self._at + len(self._insert):
            data = self._insert[position - self._at:position - self._at + wanted]
        else:
            self._stream.seek(position - len(self._insert))
            data = self._stream.read(wanted)
        view[:len(data)] = data
        self._position += len(data)
        return len(data)


def _decoded_digest(stream: BinaryIO) -> bytes:
    """A digest of the decoded pixels; raises what Pillow raises for damaged data.

    A sequential JPEG is decoded at the smallest DCT scale (each block's first coefficient); a
    progressive one at full size, since its later scans refine only the other coefficients."""
    with Image.open(stream) as image:
        width, height = image.size
        if not image.info.get("progressive"):
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        image.load()
        digest = hashlib.sha256()
        for top in range(0, image.height, STRIP_ROWS):  # strips: no second full-size copy of the pixels
            digest.update(image.crop((0, top, image.width, min(image.height, top + STRIP_ROWS))).tobytes())
        return digest.digest()


def jpeg_ends_early(stream: BinaryIO) -> bool:
    """True when the JPEG's compressed data stops before its last block (however the file ends).

    Raises what Pillow raises for data it cannot decode at all (a file with no end marker among them)."""
    stream.seek(0)
    decoded = _decoded_digest(stream)
    end = end_marker_offset(stream)
    if end is None:  # Pillow decodes no JPEG without an end marker, so this walk found none to check
        return False
    spliced = io.BufferedReader(_Spliced(stream, at=end, insert=FILLER))
    try:
        return _decoded_digest(spliced) != decoded
    finally:
        stream.seek(0)
