"""Stored objects: where a project's files live (item files, staged imports, exports), and removing them
robustly. Plain storage calls: every app that stores files uses these."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


def project_storage_prefix(project_id: int) -> str:
    """Everything a project stores (item files, staged imports) lives under this prefix."""
    return f"projects/{project_id}/"


def stored_files_delete(*, names: Iterable[str]) -> int:
    """Delete stored objects by name; a failure is logged and the rest still go. Returns how many went."""
    deleted = 0
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
            deleted += 1
        except Exception:  # storage may be briefly away; an orphan is better than a failed request
            logger.exception("could not delete stored file %s", name)
    return deleted


def _walk(prefix: str) -> Iterable[str]:
    try:
        directories, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{prefix}{name}"
    for directory in directories:
        yield from _walk(f"{prefix}{directory}/")


def stored_prefix_delete(*, prefix: str) -> int:
    """Delete every stored object under a prefix (and, on local storage, the emptied folders)."""
    deleted = stored_files_delete(names=list(_walk(prefix)))
    try:
        folder = Path(default_storage.path(prefix))
    except NotImplementedError:  # object storage has no folders to remove
        return deleted
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
    return deleted
