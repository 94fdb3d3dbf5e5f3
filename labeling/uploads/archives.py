"""ZIP archives, checked from their central directory before a single entry is extracted."""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from labeling.uploads import messages
from labeling.uploads.limits import UploadLimits
from modelship.exceptions import DomainError

_DRIVE = re.compile(r"^[A-Za-z]:")


def _is_skipped(name: str) -> bool:
    """Directories and the clutter archivers add (macOS resource forks, dotfiles) are not items."""
    if name.endswith("/"):
        return True
    parts = name.split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith(".")


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def zip_open(stream: BinaryIO, *, archive: str, limits: UploadLimits) -> zipfile.ZipFile:
    """Open a ZIP and check every entry's path, type and size; raise DomainError (400) on any problem."""
    try:
        archive_file = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise DomainError(messages.ZIP_UNREADABLE.format(archive=archive), field="files") from None
    infos = archive_file.infolist()

    def fail(message: str, **values):
        archive_file.close()
        raise DomainError(message.format(archive=archive, **values), field="files")

    if len(infos) > limits.max_zip_entries:
        fail(messages.ZIP_TOO_MANY_ENTRIES, count=len(infos), limit=limits.max_zip_entries)
    total = compressed = 0
    for info in infos:
        name = info.filename
        normalised = name.replace("\\", "/")
        if normalised.startswith("/") or _DRIVE.match(normalised) or ".." in normalised.split("/"):
            fail(messages.ZIP_UNSAFE_PATH, entry=name)
        if _is_link(info):
            fail(messages.ZIP_LINK, entry=name)
        if info.flag_bits & 0x1:
            fail(messages.ZIP_ENCRYPTED, entry=name)
        total += info.file_size
        compressed += info.compress_size
        if info.file_size > limits.zip_ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                fail(messages.ZIP_RATIO, entry=name, ratio=ratio, limit=_number(limits.max_zip_ratio))
    if total > limits.max_zip_total_bytes:
        fail(messages.ZIP_TOO_LARGE, size=total, limit=limits.max_zip_total_bytes)
    if total > limits.zip_ratio_min_bytes and total / max(compressed, 1) > limits.max_zip_ratio:
        fail(messages.ZIP_TOTAL_RATIO, ratio=total / max(compressed, 1), limit=_number(limits.max_zip_ratio))
    return archive_file


def zip_entries(archive_file: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    """The entries that can hold items, in archive order (``zip_open`` has checked them all)."""
    for info in archive_file.infolist():
        if not _is_skipped(info.filename.replace("\\", "/")):
            yield info


def entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's path as users and CSV rows name it: forward slashes, no leading "./"."""
    name = info.filename.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name


def _number(value: float) -> str:
    return f"{value:g}"
