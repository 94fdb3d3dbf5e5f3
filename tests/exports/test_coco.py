"""COCO, read back with pycocotools."""

from __future__ import annotations

import contextlib
import io

import pytest
from PIL import Image
from pycocotools.coco import COCO

from exports.formats import UnsuitableExportFormat


def _load(path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints its progress
        return COCO(str(path))


def _labels_by_image(coco: COCO) -> dict[int, tuple[str, ...]]:
    names = {cat["id"]: cat["name"] for cat in coco.loadCats(coco.getCatIds())}
    return {
        image_id: tuple(names[ann["category_id"]] for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image_id])))
        for image_id in coco.getImgIds()
    }


def test_coco_of_a_single_label_project_loads_with_pycocotools_per_split(export, image_project):
    written = export("coco", image_project)

    assert sorted(n for n in written.names if n.startswith("annotations/")) == [
        "annotations/instances_test.json", "annotations/instances_train.json", "annotations/instances_val.json"]
    found: dict[int, tuple[str, ...]] = {}
    for split in ("train", "val", "test"):
        coco = _load(written.root / "annotations" / f"instances_{split}.json")
        assert [(c["id"], c["name"], c["supercategory"]) for c in coco.loadCats(coco.getCatIds())] == [
            (1, "cat", "mammal"), (2, "dog", "mammal"), (3, "bird", "bird")]
        assert sorted(coco.getImgIds()) == sorted(item.item_id for item in image_project.in_split(split))
        assert coco.dataset["info"]["description"] == "Pets"
        assert coco.dataset["licenses"] == []
        for image in coco.loadImgs(coco.getImgIds()):
            with Image.open(written.root / "images" / split / image["file_name"]) as opened:
                assert opened.size == (image["width"], image["height"]) == image_project.item(image["id"]).size
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]])):
                assert ann["bbox"] == [0, 0, image["width"], image["height"]]
                assert ann["area"] == image["width"] * image["height"]
                assert ann["iscrowd"] == 0
        found.update(_labels_by_image(coco))
    assert found == image_project.expected


def test_coco_keeps_the_prediction_and_review_on_each_image(export, image_project):
    written = export("coco", image_project)

    coco = _load(written.root / "annotations" / "instances_train.json")

    assert coco.imgs[11]["attributes"] == {
        "original_file_name": "cat.jpg", "labels": ["cat"], "predicted_labels": ["cat"], "confidence": 0.93,
        "model": "efficientnet-lite0", "reviewer": "rita@example.com", "state": "reviewed",
    }
    assert coco.imgs[13]["file_name"] == "13_passwd.jpg"
    assert coco.imgs[12]["file_name"] == "12_cat.png"


def test_coco_of_a_multi_label_project_has_one_annotation_per_label(export, image_multi_project):
    written = export("coco", image_multi_project)

    found: dict[int, tuple[str, ...]] = {}
    for split in ("train", "val", "test"):
        found.update(_labels_by_image(_load(written.root / "annotations" / f"instances_{split}.json")))

    assert found == image_multi_project.expected
    assert found[24] == ()


def test_coco_of_a_project_with_boxes_uses_the_boxes(export, box_project):
    written = export("coco", box_project)

    coco = _load(written.root / "annotations" / "instances_train.json")
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[31]))

    assert [(coco.cats[a["category_id"]]["name"], a["bbox"], a["area"]) for a in anns] == [
        ("car", [10, 5, 40, 20], 800), ("person", [60, 10, 20, 40], 800)]
    assert coco.getAnnIds(imgIds=[33]) == []
    val = _load(written.root / "annotations" / "instances_val.json")
    assert val.imgs[32]["width"] == 80 and val.imgs[32]["height"] == 80


def test_coco_refuses_a_text_project(export, text_project):
    with pytest.raises(UnsuitableExportFormat) as refused:
        export("coco", text_project)

    assert str(refused.value) == "COCO holds images; this is a text project."
