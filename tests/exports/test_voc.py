"""Pascal VOC, read back with torchvision's VOCDetection and the ImageSets lists."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from PIL import Image
from torchvision.datasets import VOCDetection

from exports.formats import UnsuitableExportFormat

IMAGE_SETS = {"train": ("train",), "val": ("val",), "trainval": ("train", "val"), "test": ("test",)}


def _item_id(voc_id: str) -> int:
    return int(voc_id.split("_", 1)[0])


def _objects(target: dict) -> list[dict]:
    return target["annotation"].get("object", [])


def _load_all(root, project):
    found: dict[int, tuple[str, ...]] = {}
    for image_set, splits in IMAGE_SETS.items():
        dataset = VOCDetection(str(root), year="2007", image_set=image_set)
        expected_ids = sorted(item.item_id for split in splits for item in project.in_split(split))
        assert sorted(_item_id(path.rsplit("/", 1)[1]) for path in dataset.images) == expected_ids
        for index in range(len(dataset)):
            image, target = dataset[index]
            annotation = target["annotation"]
            item_id = _item_id(annotation["filename"])
            assert image.size == project.item(item_id).size
            assert (int(annotation["size"]["width"]), int(annotation["size"]["height"])) == image.size
            found[item_id] = tuple(obj["name"] for obj in _objects(target))
    return found


def test_voc_of_a_single_label_project_loads_with_vocdetection_for_every_set(export, image_project):
    written = export("pascal-voc", image_project)

    found = _load_all(written.root, image_project)

    assert found == image_project.expected
    _, target = VOCDetection(str(written.root), year="2007", image_set="train")[0]
    assert target["annotation"]["object"][0]["bndbox"] == {"xmin": "1", "ymin": "1", "xmax": "32", "ymax": "24"}


def test_voc_stores_every_image_as_jpeg(export, image_project):
    written = export("pascal-voc", image_project)

    images = sorted((written.root / "VOCdevkit" / "VOC2007" / "JPEGImages").iterdir())

    assert len(images) == len(image_project.items)
    for path in images:
        assert path.suffix == ".jpg"
        with Image.open(path) as image:
            assert image.format == "JPEG"


def test_voc_class_lists_mark_each_image_of_the_set(export, image_multi_project):
    written = export("pascal-voc", image_multi_project)
    main = written.root / "VOCdevkit" / "VOC2007" / "ImageSets" / "Main"

    for image_set, splits in IMAGE_SETS.items():
        members = [item for split in splits for item in image_multi_project.in_split(split)]
        for name in image_multi_project.spec.class_names:
            lines = (main / f"{name}_{image_set}.txt").read_text().splitlines()
            flags = {_item_id(line.split()[0]): int(line.split()[1]) for line in lines}
            assert flags == {item.item_id: 1 if name in item.labels else -1 for item in members}
    assert (main / "outdoor_train.txt").read_text() == "21_a  1\n22_b  1\n"
    assert (main / "vehicle_train.txt").read_text() == "21_a -1\n22_b  1\n"


def test_voc_of_a_multi_label_project_has_one_object_per_label(export, image_multi_project):
    written = export("pascal-voc", image_multi_project)

    assert _load_all(written.root, image_multi_project) == image_multi_project.expected


def test_voc_of_a_project_with_boxes_writes_the_boxes_one_based(export, box_project):
    written = export("pascal-voc", box_project)

    dataset = VOCDetection(str(written.root), year="2007", image_set="train")
    targets = {_item_id(t["annotation"]["filename"]): t for _, t in (dataset[i] for i in range(len(dataset)))}

    assert [(o["name"], o["bndbox"]) for o in _objects(targets[31])] == [
        ("car", {"xmin": "11", "ymin": "6", "xmax": "50", "ymax": "25"}),
        ("person", {"xmin": "61", "ymin": "11", "xmax": "80", "ymax": "50"}),
    ]
    assert _objects(targets[33]) == []


def test_voc_refuses_a_text_project(export, text_multi_project):
    with pytest.raises(UnsuitableExportFormat) as refused:
        export("pascal-voc", text_multi_project)

    assert str(refused.value) == "Pascal VOC holds images; this is a text project."


def _parse_label_map(text: str) -> list[str]:
    """datumaro's rules for labelmap.txt (voc/format.py parse_label_map): comments and blank lines
    skipped, exactly four ':'-separated fields, a name declared once."""
    names: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        assert len(fields) == 4, line
        assert fields[0] not in names
        names.append(fields[0])
    return names


def test_voc_ships_a_labelmap_declaring_every_class_its_objects_use(export, image_multi_project):
    written = export("pascal-voc", image_multi_project)
    root = written.root / "VOCdevkit" / "VOC2007"
    declared = _parse_label_map((root / "labelmap.txt").read_text(encoding="utf-8"))
    assert declared == list(image_multi_project.spec.class_names)
    used = {name.text for xml in (root / "Annotations").glob("*.xml")
            for name in ElementTree.parse(xml).getroot().iter("name")}
    assert used and used <= set(declared)
