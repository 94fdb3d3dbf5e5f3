"""The class-folder layout shared by PyTorch's ``ImageFolder`` and Ultralytics YOLO classification:
``<split>/<class>/<item_id>_<name>.<ext>``, one folder per split present (``train``, ``val``, ``test``).

A folder holds one class, so an image needs exactly one final label: the registry offers this layout
to single-label projects only, and an item without a label is left out (counted as skipped).
Every split (those asked for, and any that received an item) holds a folder for every class of the
schema, empty where no image fell, because both readers number classes by sorting the folder names
of each split: a class missing from one split would shift every index after it. Ultralytics opens
the splits with ``ImageFolder(root, allow_empty=True)``; with torchvision directly, pass
``allow_empty=True`` as well. ``classes.txt`` lists the folders in the project's schema order.
Images in a format neither reader opens (GIF, for one) are converted to PNG.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable

from exports.formats.archive import ExportArchive, class_folder_names, member_path
from exports.formats.records import SPLITS, ExportRecord, ExportSpec, ExportSummary, Progress, check_record

# What both torchvision's IMG_EXTENSIONS and Ultralytics' IMG_FORMATS accept.
CLASS_FOLDER_IMAGE_KINDS = frozenset({"jpeg", "png", "bmp", "tiff", "webp"})


def write_class_folders(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                        progress: Callable[[int], None] | None = None) -> ExportSummary:
    """Write the class-folder layout described in this module's docstring."""
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    folders = class_folder_names(spec.class_names)
    summary = ExportSummary()
    filled: set[tuple[str, str]] = set()
    splits_seen: set[str] = set()
    for record in records:
        check_record(spec, record)
        if len(record.labels) == 1:
            folder = folders[record.labels[0]]
            archive.write_image(record, member_path(record.split, folder), accept=CLASS_FOLDER_IMAGE_KINDS)
            filled.add((record.split, folder))
            splits_seen.add(record.split)
            summary.items_written += 1
        else:
            summary.items_skipped += 1
        counter.tick()
    for split in SPLITS:
        if split in spec.splits or split in splits_seen:
            for name in spec.class_names:
                if (split, folders[name]) not in filled:
                    archive.add_directory(member_path(split, folders[name]))
    archive.write_text("classes.txt", "".join(f"{folders[name]}\n" for name in spec.class_names))
    counter.finish()
    summary.items_read = counter.done
    return summary
