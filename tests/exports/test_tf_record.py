"""TFRecord shards read back with the ``tfrecord`` package (no TensorFlow), CRCs checked byte for byte."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

from PIL import Image
from tfrecord import example_pb2
from tfrecord.reader import tfrecord_loader
from tfrecord.writer import TFRecordWriter

from exports.formats.tf_record import bytes_feature, example_bytes, float_feature, int64_feature

IMAGE_DESCRIPTION = {
    "image/encoded": "byte", "image/format": "byte", "image/class/label": "int", "image/class/text": "byte",
    "image/height": "int", "image/width": "int", "image/filename": "byte", "image/source_id": "byte",
}
TEXT_DESCRIPTION = {"id": "int", "text": "byte", "label": "int", "label/text": "byte"}


def _shards(root: Path, split: str | None = None) -> list[Path]:
    return sorted((root / "tfrecord").glob(f"{split or '*'}-*.tfrecord"))


def _read(root: Path, description: dict, split: str | None = None) -> list[dict]:
    return [example for path in _shards(root, split) for example in tfrecord_loader(str(path), None, description)]


def _texts(value) -> tuple[str, ...]:
    """A bytes list as the reader returns it (one value: bytes; several: an array) as strings."""
    return (value.decode(),) if isinstance(value, bytes) else tuple(v.decode() for v in value)


def _frames(path: Path) -> list[tuple[bytes, bytes, bytes, bytes]]:
    data = path.read_bytes()
    frames, offset = [], 0
    while offset < len(data):
        length_bytes = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        frames.append((length_bytes, data[offset + 8:offset + 12], data[offset + 12:offset + 12 + length],
                       data[offset + 12 + length:offset + 16 + length]))
        offset += 16 + length
    return frames


def _label_map(root: Path) -> dict[int, str]:
    text = (root / "label_map.pbtxt").read_text()
    return {int(i): name for i, name in re.findall(r'item \{\n  id: (\d+)\n  name: "([^"]*)"\n\}', text)}


def test_tfrecord_images_are_read_back_with_their_labels(export, image_project):
    written = export("tfrecord", image_project)

    examples = _read(written.root, IMAGE_DESCRIPTION)

    assert _label_map(written.root) == {0: "cat", 1: "dog", 2: "bird"}
    found = {}
    for example in examples:
        item = image_project.item(int(example["image/source_id"]))
        [label] = example["image/class/label"].tolist()
        assert _texts(example["image/class/text"]) == (image_project.spec.class_names[label],)
        found[item.item_id] = (image_project.spec.class_names[label],)
        with Image.open(io.BytesIO(example["image/encoded"])) as image:
            assert image.format.lower() == example["image/format"].decode()
            assert image.size == item.size == (example["image/width"][0], example["image/height"][0])
    labelled = {item_id: labels for item_id, labels in image_project.expected.items() if labels}
    assert found == labelled
    assert written.summary.items_skipped == 1
    assert [p.name for p in _shards(written.root)] == ["test-00000.tfrecord", "train-00000.tfrecord",
                                                       "val-00000.tfrecord"]


def test_tfrecord_text_multi_label_keeps_every_label(export, text_multi_project):
    written = export("tfrecord", text_multi_project)

    examples = _read(written.root, TEXT_DESCRIPTION)

    found = {int(e["id"][0]): tuple(text_multi_project.spec.class_names[i] for i in e["label"].tolist())
             for e in examples}
    assert found == text_multi_project.expected
    texts = {int(e["id"][0]): e["text"].decode() for e in examples}
    assert texts == {item.item_id: item.text for item in text_multi_project.items}
    assert {int(e["id"][0]): _texts(e["label/text"]) for e in examples} == found


def test_tfrecord_text_single_label_per_split(export, text_project):
    written = export("tfrecord", text_project)

    for split in ("train", "val", "test"):
        examples = _read(written.root, TEXT_DESCRIPTION, split)
        found = {int(e["id"][0]): (text_project.spec.class_names[int(e["label"][0])],) for e in examples}
        assert found == {item.item_id: item.labels for item in text_project.in_split(split) if item.labels}


def test_tfrecord_framing_and_crcs_match_the_reference_writer(export, text_project):
    written = export("tfrecord", text_project)

    frames = [frame for path in _shards(written.root) for frame in _frames(path)]

    assert len(frames) == 6
    for length_bytes, length_crc, data, data_crc in frames:
        assert length_crc == TFRecordWriter.masked_crc(length_bytes)
        assert data_crc == TFRecordWriter.masked_crc(data)


def test_hand_encoded_example_equals_the_protobuf_one():
    ours = example_bytes({
        "text": bytes_feature([b"caf\xc3\xa9"]),
        "label": int64_feature([0, 2, 300, -1]),
        "score": float_feature([0.5, 1.25]),
        "none": int64_feature([]),
        "empty": bytes_feature([]),
    })

    parsed = example_pb2.Example.FromString(ours)
    reference = example_pb2.Example.FromString(TFRecordWriter.serialize_tf_example({
        "text": (b"caf\xc3\xa9", "byte"),
        "label": ([0, 2, 300, -1], "int"),
        "score": ([0.5, 1.25], "float"),
        "none": ([], "int"),
        "empty": ([], "byte"),
    }))
    assert parsed == reference


def test_tfrecord_rolls_over_to_a_new_shard(export, image_multi_project):
    written = export("tfrecord", image_multi_project, shard_bytes=1)

    assert [p.name for p in _shards(written.root, "train")] == ["train-00000.tfrecord", "train-00001.tfrecord"]
    examples = _read(written.root, IMAGE_DESCRIPTION)
    found = {int(e["image/source_id"]): _texts(e["image/class/text"]) for e in examples}
    assert found == image_multi_project.expected


def test_tfrecord_of_a_project_with_boxes_has_normalised_boxes(export, box_project):
    written = export("tfrecord", box_project)

    description = IMAGE_DESCRIPTION | {f"image/object/bbox/{k}": "float" for k in ("xmin", "ymin", "xmax", "ymax")} \
        | {"image/object/class/label": "int"}
    examples = {int(e["image/source_id"]): e for e in _read(written.root, description)}

    street = examples[31]
    assert street["image/object/bbox/xmin"].tolist() == [0.10000000149011612, 0.6000000238418579]
    assert street["image/object/bbox/ymax"].tolist() == [0.5, 1.0]
    assert street["image/object/class/label"].tolist() == [0, 1]
