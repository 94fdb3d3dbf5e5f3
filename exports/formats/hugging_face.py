"""Hugging Face: a ``DatasetDict`` saved with ``datasets`` and the same rows as Parquet.

- ``dataset/``: ``datasets.load_from_disk("<export>/dataset")`` gives one split per split present,
  named as on the Hub: ``train``, ``validation`` (our ``val``) and ``test``.
- ``data/<split>-00000-of-00001.parquet``: the Hub's layout, so ``load_dataset("parquet", data_dir=…)``
  or an upload to the Hub finds the splits; the Parquet schema carries the ``datasets`` features.

Columns: ``id``; ``image`` (the ``Image`` feature, bytes embedded) and ``file_name`` for images, or
``text``; ``label`` (``ClassLabel`` in schema order, -1 when an item has no final label) or, for a
multi-label project, ``labels`` (a list of ``ClassLabel``); ``predicted_labels``, ``confidence``,
``model``, ``reviewer``, ``state``; with boxes, ``objects`` (``bbox`` as [x, y, w, h] in pixels and
``category``). With chosen columns (``ExportSpec.columns``), the content and label columns stay
(under their names, or the names chosen for them) and the chosen ones follow, renamed; the
extra ones are ``source``, ``split``, ``created_at`` and ``decided_at`` (strings), ``schema_version``
and ``width``/``height`` (integers), and ``probabilities`` (one float per class, in ``ClassLabel``
order; empty when the item has no prediction).

Rows are written to Parquet in row groups while the records stream in; ``datasets`` then converts
the Parquet files (in batches, memory-mapped) and saves the dataset. Memory is bounded by the row
groups being filled: ``ROW_GROUP_ROWS`` rows per split and ``ROW_GROUP_BYTES`` of content in all.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from exports.formats.archive import IMAGE_KINDS, ExportArchive, item_stem, read_image
from exports.formats.errors import InvalidExportSpec
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

HUB_SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}
ROW_GROUP_ROWS = 10_000
ROW_GROUP_BYTES = 32 * 1024 * 1024


DUPLICATE_COLUMN = "Two columns of the dataset would be named '{name}'; rename one of them."
STRING_COLUMNS = ("original_file_name", "model", "reviewer", "state", "split", "source", "created_at", "decided_at")


def _default_name(spec: ExportSpec, key: str) -> str:
    names = {"item_id": "id", "file_name": "image", "original_file_name": "file_name",
             "labels": "labels" if spec.multi_label else "label"}
    return names.get(key, key)


def dataset_columns(spec: ExportSpec) -> list[tuple[str, str]]:
    """The dataset's columns as (column key, name): the default layout, or the chosen columns with
    the content and label columns always kept."""
    content = "file_name" if spec.is_image else "text"
    if not spec.columns:
        keys = ["item_id", content, *(["original_file_name"] if spec.is_image else []), "labels",
                "predicted_labels", "confidence", "model", "reviewer", "state"]
        return [(key, _default_name(spec, key)) for key in keys]
    chosen = [(key, name) for key, name in spec.columns if key != "text" or not spec.is_image]
    keys = {key for key, _ in chosen}
    required = [(key, "") for key in (content, "labels") if key not in keys]
    columns = [(key, name or _default_name(spec, key)) for key, name in required + chosen]
    seen: set[str] = set()
    for _, name in columns:
        if name in seen or (spec.has_boxes and name == "objects"):
            raise InvalidExportSpec(DUPLICATE_COLUMN.format(name=name))
        seen.add(name)
    return columns


def dataset_features(spec: ExportSpec):
    """The ``datasets.Features`` of an export of this project."""
    from datasets import ClassLabel, Features, Image, List, Value

    def classes() -> ClassLabel:
        return ClassLabel(names=list(spec.class_names))

    types = {
        "item_id": Value("int64"), "file_name": Image(), "text": Value("string"),
        "labels": List(classes()) if spec.multi_label else classes(), "predicted_labels": List(classes()),
        "confidence": Value("float32"), "probabilities": List(Value("float32")), "schema_version": Value("int32"),
        "width": Value("int32"), "height": Value("int32"), **{key: Value("string") for key in STRING_COLUMNS},
    }
    columns: dict = {name: types[key] for key, name in dataset_columns(spec)}
    if spec.has_boxes:
        columns["objects"] = {"bbox": List(List(Value("float32"), length=4)), "category": List(classes())}
    return Features(columns)


class _SplitParquet:
    """The Parquet file of one split, with the rows of its next row group."""

    def __init__(self, path: Path, schema):
        self.path, self.schema = path, schema
        self.writer = None
        self.rows: dict[str, list] = {name: [] for name in schema.names}
        self.buffered_rows = 0
        self.buffered_bytes = 0

    def append(self, row: dict, size: int) -> None:
        for name, values in self.rows.items():
            values.append(row[name])
        self.buffered_rows += 1
        self.buffered_bytes += size
        if self.buffered_rows >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.buffered_rows:
            return
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(pa.Table.from_pydict(self.rows, schema=self.schema))
        self.rows = {name: [] for name in self.schema.names}
        self.buffered_rows = self.buffered_bytes = 0

    def close(self) -> bool:
        """Flush and close; True when the split has rows."""
        self.flush()
        if self.writer is None:
            return False
        self.writer.close()
        return True


def _row(spec: ExportSpec, columns: list[tuple[str, str]], record: ExportRecord) -> tuple[dict, int]:
    values = record_values(record)
    size = 0
    if spec.is_image:
        image = read_image(record)
        extension = IMAGE_KINDS[image.kind].extension if image.kind else ""
        values["file_name"] = {"bytes": image.data, "path": item_stem(record) + extension}
        size = len(image.data)
    else:
        size = len(record.text)
    indices = spec.class_indices(record.labels, item_id=record.item_id)
    values["labels"] = indices if spec.multi_label else (indices[0] if len(indices) == 1 else -1)
    values["predicted_labels"] = spec.class_indices(record.predicted_labels, item_id=record.item_id)
    probabilities = values["probabilities"]
    values["probabilities"] = [] if not probabilities else [
        float(probabilities.get(name, 0.0)) for name in spec.class_names]
    row = {name: values[key] for key, name in columns}
    if spec.has_boxes:
        boxes = boxes_of(record)
        row["objects"] = {
            "bbox": [[box.x, box.y, box.w, box.h] for box in boxes],
            "category": [spec.class_index(box.label, item_id=record.item_id) for box in boxes],
        }
    return row, size


def write_hugging_face(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                       progress: Callable[[int], None] | None = None) -> ExportSummary:
    """Write the saved dataset and Parquet files described in this module's docstring."""
    import datasets

    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    features = dataset_features(spec)
    columns = dataset_columns(spec)
    schema = features.arrow_schema
    with tempfile.TemporaryDirectory(prefix="modelship-hf-") as work:
        work_dir = Path(work)
        (work_dir / "data").mkdir()
        parquet = {split: _SplitParquet(work_dir / "data" / f"{HUB_SPLIT_NAMES[split]}-00000-of-00001.parquet", schema)
                   for split in SPLITS}
        try:
            for record in records:
                check_record(spec, record)
                parquet[record.split].append(*_row(spec, columns, record))
                if sum(split.buffered_bytes for split in parquet.values()) >= ROW_GROUP_BYTES:
                    for split in parquet.values():  # one budget for all splits' buffers
                        split.flush()
                counter.tick()
        finally:
            present = [split for split in SPLITS if parquet[split].close()]

        bars_were_off = datasets.are_progress_bars_disabled()
        datasets.disable_progress_bars()  # tqdm bars only clutter a worker's log
        try:
            saved = datasets.DatasetDict({
                HUB_SPLIT_NAMES[split]: datasets.Dataset.from_parquet(
                    str(parquet[split].path), features=features, cache_dir=str(work_dir / "cache"),
                    split=HUB_SPLIT_NAMES[split])
                for split in present
            })
            saved.save_to_disk(str(work_dir / "dataset"))
            del saved
        finally:
            if not bars_were_off:
                datasets.enable_progress_bars()

        compress = not spec.is_image  # image columns are already-compressed JPEG/PNG bytes
        archive.add_tree("dataset", work_dir / "dataset", compress=lambda path: compress or path.suffix != ".arrow")
        archive.add_tree("data", work_dir / "data", compress=lambda path: False)
    counter.finish()
    return ExportSummary(items_read=counter.done, items_written=counter.done)
