"""YOLO: the Ultralytics classification folders, and the detection layout read with PyYAML."""

from __future__ import annotations

import pytest
import yaml
from PIL import Image

from exports.formats import UnsuitableExportFormat


def _folder_labels(root, splits=("train", "val", "test")) -> dict[int, tuple[str, ...]]:
    found: dict[int, tuple[str, ...]] = {}
    for split in splits:
        for path in (root / split).glob("*/*"):
            item_id = int(path.name.split("_", 1)[0])
            assert item_id not in found
            found[item_id] = (path.parent.name,)
    return found


def test_yolo_classification_puts_each_image_in_its_class_folder(export, image_project):
    written = export("yolo", image_project)

    expected = {item_id: labels for item_id, labels in image_project.expected.items() if labels}
    assert _folder_labels(written.root) == expected
    assert sorted(p.name for p in (written.root / "train").iterdir()) == ["bird", "cat", "dog"]
    assert (written.root / "classes.txt").read_text() == "cat\ndog\nbird\n"
    assert (written.root / "train" / "bird" / "13_passwd.jpg").is_file()
    # GIF is not a format Ultralytics trains on: it became a PNG.
    with Image.open(written.root / "test" / "bird" / "16_anim.png") as image:
        assert image.format == "PNG" and image.size == (12, 12)
    assert (written.summary.items_read, written.summary.items_written, written.summary.items_skipped) == (8, 7, 1)


def test_yolo_refuses_a_multi_label_project_without_boxes(export, image_multi_project):
    with pytest.raises(UnsuitableExportFormat) as refused:
        export("yolo", image_multi_project)

    assert str(refused.value) == (
        "YOLO classification puts each image in exactly one class folder; this project is multi-label. "
        "Use COCO, Pascal VOC or Hugging Face instead.")


def test_yolo_detection_writes_data_yaml_and_normalised_labels(export, box_project):
    written = export("yolo", box_project)

    data = yaml.safe_load((written.root / "data.yaml").read_text())

    assert data == {"train": "images/train", "val": "images/val", "nc": 2, "names": {0: "car", 1: "person"}}
    for split in ("train", "val"):
        images = sorted((written.root / data[split]).iterdir())
        assert sorted(int(p.name.split("_")[0]) for p in images) == [i.item_id for i in box_project.in_split(split)]
        for image in images:
            assert (written.root / "labels" / split / (image.stem + ".txt")).is_file()
    street = (written.root / "labels" / "train" / "31_street.txt").read_text().splitlines()
    assert street == ["0 0.300000 0.300000 0.400000 0.400000", "1 0.700000 0.600000 0.200000 0.800000"]
    assert (written.root / "labels" / "val" / "32_road.txt").read_text() == "0 0.500000 0.250000 1.000000 0.500000\n"
    assert (written.root / "labels" / "train" / "33_empty.txt").read_text() == ""
    for split, items in (("train", box_project.in_split("train")), ("val", box_project.in_split("val"))):
        found = {}
        for path in (written.root / "labels" / split).iterdir():
            found[int(path.name.split("_")[0])] = tuple(
                data["names"][int(line.split()[0])] for line in path.read_text().splitlines())
        assert found == {item.item_id: tuple(box.label for box in item.boxes) for item in items}


def test_yolo_refuses_a_text_project(export, text_project):
    with pytest.raises(UnsuitableExportFormat) as refused:
        export("yolo", text_project)

    assert str(refused.value) == "YOLO holds images; this is a text project."


def test_every_split_holds_every_class_so_readers_number_them_alike(export, image_project):
    """Ultralytics numbers the classes of a split by its sorted folder names (check_cls_dataset reads
    train's, ClassificationDataset opens each split with ImageFolder(allow_empty=True)): a class that
    falls in only one split must still have its (empty) folder in the others."""
    from dataclasses import replace

    from torchvision.datasets import ImageFolder

    project = image_project
    project.spec = replace(project.spec, splits=("train", "val", "test"))
    project.items = [item for item in project.items if item.split != "val"]  # nothing falls in val
    written = export("yolo", project)

    listings = {split: sorted(p.name for p in (written.root / split).iterdir() if p.is_dir())
                for split in ("train", "val", "test")}
    assert listings == {split: ["bird", "cat", "dog"] for split in ("train", "val", "test")}
    indices = {split: ImageFolder(str(written.root / split), allow_empty=True).class_to_idx for split in listings}
    assert indices["train"] == indices["val"] == indices["test"] == {"bird": 0, "cat": 1, "dog": 2}
    assert list((written.root / "val" / "cat").iterdir()) == []
