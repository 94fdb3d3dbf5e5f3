"""PyTorch: ImageFolder for images, torch.load(weights_only=True) for text."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.datasets import ImageFolder

from exports.formats import UnsuitableExportFormat


def _load_text(root: Path, split: str) -> list[dict]:
    return [torch.load(path, weights_only=True) for path in sorted(root.glob(f"{split}-*.pt"))]


def test_pytorch_images_load_with_imagefolder_for_every_split(export, image_project):
    written = export("pytorch", image_project)

    found: dict[int, tuple[str, ...]] = {}
    for split in ("train", "val", "test"):
        dataset = ImageFolder(str(written.root / split), allow_empty=True)
        assert dataset.classes == ["bird", "cat", "dog"]  # the same indices in every split
        for (path, index), (image, same_index) in zip(dataset.samples, dataset, strict=True):
            item = image_project.item(int(Path(path).name.split("_", 1)[0]))
            assert image.size == item.size
            assert index == same_index
            found[item.item_id] = (dataset.classes[index],)
    assert found == {item_id: labels for item_id, labels in image_project.expected.items() if labels}
    assert written.summary.items_skipped == 1


def test_pytorch_refuses_multi_label_images(export, image_multi_project):
    with pytest.raises(UnsuitableExportFormat) as refused:
        export("pytorch", image_multi_project)

    assert str(refused.value) == (
        "PyTorch's ImageFolder puts each image in exactly one class folder; this project is multi-label. "
        "Use COCO, Pascal VOC or Hugging Face instead.")


def test_pytorch_text_loads_with_weights_only(export, text_project):
    written = export("pytorch", text_project)

    found: dict[int, tuple[str, ...]] = {}
    texts: dict[int, str] = {}
    for split in ("train", "val", "test"):
        (shard,) = _load_text(written.root, split)
        assert shard["classes"] == ["positive", "negative", "neutral"]
        assert shard["multi_label"] is False
        assert shard["labels"].dtype == torch.int64
        for item_id, text, index in zip(shard["item_ids"].tolist(), shard["texts"], shard["labels"].tolist(),
                                        strict=True):
            found[item_id] = (shard["classes"][index],)
            texts[item_id] = text
    labelled = [item for item in text_project.items if item.labels]
    assert found == {item.item_id: item.labels for item in labelled}
    assert texts == {item.item_id: item.text for item in labelled}
    assert (written.summary.items_written, written.summary.items_skipped) == (6, 1)


def test_pytorch_text_multi_label_is_a_multi_hot_tensor(export, text_multi_project):
    written = export("pytorch", text_multi_project)

    found: dict[int, tuple[str, ...]] = {}
    for split in ("train", "val", "test"):
        for shard in _load_text(written.root, split):
            assert shard["labels"].dtype == torch.bool
            assert shard["labels"].shape == (len(shard["texts"]), 3)
            for item_id, row in zip(shard["item_ids"].tolist(), shard["labels"], strict=True):
                found[item_id] = tuple(shard["classes"][i] for i in row.nonzero().flatten().tolist())
    assert found == text_multi_project.expected


def test_pytorch_text_is_sharded_past_the_shard_size(export, text_project):
    written = export("pytorch", text_project, shard_size=2)

    shards = _load_text(written.root, "train")

    assert [len(shard["texts"]) for shard in shards] == [2, 1]
    assert sorted(n for n in written.names if n.startswith("train")) == ["train-00000.pt", "train-00001.pt"]
    found = {item_id: shard["classes"][label] for shard in shards
             for item_id, label in zip(shard["item_ids"].tolist(), shard["labels"].tolist(), strict=True)}
    assert found == {item.item_id: item.labels[0] for item in text_project.in_split("train")}
