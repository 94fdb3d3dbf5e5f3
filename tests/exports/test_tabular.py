"""CSV, JSON and JSON Lines, read back with the csv and json modules."""

from __future__ import annotations

import csv
import json

from PIL import Image

from exports.formats.tabular import LABEL_SEPARATOR


def _split_labels(cell: str) -> tuple[str, ...]:
    return tuple(cell.split(LABEL_SEPARATOR)) if cell else ()


def test_csv_of_an_image_project_keeps_every_label_and_links_each_image(export, image_project):
    written = export("csv", image_project)

    with open(written.root / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    assert [row["item_id"] for row in rows] == [str(item.item_id) for item in image_project.items]
    assert {int(row["item_id"]): _split_labels(row["labels"]) for row in rows} == image_project.expected
    for row in rows:
        item = image_project.item(int(row["item_id"]))
        assert row["original_file_name"] == item.file_name
        assert row["split"] == item.split
        with Image.open(written.root / row["file_name"]) as image:
            assert image.size == item.size
        assert (int(row["width"]), int(row["height"])) == item.size
    first = rows[0]
    assert first["file_name"] == "images/11_cat.jpg"
    assert (first["predicted_labels"], first["confidence"], first["model"], first["reviewer"], first["state"]) == (
        "cat", "0.93", "efficientnet-lite0", "rita@example.com", "reviewed")
    unlabelled = next(row for row in rows if row["item_id"] == "17")
    assert (unlabelled["labels"], unlabelled["confidence"], unlabelled["reviewer"]) == ("", "", "")
    assert written.summary.items_read == written.summary.items_written == 8
    assert written.progress == [8]


def test_csv_of_a_multi_label_text_project_joins_labels_with_a_pipe(export, text_multi_project):
    written = export("csv", text_multi_project)

    with open(written.root / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    assert list(rows[0]) == ["item_id", "text", "labels", "predicted_labels", "confidence", "model", "reviewer",
                             "state", "split"]
    assert {int(row["item_id"]): _split_labels(row["labels"]) for row in rows} == text_multi_project.expected
    assert rows[0]["labels"] == "sports|politics"
    assert {int(row["item_id"]): row["text"] for row in rows} == {
        item.item_id: item.text for item in text_multi_project.items}
    assert not any(name.startswith("images/") for name in written.names)


def test_csv_keeps_texts_with_quotes_newlines_and_unicode_exactly(export, text_project):
    written = export("csv", text_project)

    with open(written.root / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    assert {int(row["item_id"]): row["text"] for row in rows} == {
        item.item_id: item.text for item in text_project.items}
    assert {int(row["item_id"]): _split_labels(row["labels"]) for row in rows} == text_project.expected


def test_json_holds_the_project_and_every_item(export, image_multi_project):
    written = export("json", image_multi_project)

    document = json.loads((written.root / "labels.json").read_text(encoding="utf-8"))

    assert document["project"] == "Street scenes"
    assert document["classes"] == ["outdoor", "people", "vehicle"]
    assert document["multi_label"] is True
    assert document["created_at"] == "2026-03-14T15:09:26+00:00"
    assert {item["item_id"]: tuple(item["labels"]) for item in document["items"]} == image_multi_project.expected
    first = document["items"][0]
    assert first == {
        "item_id": 21, "file_name": "images/21_a.jpg", "original_file_name": "a.jpg", "width": 40, "height": 30,
        "labels": ["outdoor", "people"], "predicted_labels": ["outdoor"], "confidence": 0.7, "model": "m",
        "reviewer": None, "state": "reviewed", "split": "train",
    }
    for item in document["items"]:
        assert (written.root / item["file_name"]).is_file()


def test_json_of_an_empty_project_is_still_valid(export, text_project):
    text_project.items = []

    written = export("json", text_project)

    document = json.loads((written.root / "labels.json").read_text(encoding="utf-8"))
    assert document["items"] == []
    assert written.summary.items_read == 0


def test_jsonl_has_one_object_per_item(export, text_project):
    written = export("jsonl", text_project)

    lines = (written.root / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]

    assert len(items) == len(text_project.items)
    assert {item["item_id"]: tuple(item["labels"]) for item in items} == text_project.expected
    assert {item["item_id"]: item["text"] for item in items} == {i.item_id: i.text for i in text_project.items}
    assert items[1]["reviewer"] == "ann@example.com"
    assert items[0]["reviewer"] is None


def test_jsonl_of_a_project_with_boxes_carries_the_boxes(export, box_project):
    written = export("jsonl", box_project)

    items = [json.loads(line) for line in (written.root / "labels.jsonl").read_text().splitlines()]

    assert items[0]["boxes"] == [{"label": "car", "x": 10, "y": 5, "w": 40, "h": 20},
                                 {"label": "person", "x": 60, "y": 10, "w": 20, "h": 40}]
    assert items[2]["boxes"] == []


def test_csv_without_images_is_a_manifest_only(export, image_project):
    written = export("csv", image_project, include_images=False)

    with open(written.root / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    assert written.names == ["labels.csv"]
    assert {int(row["item_id"]): _split_labels(row["labels"]) for row in rows} == image_project.expected
    assert rows[0]["file_name"] == "" and rows[0]["original_file_name"] == "cat.jpg"
