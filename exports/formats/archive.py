"""Writing into the export ZIP: safe member names, images copied in chunks, manifests spooled to disk.

Only one member of a ``zipfile.ZipFile`` can be open for writing at a time, so a manifest that grows
while images are being added (CSV rows, COCO's ``images`` array) is written to a ``Spool`` (a
temporary file) and copied into the ZIP at the end. Nothing here holds more than one item in memory.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from exports.formats.errors import UNREADABLE_IMAGE_MESSAGE, InvalidExportRecord
from exports.formats.records import ExportRecord

CHUNK_SIZE = 1024 * 1024
MAX_STEM_LENGTH = 100
MAX_CLASS_FOLDER_LENGTH = 100


@dataclass(frozen=True)
class ImageKind:
    extension: str
    mime_type: str
    already_compressed: bool
    pil_format: str


IMAGE_KINDS = {
    "jpeg": ImageKind(".jpg", "image/jpeg", True, "JPEG"),
    "png": ImageKind(".png", "image/png", True, "PNG"),
    "gif": ImageKind(".gif", "image/gif", True, "GIF"),
    "webp": ImageKind(".webp", "image/webp", True, "WEBP"),
    "bmp": ImageKind(".bmp", "image/bmp", False, "BMP"),
    "tiff": ImageKind(".tif", "image/tiff", False, "TIFF"),
}
_KIND_BY_MIME = {kind.mime_type: name for name, kind in IMAGE_KINDS.items()} | {"image/jpg": "jpeg"}
_KIND_BY_EXTENSION = {
    ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".png": "png", ".gif": "gif", ".webp": "webp",
    ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff",
}

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_UNSAFE_FOLDER_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_file_name(name: str, fallback: str = "item") -> str:
    """The last path component of ``name``, reduced to ASCII letters, digits, ``.``, ``_`` and ``-``."""
    stem, extension = os.path.splitext(re.split(r"[\\/]", name or "")[-1])
    stem = _UNSAFE_FILE_CHARS.sub("_", _ascii(stem)).strip("._-")[:MAX_STEM_LENGTH] or fallback
    extension = _UNSAFE_FILE_CHARS.sub("", _ascii(extension[1:]))[:10]
    return f"{stem}.{extension}" if extension else stem


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def item_stem(record: ExportRecord) -> str:
    """``<item_id>_<safe name>`` without extension: unique within an export because item ids are."""
    return f"{record.item_id}_{os.path.splitext(safe_file_name(record.file_name))[0]}"


def class_folder_names(class_names: Iterable[str]) -> dict[str, str]:
    """A folder (or file-name part) per class: path separators and control characters replaced,
    no leading dots, and unique even on case-insensitive file systems (``Cat`` and ``cat`` become
    ``Cat`` and ``cat_2``)."""
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for name in class_names:
        base = _UNSAFE_FOLDER_CHARS.sub("_", name).strip().lstrip(".").strip()[:MAX_CLASS_FOLDER_LENGTH] or "_"
        candidate, n = base, 2
        while candidate.casefold() in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate.casefold())
        folders[name] = candidate
    return folders


def member_path(*parts: str) -> str:
    """Join ZIP member path parts, refusing any part that could step outside the archive's root."""
    pieces = [piece for part in parts for piece in part.split("/")]
    for piece in pieces:
        if piece in ("", ".", "..") or "\\" in piece or "\x00" in piece:
            raise ValueError(f"unsafe ZIP member path: {'/'.join(parts)!r}")
    return "/".join(pieces)


