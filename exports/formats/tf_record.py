"""TensorFlow: TFRecord shards of ``tf.train.Example``, written without TensorFlow.

``tfrecord/<split>-<nnnnn>.tfrecord`` (a new shard every ``shard_bytes``) and ``label_map.pbtxt``.
Image examples hold ``image/encoded``, ``image/format`` (``jpeg``, ``png``, ``gif`` or ``bmp``: what
``tf.io.decode_image`` reads; other formats are converted to PNG), ``image/class/label`` (0-based
schema indices, several for a multi-label item), ``image/class/text``, ``image/height``,
``image/width``, ``image/filename`` and ``image/source_id`` (the item id); with boxes also
``image/object/bbox/{xmin,ymin,xmax,ymax}`` (normalised) and ``image/object/class/{label,text}``.
Text examples hold ``id``, ``text``, ``label`` and ``label/text``.

In a single-label project ``label`` is one value per example, so an item without a final label is
left out (counted as skipped) and the label parses as ``FixedLenFeature([], tf.int64)``. The label
map's ids are the same 0-based indices (this is a classification map, not an object-detection one,
whose ids start at 1).

The Example protobuf and the TFRecord framing (length, masked CRC-32C of the length, data, masked
CRC-32C of the data) are encoded here by hand: TensorFlow is not a dependency of the worker.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable

import crc32c

from exports.formats.archive import IMAGE_KINDS, ExportArchive, item_stem, member_path, read_image
from exports.formats.records import (
    SPLITS,
    ExportRecord,
    ExportSpec,
    ExportSummary,
    Progress,
    boxes_of,
    check_record,
)

DEFAULT_SHARD_BYTES = 128 * 1024 * 1024
TF_IMAGE_KINDS = frozenset({"jpeg", "png", "gif", "bmp"})
_CRC_MASK_DELTA = 0xA282EAD8


def _varint(value: int) -> bytes:
    value &= 0xFFFFFFFFFFFFFFFF  # int64 as protobuf writes it: two's complement, 10 bytes when negative
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def bytes_feature(values: Iterable[bytes]) -> bytes:
    """A serialized ``tf.train.Feature`` holding a ``BytesList``."""
    return _field(1, b"".join(_field(1, value) for value in values))


def int64_feature(values: Iterable[int]) -> bytes:
    """A serialized ``tf.train.Feature`` holding a packed ``Int64List``."""
    packed = b"".join(_varint(value) for value in values)
    return _field(3, _field(1, packed) if packed else b"")


def float_feature(values: Iterable[float]) -> bytes:
    """A serialized ``tf.train.Feature`` holding a packed ``FloatList``."""
    values = list(values)
    packed = struct.pack(f"<{len(values)}f", *values)
    return _field(2, _field(1, packed) if packed else b"")


def example_bytes(features: dict[str, bytes]) -> bytes:
    """A serialized ``tf.train.Example`` from serialized features: ``Features`` is field 1 of
    ``Example``, and its ``map<string, Feature>`` is field 1 of ``Features``, one entry per key."""
    entries = b"".join(_field(1, _field(1, key.encode("utf-8")) + _field(2, feature))
                       for key, feature in features.items())
    return _field(1, entries)


def masked_crc32c(data: bytes) -> int:
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _CRC_MASK_DELTA) & 0xFFFFFFFF


def tfrecord_frame(data: bytes) -> bytes:
    """One TFRecord: little-endian length, masked CRC of the length, the data, masked CRC of the data."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def label_map_pbtxt(spec: ExportSpec) -> str:
    def quoted(name: str) -> str:
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [f"# {spec.project_name}: ids are the 0-based values of the class label features.\n"]
    for index, name in enumerate(spec.class_names):
        lines.append(f"item {{\n  id: {index}\n  name: {quoted(name)}\n}}\n")
    return "".join(lines)


