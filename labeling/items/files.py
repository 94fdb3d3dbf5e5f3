"""An item's stored file, opened for download."""

from __future__ import annotations

from django.core.files import File

from modelship.exceptions import NotFound

FILE_MISSING = "The stored file of this item is missing."


def item_file_open(*, item) -> File:
    """An item's stored file, open for reading; 404 when storage has lost it."""
    if not item.file:
        raise NotFound(FILE_MISSING)
    try:
        return item.file.open("rb")
    except FileNotFoundError:
        raise NotFound(FILE_MISSING) from None
