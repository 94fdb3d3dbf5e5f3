"""YOLO, in the two layouts Ultralytics trains from.

Classification (a project without boxes): ``train/<class>/…``, ``val/<class>/…``, ``test/<class>/…``
(see ``exports.formats.class_folders``). Single-label only: a folder holds one class.

Detection (``spec.has_boxes``): ``images/<split>/<stem>.<ext>``, ``labels/<split>/<stem>.txt`` with
one ``<class> <x_center> <y_center> <width> <height>`` line per box (class 0-based in schema order,
coordinates normalised to 0..1), and ``data.yaml`` naming the split folders and the classes. An image
without boxes gets an empty label file (a background image). ``data.yaml`` has no ``path`` key, so
Ultralytics resolves the folders from the yaml's own location.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable

import yaml

from exports.formats.archive import ExportArchive, member_path
from exports.formats.class_folders import CLASS_FOLDER_IMAGE_KINDS, write_class_folders
from exports.formats.records import (
    SPLITS,
    ExportRecord,
    ExportSpec,
    ExportSummary,
    Progress,
    boxes_of,
    check_record,
)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def write_yolo(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
               progress: Callable[[int], None] | None = None) -> ExportSummary:
    """Class folders for a classification project, the detection layout for one with boxes."""
    if not spec.has_boxes:
        return write_class_folders(zf, spec, records, progress=progress)
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    splits_seen: set[str] = set()
    for record in records:
        check_record(spec, record)
        image = archive.write_image(record, member_path("images", record.split), accept=CLASS_FOLDER_IMAGE_KINDS,
                                    need_size=True)
        lines = []
        for box in boxes_of(record):
            index = spec.class_index(box.label, item_id=record.item_id)
            x_center = _clamp((box.x + box.w / 2) / image.width)
            y_center = _clamp((box.y + box.h / 2) / image.height)
            lines.append(f"{index} {x_center:.6f} {y_center:.6f} "
                         f"{_clamp(box.w / image.width):.6f} {_clamp(box.h / image.height):.6f}\n")
        stem = image.file_name.rsplit(".", 1)[0]
        archive.write_text(member_path("labels", record.split, f"{stem}.txt"), "".join(lines))
        splits_seen.add(record.split)
        counter.tick()
    data = {split: f"images/{split}" for split in SPLITS if split in splits_seen}
    data["nc"] = len(spec.class_names)
    data["names"] = dict(enumerate(spec.class_names))
    archive.write_text("data.yaml", yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    counter.finish()
    return ExportSummary(items_read=counter.done, items_written=counter.done)
