"""Exports end to end on a real worker: ask through the API, poll until it succeeds, download the ZIP,
extract it and read it back with each format's own reader; every selected item's final label must
have survived and no other item may be in it."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import zipfile
from pathlib import Path

import datasets
import pytest
from django.core.files.storage import default_storage
from PIL import Image
from torchvision.datasets import ImageFolder, VOCDetection

from exports.formats.archive import class_folder_names
from exports.formats.tabular import LABEL_SEPARATOR
from exports.models import Export
from exports.services import item_split
from tests.conftest import wait_until
from tests.exports.projects_in_db import make_project, relabel
from tests.exports.test_coco import _labels_by_image
from tests.exports.test_coco import _load as load_coco
from tests.exports.test_label_studio import _final_labels, _tasks
from tests.exports.test_pytorch import _load_text
from tests.exports.test_tf_record import IMAGE_DESCRIPTION, TEXT_DESCRIPTION, _read, _texts

pytestmark = pytest.mark.worker

SPLITS = ("train", "val", "test")
FILTERS = {"include_auto_accepted": True, "min_confidence": 0.9, "split": {"train": 0.6, "val": 0.2, "test": 0.2},
           "seed": 7}
# What those filters select: a person's labels whatever their confidence, auto-accepted ones at 0.9 or more.
SELECTED = ("reviewed_a", "reviewed_b", "imported", "auto_high", "reviewed_c", "reviewed_d")
ALL_FORMATS = ["csv", "json", "jsonl", "coco", "yolo", "pascal-voc", "tfrecord", "pytorch", "huggingface",
               "label-studio"]
SUITABLE = {
    ("image", False): ALL_FORMATS,
    ("image", True): ["csv", "json", "jsonl", "coco", "pascal-voc", "tfrecord", "huggingface", "label-studio"],
    ("text", False): ["csv", "json", "jsonl", "tfrecord", "pytorch", "huggingface", "label-studio"],
    ("text", True): ["csv", "json", "jsonl", "tfrecord", "pytorch", "huggingface", "label-studio"],
}

Labels = dict[int, tuple[str, ...]]


# --- each format's reader: {item id: final labels} ---------------------------------------------

def _splits_present(root: Path) -> list[str]:
    return [split for split in SPLITS if (root / split).is_dir()]


def read_csv(root: Path, classes: list[str], kind: str) -> Labels:
    with open(root / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if kind == "image":
        for row in rows:
            with Image.open(root / row["file_name"]) as image:
                assert image.size == (int(row["width"]), int(row["height"]))
    return {int(row["item_id"]): tuple(row["labels"].split(LABEL_SEPARATOR)) for row in rows}


def read_json(root: Path, classes: list[str], kind: str) -> Labels:
    document = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    assert document["classes"] == classes
    return {row["item_id"]: tuple(row["labels"]) for row in document["items"]}


def read_jsonl(root: Path, classes: list[str], kind: str) -> Labels:
    rows = [json.loads(line) for line in (root / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        assert row["split"] == item_split(item_id=row["item_id"], seed=FILTERS["seed"], ratios=FILTERS["split"])
    return {row["item_id"]: tuple(row["labels"]) for row in rows}


def read_coco(root: Path, classes: list[str], kind: str) -> Labels:
    found: Labels = {}
    for path in sorted((root / "annotations").glob("instances_*.json")):
        coco = load_coco(path)
        categories = coco.loadCats(coco.getCatIds())
        assert [c["name"] for c in categories] == classes
        if "animal > cat" in classes:
            assert {c["name"]: c["supercategory"] for c in categories} == {
                "animal": "animal", "animal > cat": "animal", "animal > dog": "animal", "bird": "bird"}
        found.update(_labels_by_image(coco))
    return found


def _class_of_folder(classes: list[str]) -> dict[str, str]:
    return {folder: name for name, folder in class_folder_names(classes).items()}


def read_yolo(root: Path, classes: list[str], kind: str) -> Labels:
    names = _class_of_folder(classes)
    assert (root / "classes.txt").read_text(encoding="utf-8").splitlines() == list(names)  # the folders
    return {int(path.name.split("_", 1)[0]): (names[path.parent.name],)
            for split in _splits_present(root) for path in (root / split).glob("*/*")}


def read_pascal_voc(root: Path, classes: list[str], kind: str) -> Labels:
    found: Labels = {}
    for image_set in SPLITS:
        dataset = VOCDetection(str(root), year="2007", image_set=image_set)
        for index in range(len(dataset)):
            image, target = dataset[index]
            annotation = target["annotation"]
            assert image.size == (int(annotation["size"]["width"]), int(annotation["size"]["height"]))
            found[int(annotation["filename"].split("_", 1)[0])] = tuple(o["name"] for o in annotation.get("object", []))
    return found


def read_tfrecord(root: Path, classes: list[str], kind: str) -> Labels:
    if kind == "image":
        return {int(e["image/source_id"]): _texts(e["image/class/text"]) for e in _read(root, IMAGE_DESCRIPTION)}
    return {int(e["id"][0]): _texts(e["label/text"]) for e in _read(root, TEXT_DESCRIPTION)}


def read_pytorch(root: Path, classes: list[str], kind: str) -> Labels:
    found: Labels = {}
    if kind == "image":
        names = _class_of_folder(classes)
        for split in _splits_present(root):
            dataset = ImageFolder(str(root / split), allow_empty=True)  # as Ultralytics opens a split
            assert dataset.classes == sorted(names)  # every class, in every split
            for path, index in dataset.samples:
                found[int(Path(path).name.split("_", 1)[0])] = (names[dataset.classes[index]],)
        return found
    for split in SPLITS:
        for shard in _load_text(root, split):
            assert shard["classes"] == classes
            for item_id, label in zip(shard["item_ids"].tolist(), shard["labels"], strict=True):
                indices = label.nonzero().flatten().tolist() if shard["multi_label"] else [int(label)]
                found[item_id] = tuple(classes[i] for i in indices)
    return found


def read_huggingface(root: Path, classes: list[str], kind: str) -> Labels:
    saved = datasets.load_from_disk(str(root / "dataset"))
    found: Labels = {}
    for name in saved:
        features = saved[name].features
        for row in saved[name]:
            if "labels" in features:
                found[row["id"]] = tuple(features["labels"].feature.int2str(i) for i in row["labels"])
            else:
                found[row["id"]] = (features["label"].int2str(row["label"]),)
    return found


def read_label_studio(root: Path, classes: list[str], kind: str) -> Labels:
    return {task["data"]["item_id"]: _final_labels(task) for task in _tasks(root)}


READERS = {"csv": read_csv, "json": read_json, "jsonl": read_jsonl, "coco": read_coco, "yolo": read_yolo,
           "pascal-voc": read_pascal_voc, "tfrecord": read_tfrecord, "pytorch": read_pytorch,
           "huggingface": read_huggingface, "label-studio": read_label_studio}


# --- helpers ---------------------------------------------------------------------------------------

def finished(client, export_id: str, timeout: float = 60) -> dict:
    """Poll the export until it has succeeded or failed."""
    def done():
        body = client.get(f"/api/exports/{export_id}").json()
        return body if body["status"] in ("succeeded", "failed") else None

    body = wait_until(done, timeout=timeout, interval=0.1, message=f"export {export_id} to finish")
    assert body["status"] == "succeeded", body["error"]
    return body


def download(client, body: dict, into: Path) -> Path:
    response = client.get(body["download_url"])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="')
    data = b"".join(response.streaming_content)
    assert len(data) == body["size_bytes"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        zf.extractall(into)
    return into


def _sorted(labels: Labels, classes: list[str]) -> Labels:
    return {item_id: tuple(sorted(found, key=classes.index)) for item_id, found in labels.items()}


# --- tests -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "multi_label"), [("image", False), ("image", True), ("text", False), ("text", True)],
                         ids=["image-single", "image-multi", "text-single", "text-multi"])
def test_every_suitable_format_of_a_project_reads_back_with_its_own_reader(worker, make_member, client_for, tmp_path,
                                                                         kind, multi_label):
    viewer = make_member("viewer")  # any member of the project may export it
    scenario = make_project(organization=viewer.memberships.get().organization, kind=kind, multi_label=multi_label)
    client = client_for(viewer)
    classes = scenario.class_names

    listed = client.get(f"/api/export/formats?project={scenario.project.pk}").json()
    formats = [f["name"] for f in listed if f["suitable"]]
    assert formats == SUITABLE[(kind, multi_label)]
    created = {fmt: client.post(f"/api/projects/{scenario.project.pk}/export", {"format": fmt, **FILTERS},
                                format="json") for fmt in formats}
    assert {fmt: r.status_code for fmt, r in created.items()} == dict.fromkeys(formats, 202)

    expected = _sorted(scenario.labels_of(*SELECTED), classes)
    for fmt, response in created.items():
        body = finished(client, response.json()["id"])
        assert (body["total"], body["processed"], body["written"], body["skipped"]) == (6, 6, 6, 0), fmt
        root = download(client, body, tmp_path / fmt)
        with contextlib.redirect_stdout(io.StringIO()):
            found = READERS[fmt](root, classes, kind)
        assert _sorted(found, classes) == expected, fmt


def test_the_seeds_job_endpoints_export_what_the_job_predicted(worker, make_member, client_for, tmp_path):
    member = make_member("labeler")
    scenario = make_project(organization=member.memberships.get().organization, kind="image")
    client = client_for(member)
    classes = scenario.class_names
    job = scenario.job.pk
    # Items the job predicted that have final labels (auto-accepted ones included for a job export);
    # "imported" was never predicted by it.
    expected = _sorted(scenario.labels_of("reviewed_a", "reviewed_b", "auto_high", "auto_low", "reviewed_c",
                                          "reviewed_d"), classes)

    answers = {
        "coco": client.post(f"/api/export/formats/coco/{job}", {}, format="json"),
        "yolo": client.post(f"/api/export/formats/yolo/{job}", {"split": {"train": 0.5, "val": 0.5}}, format="json"),
        "pascal-voc": client.post(f"/api/export/formats/pascal-voc/{job}", {}, format="json"),
        "csv": client.post(f"/api/export/create/{job}", {"format": "csv"}, format="json"),
    }

    assert {fmt: (r.status_code, r.json()["format"], r.json()["job"]) for fmt, r in answers.items()} == {
        fmt: (202, fmt, job) for fmt in answers}
    for fmt, response in answers.items():
        body = finished(client, response.json()["id"])
        assert (body["total"], body["processed"], body["written"], body["skipped"]) == (6, 6, 6, 0), fmt
        with contextlib.redirect_stdout(io.StringIO()):
            found = READERS[fmt](download(client, body, tmp_path / fmt), classes, "image")
        assert _sorted(found, classes) == expected, fmt
    halves = {"train": 0.5, "val": 0.5, "test": 0.0}
    assert _splits_present(tmp_path / "yolo") == [split for split in SPLITS if split in {
        item_split(item_id=item_id, seed=0, ratios=halves) for item_id in expected}]


def test_the_cache_on_the_worker_and_a_new_export_after_a_label_changes(worker, make_member, client_for):
    member = make_member("admin")
    scenario = make_project(organization=member.memberships.get().organization, kind="text")
    client = client_for(member)
    url = f"/api/projects/{scenario.project.pk}/export"

    first = client.post(url, {"format": "huggingface"}, format="json")
    done = finished(client, first.json()["id"])
    again = client.post(url, {"format": "huggingface"}, format="json")
    relabel(scenario.items["reviewed_a"], ["negative"])
    changed = client.post(url, {"format": "huggingface"}, format="json")
    redone = finished(client, changed.json()["id"])

    assert (first.status_code, again.status_code, changed.status_code) == (202, 200, 202)
    assert again.json()["id"] == first.json()["id"] == done["id"]
    assert changed.json()["id"] != first.json()["id"]
    assert redone["total"] == redone["written"] == 5
    # Both files are in storage until they expire.
    exports = Export.objects.filter(project=scenario.project).order_by("id")
    assert [default_storage.exists(e.file.name) for e in exports] == [True, True]


def test_an_export_that_cannot_be_written_fails_with_its_reason_on_the_worker(worker, make_member, client_for):
    member = make_member("admin")
    scenario = make_project(organization=member.memberships.get().organization, kind="image")
    default_storage.delete(scenario.items["reviewed_a"].file.name)
    client = client_for(member)

    created = client.post(f"/api/projects/{scenario.project.pk}/export", {"format": "coco"}, format="json")
    body = wait_until(lambda: (b := client.get(f"/api/exports/{created.json()['id']}").json())["status"] == "failed"
                      and b, timeout=60, message="the export to fail")

    assert body["error"] == "The export stopped unexpectedly (FileNotFoundError); the details are in the worker's log."
    assert body["download_url"] is None


# Chosen fields and a filter: the tabular formats write just these columns (the readers above need no
# other), the structural formats keep their own; the filter leaves the imported item out everywhere.
CHOICE_FIELDS = {"image": ["id", "file", "width", "height", "labels", "source", "probabilities", "schema_version",
                           "split"],
                 "text": ["id", "text", "labels", "source", "probabilities", "schema_version", "split"]}
CHOSEN = tuple(key for key in SELECTED if key != "imported")


@pytest.mark.parametrize(("kind", "multi_label"), [("image", False), ("image", True), ("text", False), ("text", True)],
                         ids=["image-single", "image-multi", "text-single", "text-multi"])
def test_every_format_reads_back_with_chosen_fields_and_filters(worker, make_member, client_for, tmp_path, kind,
                                                                 multi_label):
    viewer = make_member("viewer")
    scenario = make_project(organization=viewer.memberships.get().organization, kind=kind, multi_label=multi_label)
    client = client_for(viewer)
    classes = scenario.class_names
    body = {**FILTERS, "fields": CHOICE_FIELDS[kind], "filters": {"source": ["review", "auto"]}}
    created = {fmt: client.post(f"/api/projects/{scenario.project.pk}/export", {"format": fmt, **body}, format="json")
               for fmt in SUITABLE[(kind, multi_label)]}
    assert {fmt: r.status_code for fmt, r in created.items()} == dict.fromkeys(created, 202)

    expected = _sorted(scenario.labels_of(*CHOSEN), classes)
    for fmt, response in created.items():
        done = finished(client, response.json()["id"])
        assert (done["total"], done["written"], done["skipped"]) == (5, 5, 0), fmt
        root = download(client, done, tmp_path / fmt)
        with contextlib.redirect_stdout(io.StringIO()):
            found = READERS[fmt](root, classes, kind)
        assert _sorted(found, classes) == expected, fmt
        if fmt == "csv":
            with open(root / "labels.csv", newline="", encoding="utf-8") as f:
                header = next(csv.reader(f))
            assert header == [{"id": "item_id", "file": "file_name", "prediction": "predicted_labels"}.get(name, name)
                              for name in CHOICE_FIELDS[kind]]
