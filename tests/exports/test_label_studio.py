"""Label Studio tasks and labelling config, read back with json and ElementTree."""

from __future__ import annotations

import json
from xml.etree import ElementTree


def _tasks(root) -> list[dict]:
    return json.loads((root / "tasks.json").read_text(encoding="utf-8"))


def _final_labels(task: dict) -> tuple[str, ...]:
    results = [r for a in task["annotations"] for r in a["result"] if r["type"] == "choices"]
    return tuple(label for r in results for label in r["value"]["choices"])


def test_label_studio_image_tasks_have_annotations_predictions_and_files(export, image_project):
    written = export("label-studio", image_project)

    tasks = _tasks(written.root)

    assert len(tasks) == len(image_project.items)
    assert {t["data"]["item_id"]: _final_labels(t) for t in tasks} == image_project.expected
    for task in tasks:
        assert (written.root / task["data"]["image"]).is_file()
    first = tasks[0]
    assert first["data"] == {"image": "images/11_cat.jpg", "item_id": 11}
    assert first["predictions"] == [{"model_version": "efficientnet-lite0", "score": 0.93, "result": [
        {"id": "11-label", "from_name": "label", "to_name": "image", "type": "choices",
         "value": {"choices": ["cat"]}}]}]
    assert first["meta"] == {"split": "train", "state": "reviewed", "reviewer": "rita@example.com",
                             "original_file_name": "cat.jpg"}
    unlabelled = next(t for t in tasks if t["data"]["item_id"] == 17)
    assert (unlabelled["annotations"], unlabelled["predictions"]) == ([], [])


def test_label_studio_config_matches_the_results(export, text_multi_project):
    written = export("label-studio", text_multi_project)

    config = ElementTree.parse(written.root / "label_config.xml").getroot()
    tasks = _tasks(written.root)

    text, choices = list(config)
    assert (text.tag, text.get("name"), text.get("value")) == ("Text", "text", "$text")
    assert (choices.get("name"), choices.get("toName"), choices.get("choice")) == ("label", "text", "multiple")
    assert [c.get("value") for c in choices] == ["sports", "politics", "tech"]
    assert {t["data"]["item_id"]: _final_labels(t) for t in tasks} == text_multi_project.expected
    assert {t["data"]["item_id"]: t["data"]["text"] for t in tasks} == {
        item.item_id: item.text for item in text_multi_project.items}


def test_label_studio_boxes_are_rectangles_in_percent(export, box_project):
    written = export("label-studio", box_project, image_url=lambda record, member: f"/media/items/{record.item_id}")

    tasks = {t["data"]["item_id"]: t for t in _tasks(written.root)}

    assert tasks[31]["data"]["image"] == "/media/items/31"
    rectangles = [r for r in tasks[31]["annotations"][0]["result"] if r["type"] == "rectanglelabels"]
    assert rectangles[0]["value"] == {"x": 10.0, "y": 10.0, "width": 40.0, "height": 40.0, "rotation": 0,
                                      "rectanglelabels": ["car"]}
    assert (rectangles[0]["original_width"], rectangles[0]["original_height"]) == (100, 50)
    assert tasks[32]["annotations"][0]["result"][1]["value"]["width"] == 100.0
    config = ElementTree.parse(written.root / "label_config.xml").getroot()
    assert [c.get("value") for c in config.find("RectangleLabels")] == ["car", "person"]


def _converter_rows(tasks: list[dict], output_tags: set[str]) -> list[dict]:
    """What label-studio-converter's Converter.annotation_result_from_task makes of each task (its
    JSON-MIN and CSV exports are built on it): ``task['id']`` is read unconditionally, results are
    taken from annotations not skipped or cancelled, by ``from_name``."""
    rows = []
    for task in tasks:
        annotations = [a for a in task["annotations"] if not (a.get("skipped") or a.get("was_cancelled"))]
        for annotation in annotations:
            outputs: dict[str, list] = {}
            for result in annotation["result"]:
                if result.get("from_name") in output_tags:
                    outputs.setdefault(result["from_name"], []).append(dict(result["value"]))
            rows.append({"id": task["id"], "input": task["data"], "output": outputs,
                         "completed_by": annotation.get("completed_by", {}), "annotation_id": annotation.get("id")})
    return rows


def test_label_studio_tasks_carry_ids_label_studio_converter_reads(export, text_multi_project):
    written = export("label-studio", text_multi_project)
    tasks = _tasks(written.root)
    config = ElementTree.parse(written.root / "label_config.xml").getroot()
    output_tags = {control.get("name") for control in config if control.get("toName")}

    assert [t["id"] for t in tasks] == [t["data"]["item_id"] for t in tasks]
    assert len({t["id"] for t in tasks}) == len(tasks)
    rows = _converter_rows(tasks, output_tags)
    assert {row["id"]: tuple(row["output"]["label"][0]["choices"]) for row in rows} == {
        item_id: labels for item_id, labels in text_multi_project.expected.items() if labels}
