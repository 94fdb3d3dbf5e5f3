"""COCO: ``images/<split>/<file>`` and ``annotations/instances_<split>.json`` per split present.

Each JSON has ``info``, ``licenses`` (empty: the licence of uploaded images is not known),
``categories`` (ids 1.. in schema order; the supercategory is the class's parent in the hierarchy,
or the class itself for a root, as in COCO), ``images`` (``id`` is the item id) and ``annotations``.

Annotations: an item with boxes gets one annotation per box. In a project without boxes a
whole-image classification label has no box of its own, so it gets one annotation per label whose
bbox is the whole image, ``[0, 0, width, height]``, with ``area = width * height`` and
``iscrowd = 0``: pycocotools' ``COCO`` and detection tools load it as is. An item without labels (or,
in a project with boxes, without boxes) is an image without annotations. The
model's prediction, confidence, reviewer and state ride along in each image's ``attributes``; with
chosen columns (``ExportSpec.columns``) the attributes are those columns, under their names (the
id, file name and size are the image's own fields).

The ``images`` and ``annotations`` arrays are written element by element to temporary files while
the images are copied, then stitched into the JSON, so memory does not grow with the item count.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable

from exports.formats.archive import ExportArchive, Spool, member_path
from exports.formats.records import (
    SPLITS,
    ExportRecord,
    ExportSpec,
    ExportSummary,
    Progress,
    boxes_of,
    check_record,
    record_values,
)

IMAGE_FIELDS = frozenset({"item_id", "file_name", "width", "height"})  # COCO's own image keys


def _attributes(spec: ExportSpec, record: ExportRecord) -> dict:
    if not spec.columns:
        return {
            "original_file_name": record.file_name,
            "labels": list(record.labels),
            "predicted_labels": list(record.predicted_labels),
            "confidence": record.confidence,
            "model": record.model_name,
            "reviewer": record.reviewer,
            "state": record.state,
        }
    values = record_values(record)
    return {name or key: values[key] for key, name in spec.columns if key not in IMAGE_FIELDS}


def _head(spec: ExportSpec) -> bytes:
    info = {
        "description": spec.project_name,
        "version": "1.0",
        "year": spec.created_at.year,
        "contributor": "ModelShip",
        "url": "",
        "date_created": spec.created_at.isoformat(),
    }
    categories = [
        {"id": index + 1, "name": name, "supercategory": spec.supercategory(name)}
        for index, name in enumerate(spec.class_names)
    ]
    head = {"info": info, "licenses": [], "categories": categories}
    return (json.dumps(head, ensure_ascii=False)[:-1] + ', "images": [\n').encode("utf-8")


class _SplitJson:
    """The images and annotations arrays of one split, spooled element by element."""

    def __init__(self) -> None:
        self.images = Spool()
        self.annotations = Spool()

    @staticmethod
    def append(spool: Spool, element: dict) -> None:
        if spool.count:
            spool.write(",\n")
        spool.write(json.dumps(element, ensure_ascii=False))
        spool.count += 1

    def close(self) -> None:
        self.images.close()
        self.annotations.close()


def write_coco(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
               progress: Callable[[int], None] | None = None) -> ExportSummary:
    """Write the COCO layout described in this module's docstring."""
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    splits: dict[str, _SplitJson] = {}
    annotation_id = 0
    try:
        for record in records:
            check_record(spec, record)
            image = archive.write_image(record, member_path("images", record.split), need_size=True)
            split = splits.get(record.split) or splits.setdefault(record.split, _SplitJson())
            split.append(split.images, {
                "id": record.item_id,
                "file_name": image.file_name,
                "width": image.width,
                "height": image.height,
                "attributes": _attributes(spec, record),
            })
            boxes = boxes_of(record)
            if boxes or spec.has_boxes:
                regions = [(box.label, [box.x, box.y, box.w, box.h]) for box in boxes]
            else:
                regions = [(label, [0, 0, image.width, image.height]) for label in record.labels]
            for label, bbox in regions:
                annotation_id += 1
                split.append(split.annotations, {
                    "id": annotation_id,
                    "image_id": record.item_id,
                    "category_id": spec.class_index(label, item_id=record.item_id) + 1,
                    "bbox": bbox,
                    "area": bbox[2] * bbox[3],
                    "iscrowd": 0,
                    "segmentation": [],
                })
            counter.tick()
        head = _head(spec)
        for name in SPLITS:
            if name in splits:
                split = splits[name]
                archive.write_parts(member_path("annotations", f"instances_{name}.json"),
                                    [head, split.images, b'\n], "annotations": [\n', split.annotations, b"\n]}\n"])
    finally:
        for split in splits.values():
            split.close()
    counter.finish()
    return ExportSummary(items_read=counter.done, items_written=counter.done)
