"""A large import runs on the real worker while the client polls its progress."""

import pytest
from django.core.files.storage import default_storage

from accounts.models import AuditEvent
from labeling.models import HumanLabel, Item
from tests.conftest import wait_until
from tests.factories import LabelSchemaFactory, ProjectFactory, image_bytes, named, zip_bytes

pytestmark = [pytest.mark.worker]


def test_a_large_import_goes_async_and_completes_on_the_worker(worker, org, make_member, client_for, settings):
    settings.IMPORT_ASYNC_ITEMS = 20
    settings.IMPORT_BATCH_SIZE = 7
    labeler = make_member("labeler", org)
    project = ProjectFactory(organization=org)
    schema = LabelSchemaFactory(project=project, categories=["positive", "negative"])
    client = client_for(labeler, org)
    rows = "".join(f"review number {i},{'positive' if i % 2 else 'negative'}\n" for i in range(40))
    csv = ("text,label\n" + rows + "review number 3,positive\nbad row,unknown\n").encode()

    resp = client.post("/api/upload", {"project": project.id, "files": [named(csv, "reviews.csv")]},
                       format="multipart")
    assert resp.status_code == 202, resp.data
    assert (resp.data["status"], resp.data["total"], resp.data["report"]) == ("queued", 42, None)
    staged = [f["path"] for f in project.import_jobs.get().staged_files]
    assert [default_storage.exists(p) for p in staged] == [True]

    done = wait_until(
        lambda: (r := client.get(f"/api/uploads/{resp.data['id']}")).data["status"] in ("succeeded", "failed") and r,
        timeout=60, message="the import to finish on the worker",
    )
    assert done.data["status"] == "succeeded", done.data
    assert {k: done.data[k] for k in ("processed", "accepted", "duplicates", "rejected", "total", "error")} == {
        "processed": 42, "accepted": 40, "duplicates": 1, "rejected": 1, "total": 42, "error": ""}
    three = Item.objects.get(text="review number 3")
    assert done.data["report"]["duplicates"] == [
        {"file": "reviews.csv", "archive": "", "line": 42, "item": three.id}]
    assert [r["line"] for r in done.data["report"]["rejected"]] == [43]
    assert Item.objects.filter(project=project, import_job_id=resp.data["id"], uploaded_by=labeler).count() == 40
    assert HumanLabel.objects.filter(item__project=project, schema=schema, source="import").count() == 40
    # the staged upload is removed once the finishing transaction has committed (just after the status reads)
    wait_until(lambda: not any(default_storage.exists(p) for p in staged), timeout=10,
               message="the staged upload to be removed")
    assert AuditEvent.objects.filter(action="import.completed", target_id=str(resp.data["id"])).count() == 1


def test_a_large_image_archive_imports_on_the_worker(worker, org, make_member, client_for, settings):
    settings.IMPORT_ASYNC_ITEMS = 3
    project = ProjectFactory(organization=org, project_type="image_classification")
    LabelSchemaFactory(project=project, categories=["red", "blue"])
    client = client_for(make_member("admin", org), org)
    archive = zip_bytes({
        **{f"img/{i}.png": image_bytes(color=(i, 0, 0)) for i in range(6)},
        "labels.csv": b"file,label\n0.png,red\n1.png,blue\n",
    })
    resp = client.post("/api/upload", {"project": project.id, "files": [named(archive, "photos.zip"),
                                                                         named(image_bytes("JPEG"), "solo.jpg")]},
                       format="multipart")
    assert resp.status_code == 202
    done = wait_until(
        lambda: (r := client.get(f"/api/uploads/{resp.data['id']}")).data["status"] in ("succeeded", "failed") and r,
        timeout=60, message="the import to finish on the worker",
    )
    assert (done.data["status"], done.data["accepted"], done.data["rejected"]) == ("succeeded", 7, 0), done.data
    assert sorted(Item.objects.filter(project=project).values_list("original_name", "final_labels")) == [
        ("img/0.png", ["red"]), ("img/1.png", ["blue"]), ("img/2.png", None), ("img/3.png", None),
        ("img/4.png", None), ("img/5.png", None), ("solo.jpg", None)]
    for item in Item.objects.filter(project=project):
        assert default_storage.exists(item.file.name)
        default_storage.delete(item.file.name)