def _image_features(spec: ExportSpec, record: ExportRecord, indices: list[int]) -> dict[str, bytes]:
    image = read_image(record, accept=TF_IMAGE_KINDS, need_size=True)
    features = {
        "image/encoded": bytes_feature([image.data]),
        "image/format": bytes_feature([image.kind.encode()]),
        "image/class/label": int64_feature(indices),
        "image/class/text": bytes_feature(label.encode("utf-8") for label in record.labels),
        "image/height": int64_feature([image.height]),
        "image/width": int64_feature([image.width]),
        "image/filename": bytes_feature([(item_stem(record) + IMAGE_KINDS[image.kind].extension).encode("utf-8")]),
        "image/source_id": bytes_feature([str(record.item_id).encode()]),
    }
    if spec.has_boxes:
        boxes = boxes_of(record)
        features["image/object/bbox/xmin"] = float_feature(box.x / image.width for box in boxes)
        features["image/object/bbox/ymin"] = float_feature(box.y / image.height for box in boxes)
        features["image/object/bbox/xmax"] = float_feature((box.x + box.w) / image.width for box in boxes)
        features["image/object/bbox/ymax"] = float_feature((box.y + box.h) / image.height for box in boxes)
        features["image/object/class/label"] = int64_feature(
            spec.class_index(box.label, item_id=record.item_id) for box in boxes)
        features["image/object/class/text"] = bytes_feature(box.label.encode("utf-8") for box in boxes)
    return features


def _text_features(record: ExportRecord, indices: list[int]) -> dict[str, bytes]:
    return {
        "id": int64_feature([record.item_id]),
        "text": bytes_feature([record.text.encode("utf-8")]),
        "label": int64_feature(indices),
        "label/text": bytes_feature(label.encode("utf-8") for label in record.labels),
    }


class _ShardWriter:
    """The open shard of one split, on disk until it is full and goes into the ZIP."""

    def __init__(self, archive: ExportArchive, split: str, shard_bytes: int, compress: bool):
        self.archive, self.split, self.shard_bytes, self.compress = archive, split, shard_bytes, compress
        self.number = 0
        self.file = None

    def write(self, frame: bytes) -> None:
        if self.file is None:
            self.file = tempfile.NamedTemporaryFile(suffix=".tfrecord", delete=False)
        self.file.write(frame)
        if self.file.tell() >= self.shard_bytes:
            self.flush()

    def flush(self) -> None:
        if self.file is None:
            return
        self.file.close()
        try:
            self.archive.add_file(member_path("tfrecord", f"{self.split}-{self.number:05d}.tfrecord"),
                                  self.file.name, compress=self.compress)
        finally:
            os.unlink(self.file.name)
        self.file = None
        self.number += 1

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
            os.unlink(self.file.name)
            self.file = None


def write_tfrecord(zf: zipfile.ZipFile, spec: ExportSpec, records: Iterable[ExportRecord], *,
                   progress: Callable[[int], None] | None = None,
                   shard_bytes: int = DEFAULT_SHARD_BYTES) -> ExportSummary:
    """Write the TFRecord shards and label map described in this module's docstring."""
    archive = ExportArchive(zf, spec.created_at)
    counter = Progress(progress)
    summary = ExportSummary()
    # Images are already compressed; text shards deflate well.
    shards = {split: _ShardWriter(archive, split, shard_bytes, compress=not spec.is_image) for split in SPLITS}
    try:
        for record in records:
            check_record(spec, record)
            counter.tick()
            if not spec.multi_label and len(record.labels) != 1:
                summary.items_skipped += 1
                continue
            indices = spec.class_indices(record.labels, item_id=record.item_id)
            features = _image_features(spec, record, indices) if spec.is_image else _text_features(record, indices)
            shards[record.split].write(tfrecord_frame(example_bytes(features)))
            summary.items_written += 1
        for shard in shards.values():
            shard.flush()
    finally:
        for shard in shards.values():
            shard.discard()
    archive.write_text("label_map.pbtxt", label_map_pbtxt(spec))
    counter.finish()
    summary.items_read = counter.done
    return summary
