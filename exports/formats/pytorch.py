"""PyTorch.

Image projects: the ``ImageFolder`` layout, ``<split>/<class>/…`` (see ``exports.formats.class_folders``):
``torchvision.datasets.ImageFolder("<export>/train")`` loads it. Single-label only.

Text projects: ``<split>-<nnnnn>.pt`` shards of at most ``shard_size`` items, each a dict that
``torch.load(path, weights_only=True)`` loads:

- ``texts``: list of str; ``item_ids``: int64 tensor;
- ``labels``: int64 tensor of schema indices (single-label; an item without a final label is left
  out, counted as skipped), or a bool multi-hot tensor of shape ``(n, len(classes))`` (multi-label);
- ``classes``: the class names in schema order; ``multi_label``: bool.

A shard is the only thing held in memory, so memory is bounded by ``shard_size``, not the item count.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable

from exports.formats.archive import ExportArchive
from exports.formats.class_folders import write_class_folders
from exports.formats.records import SPLITS, ExportRecord, ExportSpec, ExportSummary, Progress, check_record

DEFAULT_SHARD_SIZE = 50_000


class _TextShard:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self.item_ids: list[int] = []
        self.labels: list[list[int]] = []


def _save_shard(archive: ExportArchive, spec: ExportSpec, split: str, number: int, shard: _TextShard) -> None:
    # torch is imported here so that listing formats does not load it.
    import torch

    if spec.multi_label:
        labels = torch.zeros((len(shard.labels), len(spec.class_names)), dtype=torch.bool)
        rows = [row for row, indices in enumerate(shard.labels) for _ in indices]
        columns = [index for indices in shard.labels for index in indices]
        labels[rows, columns] = True
    else:
        labels = torch.tensor([indices[0] for indices in shard.labels], dtype=torch.int64)
    payload = {
        "texts": shard.texts,
        "item_ids": torch.tensor(shard.item_ids, dtype=torch.int64),
        "labels": labels,
        "classes": list(spec.class_names),
        "multi_label": spec.multi_label,
    }
    handle, path = tempfile.mkstemp(suffix=".pt")
    os.close(handle)
    try:
        torch.save(payload, path)
        archive.add_file(f"{split}-{number:05d}.pt", path, compress=True)
    finally:
        os.unlink(path)


def write_pytorch(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                  progress: Callable[[int], None] | None = None,
                  shard_size: int = DEFAULT_SHARD_SIZE) -> ExportSummary:
    """ImageFolder for an image project, ``.pt`` shards for a text project (see the module docstring)."""
    if spec.is_image:
        return write_class_folders(zf, spec, records, progress=progress)
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    summary = ExportSummary()
    shards = {split: _TextShard() for split in SPLITS}
    numbers = dict.fromkeys(SPLITS, 0)
    for record in records:
        check_record(spec, record)
        counter.tick()
        if not spec.multi_label and len(record.labels) != 1:
            summary.items_skipped += 1
            continue
        shard = shards[record.split]
        shard.texts.append(record.text)
        shard.item_ids.append(record.item_id)
        shard.labels.append(spec.class_indices(record.labels, item_id=record.item_id))
        summary.items_written += 1
        if len(shard.texts) >= shard_size:
            _save_shard(archive, spec, record.split, numbers[record.split], shard)
            numbers[record.split] += 1
            shards[record.split] = _TextShard()
    for split in SPLITS:
        if shards[split].texts:
            _save_shard(archive, spec, split, numbers[split], shards[split])
    counter.finish()
    summary.items_read = counter.done
    return summary
