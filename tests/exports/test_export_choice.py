"""Configurable exports: chosen fields (renamed), filters, saved export templates, and the cache key;
each export runs in-process (its task's service) and is read back row by row."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import datasets
import pandas as pd
import pytest
from django.core.files.storage import default_storage

from accounts.models import AuditEvent
from exports import services
from exports.fields import DUPLICATE_COLUMN, RENAME_NOT_CHOSEN, UNKNOWN_FIELD
from exports.models import Export, ExportTemplate
from exports.selectors import EXPORT_TEMPLATE_NOT_FOUND
from labeling.models import Item, Prediction
from tests.exports.projects_in_db import make_project

pytestmark = pytest.mark.django_db

DEFAULT = ("reviewed_a", "reviewed_b", "imported", "reviewed_c", "reviewed_d")  # what an export holds by default
TEXT_FIELDS = ["id", "text", "labels", "source", "decided_by", "decided_at", "created_at", "prediction", "confidence",
               "probabilities", "model", "schema_version", "state", "split"]
IMAGE_FIELDS = ["id", "file", "original_name", "width", "height", "labels", "source", "decided_by", "decided_at",
                "created_at", "prediction", "confidence", "probabilities", "model", "schema_version", "state", "split"]
FILTER_NAMES = "state, source, labels, confidence, created, decided"


@pytest.fixture
def manager(make_member, org):
    return make_member("admin", organization=org)


@pytest.fixture
def client(client_for, manager):
    return client_for(manager)


@pytest.fixture
def texts(org):
    scenario = make_project(organization=org, kind="text")
    for n, item in enumerate(scenario.items.values()):  # distinct probabilities, in the schema's class order
        Prediction.objects.filter(item=item).update(probabilities=[0.1 * (n + 1), 0.2, 1 - 0.1 * (n + 1) - 0.2])
    return scenario


def _export(client, scenario, **body):
    return client.post(f"/api/projects/{scenario.project.pk}/export", {"format": "jsonl", **body}, format="json")


def _run(response) -> Export:
    assert response.status_code == 202, response.json()
    export = Export.objects.get(public_id=response.json()["id"])
    services.export_run(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.SUCCEEDED, export.error
    return export


def _member(export: Export, name: str) -> bytes:
    with default_storage.open(export.file.name, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as zf:
        return zf.read(name)


def _extract(export: Export, into: Path) -> Path:
    with default_storage.open(export.file.name, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as zf:
        zf.extractall(into)
    return into


def _jsonl(export: Export) -> list[dict]:
    return [json.loads(line) for line in _member(export, "labels.jsonl").decode().splitlines()]


def _keys(scenario, rows, column="item_id") -> list[str]:
    by_pk = {item.pk: key for key, item in scenario.items.items()}
    return [by_pk[row[column]] for row in rows]


def _expected_text_row(scenario, key: str) -> dict:
    item = Item.objects.select_related("prediction", "decided_by", "final_schema").get(pk=scenario.items[key].pk)
    prediction = item.prediction
    return {
        "item_id": item.pk, "text": item.text, "labels": item.final_labels, "source": item.final_source,
        "reviewer": item.decided_by.email if item.final_source == "review" else None,
        "decided_at": item.decided_at.isoformat(), "created_at": item.created_at.isoformat(),
        "predicted_labels": item.predicted_labels or [], "confidence": item.confidence,
        "probabilities": dict(zip(scenario.class_names, prediction.probabilities, strict=True)) if prediction else None,
        "model": prediction.model_name if prediction else "", "schema_version": 1, "state": item.state,
        "split": "train",
    }


# --- fields ----------------------------------------------------------------------------------------

def test_every_text_field_row_by_row(client, texts):
    rows = _jsonl(_run(_export(client, texts, fields=TEXT_FIELDS)))

    assert _keys(texts, rows) == list(DEFAULT)
    for key, row in zip(DEFAULT, rows, strict=True):
        assert list(row) == ["item_id", "text", "labels", "source", "reviewer", "decided_at", "created_at",
                             "predicted_labels", "confidence", "probabilities", "model", "schema_version", "state",
                             "split"]
        assert row == _expected_text_row(texts, key), key
    assert [row["source"] for row in rows] == ["review", "review", "import", "review", "review"]
    assert rows[2]["probabilities"] is None and rows[2]["model"] == ""  # the imported item has no prediction


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_each_text_field_alone_and_renamed(client, texts, field):
    rows = _jsonl(_run(_export(client, texts, fields=[field], rename={field: f"my {field}"})))

    assert len(rows) == len(DEFAULT)
    for key, row in zip(DEFAULT, rows, strict=True):
        expected = _expected_text_row(texts, key)
        column = services.FIELD_COLUMNS[field]
        assert row == {f"my {field}": expected[column]}, key


def test_image_fields_row_by_row(client, org, tmp_path):
    images = make_project(organization=org, kind="image")
    export = _run(_export(client, images, fields=IMAGE_FIELDS, rename={"file": "path", "labels": "target"}))
    rows = _jsonl(export)
    root = _extract(export, tmp_path)

    assert _keys(images, rows) == list(DEFAULT)
    for key, row in zip(DEFAULT, rows, strict=True):
        item = images.items[key]
        item.refresh_from_db()
        assert (row["path"].startswith("images/"), (root / row["path"]).is_file()) == (True, True)
        assert (row["original_file_name"], row["width"], row["height"], row["target"]) == (
            item.original_name, item.width, item.height, item.final_labels)


def test_renamed_csv_columns_read_back_with_pandas(client, texts, tmp_path):
    export = _run(_export(client, texts, format="csv", fields=["id", "text", "labels", "confidence", "probabilities"],
                          rename={"text": "sentence", "labels": "target"}))
    frame = pd.read_csv(_extract(export, tmp_path) / "labels.csv")

    assert list(frame.columns) == ["item_id", "sentence", "target", "confidence", "probabilities"]
    assert frame["item_id"].tolist() == [texts.items[key].pk for key in DEFAULT]
    assert frame["sentence"].tolist() == [texts.items[key].text for key in DEFAULT]
    assert frame["target"].tolist() == ["positive", "negative", "neutral", "negative", "neutral"]
    assert frame["confidence"].fillna(-1).tolist() == [0.95, 0.40, -1, 0.88, 0.70]
    first = json.loads(frame["probabilities"][0])
    assert first == pytest.approx({"positive": 0.1, "negative": 0.2, "neutral": 0.7})


def test_renamed_hugging_face_columns_read_back_with_datasets(client, texts, tmp_path):
    export = _run(_export(client, texts, format="huggingface",
                          fields=["id", "labels", "source", "probabilities", "schema_version"],
                          rename={"labels": "target", "source": "origin"}))
    saved = datasets.load_from_disk(str(_extract(export, tmp_path) / "dataset"))["train"]

    # The content column stays (a format's required field), then the chosen ones, renamed.
    assert list(saved.features) == ["text", "id", "target", "origin", "probabilities", "schema_version"]
    assert saved.features["target"].names == texts.class_names
    assert saved["id"] == [texts.items[key].pk for key in DEFAULT]
    assert saved["text"] == [texts.items[key].text for key in DEFAULT]
    assert [saved.features["target"].int2str(i) for i in saved["target"]] == [
        "positive", "negative", "neutral", "negative", "neutral"]
    assert saved["origin"] == ["review", "review", "import", "review", "review"]
    assert saved["probabilities"][0] == pytest.approx([0.1, 0.2, 0.7])
    assert saved["probabilities"][2] == []  # imported: no prediction
    assert saved["schema_version"] == [1] * 5


def test_coco_puts_chosen_fields_in_image_attributes(client, org, tmp_path):
    images = make_project(organization=org, kind="image")
    export = _run(_export(client, images, format="coco", fields=["id", "file", "labels", "source", "decided_by"],
                          rename={"decided_by": "annotator"}))
    document = json.loads(_member(export, "annotations/instances_train.json"))

    by_id = {image["id"]: image["attributes"] for image in document["images"]}
    assert by_id == {
        images.items[key].pk: {"labels": list(images.items[key].final_labels), "source": images.items[key].final_source,
                               "annotator": images.reviewer.email if key != "imported" else None}
        for key in DEFAULT
    }
    assert len(document["annotations"]) == len(DEFAULT)


# --- filters ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("filters", "expected"), [
    ({"state": ["auto_accepted"]}, ["auto_high", "auto_low"]),
    ({"state": ["reviewed", "auto_accepted"]}, ["reviewed_a", "reviewed_b", "imported", "auto_high", "auto_low",
                                                "reviewed_c", "reviewed_d"]),
    ({"source": ["import"]}, ["imported"]),
    ({"source": ["review"], "state": ["reviewed", "auto_accepted"]}, ["reviewed_a", "reviewed_b", "reviewed_c",
                                                                      "reviewed_d"]),
    ({"labels": ["negative"]}, ["reviewed_b", "reviewed_c"]),
    ({"confidence": {"min": 0.5, "max": 0.9}}, ["reviewed_c", "reviewed_d"]),
    ({"confidence": {"min": 0.9}, "state": ["reviewed", "auto_accepted"]}, ["reviewed_a", "auto_high"]),
    ({"confidence": {"max": 0.5}}, ["reviewed_b"]),
], ids=["state", "states", "source", "source-and-state", "labels", "confidence", "confidence-min", "confidence-max"])
def test_each_filter(client, texts, filters, expected):
    rows = _jsonl(_run(_export(client, texts, filters=filters)))

    assert _keys(texts, rows) == expected


def test_created_and_decided_date_filters(client, texts):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n, key in enumerate(DEFAULT):  # created on January 1 + n, decided on January 11 - n
        Item.objects.filter(pk=texts.items[key].pk).update(created_at=base + timedelta(days=n),
                                                          decided_at=base + timedelta(days=10 - n))

    created = _jsonl(_run(_export(client, texts, filters={"created": {"since": "2026-01-02T00:00:00Z",
                                                                      "until": "2026-01-04T00:00:00Z"}})))
    decided = _jsonl(_run(_export(client, texts, filters={"decided": {"since": "2026-01-09T00:00:00Z"}})))
    before = _jsonl(_run(_export(client, texts, filters={"decided": {"until": "2026-01-09T00:00:00Z"}})))

    assert _keys(texts, created) == ["reviewed_b", "imported"]
    assert _keys(texts, decided) == ["reviewed_a", "reviewed_b", "imported"]
    assert _keys(texts, before) == ["reviewed_c", "reviewed_d"]


# --- invalid choices -------------------------------------------------------------------------------

def test_unknown_fields_are_refused_with_the_allowed_list(client, texts):
    response = _export(client, texts, fields=["id", "file"])

    assert response.status_code == 400
    assert response.json() == {"fields": [UNKNOWN_FIELD.format(
        name="file", kind="text", allowed="id, text, labels, source, decided_by, decided_at, created_at, prediction, "
                                          "confidence, probabilities, model, schema_version, state, split")]}
    images = make_project(organization=texts.project.organization, kind="image")
    response = _export(client, images, fields=["text"])
    assert response.json() == {"fields": [UNKNOWN_FIELD.format(
        name="text", kind="image", allowed=", ".join(IMAGE_FIELDS))]}
    assert Export.objects.count() == 0


def test_bad_renames_are_refused(client, texts):
    not_chosen = _export(client, texts, fields=["id", "text"], rename={"labels": "target"})
    clash = _export(client, texts, fields=["id", "text"], rename={"text": "item_id"})

    assert (not_chosen.status_code, not_chosen.json()) == (400, {"rename": [
        RENAME_NOT_CHOSEN.format(name="labels", chosen="id, text")]})
    assert (clash.status_code, clash.json()) == (400, {"rename": [DUPLICATE_COLUMN.format(name="item_id")]})


def test_unknown_filters_and_values_are_refused_with_the_allowed_lists(client, texts):
    unknown = _export(client, texts, filters={"colour": ["red"]})
    state = _export(client, texts, filters={"state": ["needs_review"]})
    source = _export(client, texts, filters={"source": ["model"]})
    bound = _export(client, texts, filters={"confidence": {"low": 0.2}})
    empty = _export(client, texts, filters={"confidence": {"min": 0.8, "max": 0.2}})

    assert (unknown.status_code, unknown.json()) == (400, {"filters": {"colour": [
        f"Unknown filter 'colour'; the filters are: {FILTER_NAMES}."]}})
    assert (state.status_code, state.json()) == (400, {"filters": {"state": {"0": [
        "'needs_review' is not a state; the states are: reviewed, auto_accepted."]}}})
    assert source.json() == {"filters": {"source": {"0": [
        "'model' is not a source; the sources are: review, import, auto."]}}}
    assert bound.json() == {"filters": {"confidence": {"low": ["Unknown bound 'low'; the bounds are: min, max."]}}}
    assert empty.json() == {"filters": ["The confidence range is empty: min 0.8 is above max 0.2."]}
    assert Export.objects.count() == 0


# --- the cache key ---------------------------------------------------------------------------------

def test_the_cache_key_includes_the_choice(client, texts):
    first = _export(client, texts, fields=["id", "labels"])
    same = _export(client, texts, fields=["id", "labels"])
    renamed = _export(client, texts, fields=["id", "labels"], rename={"labels": "target"})
    filtered = _export(client, texts, fields=["id", "labels"], filters={"source": ["review"]})

    assert [r.status_code for r in (first, same, renamed, filtered)] == [202, 200, 202, 202]
    assert same.json()["id"] == first.json()["id"]
    assert len({first.json()["id"], renamed.json()["id"], filtered.json()["id"]}) == 3


# --- export templates ------------------------------------------------------------------------------

def test_a_saved_template_is_reused_by_its_id(client, texts, manager):
    url = f"/api/projects/{texts.project.pk}/export-templates"
    created = client.post(url, {"name": "For training", "fields": ["id", "text", "labels"],
                                "rename": {"labels": "target"}, "filters": {"source": ["review"]}}, format="json")
    assert created.status_code == 201, created.json()
    template = ExportTemplate.objects.get()
    assert created.json() == {
        "id": template.pk, "project": texts.project.pk, "name": "For training", "fields": ["id", "text", "labels"],
        "rename": {"labels": "target"}, "filters": {"source": ["review"]}, "created_by": manager.email,
        "created_at": created.json()["created_at"], "updated_at": created.json()["updated_at"]}
    assert client.get(url).json() == [created.json()]

    export = _run(_export(client, texts, format="csv", template=template.pk))
    assert export.options["template"] == template.pk
    frame = pd.read_csv(io.BytesIO(_member(export, "labels.csv")))
    assert list(frame.columns) == ["item_id", "text", "target"]
    assert frame["item_id"].tolist() == [texts.items[k].pk for k in ("reviewed_a", "reviewed_b", "reviewed_c",
                                                                      "reviewed_d")]

    # The request's own choice wins over the template's, key by key.
    override = _jsonl(_run(_export(client, texts, template=template.pk, fields=["id"], rename={})))
    assert [list(row) for row in override] == [["item_id"]] * 4

    changed = client.patch(f"{url}/{template.pk}", {"filters": {"source": ["import"]}}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["fields"], changed.json()["filters"]) == (
        "For training", ["id", "text", "labels"], {"source": ["import"]})
    rows = _jsonl(_run(_export(client, texts, template=template.pk)))
    assert [(row["item_id"], row["target"]) for row in rows] == [(texts.items["imported"].pk, ["neutral"])]

    assert client.delete(f"{url}/{template.pk}").status_code == 204
    gone = _export(client, texts, template=template.pk)
    assert (gone.status_code, gone.json()) == (404, {"detail": EXPORT_TEMPLATE_NOT_FOUND})
    assert list(AuditEvent.objects.filter(action__startswith="export_template.").order_by("id")
                .values_list("action", "actor_id", "target_id")) == [
        ("export_template.created", manager.pk, str(template.pk)),
        ("export_template.updated", manager.pk, str(template.pk)),
        ("export_template.deleted", manager.pk, str(template.pk))]


def test_templates_are_checked_scoped_and_saved_by_managers(client, client_for, make_member, texts, other_org):
    url = f"/api/projects/{texts.project.pk}/export-templates"
    bad = client.post(url, {"name": "Bad", "fields": ["file"]}, format="json")
    assert (bad.status_code, list(bad.json())) == (400, ["fields"])
    bad_label = client.post(url, {"name": "Bad", "filters": {"labels": ["joy"]}}, format="json")
    assert bad_label.json() == {"filters": ["'joy' is not a label of this project (schema version 1)."]}
    ok = client.post(url, {"name": "Mine", "fields": ["id"]}, format="json")
    assert ok.status_code == 201
    twice = client.post(url, {"name": "Mine"}, format="json")
    assert twice.json() == {"name": ["This project already has an export template named 'Mine'."]}

    viewer = client_for(make_member("viewer", organization=texts.project.organization))
    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {"name": "Viewer's"}, format="json").status_code == 403
    assert viewer.delete(f"{url}/{ok.json()['id']}").status_code == 403

    outsider = client_for(make_member("admin", organization=other_org))
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"{url}/{ok.json()['id']}").status_code == 404
    elsewhere = make_project(organization=other_org, kind="text")
    used_elsewhere = outsider.post(f"/api/projects/{elsewhere.project.pk}/export",
                                   {"format": "jsonl", "template": ok.json()["id"]}, format="json")
    assert (used_elsewhere.status_code, used_elsewhere.json()) == (404, {"detail": EXPORT_TEMPLATE_NOT_FOUND})
    assert ExportTemplate.objects.count() == 1
