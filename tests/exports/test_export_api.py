"""The exports API and services without a worker: formats, validation, permissions, filters, the
cache, expiry, and the export job run in-process (its task's service)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import AuditEvent
from exports import selectors, services, tasks
from exports.formats import FORMATS
from exports.models import Export
from labeling.models import Item
from projects.services import project_delete, schema_version_create
from tests.exports.projects_in_db import make_project, relabel
from tests.factories import ItemFactory, JobFactory, PredictionFactory

pytestmark = pytest.mark.django_db

REVIEWED = ("reviewed_a", "reviewed_b", "imported", "reviewed_c", "reviewed_d")


@pytest.fixture
def viewer(make_member, org):
    return make_member("viewer", organization=org)


@pytest.fixture
def client(client_for, viewer):
    return client_for(viewer)


@pytest.fixture
def outsider(make_member, other_org, client_for):
    return client_for(make_member("admin", organization=other_org))


@pytest.fixture
def texts(org):
    return make_project(organization=org, kind="text")


def _project_export(client, scenario, **body):
    return client.post(f"/api/projects/{scenario.project.pk}/export", {"format": "jsonl", **body}, format="json")


def _run(export_id: str) -> Export:
    export = Export.objects.get(public_id=export_id)
    services.export_run(export_id=export.pk)
    export.refresh_from_db()
    return export


def _jsonl(export: Export) -> list[dict]:
    with default_storage.open(export.file.name, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as zf:
        return [json.loads(line) for line in zf.read("labels.jsonl").decode().splitlines()]


def _exported(client, scenario, **body) -> list[dict]:
    created = _project_export(client, scenario, **body)
    assert created.status_code == 202, created.json()
    export = _run(created.json()["id"])
    assert export.status == Export.Status.SUCCEEDED, export.error
    return _jsonl(export)


# --- formats -------------------------------------------------------------------------------------

def test_formats_lists_every_format_in_registry_order(client):
    response = client.get("/api/export/formats")

    assert response.status_code == 200
    assert [f["name"] for f in response.json()] == list(FORMATS)
    coco = response.json()[3]
    assert coco == {"name": "coco", "title": "COCO", "description": FORMATS["coco"].description,
                    "extension": ".json", "project_types": ["image_classification"], "multi_label_images": True,
                    "fields": "extra"}


def test_formats_for_a_multi_label_image_project_say_which_do_not_suit_and_why(client, org):
    scenario = make_project(organization=org, kind="image", multi_label=True)

    response = client.get(f"/api/export/formats?project={scenario.project.pk}")

    assert response.status_code == 200
    assert {f["name"]: (f["suitable"], f["reason"]) for f in response.json()} == {
        "csv": (True, ""), "json": (True, ""), "jsonl": (True, ""), "coco": (True, ""),
        "yolo": (False, "YOLO classification puts each image in exactly one class folder; this project is "
                        "multi-label. Use COCO, Pascal VOC or Hugging Face instead."),
        "pascal-voc": (True, ""), "tfrecord": (True, ""),
        "pytorch": (False, "PyTorch's ImageFolder puts each image in exactly one class folder; this project is "
                           "multi-label. Use COCO, Pascal VOC or Hugging Face instead."),
        "huggingface": (True, ""), "label-studio": (True, ""),
    }


def test_formats_for_a_project_type(client):
    response = client.get("/api/export/formats?project_type=text_classification")

    assert response.status_code == 200
    unsuitable = {f["name"]: f["reason"] for f in response.json() if not f["suitable"]}
    assert unsuitable == {"coco": "COCO holds images; this is a text project.",
                          "yolo": "YOLO holds images; this is a text project.",
                          "pascal-voc": "Pascal VOC holds images; this is a text project."}


def test_formats_for_an_unknown_project_type_is_a_400(client):
    response = client.get("/api/export/formats?project_type=audio")

    assert response.status_code == 400
    assert response.json() == {"project_type": [
        "Unknown project type 'audio'. Project types: image_classification, text_classification."]}


def test_formats_for_another_organizations_project_is_a_404(outsider, texts):
    response = outsider.get(f"/api/export/formats?project={texts.project.pk}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Project not found."}


# --- creating ------------------------------------------------------------------------------------

def test_a_viewer_asks_for_a_project_export_and_gets_it_queued(client, texts, viewer):
    response = _project_export(client, texts)

    assert response.status_code == 202
    body = response.json()
    export = Export.objects.get()
    assert body == {
        "id": export.public_id, "project": texts.project.pk, "job": None, "format": "jsonl",
        "options": {"include_auto_accepted": False, "min_confidence": None, "labels": None,
                    "split": {"train": 1.0, "val": 0.0, "test": 0.0}, "seed": 0, "include_predictions": True,
                    "model_predictions": False, "fields": None, "rename": {}, "filters": {}, "template": None},
        "schema_version": 1, "status": "queued", "total": 5, "processed": 0, "written": 0, "skipped": 0,
        "size_bytes": 0, "error": "", "download_name": f"{export.public_id}.zip", "download_url": None,
        "created_by": viewer.email, "created_at": body["created_at"], "started_at": None, "finished_at": None,
        "expires_at": None,
    }
    assert len(export.public_id) == 32 and "/" not in export.file.name
    assert list(AuditEvent.objects.filter(action="export.queued").values_list("target_id", flat=True)) == [
        str(export.pk)]


def test_an_unknown_format_is_a_400_listing_the_formats(client, texts):
    response = _project_export(client, texts, format="parquet")

    assert response.status_code == 400
    assert response.json() == {"format": [
        "Unknown export format 'parquet'. Available formats: csv, json, jsonl, coco, yolo, pascal-voc, tfrecord, "
        "pytorch, huggingface, label-studio."]}
    assert Export.objects.count() == 0


def test_a_format_that_does_not_suit_the_project_is_a_400_saying_why(client, texts, org):
    images = make_project(organization=org, kind="image", multi_label=True)

    coco_of_texts = client.post(f"/api/export/formats/coco/{texts.job.pk}", {}, format="json")
    yolo_of_multi_label = client.post(f"/api/export/formats/yolo/{images.job.pk}", {}, format="json")

    assert coco_of_texts.status_code == 400
    assert coco_of_texts.json() == {"format": ["COCO holds images; this is a text project."]}
    assert yolo_of_multi_label.status_code == 400
    assert yolo_of_multi_label.json() == {"format": [
        "YOLO classification puts each image in exactly one class folder; this project is multi-label. "
        "Use COCO, Pascal VOC or Hugging Face instead."]}


def test_an_unknown_label_in_the_filter_is_a_400_naming_it(client, texts):
    response = _project_export(client, texts, labels=["positive", "sarcastic"])

    assert response.status_code == 400
    assert response.json() == {"labels": ["'sarcastic' is not a label of this project (schema version 1)."]}


@pytest.mark.parametrize(("split", "message"), [
    ({"train": 0.8, "val": 0.1}, "The split ratios must add up to 1; they add up to 0.9."),
    ({"train": 1.2, "val": -0.2}, "The train ratio must be between 0 and 1; it is 1.2."),
    ({"train": 0.5, "holdout": 0.5}, "Unknown split 'holdout'; the splits are train, val, test."),
])
def test_bad_split_ratios_are_a_400(client, texts, split, message):
    response = _project_export(client, texts, split=split)

    assert response.status_code == 400
    assert response.json() == {"split": [message]}


def test_a_split_ratio_that_is_not_a_number_is_a_400(client, texts):
    response = _project_export(client, texts, split={"train": "most"})

    assert response.status_code == 400
    assert response.json() == {"split": {"train": ["A valid number is required."]}}


def test_another_organizations_job_project_and_export_are_404s(outsider, client, texts):
    mine = _project_export(client, texts).json()["id"]

    answers = [
        outsider.post(f"/api/export/create/{texts.job.pk}", {"format": "csv"}, format="json"),
        outsider.post(f"/api/export/formats/coco/{texts.job.pk}", {}, format="json"),
        outsider.post(f"/api/export/formats/yolo/{texts.job.pk}", {}, format="json"),
        outsider.post(f"/api/export/formats/pascal-voc/{texts.job.pk}", {}, format="json"),
        outsider.post(f"/api/projects/{texts.project.pk}/export", {"format": "csv"}, format="json"),
        outsider.get(f"/api/exports/{mine}"),
        outsider.get(f"/api/export/download/{mine}.zip"),
    ]

    assert [a.status_code for a in answers] == [404] * 7
    assert [a.json()["detail"] for a in answers] == ["Job not found."] * 4 + ["Project not found."] + [
        "Export not found."] * 2
    assert Export.objects.count() == 1


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b.zip", "..", "..%2Fsecret.zip", "x\\y.zip",
                                  "projects/1/exports/x.zip"])
def test_a_path_like_download_name_is_a_400(client, name):
    response = client.get(f"/api/export/download/{name}")

    assert response.status_code == 400
    assert response.json() == {"detail": "An export is downloaded by its id (as in the export's download_name), "
                                         "not a path."}


def test_downloading_an_unfinished_export_is_a_409_with_its_status(client, texts):
    export_id = _project_export(client, texts).json()["id"]

    response = client.get(f"/api/export/download/{export_id}")

    assert response.status_code == 409
    assert response.json() == {"detail": "This export is queued; it can be downloaded once it has succeeded.",
                               "status": "queued"}


def test_an_unknown_export_id_is_a_404(client):
    assert client.get("/api/exports/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/api/export/download/not-an-id.zip").status_code == 404


# --- the job, in-process -------------------------------------------------------------------------

def test_an_export_runs_and_downloads_with_counts_and_a_content_disposition(client, texts, media_root):
    export = _run(_project_export(client, texts).json()["id"])

    poll = client.get(f"/api/exports/{export.public_id}").json()
    response = client.get(f"/api/export/download/{export.public_id}.zip")

    assert (poll["status"], poll["total"], poll["processed"], poll["written"], poll["skipped"]) == (
        "succeeded", 5, 5, 5, 0)
    assert poll["download_url"] == f"/api/export/download/{export.public_id}.zip"
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="text-single-jsonl-{export.public_id}.zip"')
    data = b"".join(response.streaming_content)
    assert len(data) == export.size_bytes == poll["size_bytes"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["labels.jsonl"]
    assert export.file.name == f"projects/{texts.project.pk}/exports/{export.public_id}-1.zip"
    assert export.expires_at == export.finished_at + timedelta(hours=72)
    assert AuditEvent.objects.filter(action="export.downloaded", target_id=str(export.pk)).count() == 1


def test_by_default_a_project_export_holds_final_labels_from_review_and_import(client, texts):
    rows = _exported(client, texts)

    assert {row["item_id"]: tuple(row["labels"]) for row in rows} == texts.labels_of(*REVIEWED)
    by_key = {key: next(r for r in rows if r["item_id"] == texts.items[key].pk) for key in ("reviewed_b", "imported")}
    assert (by_key["reviewed_b"]["predicted_labels"], by_key["reviewed_b"]["confidence"], by_key["reviewed_b"]["model"],
            by_key["reviewed_b"]["reviewer"], by_key["reviewed_b"]["state"]) == (
        ["positive"], 0.4, "text-model", texts.reviewer.email, "reviewed")
    assert (by_key["imported"]["predicted_labels"], by_key["imported"]["confidence"], by_key["imported"]["reviewer"]) \
        == ([], None, None)


def test_auto_accepted_items_join_when_asked_and_min_confidence_applies_only_to_them(client, texts):
    rows = _exported(client, texts, include_auto_accepted=True, min_confidence=0.9)

    # reviewed_b (0.40) and reviewed_d (0.70) were decided by a person; auto_low (0.80) was not.
    assert {row["item_id"] for row in rows} == set(texts.labels_of(*REVIEWED, "auto_high"))


def test_a_labels_subset_keeps_items_with_one_of_them_holding_only_them(client, org):
    news = make_project(organization=org, kind="text", multi_label=True)

    rows = _exported(client, news, labels=["tech", "sports"], include_auto_accepted=True)

    # L1 = sports+politics, L2 = tech, L3 = all three; the classes are the subset in schema order.
    expected = {news.items[key].pk: tuple(label for label in news.items[key].final_labels if label != "politics")
                for key in (*REVIEWED, "auto_high", "auto_low")}
    assert {row["item_id"]: tuple(row["labels"]) for row in rows} == expected
    assert all("politics" not in row["predicted_labels"] for row in rows)


def test_a_job_export_holds_the_items_the_job_predicted_with_the_jobs_prediction(client, texts):
    later = JobFactory(project=texts.project, schema=texts.schema, model_name="later-model")
    PredictionFactory(job=later, item=texts.items["reviewed_a"], labels=["neutral"], confidence=0.5)

    created = client.post(f"/api/export/create/{texts.job.pk}", {"format": "jsonl"}, format="json")
    rows = _jsonl(_run(created.json()["id"]))

    assert created.json()["job"] == texts.job.pk
    assert created.json()["options"]["include_auto_accepted"] is True
    keys = ("reviewed_a", "reviewed_b", "auto_high", "auto_low", "reviewed_c", "reviewed_d")
    assert {row["item_id"]: tuple(row["labels"]) for row in rows} == texts.labels_of(*keys)
    first = next(r for r in rows if r["item_id"] == texts.items["reviewed_a"].pk)
    assert (first["predicted_labels"], first["confidence"], first["model"]) == (["positive"], 0.95, "text-model")


def test_predictions_are_left_out_when_asked(client, texts):
    rows = _exported(client, texts, include_predictions=False)

    assert {(tuple(r["predicted_labels"]), r["confidence"], r["model"]) for r in rows} == {((), None, "")}


def test_the_split_is_seeded_per_item(client, texts):
    split = {"train": 0.5, "val": 0.25, "test": 0.25}
    first = {r["item_id"]: r["split"] for r in _exported(client, texts, split=split, seed=3)}
    ItemFactory(project=texts.project, state="reviewed", final_source="import", final_labels=["neutral"],
                final_schema=texts.schema, decided_at=timezone.now())
    again = {r["item_id"]: r["split"] for r in _exported(client, texts, split=split, seed=3)}

    assert first == {item_id: services.item_split(item_id=item_id, seed=3, ratios=split) for item_id in first}
    assert {item_id: again[item_id] for item_id in first} == first
    assert len(again) == len(first) + 1


def test_item_split_follows_the_ratios():
    ratios = {"train": 0.7, "val": 0.2, "test": 0.1}

    splits = [services.item_split(item_id=i, seed=11, ratios=ratios) for i in range(10_000)]

    assert [round(splits.count(name) / 10_000, 1) for name in ("train", "val", "test")] == [0.7, 0.2, 0.1]
    assert splits != [services.item_split(item_id=i, seed=12, ratios=ratios) for i in range(10_000)]
    assert {services.item_split(item_id=i, seed=0, ratios={"train": 0.0, "val": 0.0, "test": 1.0})
            for i in range(100)} == {"test"}


def test_labels_of_an_older_schema_version_are_left_out_and_counted(client, texts):
    schema_version_create(project=texts.project, created_by=None, multi_label=False,
                          categories=[{"name": "positive"}, {"name": "negative"}])  # "neutral" is gone

    export = _run(_project_export(client, texts).json()["id"])

    neutral = [key for key in REVIEWED if texts.items[key].final_labels == ["neutral"]]
    assert (export.total, export.processed, export.written, export.skipped) == (5, 5, 5 - len(neutral), len(neutral))
    assert {row["item_id"] for row in _jsonl(export)} == set(texts.labels_of(*REVIEWED)) - {
        texts.items[key].pk for key in neutral}


# --- cache, redelivery, failure, expiry ------------------------------------------------------------

def test_an_identical_request_gets_the_same_export_until_a_label_changes(client, texts):
    first = _project_export(client, texts, split={"train": 0.8, "test": 0.2})
    _run(first.json()["id"])

    again = _project_export(client, texts, split={"train": 0.8, "val": 0.0, "test": 0.2})
    other_format = _project_export(client, texts, format="csv", split={"train": 0.8, "test": 0.2})
    relabel(texts.items["reviewed_a"], ["negative"])
    after_relabel = _project_export(client, texts, split={"train": 0.8, "test": 0.2})

    assert (first.status_code, again.status_code, other_format.status_code, after_relabel.status_code) == (
        202, 200, 202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "succeeded"
    assert len({first.json()["id"], other_format.json()["id"], after_relabel.json()["id"]}) == 3


def test_a_redelivered_task_for_a_finished_export_does_nothing(client, texts):
    export = _run(_project_export(client, texts).json()["id"])

    assert services.export_run(export_id=export.pk) is None
    export.refresh_from_db()
    assert (export.status, export.attempts, export.file.name.endswith("-1.zip")) == ("succeeded", 1, True)


def test_a_redelivered_task_for_a_running_export_starts_it_over(client, texts):
    export_id = _project_export(client, texts).json()["id"]
    Export.objects.filter(public_id=export_id).update(status="running", attempts=1, processed=3)

    export = _run(export_id)

    assert (export.status, export.attempts, export.processed, export.written) == ("succeeded", 2, 5, 5)
    assert export.file.name.endswith(f"{export_id}-2.zip")


def test_a_failure_is_recorded_without_the_servers_paths(client, org):
    images = make_project(organization=org, kind="image")
    default_storage.delete(images.items["reviewed_c"].file.name)

    export_id = _project_export(client, images, format="csv").json()["id"]
    export = Export.objects.get(public_id=export_id)
    tasks.export_run(export.pk)  # run here, it gets no retry: it fails at once
    export.refresh_from_db()

    assert (export.status, export.error, export.file.name) == (
        "failed", "The export stopped unexpectedly (FileNotFoundError); the details are in the worker's log.", "")
    assert client.get(f"/api/export/download/{export_id}").json() == {
        "detail": "This export is failed; it can be downloaded once it has succeeded.", "status": "failed"}
    # A failed export is not handed out again: the same request makes a new one.
    assert _project_export(client, images, format="csv").status_code == 202


def test_an_expired_export_is_a_410_and_its_file_is_deleted(client, texts, django_capture_on_commit_callbacks):
    export = _run(_project_export(client, texts).json()["id"])
    name = export.file.name
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    before_sweep = client.get(f"/api/export/download/{export.public_id}")
    with django_capture_on_commit_callbacks(execute=True):
        swept = services.exports_expire()
    after_sweep = client.get(f"/api/export/download/{export.public_id}.zip")
    export.refresh_from_db()

    assert before_sweep.status_code == after_sweep.status_code == 410
    assert after_sweep.json()["status"] == "expired"
    assert after_sweep.json()["detail"].startswith("This export expired at ")
    assert swept == 1
    assert (export.status, export.file.name) == ("expired", "")
    assert not default_storage.exists(name)
    assert services.exports_expire() == 0
    # The same request now makes a new export.
    assert _project_export(client, texts).status_code == 202


def test_creating_an_export_sweeps_expired_ones(client, texts):
    export = _run(_project_export(client, texts).json()["id"])
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    _project_export(client, texts, format="csv")

    export.refresh_from_db()
    assert (export.status, export.file.name) == ("expired", "")


def test_an_export_with_nothing_labelled_is_409_with_the_reason_unless_model_labels_are_asked_for(client, texts):
    Item.objects.filter(project=texts.project).exclude(state__in=["needs_review", "predicted", "unlabelled"]).delete()
    Item.objects.filter(project=texts.project).update(in_audit_slice=True)

    resp = _project_export(client, texts)
    assert resp.status_code == 409
    assert resp.json() == {"detail": selectors.NOTHING_TO_EXPORT.format(
        reason=selectors.NO_LABELS_AUDIT_FIRST.format(pending=3) + selectors.ASK_FOR_PREDICTIONS)}
    assert Export.objects.count() == 0

    rows = _exported(client, texts, model_predictions=True)
    # The model's labels, where it predicted; the unlabelled item has none to give.
    assert {row["item_id"]: (tuple(row["labels"]), row["state"]) for row in rows} == {
        texts.items["needs_review"].pk: (texts.label_sets[1], "needs_review"),
        texts.items["predicted"].pk: (texts.label_sets[1], "predicted"),
    }


def test_an_export_whose_filters_match_nothing_says_which(client, texts):
    Item.objects.filter(project=texts.project, final_source__in=["review", "import"]).delete()
    resp = _project_export(client, texts)
    assert resp.status_code == 409
    assert resp.json() == {"detail": selectors.NOTHING_TO_EXPORT.format(
        reason=selectors.ONLY_AUTO_ACCEPTED.format(auto=2))}
    resp = _project_export(client, texts, include_auto_accepted=True, min_confidence=0.99)
    assert resp.status_code == 409
    assert resp.json() == {"detail": selectors.NOTHING_TO_EXPORT.format(reason=selectors.NONE_MATCH.format(labelled=2))}


def test_an_export_of_a_project_without_items_is_409(client, texts):
    Item.objects.filter(project=texts.project).delete()
    resp = _project_export(client, texts, format="csv")
    assert resp.status_code == 409
    assert resp.json() == {"detail": selectors.NOTHING_TO_EXPORT.format(reason=selectors.NO_ITEMS_YET)}


def test_deleting_a_project_deletes_its_exports_and_their_files(client, texts, django_capture_on_commit_callbacks):
    export = _run(_project_export(client, texts).json()["id"])

    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=texts.project, actor=None, confirm=texts.project.name)

    assert Export.objects.count() == 0
    assert not default_storage.exists(export.file.name)


def test_a_file_removed_from_storage_behind_our_back_is_a_410(client, texts):
    export = _run(_project_export(client, texts).json()["id"])
    default_storage.delete(export.file.name)
    resp = client.get(f"/api/export/download/{export.public_id}")
    assert resp.status_code == 410
    assert resp.json() == {"detail": "The export's file is no longer in storage; create the export again.",
                           "status": "succeeded"}