def sniff_image_kind(head: bytes) -> str | None:
    """The image format from its first bytes, or None when they match none we know."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def declared_image_kind(record: ExportRecord) -> str | None:
    """The format the record claims, by mime type and then by file-name extension."""
    kind = _KIND_BY_MIME.get((record.mime_type or "").lower())
    if kind is None:
        kind = _KIND_BY_EXTENSION.get(os.path.splitext(record.file_name or "")[1].lower())
    return kind


@dataclass(frozen=True)
class ImageBytes:
    data: bytes
    kind: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class WrittenImage:
    member: str
    file_name: str
    kind: str | None
    width: int | None
    height: int | None


def _unreadable(record: ExportRecord, exc: Exception) -> InvalidExportRecord:
    return InvalidExportRecord(UNREADABLE_IMAGE_MESSAGE.format(item_id=record.item_id, detail=exc))


def _measure(record: ExportRecord, data: bytes) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception as exc:
        raise _unreadable(record, exc)


def _transcode(record: ExportRecord, data: bytes, target: str) -> ImageBytes:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            if target == "jpeg" and image.mode != "RGB":
                converted = image.convert("RGB")
            elif target == "png" and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
                converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            else:
                converted = image
            out = io.BytesIO()
            converted.save(out, IMAGE_KINDS[target].pil_format, **({"quality": 95} if target == "jpeg" else {}))
            width, height = converted.size
    except Exception as exc:
        raise _unreadable(record, exc)
    return ImageBytes(out.getvalue(), target, width, height)


def read_image(record: ExportRecord, *, accept: frozenset[str] | None = None, convert_to: str = "png",
               need_size: bool = False) -> ImageBytes:
    """One image in memory (for formats that embed the bytes), converted to ``convert_to`` when its
    format is not in ``accept``, and measured with Pillow when ``need_size`` and the record has no size."""
    with record.open_bytes() as source:
        data = source.read()
    kind = sniff_image_kind(data[:16]) or declared_image_kind(record)
    if accept is not None and kind not in accept:
        return _transcode(record, data, convert_to)
    width, height = record.width, record.height
    if need_size and (width is None or height is None):
        width, height = _measure(record, data)
    return ImageBytes(data, kind, width, height)


class ExportArchive:
    """The ZIP an export is written into; every member gets the export's timestamp and 0644 mode."""

    def __init__(self, zf: zipfile.ZipFile, created_at: datetime):
        self.zf = zf
        moment = created_at.astimezone(UTC) if created_at.tzinfo else created_at
        self.date_time = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute,
                          moment.second)

    def _info(self, name: str, compress: bool, size: int | None) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(member_path(name), date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        if size is not None:
            info.file_size = size
        return info

    def open(self, name: str, *, compress: bool, size: int | None = None) -> IO[bytes]:
        """A member open for writing; pass ``size`` when known so zipfile can choose ZIP64."""
        return self.zf.open(self._info(name, compress, size), "w")

    def add_directory(self, name: str) -> None:
        """An empty folder (a ``name/`` entry), which unzip and zipfile recreate as a directory."""
        info = zipfile.ZipInfo(member_path(name) + "/", date_time=self.date_time)
        info.external_attr = (0o40755 << 16) | 0x10
        self.zf.writestr(info, b"")

    def write_bytes(self, name: str, data: bytes, *, compress: bool) -> None:
        with self.open(name, compress=compress, size=len(data)) as target:
            target.write(data)

    def write_text(self, name: str, text: str) -> None:
        self.write_bytes(name, text.encode("utf-8"), compress=True)

    def write_lines(self, name: str, lines: Iterable[str]) -> None:
        """A compressed text member from an iterable of lines, written in chunks of about 1 MiB."""
        with self.open(name, compress=True) as target:
            batch: list[str] = []
            batched = 0
            for line in lines:
                batch.append(line)
                batched += len(line)
                if batched >= CHUNK_SIZE:
                    target.write("".join(batch).encode("utf-8"))
                    batch, batched = [], 0
            target.write("".join(batch).encode("utf-8"))

    def write_parts(self, name: str, parts: list[bytes | Spool], *, compress: bool = True) -> None:
        """One member made of literal bytes and spooled files, in order, copied in chunks."""
        size = sum(len(part) if isinstance(part, bytes) else part.size() for part in parts)
        with self.open(name, compress=compress, size=size) as target:
            for part in parts:
                if isinstance(part, bytes):
                    target.write(part)
                else:
                    part.copy_into(target)

    def add_file(self, name: str, path: str | os.PathLike, *, compress: bool) -> None:
        with open(path, "rb") as source, self.open(name, compress=compress, size=os.path.getsize(path)) as target:
            shutil.copyfileobj(source, target, CHUNK_SIZE)

    def add_tree(self, prefix: str, directory: str | os.PathLike, *,
                 compress: Callable[[Path], bool] = lambda path: True) -> None:
        """Every file under ``directory`` (in sorted order) as ``prefix/<relative path>``."""
        root = Path(directory)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.add_file(member_path(prefix, path.relative_to(root).as_posix()), path, compress=compress(path))

    def write_image(self, record: ExportRecord, folder: str, *, accept: frozenset[str] | None = None, convert_to: str = "png",
                    need_size: bool = False) -> WrittenImage:
        """Copy the record's image to ``folder/<item_id>_<safe name><ext>`` in chunks.

        The extension follows the bytes' real format. An image whose format is not in ``accept`` is
        converted to ``convert_to`` with Pillow; with ``need_size`` a record without width/height is
        measured. Both need the image in memory, one at a time; otherwise it streams.
        """
        stem = item_stem(record)
        with record.open_bytes() as source:
            head = source.read(16)
            kind = sniff_image_kind(head) or declared_image_kind(record)
            width, height = record.width, record.height
            image = None
            if accept is not None and kind not in accept:
                image = _transcode(record, head + source.read(), convert_to)
            elif need_size and (width is None or height is None):
                data = head + source.read()
                image = ImageBytes(data, kind, *_measure(record, data))
            if image is not None:
                kind, width, height = image.kind, image.width, image.height
                file_name = stem + _extension(kind, record)
                self.write_bytes(member_path(folder, file_name), image.data, compress=_compressible(kind))
            else:
                file_name = stem + _extension(kind, record)
                with self.open(member_path(folder, file_name), compress=_compressible(kind)) as target:
                    target.write(head)
                    shutil.copyfileobj(source, target, CHUNK_SIZE)
        return WrittenImage(member_path(folder, file_name), file_name, kind, width, height)


def _extension(kind: str | None, record: ExportRecord) -> str:
    if kind is not None:
        return IMAGE_KINDS[kind].extension
    extension = os.path.splitext(safe_file_name(record.file_name))[1]
    return extension or ".bin"


def _compressible(kind: str | None) -> bool:
    return kind is None or not IMAGE_KINDS[kind].already_compressed


class Spool:
    """A temporary file a manifest is written to (as UTF-8 text) while images go into the ZIP."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.text = io.TextIOWrapper(self._file, encoding="utf-8", newline="")
        self.count = 0

    def write(self, text: str) -> None:
        self.text.write(text)

    def size(self) -> int:
        self.text.flush()
        return self._file.seek(0, os.SEEK_END)

    def copy_into(self, target: IO[bytes]) -> None:
        self.text.flush()
        self._file.seek(0)
        shutil.copyfileobj(self._file, target, CHUNK_SIZE)
        self._file.seek(0, os.SEEK_END)

    def lines(self) -> Iterable[str]:
        """Read the spool back line by line (for formats that need a second pass)."""
        self.text.flush()
        self._file.seek(0)
        reader = io.TextIOWrapper(self._file, encoding="utf-8", newline="")
        try:
            yield from reader
        finally:
            reader.detach()
            self._file.seek(0, os.SEEK_END)

    def close(self) -> None:
        self.text.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
