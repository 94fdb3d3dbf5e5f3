"""CSV, JSON and JSON Lines: one row per item with its final labels, the model's prediction and the review.

For image projects the images go under ``images/`` and each row's ``file_name`` is the image's path
inside the ZIP (``original_file_name`` keeps the uploaded name). CSV joins several labels with
``|`` (and writes probabilities and boxes as JSON); JSON and JSON Lines give ``labels`` as a list,
single-label projects included. With chosen columns (``ExportSpec.columns``) a row holds exactly
those, in that order, under their names; images are copied only when the file name is among them.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator

from exports.formats.archive import ExportArchive, Spool
from exports.formats.records import (
    ExportRecord,
    ExportSpec,
    ExportSummary,
    Progress,
    boxes_of,
    check_record,
    record_values,
)

LABEL_SEPARATOR = "|"
IMAGE_FOLDER = "images"


def _columns(spec: ExportSpec) -> list[str]:
    if spec.columns:
        return [name or key for key, name in spec.columns]
    content = ["file_name", "original_file_name", "width", "height"] if spec.is_image else ["text"]
    extra = ["boxes"] if spec.has_boxes else []
    return ["item_id", *content, "labels", "predicted_labels", "confidence", "model", "reviewer", "state",
            "split", *extra]


def _rows(archive: ExportArchive, spec: ExportSpec, records: Iterable[ExportRecord], progress: Progress,
          include_images: bool) -> Iterator[dict]:
    """Each record as a row (labels as lists), after copying its image into ``images/``."""
    if spec.columns and "file_name" not in {key for key, _ in spec.columns}:
        include_images = False
    for record in records:
        check_record(spec, record)
        row: dict = {"item_id": record.item_id}
        if spec.is_image:
            width, height = record.width, record.height
            file_name = None
            if include_images:
                image = archive.write_image(record, IMAGE_FOLDER, need_size=True)
                file_name, width, height = image.member, image.width, image.height
            row.update(file_name=file_name, original_file_name=record.file_name, width=width, height=height)
        else:
            row["text"] = record.text
        row.update(
            labels=list(record.labels),
            predicted_labels=list(record.predicted_labels),
            confidence=record.confidence,
            model=record.model_name,
            reviewer=record.reviewer,
            state=record.state,
            split=record.split,
        )
        if spec.has_boxes:
            row["boxes"] = [box._asdict() for box in boxes_of(record)]
        if spec.columns:
            values = {**record_values(record), **row}
            row = {name or key: values.get(key) for key, name in spec.columns}
        yield row
        progress.tick()


def _write(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord],
           progress: Callable[[int], None] | None, include_images: bool, member: str,
           write_rows: Callable[[Spool, Iterator[dict]], int], head: bytes = b"", tail: bytes = b"") -> ExportSummary:
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    with Spool() as spool:
        written = write_rows(spool, _rows(archive, spec, records, counter, include_images))
        archive.write_parts(member, [head, spool, tail])
    counter.finish()
    return ExportSummary(items_read=counter.done, items_written=written)


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return LABEL_SEPARATOR.join(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_csv(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
              progress: Callable[[int], None] | None = None, include_images: bool = True) -> ExportSummary:
    """``labels.csv`` (RFC 4180, UTF-8, header row); label lists are joined with ``|``, probabilities and
    boxes are JSON."""
    columns = _columns(spec)

    def write_rows(spool: Spool, rows: Iterator[dict]) -> int:
        writer = csv.writer(spool.text)
        writer.writerow(columns)
        n = 0
        for row in rows:
            writer.writerow([_csv_cell(row[column]) for column in columns])
            n += 1
        return n

    return _write(zf, spec, records, progress, include_images, "labels.csv", write_rows)


def write_jsonl(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                progress: Callable[[int], None] | None = None, include_images: bool = True) -> ExportSummary:
    """``labels.jsonl``: one JSON object per line and item."""

    def write_rows(spool: Spool, rows: Iterator[dict]) -> int:
        n = 0
        for row in rows:
            spool.write(json.dumps(row, ensure_ascii=False))
            spool.write("\n")
            n += 1
        return n

    return _write(zf, spec, records, progress, include_images, "labels.jsonl", write_rows)


def write_json(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
               progress: Callable[[int], None] | None = None, include_images: bool = True) -> ExportSummary:
    """``labels.json``: the project (name, type, classes, export id and time) and an ``items`` array,
    written item by item rather than built as one object."""
    head = {
        "project": spec.project_name,
        "project_type": spec.project_type,
        "multi_label": spec.multi_label,
        "classes": list(spec.class_names),
        "export_id": spec.export_id,
        "created_at": spec.created_at.isoformat(),
    }
    opening = json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "items": [\n'

    def write_rows(spool: Spool, rows: Iterator[dict]) -> int:
        n = 0
        for row in rows:
            if n:
                spool.write(",\n")
            spool.write(json.dumps(row, ensure_ascii=False))
            n += 1
        return n

    return _write(zf, spec, records, progress, include_images, "labels.json", write_rows,
                  head=opening.encode("utf-8"), tail=b"\n ]\n}\n")
